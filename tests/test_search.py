"""Issue 12 item 7: does the header's search box find people, groups and cases in my scope,
with my own beat's groups and their members first, and nothing I have no need to know?"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, ProblemCase
from crm.search import services
from tests.test_contacts_api import bearer


@pytest.fixture
def town(make):
    """District D1 with beats 1611 (Dee's) and 1622 (Eli's); district D2 elsewhere.
    Every beat has a "Maple" group with a member called Maple-something; Dee once met Ann
    Maple, a member of a group on Eli's beat (so Dee may see her, but she is not Dee's beat's)."""
    d1, d2 = make.district("D1"), make.district("D2")
    b11, b22, far = make.beat("1611", d1), make.beat("1622", d1), make.beat("0999", d2)
    dee = make.user("dee", beats=[b11])
    make.user("eli", beats=[b22])
    make.user("ray", role="supervisor", district=d1)
    make.user("analyst1", role="analyst")
    make.user("admin1", role="admin")
    unit = make.user("unit1", role="unit")
    mine = make.group("Maple Street Tenants", beats=[b11], stance="wary")
    near = make.group("Maple Business Association", beats=[b22])
    away = make.group("Maple Far Block", beats=[far])
    ann = make.stakeholder("Ann Maple", phone="555 0101")
    bob = make.stakeholder("Bob Maplewood")
    zed = make.stakeholder("Zed Maples", phone="555 0299")
    make.membership(ann, near)
    make.membership(bob, mine)
    make.membership(zed, away)
    make.contact(dee, stakeholders=[ann])
    case = ProblemCase(title="Maple Street lighting", problem_statement="Dark corner")
    case.beats = [b11]
    far_case = ProblemCase(title="Maple Far noise")
    far_case.beats = [far]
    db.session.add_all([case, far_case])
    from crm.models import GroupAssignment
    db.session.add(GroupAssignment(user_id=unit.id, group_id=near.id))
    make.commit()
    return dict(dee=dee, mine=mine, near=near, away=away, ann=ann, bob=bob, zed=zed, case=case,
                far_case=far_case, unit=unit)


def titles(html: str) -> list[str]:
    return re.findall(r'<li class="search-hit[^"]*"[^>]*>\s*<span class="pill">[^<]+</span>\s*'
                      r'<a href="[^"]+">([^<]+)</a>', html)


def test_an_officer_finds_their_own_beats_group_and_its_members_first(town, auth, client):
    auth.login("dee")
    r = client.get("/search?q=maple")
    assert r.status_code == 200
    found = titles(r.get_data(as_text=True))
    # Own beat's group, then its member and the case on the beat, then the person Dee met
    # elsewhere, although her name matches best ("Ann Maple" has the whole word).
    assert found[0] == "Maple Street Tenants"
    assert set(found[1:3]) == {"Bob Maplewood", "Maple Street lighting"}
    assert found[3:] == ["Ann Maple"]
    # Groups on Eli's beat and district 2's records are outside Dee's scope.
    assert not {"Maple Business Association", "Maple Far Block", "Zed Maples",
                "Maple Far noise"} & set(found)


def test_a_typo_in_a_group_name_still_finds_it(town, auth, client):
    auth.login("dee")
    found = titles(client.get("/search?q=Mapel+Stret").get_data(as_text=True))
    assert found[0] == "Maple Street Tenants"
    assert "Maple Far Block" not in found  # close, but outside Dee's scope


def test_the_header_has_one_search_box_that_keeps_the_query(town, auth, client):
    auth.login("dee")
    home = client.get("/").get_data(as_text=True)
    assert home.count('role="search"') == 1
    assert 'action="/search"' in home and 'name="q"' in home
    page = client.get("/search?q=tenants").get_data(as_text=True)
    assert 'id="header-q"' in page and 'value="tenants"' in page


def test_a_supervisor_searches_the_whole_district_but_not_beyond(town, auth, client):
    auth.login("ray")
    found = titles(client.get("/search?q=maple").get_data(as_text=True))
    assert {"Maple Street Tenants", "Maple Business Association", "Ann Maple",
            "Bob Maplewood", "Maple Street lighting"} == set(found)


def test_a_unit_member_finds_their_assigned_group_first(town, auth, client):
    auth.login("unit1")
    found = titles(client.get("/search?q=maple").get_data(as_text=True))
    assert found == ["Maple Business Association", "Ann Maple"]


def test_analysts_may_not_search_and_see_no_box(town, make, auth, client):
    analyst = make.user("analyst2", role="analyst")
    headers = bearer(make, analyst)
    assert client.get("/api/v1/search?q=maple", headers=headers).status_code == 403
    auth.login("analyst1")
    assert 'id="header-q"' not in client.get("/").get_data(as_text=True)
    assert client.get("/search?q=maple").status_code == 403


def test_phone_numbers_find_people_without_showing_the_number(town, auth, client):
    auth.login("admin1")
    html = client.get("/search?q=555 0299").get_data(as_text=True)
    assert titles(html) == ["Zed Maples"]
    assert "555 0299" not in html.split('id="search-results"')[1]
    assert "matched by phone" in html


def test_people_shown_are_audited_once_per_page(town, auth, client):
    auth.login("dee")
    client.get("/search?q=maple")
    events = list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "stakeholder.list")))
    assert len(events) == 1
    assert sorted(events[0].detail["ids"]) == sorted([town["bob"].id, town["ann"].id])


def test_results_are_paged(town, make, auth, client):
    beat = town["mine"].beats[0]
    for i in range(services.PER_PAGE + 5):
        make.group(f"Maple Court {i:02d}", beats=[beat])
    make.commit()
    auth.login("dee")
    first = client.get("/search?q=maple").get_data(as_text=True)
    assert len(titles(first)) == services.PER_PAGE
    assert "Page 1 of 2" in first and 'href="/search?q=maple&amp;page=2"' in first
    second = titles(client.get("/search?q=maple&page=2").get_data(as_text=True))
    total = services.PER_PAGE + 5 + 4  # the new groups and the four of the fixture in Dee's scope
    assert len(second) == total - services.PER_PAGE
    assert not set(second) & set(titles(first))


@pytest.mark.parametrize("q, message", [("m", "q: type at least 2 characters"),
                                        ("x" * 150, "q: at most 100 characters (now 150)")])
def test_a_query_that_cannot_be_searched_says_why_and_keeps_the_text(town, auth, client, q,
                                                                     message):
    auth.login("dee")
    r = client.get(f"/search?q={q}")
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert message in body and f'value="{q}"' in body


def test_the_api_ranks_like_the_page(town, make, client):
    headers = bearer(make, town["dee"])
    r = client.get("/api/v1/search?q=maple", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 4
    first = body["results"][0]
    assert (first["kind"], first["id"], first["own_beat"]) == ("group", town["mine"].id, True)
    assert [(h["kind"], h["title"], h["own_beat"]) for h in body["results"]][3] == (
        "person", "Ann Maple", False)
    assert {(h["kind"], h["title"]) for h in body["results"]} == {
        ("group", "Maple Street Tenants"), ("person", "Bob Maplewood"),
        ("case", "Maple Street lighting"), ("person", "Ann Maple")}
    r = client.get("/api/v1/search?q=m", headers=headers)
    assert r.status_code == 422
    second = client.get("/api/v1/search?q=maple&page_size=3&page=2", headers=headers).get_json()
    assert [h["title"] for h in second["results"]] == ["Ann Maple"]
    assert (second["page"], second["pages"], second["total"]) == (2, 2, 4)
