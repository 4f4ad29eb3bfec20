"""Coverage, network and my-beat pages: who may open them and what they show."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, GroupRelation, User
from crm.network import svg, views
from crm.vocab import ROLES


def _ago(days):
    return datetime.utcnow() - timedelta(days=days)


def _square(lon, lat, size=0.01):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                [lon, lat + size], [lon, lat]]]}


def _beat(make, code, district, lon):
    b = make.beat(code, district)
    b.geometry = _square(lon, 41.88)
    db.session.flush()
    return b


def _map_svg(html: str) -> str:
    m = re.search(r"<svg class=\"beat-map.*?</svg>", html, re.S)
    assert m, "no beat map on the page"
    return m.group(0)


def _network_svg(html: str) -> str:
    start = html.index('<svg class="network"')
    return html[start:html.index('<g class="labels"', start)]


def _path_class(svg: str, code: str) -> str:
    m = re.search(r'<path d="[^"]+" class="([^"]+)" data-beat="' + code + '">', svg)
    assert m, f"no path for beat {code}"
    return m.group(1)


@pytest.fixture
def district_world(make):
    """District 01 with beat 0111 (its one group reached) and 0112 (its one group never);
    district 02 with beat 0211; a supervisor of 01, an officer on 0111."""
    d1, d2 = make.district("01", "Central"), make.district("02", "North")
    b1, b2 = _beat(make, "0111", d1, -87.63), _beat(make, "0112", d1, -87.62)
    b3 = _beat(make, "0211", d2, -87.70)
    make.user("sarge", role="supervisor", district=d1)
    officer = make.user("jdoe", beats=[b1])
    reached = make.group("Reached Tenants", beats=[b1], stance="receptive")
    never = make.group("Never Youth", beats=[b2], stance="wary")
    far = make.group("Far Away Club", beats=[b3])
    make.contact(officer, groups=[reached], beat=b1, occurred_at=_ago(3))
    return {"beats": (b1, b2, b3), "officer": officer, "reached": reached, "never": never,
            "far": far}


# ---------------------------------------------------------------- who may open what

PAGES = {  # page -> roles that may open it; every other role gets 403
    "/analytics/coverage": {"supervisor", "unit", "admin"},
    "/analytics/coverage.csv?table=beats": {"supervisor", "unit", "admin"},
    "/analytics/network": {"supervisor", "unit", "admin", "analyst"},
    "/analytics/my-beat": {"officer", "supervisor", "unit", "admin"},
}


def test_each_page_opens_for_its_roles_and_refuses_the_others(make, auth, client):
    make.beat("0111")
    user = make.user("someone", role="officer")
    make.commit()
    auth.login("someone")
    seen = {}
    for role in ROLES:
        # The role is read on every request, so one signed-in account can wear each in turn.
        db.session.execute(sa.update(User).where(User.id == user.id).values(role=role))
        make.commit()
        for page in PAGES:
            seen[(page, role)] = client.get(page).status_code
    assert seen == {(page, role): 200 if role in allowed else 403
                    for page, allowed in PAGES.items() for role in ROLES}


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    for path in ("/analytics/coverage", "/analytics/network", "/analytics/my-beat",
                 "/analytics/coverage.csv"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]


# ---------------------------------------------------------------- coverage

def test_coverage_map_colours_a_fully_reached_beat_and_an_unreached_one(district_world, make,
                                                                         auth, client):
    make.commit()
    auth.login("sarge")
    r = client.get("/analytics/coverage")
    assert r.status_code == 200
    svg = _map_svg(r.get_data(as_text=True))
    # The supervisor's district by default: its two beats, one path each, nothing from 02.
    assert svg.count("<path ") == 2
    assert "0211" not in svg
    assert _path_class(svg, "0111") == "cov-4"
    assert _path_class(svg, "0112") == "cov-0"
    assert "Beat 0111: 1/1 groups reached, 100% proactive" in svg
    assert "Beat 0112: 0/1 groups reached, no contacts" in svg
    # Each beat links to the page filtered to it.
    assert re.search(r'<a href="[^"]*beat=0112[^"]*" class="beat">', svg)


def test_a_beat_renamed_or_added_shows_on_the_next_coverage_load(district_world, make, auth,
                                                                  client):
    """The beats and districts are kept per process between loads; a change is seen at once."""
    make.commit()
    auth.login("sarge")
    assert "Harbour Point" not in client.get("/analytics/coverage").get_data(as_text=True)
    b1 = district_world["beats"][0]
    b1.name = "Harbour Point"
    make.commit()
    html = client.get("/analytics/coverage").get_data(as_text=True)
    assert "Harbour Point" in html
    _beat(make, "0113", b1.district, -87.61)
    make.commit()
    svg = _map_svg(client.get("/analytics/coverage").get_data(as_text=True))
    assert svg.count("<path ") == 3 and 'data-beat="0113"' in svg


def test_a_beat_without_groups_is_grey(make, auth, client):
    d = make.district("01")
    _beat(make, "0111", d, -87.63)
    make.user("sarge", role="supervisor", district=d)
    make.commit()
    auth.login("sarge")
    svg = _map_svg(client.get("/analytics/coverage").get_data(as_text=True))
    assert _path_class(svg, "0111") == "cov-none"
    assert "Beat 0111: no groups" in svg


def test_hard_to_engage_list_shows_never_for_a_group_never_contacted(district_world, make,
                                                                     auth, client):
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/coverage").get_data(as_text=True)
    section = html[html.index('id="hard-h"'):html.index('id="officers-h"')]
    never = district_world["never"]
    assert f'href="/groups/{never.id}">Never Youth</a>' in section
    row = section[section.index("Never Youth"):]
    assert ">never<" in row[:400]
    assert "never contacted" in row and "wary" in row
    assert "Reached Tenants" not in section  # reached in the window: not flagged
    assert "Far Away Club" not in section  # another district


def test_clicking_a_beat_limits_the_lists_to_it(district_world, make, auth, client):
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/coverage?district=01&beat=0111").get_data(as_text=True)
    svg = _map_svg(html)
    assert svg.count("<path ") == 2  # the district stays on the map for context
    assert 'class="beat selected"' in svg
    section = html[html.index('id="hard-h"'):html.index('id="officers-h"')]
    assert "Never Youth" not in section
    officers = html[html.index('id="officers-h"'):]
    assert district_world["officer"].display_name in officers


def test_officers_engagement_spread_is_a_stacked_bar_with_the_comfort_zone_flagged(make, auth,
                                                                                   client):
    d = make.district("01")
    b = _beat(make, "0111", d, -87.63)
    make.user("sarge", role="supervisor", district=d)
    friendly_only = make.user("comfy", beats=[b])
    friendly = make.group("Friendly Club", beats=[b], stance="receptive")
    make.group("Hostile Crew", beats=[b], stance="hostile")
    for i in range(6):
        make.contact(friendly_only, groups=[friendly], beat=b, occurred_at=_ago(i + 1))
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/coverage").get_data(as_text=True)
    officers = html[html.index('id="officers-h"'):]
    assert '<li class="comfort-zone">' in officers
    assert 'class="seg-receptive"' in officers and "6 with receptive groups" in officers
    assert "100% proactive" in officers


def test_bad_filters_are_reported_per_field(make, auth, client):
    make.user("boss", role="admin")
    make.commit()
    auth.login("boss")
    r = client.get("/analytics/coverage?days=7&as_of=yesterday")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert '<p class="field-error">Window:' in html and '<p class="field-error">As of:' in html


def test_coverage_csv_exports_every_table_with_a_header_and_an_audit_record(district_world,
                                                                           make, auth, client):
    make.commit()
    auth.login("sarge")
    r = client.get("/analytics/coverage.csv?table=beats&district=01&days=90")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:5] == ["beat", "name", "district", "groups", "groups_reached"]
    assert [(row[0], row[4]) for row in rows[1:]] == [("0111", "1"), ("0112", "0")]

    rows = list(csv.reader(io.StringIO(
        client.get("/analytics/coverage.csv?table=hard-to-engage").get_data(as_text=True))))
    assert rows[0] == ["group_id", "group", "days_since_contact", "reasons", "reason_codes",
                       "priority"]
    assert [(row[1], row[2]) for row in rows[1:]] == [("Never Youth", "never")]

    rows = list(csv.reader(io.StringIO(
        client.get("/analytics/coverage.csv?table=officers").get_data(as_text=True))))
    assert rows[0][:3] == ["officer_id", "officer", "contacts"]
    assert rows[1][1] == district_world["officer"].display_name and rows[1][2] == "1"

    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "analytics.export").order_by(AuditEvent.id)).all()
    assert [e.detail["table"] for e in events] == ["beats", "hard-to-engage", "officers"]
    assert events[0].actor_username == "sarge" and events[0].detail["rows"] == 2
    assert client.get("/analytics/coverage.csv?table=secrets").status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(make, auth, client):
    d = make.district("01")
    b = _beat(make, "0111", d, -87.63)
    make.group("=HYPERLINK(\"x\")", beats=[b])
    make.user("sarge", role="supervisor", district=d)
    make.commit()
    auth.login("sarge")
    text = client.get("/analytics/coverage.csv?table=hard-to-engage").get_data(as_text=True)
    assert "'=HYPERLINK" in text


# ---------------------------------------------------------------- network

@pytest.fixture
def network_world(make):
    d1, d2 = make.district("01"), make.district("02")
    b1, b3 = make.beat("0111", d1), make.beat("0211", d2)
    make.user("sarge", role="supervisor", district=d1)
    a = make.group("Tenants Union", beats=[b1], stance="wary")
    b = make.group("Bar Owners", beats=[b1])
    c = make.group("Church Choir", beats=[b1])
    far = make.group("Far Away Club", beats=[b3])
    people = [make.stakeholder() for _ in range(4)]
    for p in people[:2]:  # a and b share two members
        make.membership(p, a)
        make.membership(p, b)
    make.membership(people[2], a)  # a and c share one member only
    make.membership(people[2], c)
    make.membership(people[3], far)
    db.session.add(GroupRelation(group_a_id=a.id, group_b_id=b.id, type="competing",
                                 issue="late-night noise"))
    db.session.add(GroupRelation(group_a_id=b.id, group_b_id=c.id, type="allied"))
    db.session.flush()
    return {"a": a, "b": b, "c": c, "far": far}


def test_network_view_draws_the_filtered_groups_with_competing_relations_in_their_own_style(
        network_world, make, auth, client):
    make.commit()
    auth.login("sarge")
    r = client.get("/analytics/network")
    assert r.status_code == 200
    svg = _network_svg(r.get_data(as_text=True))
    w = network_world
    for g in (w["a"], w["b"], w["c"]):
        assert f'data-id="{g.id}"' in svg and f'href="/groups/{g.id}"' in svg
    assert f'data-id="{w["far"].id}"' not in svg  # another district
    lo, hi = sorted((w["a"].id, w["b"].id))
    assert re.search(rf'class="edge edge-competing"[^>]*data-a="{lo}" data-b="{hi}"', svg)
    assert 'class="edge edge-allied"' in svg
    # Overlap edges need 2 shared members by default: a–b yes, a–c (one shared) no.
    assert svg.count('class="edge edge-overlap"') == 1
    assert "Tenants Union — 3 members, stance wary" in svg
    svg = _network_svg(client.get("/analytics/network?min_shared=1").get_data(as_text=True))
    assert svg.count('class="edge edge-overlap"') == 2


def test_network_view_colours_factions_and_leaves_unrelated_groups_grey(network_world, make,
                                                                       auth, client):
    lone = make.group("Lonely Club", beats=[network_world["a"].beats[0]])
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/network").get_data(as_text=True)
    a, b = network_world["a"], network_world["b"]
    by_id = {int(i): c for c, i in re.findall(r'class="node (faction-\S+) stance-\w+" data-id="(\d+)"', html)}
    assert by_id[lone.id] == "faction-none"
    assert by_id[a.id] != by_id[b.id]  # competing groups end up in different factions
    assert by_id[a.id] != "faction-none" and by_id[b.id] != "faction-none"


def test_analysts_see_the_network_without_links_to_record_pages(network_world, make, auth,
                                                                client):
    make.user("eva", role="analyst")
    make.commit()
    auth.login("eva")
    html = client.get("/analytics/network?district=01").get_data(as_text=True)
    assert f'data-id="{network_world["a"].id}"' in html
    assert "/groups/" not in html


def test_network_asks_for_a_filter_when_there_are_too_many_groups(network_world, make, auth,
                                                                 client, monkeypatch):
    make.user("boss", role="admin")
    make.commit()
    monkeypatch.setattr(views, "MAX_NETWORK_GROUPS", 3)
    auth.login("boss")
    html = client.get("/analytics/network").get_data(as_text=True)
    assert "There are 4 groups" in html and "choose a district or a beat" in html.lower()
    assert '<svg class="network"' not in html
    html = client.get("/analytics/network?district=01").get_data(as_text=True)
    assert '<svg class="network"' in html


# ---------------------------------------------------------------- my beat

@pytest.fixture
def intro_world(make):
    """Officer O knows S (working relationship); S sits in A with P; P is in target T."""
    d = make.district("01")
    beat, other = make.beat("0111", d), make.beat("0999")
    officer = make.user("jdoe", beats=[beat])
    make.user("sarge", role="supervisor", district=d)
    s = make.stakeholder("Sam Bridge", stage="working_relationship")
    p = make.stakeholder("Pat Link")
    a = make.group("Allotment Society", beats=[other])
    t = make.group("Quiet Mosque", beats=[beat], stance="wary")
    make.membership(s, a)
    make.membership(p, a)
    make.membership(p, t)
    make.contact(officer, stakeholders=[s], occurred_at=_ago(5))
    return {"officer": officer, "s": s, "p": p, "a": a, "t": t, "beat": beat}


def test_my_beat_suggests_an_introduction_chain_starting_with_the_officer(intro_world, make,
                                                                         auth, client):
    make.commit()
    auth.login("jdoe")
    r = client.get("/analytics/my-beat")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Quiet Mosque" in html and "never contacted" in html
    chain = re.search(r'<li class="chain mine">(.*?)</li>', html, re.S)
    assert chain, "no chain marked as the officer's own"
    text = re.sub(r"<[^>]+>", "", chain.group(1))
    assert re.sub(r"\s+", " ", text).strip().startswith(
        "You → Sam Bridge → Allotment Society → Pat Link → Quiet Mosque")
    assert "starts with you" in text
    # Showing names is reading personal data: audited, naming whose names were shown.
    reads = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "stakeholder.read")).all()
    assert [e.detail["ids"] for e in reads] == [sorted([intro_world["s"].id, intro_world["p"].id])]
    assert reads[0].actor_username == "jdoe"


def test_my_beat_names_only_people_the_viewer_may_see(intro_world, make, auth, client):
    make.user("unity", role="unit")  # assigned no group: sees nobody's personal data
    make.commit()
    auth.login("unity")
    html = client.get("/analytics/my-beat?beat=0111").get_data(as_text=True)
    chain = re.search(r'<li class="chain">(.*?)</li>', html, re.S)
    assert chain
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", chain.group(1))).strip()
    assert text.startswith(f"{intro_world['officer'].display_name} → a member → Allotment Society"
                           " → a member → Quiet Mosque")
    assert "Sam Bridge" not in html and "Pat Link" not in html


def test_my_beat_refuses_a_beat_the_officer_does_not_work(intro_world, make, auth, client):
    make.commit()
    auth.login("jdoe")
    assert client.get("/analytics/my-beat?beat=0999").status_code == 404
    assert client.get("/analytics/my-beat?beat=0111").status_code == 200


def test_supervisors_pick_a_beat_of_their_district(intro_world, make, auth, client):
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/my-beat").get_data(as_text=True)
    assert "Choose a beat" in html and "Quiet Mosque" not in html
    html = client.get("/analytics/my-beat?beat=0111").get_data(as_text=True)
    assert "Quiet Mosque" in html and '<li class="chain">' in html
    assert client.get("/analytics/my-beat?beat=0999").status_code == 404


def test_an_officer_also_sees_their_own_best_chain_when_colleagues_have_shorter_ones(
        intro_world, make, auth, client):
    w = intro_world
    w["p"].stage = "working_relationship"
    for name in ("amy", "bob", "cat"):  # each knows Pat, a member of the target: 2 hops
        make.contact(make.user(name, beats=[w["beat"]]), stakeholders=[w["p"]], occurred_at=_ago(2))
    make.commit()
    auth.login("jdoe")
    html = client.get("/analytics/my-beat").get_data(as_text=True)
    assert html.count('<li class="chain">') == 3
    mine = re.search(r'<li class="chain mine">(.*?)</li>', html, re.S)
    assert mine and "Sam Bridge" in mine.group(1)


# ---------------------------------------------------------------- drawing helpers (no database)

def test_beat_outlines_keep_their_shape_at_the_citys_latitude():
    """A square of 0.01° at 60° N is half as wide as it is tall on the ground."""
    m = svg.project_beats({"a": _square(10.0, 59.995)}, width=1000, max_height=1000, pad=0)
    assert m.height == 1000 and m.width == pytest.approx(500, abs=0.2)
    xs = [float(v) for v in re.findall(r"[ML]([\d.]+) ", m.paths["a"])]
    assert m.paths["a"].startswith("M0 1000L") and m.paths["a"].endswith("Z")
    assert xs[0] == 0 and max(xs) == pytest.approx(500, abs=0.2)


def test_multipolygons_become_one_path_and_unusable_geometries_are_listed():
    multi = {"type": "MultiPolygon", "coordinates": [_square(0, 0)["coordinates"],
                                                     _square(0.02, 0)["coordinates"]]}
    m = svg.project_beats({"multi": multi, "none": None,
                           "point": {"type": "Point", "coordinates": [0, 0]},
                           "broken": {"type": "Polygon", "coordinates": [[["x", 1]]]}})
    assert m.paths["multi"].count("M") == 2 and m.paths["multi"].count("Z") == 2
    assert set(m.missing) == {"none", "point", "broken"}


def test_network_layout_is_repeatable_and_stays_inside_the_picture():
    members = {i: i % 7 for i in range(1, 61)}
    overlaps = [(i, i + 1, 2 + i % 3) for i in range(1, 40)]  # a chain, then 20 loners
    first = svg.draw_network(members, overlaps, [(1, 5, "competing")])
    assert first == svg.draw_network(members, overlaps, [(1, 5, "competing")])
    for n in first.nodes:
        assert n.r <= n.x <= first.width - n.r and n.r <= n.y <= first.height - n.r
    # The loners do not crush the connected groups into a corner.
    chain = [n for n in first.nodes if n.id <= 40]
    assert max(n.x for n in chain) - min(n.x for n in chain) > first.width / 4
    assert [e.kind for e in first.edges][-1] == "competing"


def test_a_few_hundred_groups_lay_out_in_well_under_a_second_or_two():
    import time

    members = {i: (i * 7) % 50 for i in range(300)}
    overlaps = [(i, (i * 13 + k) % 300, 2 + k) for i in range(300) for k in (1, 2, 3)]
    started = time.perf_counter()
    svg.draw_network(members, overlaps)
    assert time.perf_counter() - started < 3  # ~0.4 s on a laptop; generous for CI
