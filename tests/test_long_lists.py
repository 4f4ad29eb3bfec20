"""Long lists (issue 12 item 8): a big group's members come in pages with a search, and the
type-ahead pickers (crm.web.picker) suggest and resolve only what the user may see."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CaseParticipant, Membership, ProblemCase, Stakeholder
from crm.web.picker import typed_id
from tests.conftest import PASSWORD, csrf_token_from
from tests.test_browser_shared_scripts import group_server  # noqa: F401  (fixture)
from tests.test_browser_unit import sync_api  # noqa: F401  (fixture)

BIG = 639


@pytest.fixture
def world(make):
    d = make.district()
    beat = make.beat("0111", district=d)
    far = make.beat("0999", district=make.district())
    w = {"beat": beat, "far": far}
    w["sarge"] = make.user("sarge", role="supervisor", district=d)
    w["officer"] = make.user("jdoe", beats=[beat])
    w["big"] = make.group("Big Tenants Union", beats=[beat])
    w["club"] = make.group("Block Club", beats=[beat])
    w["hidden_group"] = make.group("Far Church", beats=[far])
    people = [Stakeholder(name=f"Member {i:03d}") for i in range(BIG)]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all([Membership(stakeholder_id=p.id, group_id=w["big"].id, role="member")
                        for p in people])
    w["ana1"] = make.stakeholder("Ana Lopez")
    w["ana2"] = make.stakeholder("Ana Smith")
    w["stranger"] = make.stakeholder("Ana Stranger")  # in no group the users see
    make.membership(w["stranger"], w["hidden_group"])
    for p in (w["ana1"], w["ana2"]):
        make.membership(p, w["club"])
    db.session.commit()
    return w


def _rows(html: str) -> int:
    section = html[html.index('id="members"'):html.index('id="relations"')]
    return len(re.findall(r'<td data-label="Person">', section))


def test_a_group_of_639_members_is_paged_on_its_page(world, auth, client):
    """Does the group page stay short for a big group, and can the officer reach every member?"""
    auth.login("jdoe")
    gid = world["big"].id
    html = client.get(f"/groups/{gid}").get_data(as_text=True)
    assert _rows(html) == 20
    assert f"({BIG} current)" in html and "page 1 of 32" in html
    assert f'href="/groups/{gid}?members=2#members"' in html
    last = client.get(f"/groups/{gid}?members=32").get_data(as_text=True)
    assert _rows(last) == BIG - 31 * 20
    assert "Member 638" in last  # ordered: the last page holds the last member


def test_member_search_finds_names_the_user_may_see(world, auth, client):
    auth.login("jdoe")
    gid = world["big"].id
    html = client.get(f"/groups/{gid}?mq=member 12").get_data(as_text=True)
    # "Member 120" .. "Member 129" (not "Member 012": the search is a substring)
    assert _rows(html) == 10 and "10 members match" in html
    assert "Member 129" in html and "Member 012" not in html and "Member 130" not in html
    # paging keeps the search
    html = client.get(f"/groups/{gid}?mq=member").get_data(as_text=True)
    assert f'href="/groups/{gid}?mq=member&amp;members=2#members"' in html
    none = client.get(f"/groups/{gid}?mq=nobody").get_data(as_text=True)
    assert "No member you may see matches" in none


def test_member_search_never_matches_a_name_that_is_not_shown(world, auth, client, make):
    """An erased member shows as "member #id"; searching for the old name must not point at
    them. And a user of another beat does not reach the group at all."""
    from crm.db import utcnow

    secret = make.stakeholder("Zed Secret")
    make.membership(secret, world["club"])
    secret.erased_at = utcnow()
    db.session.commit()
    auth.login("jdoe")
    page = client.get(f"/groups/{world['club'].id}").get_data(as_text=True)
    assert f"member #{secret.id}" in page and "Zed Secret" not in page
    html = client.get(f"/groups/{world['club'].id}?mq=Zed").get_data(as_text=True)
    assert "No member you may see matches" in html and f"member #{secret.id}" not in html
    auth.logout()
    make.user("faraway", beats=[world["far"]])
    db.session.commit()
    auth.login("faraway")
    assert client.get(f"/groups/{world['club'].id}?mq=Zed").status_code == 404


def test_pickers_suggest_only_records_in_scope(world, auth, client):
    auth.login("jdoe")
    groups = [g["name"] for g in client.get("/pick/groups.json?q=Ch").get_json()]
    assert "Far Church" not in groups
    assert [g["name"] for g in client.get("/pick/groups.json?q=club").get_json()] == ["Block Club"]
    people = [p["name"] for p in client.get("/stakeholders/search?q=Ana").get_json()]
    assert "Ana Lopez" in people and "Ana Stranger" not in people
    beats = client.get("/pick/beats.json?q=01").get_json()
    assert beats[0]["code"] == "0111" and beats[0]["label"].startswith("0111 ·")
    assert len(client.get("/pick/groups.json?q=" + "x" * 500).get_json()) == 0  # bounded input
    auth.logout()
    assert client.get("/pick/groups.json?q=club").status_code in (302, 401)


def test_typed_text_is_resolved_by_the_server_without_javascript(world, auth, client):
    """Without JavaScript the picker is a text field: one match is taken, several are named."""
    auth.login("sarge")
    gid = world["club"].id
    html = client.get(f"/groups/{gid}").get_data(as_text=True)
    token = csrf_token_from(html)
    r = client.post(f"/groups/{world['big'].id}/memberships",
                    data={"csrf_token": token, "stakeholder_id": "Ana", "role": "member"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "several match “Ana”" in body and "Ana Lopez (#" in body and "Ana Smith (#" in body
    assert "Ana Stranger" not in body  # never named: outside the user's scope
    assert 'value="Ana"' in body  # what was typed is kept
    r = client.post(f"/groups/{world['big'].id}/memberships",
                    data={"csrf_token": token, "stakeholder_id": "ana smith", "role": "leader"})
    assert r.status_code == 303
    assert db.session.scalar(sa.select(Membership.role).where(
        Membership.group_id == world["big"].id,
        Membership.stakeholder_id == world["ana2"].id)) == "leader"
    r = client.post(f"/groups/{world['big'].id}/memberships",
                    data={"csrf_token": token, "stakeholder_id": "Ana Stranger", "role": "member"})
    assert r.status_code == 422 and "no person called “Ana Stranger”" in r.get_data(as_text=True)


def test_case_forms_take_beat_codes_and_person_names(world, auth, client):
    auth.login("sarge")
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'data-picker-url="/pick/beats.json?area=1"' in page and "<select" not in page.split(
        'id="beat_ids"')[0][-200:]
    token = csrf_token_from(page)
    r = client.post("/cases/new", data={"csrf_token": token, "title": "Noise",
                                         "beat_ids": "0999"})
    assert r.status_code == 422  # not a beat of the supervisor's district
    r = client.post("/cases/new", data={"csrf_token": token, "title": "Noise",
                                         "beat_ids": "0111, "})
    assert r.status_code == 303
    case = db.session.scalar(sa.select(ProblemCase).where(ProblemCase.title == "Noise"))
    assert [b.code for b in case.beats] == ["0111"]
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    r = client.post(f"/cases/{case.id}/participants", data={
        "csrf_token": csrf_token_from(html), "p-kind": "group", "p-role": "co_producer",
        "p-group_id": "Block Club"})
    assert r.status_code == 303
    assert db.session.scalar(sa.select(CaseParticipant.group_id).where(
        CaseParticipant.case_id == case.id)) == world["club"].id


def test_long_membership_and_participant_lists_stay_folded(world, auth, client, make):
    """A person in 30 groups and a case with 35 participants: the first ones show, the rest
    wait behind a "more" fold instead of stretching the phone page."""
    groups = [make.group(f"Street {i:02d} block club", beats=[world["beat"]]) for i in range(35)]
    for g in groups[:30]:
        make.membership(world["ana1"], g)
    case = ProblemCase(title="Lighting", lead_id=world["sarge"].id)
    case.beats = [world["beat"]]
    db.session.add(case)
    db.session.flush()
    db.session.add_all([CaseParticipant(case_id=case.id, kind="group", role="affected_party",
                                        group_id=g.id) for g in groups])
    db.session.commit()
    auth.login("sarge")
    person = client.get(f"/stakeholders/{world['ana1'].id}").get_data(as_text=True)
    assert "6 more groups" in person  # 31 groups (the club too): 25 shown, 6 folded
    shown = person[person.index('id="memberships"'):person.index("more-memberships")]
    assert shown.count("<li>") == 25
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "5 more taking part" in page


@pytest.mark.parametrize("text,expected", [("Ana Lopez (#12)", 12), ("#7", 7), ("42", 42),
                                           ("Ana", None), ("", None), ("#", None)])
def test_typed_id(text, expected):
    assert typed_id(text) == expected


# ---- in a real browser, at phone size, keyboard only ----------------------------------------

@pytest.mark.browser
def test_picker_by_keyboard_at_phone_size(sync_api, group_server):  # noqa: F811
    """Add a member on a phone-sized page without touching the mouse: type, arrow down,
    Enter chooses, Tab on, Enter sends."""
    from tests.test_browser_unit import ARTIFACTS, CHROMIUM

    base, gid = group_server["url"], group_server["group"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True)
            page.goto(f"{base}/login")
            page.fill("#username", "unit1")
            page.fill("#password", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/groups/{gid}")
            page.focus("#add-member summary")
            page.keyboard.press("Enter")  # opens the details
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "stakeholder_id"
            box = page.locator("#stakeholder_id")
            sync_api.expect(box).to_have_attribute("role", "combobox")
            page.keyboard.type("Ana Lo")
            option = page.locator("#add-member [role=option]", has_text="Ana Lopez")
            sync_api.expect(option).to_have_count(1)
            sync_api.expect(box).to_have_attribute("aria-expanded", "true")
            page.keyboard.press("ArrowDown")
            active = box.get_attribute("aria-activedescendant")
            assert active and page.locator(f"#{active}").get_attribute("aria-selected") == "true"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "picker_phone.png"))
            page.keyboard.press("Enter")  # chooses; does not send the form
            sync_api.expect(box).to_have_value(f"Ana Lopez (#{group_server['ana']})")
            sync_api.expect(box).to_have_attribute("aria-expanded", "false")
            assert page.url.endswith(f"/groups/{gid}")
            page.keyboard.press("Tab")  # on to the role
            assert page.evaluate("document.activeElement.id") == "role"
            page.keyboard.press("ArrowDown")  # leader -> the next role
            page.keyboard.press("Shift+Tab")  # back in the picker: the list stays closed
            sync_api.expect(box).to_have_attribute("aria-expanded", "false")
            page.keyboard.press("Enter")  # the closed picker lets Enter send the form
            page.wait_for_url(f"{base}/groups/{gid}*")
            sync_api.expect(page.locator(".flash")).to_contain_text("Ana Lopez added")
            sync_api.expect(page.locator("#members")).to_contain_text("Ana Lopez")
        finally:
            browser.close()
