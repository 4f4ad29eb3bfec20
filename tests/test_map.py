"""The map and the network read on their own (issue 12 item 9): beat numbers on the map,
names that do not overlap, a legend as long as the factions, no link inside an image, and
in a real browser tips on focus and pan/zoom of the network."""

from __future__ import annotations

import re

import pytest

from crm.extensions import db
from crm.network import pages
from crm.network.svg import BeatMap, DrawnNode, draw_network
from tests.test_network_pages import district_world, network_world  # noqa: F401  (fixtures)


def _boxes(nodes, names, chosen, char_w=7.2, line_h=16.0):
    out = []
    for n in nodes:
        if n.id in chosen:
            w = min(len(names[n.id]), 28) * char_w
            x0 = n.x - n.r if n.anchor == "start" else (n.x + n.r - w if n.anchor == "end" else n.x - w / 2)
            out.append((x0, n.y + n.r + 2, x0 + w, n.y + n.r + 2 + line_h))
    return out


def test_network_labels_never_overlap_on_a_few_hundred_groups():
    members = {i: (i * 37) % 90 + 1 for i in range(1, 301)}
    overlaps = [(i, i + 1, 2) for i in range(1, 300, 3)]
    drawing = draw_network(members, overlaps, [])
    names = {i: f"Community group number {i}" for i in members}
    chosen = pages.network_labels(drawing.nodes, names)
    assert 1 <= len(chosen) <= 15
    boxes = _boxes(drawing.nodes, names, chosen)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    # the largest group is always named
    biggest = max(drawing.nodes, key=lambda n: (n.members, -n.id))
    assert biggest.id in chosen


def test_labels_prefer_the_largest_of_two_crowded_groups():
    big, small = DrawnNode(1, 100, 100, 20, 50), DrawnNode(2, 104, 104, 8, 3)
    far = DrawnNode(3, 600, 600, 10, 4)
    names = {1: "Tenants", 2: "Bowls", 3: "Choir"}
    assert pages.network_labels([small, big, far], names) == {1, 3}


def test_beat_numbers_sit_inside_their_beats():
    bmap = BeatMap(width=100, height=100, paths={
        7: "M10 10 L30 10 L30 30 L10 30 Z",
        8: "M50 50 L90 50 L90 90 L50 90 Z M60 60 L62 60 L62 62 Z"}, missing=())
    assert pages.beat_label_points(bmap) == {7: (20.0, 20.0), 8: (70.0, 70.0)}
    many = BeatMap(width=100, height=100, paths={i: "M0 0 L1 0 L1 1 Z" for i in range(200)},
                   missing=())
    assert pages.beat_label_points(many) == {}  # too many: the table names them


def test_crowded_beat_numbers_keep_the_larger_beats_and_never_overlap():
    # Font 12 on a 100 x 100 map: a four-digit number is ~31 wide and 14 tall.
    bmap = BeatMap(width=100, height=100, paths={
        1: "M0 0 L40 0 L40 40 L0 40 Z",       # large: centre (20, 20)
        2: "M30 15 L50 15 L50 25 L30 25 Z",   # small, centre (40, 20): its number would
                                              # write over beat 1's
        3: "M30 30 L50 30 L50 50 L30 50 Z",   # centre (40, 40): 20 below, clear of beat 1's
        4: "M60 60 L95 60 L95 95 L60 95 Z"}, missing=())
    points = pages.beat_label_points(bmap)
    assert set(points) == {1, 3, 4}
    assert points[1] == (20.0, 20.0) and points[3] == (40.0, 40.0)


def test_coverage_map_writes_beat_numbers_and_keeps_links_out_of_images(district_world, make,  # noqa: F811
                                                                        auth, client):
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/coverage").get_data(as_text=True)
    svg = re.search(r'<svg class="beat-map.*?</svg>', html, re.S).group(0)
    assert re.search(r'<text [^>]*class="beat-code">0111</text>', svg)
    assert re.search(r'<text [^>]*class="beat-code">0112</text>', svg)
    assert 'role="img"' not in svg.split(">", 1)[0]  # the map holds links: not an image
    assert "<a " in svg
    # the table beside the map names every beat, with a caption for screen readers
    table = html[html.index('id="beat-table"'):]
    assert "<caption" in table[:300] and "0111" in table and "0112" in table
    assert "static/map.js" in html


def test_network_legend_matches_the_factions_and_only_big_groups_are_named(network_world, make,  # noqa: F811
                                                                           auth, client):
    make.commit()
    auth.login("sarge")
    html = client.get("/analytics/network").get_data(as_text=True)
    factions = int(re.search(r"(\d+) factions?\.", html).group(1))
    legend = html[html.index('class="an-legend"'):html.index("</ul>", html.index('class="an-legend"'))]
    assert len(re.findall(r'class="swatch faction-\d"', legend)) == factions
    assert f"{factions} faction" in legend
    svg = html[html.index('<svg class="network"'):html.index("</svg>", html.index('<svg class="network"'))]
    assert 'role="img"' not in svg.split(">", 1)[0]
    # every node has a label element, the ones not placed on the drawing wait for hover/focus
    labels = re.findall(r'<text [^>]*class="node-label[^"]*"', svg)
    assert len(labels) == 3
    assert len([x for x in labels if "hover-label" not in x]) >= 1
    assert 'id="net-controls"' in html


# ---- in a real browser ------------------------------------------------------------------------

@pytest.fixture
def map_server(tmp_path):
    import threading

    from werkzeug.serving import make_server

    from crm import create_app
    from crm.models import CommunityGroup, District, GroupRelation, Membership, Stakeholder
    from crm.users.services import create_user
    from tests.conftest import PASSWORD, make_config
    from tests.test_network_pages import _square

    app = create_app(make_config(
        "sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'map.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        from crm.models import Beat
        db.create_all()
        d = District(code="01", name="Central")
        db.session.add(d)
        db.session.flush()
        beats = [Beat(code=f"01{i}1", name=f"Beat {i}", district_id=d.id,
                      geometry=_square(-87.63 + i * 0.01, 41.88)) for i in range(1, 4)]
        db.session.add_all(beats)
        db.session.flush()
        create_user(None, "sarge", "supervisor", PASSWORD, district_id=d.id)
        groups = [CommunityGroup(name=f"Group {i}", beats=[beats[i % 3]]) for i in range(12)]
        db.session.add_all(groups)
        db.session.flush()
        people = [Stakeholder(name=f"P{i}") for i in range(30)]
        db.session.add_all(people)
        db.session.flush()
        for i, p in enumerate(people):
            for g in (groups[i % 12], groups[(i + 1) % 12]):
                db.session.add(Membership(stakeholder_id=p.id, group_id=g.id, role="member"))
        db.session.add(GroupRelation(group_a_id=groups[0].id, group_b_id=groups[1].id,
                                     type="competing"))
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", PASSWORD
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.mark.browser
def test_map_tip_on_focus_and_network_zoom_in_a_browser(sync_api, map_server):  # noqa: F811
    from tests.test_browser_unit import CHROMIUM

    base, password = map_server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/login")
            page.fill("#username", "sarge")
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/analytics/coverage")
            first = page.locator("#beat-map a.beat").first
            first.focus()
            tip = page.locator("#map-tip")
            sync_api.expect(tip).to_be_visible()
            sync_api.expect(tip).to_contain_text("Beat 01")
            assert first.get_attribute("aria-label").startswith("Beat 01")

            for _ in range(10):  # the layout is a background job: the page reloads itself
                page.goto(f"{base}/analytics/network")
                if page.locator("#network-graph").count():
                    break
                page.wait_for_timeout(1000)
            graph = page.locator("#network-graph")
            before = graph.get_attribute("viewBox")
            page.get_by_role("button", name="Zoom in").click()
            after = graph.get_attribute("viewBox")
            assert float(after.split()[2]) < float(before.split()[2])
            graph.focus()
            page.keyboard.press("ArrowRight")
            assert float(graph.get_attribute("viewBox").split()[0]) > float(after.split()[0])
            page.get_by_role("button", name="Fit").click()
            assert graph.get_attribute("viewBox") == before
            # a group without its name on the drawing shows it on focus
            hidden = page.locator(".node-label.hover-label").first
            if hidden.count():
                gid = hidden.get_attribute("data-id")
                page.locator(f'.node-link[data-id="{gid}"]').focus()
                sync_api.expect(hidden).to_be_visible()
        finally:
            browser.close()


from tests.test_browser_unit import sync_api  # noqa: E402, F401  (fixture)
