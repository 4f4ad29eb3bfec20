"""Group pages: can each role find, read, create and edit the groups it works with?"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    AuditEvent,
    CaseParticipant,
    CommunityGroup,
    GroupAssignment,
    ProblemCase,
    RelationshipStageChange,
)
from tests.conftest import csrf_token_from


def _ago(days: int) -> datetime:
    return datetime.utcnow() - timedelta(days=days)


@pytest.fixture
def beat_world(make):
    """Two beats; an officer on the first; groups with known contact histories."""
    b1, b2 = make.beat("0111"), make.beat("0222")
    officer = make.user("jdoe", beats=[b1])
    make.user("unit1", role="unit")
    make.user("boss", role="admin")
    make.user("eval", role="analyst")
    groups = {
        "recent": make.group("Recent Tenants", beats=[b1], kind="tenants", stance="receptive",
                             size_estimate=40),
        "stale": make.group("Stale Church", beats=[b1], kind="faith", stance="wary",
                            size_estimate=300),
        "never": make.group("Never Youth", beats=[b1], kind="youth", stance="hostile"),
        "far": make.group("Far Shop", beats=[b2], kind="business", stance="neutral",
                          size_estimate=5),
    }
    make.contact(officer, groups=[groups["recent"]], occurred_at=_ago(2))
    make.contact(officer, groups=[groups["stale"]], occurred_at=_ago(45))
    make.contact(officer, groups=[groups["stale"]], occurred_at=_ago(60))
    make.commit()
    return {"b1": b1, "b2": b2, "officer": officer, **groups}


def _names_in_order(html: str, names: list[str]) -> list[str]:
    found = [(html.index(n), n) for n in names if n in html]
    return [n for _, n in sorted(found)]


# ---- list -------------------------------------------------------------------------------

def test_officer_sees_only_groups_in_their_beats(beat_world, auth, client):
    auth.login("jdoe")
    html = client.get("/groups/").get_data(as_text=True)
    assert "Recent Tenants" in html and "Stale Church" in html and "Never Youth" in html
    assert "Far Shop" not in html
    assert "New group" not in html  # officers read only


def test_list_filters_by_kind_stance_beat_and_stage(beat_world, auth, client):
    auth.login("boss")
    html = client.get("/groups/?kind=faith").get_data(as_text=True)
    assert "Stale Church" in html and "Recent Tenants" not in html
    html = client.get("/groups/?stance=hostile").get_data(as_text=True)
    assert "Never Youth" in html and "Stale Church" not in html
    html = client.get("/groups/?beat=0222").get_data(as_text=True)
    assert "Far Shop" in html and "Recent Tenants" not in html
    html = client.get("/groups/?stage=rapport").get_data(as_text=True)
    assert "No groups match" in html


def test_list_filters_by_days_since_last_contact_and_never(beat_world, auth, client):
    auth.login("boss")
    html = client.get("/groups/?min_days=30").get_data(as_text=True)
    # 45 days ago and never contacted qualify; 2 days ago does not.
    assert "Stale Church" in html and "Never Youth" in html and "Far Shop" in html
    assert "Recent Tenants" not in html
    html = client.get("/groups/?min_days=45").get_data(as_text=True)
    assert "Stale Church" in html
    html = client.get("/groups/?min_days=46").get_data(as_text=True)
    assert "Stale Church" not in html
    html = client.get("/groups/?never=y").get_data(as_text=True)
    assert "Never Youth" in html and "Far Shop" in html
    assert "Stale Church" not in html and "Recent Tenants" not in html


def test_list_sorts_by_name_days_size_and_stance(beat_world, auth, client):
    auth.login("boss")
    names = ["Recent Tenants", "Stale Church", "Never Youth", "Far Shop"]
    html = client.get("/groups/").get_data(as_text=True)
    assert _names_in_order(html, names) == sorted(names)
    html = client.get("/groups/?sort=name&order=desc").get_data(as_text=True)
    assert _names_in_order(html, names) == sorted(names, reverse=True)
    html = client.get("/groups/?sort=days&order=desc").get_data(as_text=True)
    # Longest without contact first: never contacted (by name), then 45 days, then 2 days.
    assert _names_in_order(html, names) == ["Far Shop", "Never Youth", "Stale Church",
                                            "Recent Tenants"]
    html = client.get("/groups/?sort=size&order=desc").get_data(as_text=True)
    assert _names_in_order(html, names) == ["Stale Church", "Recent Tenants", "Far Shop",
                                            "Never Youth"]  # unknown size last
    html = client.get("/groups/?sort=stance").get_data(as_text=True)
    assert _names_in_order(html, names) == ["Recent Tenants", "Far Shop", "Stale Church",
                                            "Never Youth"]  # receptive, neutral, wary, hostile


def test_list_is_paginated(make, auth, client):
    beat = make.beat()
    make.user("boss", role="admin")
    for i in range(30):
        make.group(f"Group {i:02d}", beats=[beat])
    make.commit()
    auth.login("boss")
    first = client.get("/groups/").get_data(as_text=True)
    assert "Group 00" in first and "Group 24" in first and "Group 25" not in first
    assert "page 1 of 2" in first
    second = client.get("/groups/?page=2").get_data(as_text=True)
    assert "Group 25" in second and "Group 29" in second and "Group 00" not in second


def test_list_shows_stay_in_touch_status(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    ok = make.group("Fresh Club", beats=[beat], contact_interval_days=30)
    due = make.group("Due Club", beats=[beat], contact_interval_days=10)
    late = make.group("Late Club", beats=[beat], contact_interval_days=10)
    make.group("Silent Club", beats=[beat])
    make.contact(officer, groups=[ok], occurred_at=_ago(3))
    make.contact(officer, groups=[due], occurred_at=_ago(8))     # 80% of 10 days
    make.contact(officer, groups=[late], occurred_at=_ago(11))   # past the interval
    make.commit()
    auth.login("jdoe")
    html = client.get("/groups/").get_data(as_text=True)

    def status_of(name):
        row = html[html.index(name):]
        return re.search(r'pill status-(\w+)', row).group(1)

    assert status_of("Fresh Club") == "ok"
    assert status_of("Due Club") == "due"
    assert status_of("Late Club") == "overdue"
    assert status_of("Silent Club") == "overdue"


def test_bad_filter_names_the_field_and_still_lists(beat_world, auth, client):
    auth.login("boss")
    r = client.get("/groups/?min_days=abc")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'class="field-error">No contact for at least (days):' in html
    assert "Recent Tenants" in html


def test_analyst_gets_no_group_pages(beat_world, auth, client):
    auth.login("eval")
    assert client.get("/groups/").status_code == 403
    assert client.get(f"/groups/{beat_world['recent'].id}").status_code == 403
    assert client.get("/groups/new").status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(beat_world, client):
    r = client.get("/groups/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


# ---- group page -------------------------------------------------------------------------

def test_officer_cannot_open_a_group_outside_their_beats(beat_world, auth, client):
    auth.login("jdoe")
    assert client.get(f"/groups/{beat_world['far'].id}").status_code == 404
    assert client.get(f"/groups/{beat_world['recent'].id}").status_code == 200
    assert client.get("/groups/999999").status_code == 404


def test_group_page_shows_facts_timeline_history_cases_and_status(make, auth, client):
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    g = make.group("Block Club", beats=[beat], kind="tenants", stance="wary", size_estimate=80,
                   languages=["Spanish", "English"], channels=["WhatsApp"],
                   description="Meets monthly at the library.", contact_interval_days=30)
    make.contact(officer, groups=[g], occurred_at=_ago(25), channel="meeting",
                 initiated_by="requested", stage_after="rapport",
                 note="Talked about the broken streetlight on 5th.")
    make.contact(officer, groups=[g], occurred_at=_ago(50), note="First hello")
    db.session.add(RelationshipStageChange(group_id=g.id, from_stage="initial_contact",
                                           to_stage="rapport", changed_at=_ago(25)))
    open_case = ProblemCase(title="Streetlight outage", stage="analysis")
    closed_case = ProblemCase(title="Old graffiti", stage="closed")
    db.session.add_all([open_case, closed_case])
    db.session.flush()
    for c in (open_case, closed_case):
        c.beats = [beat]
        db.session.add(CaseParticipant(case_id=c.id, kind="group", role="co_producer",
                                       group_id=g.id))
    make.commit()
    auth.login("jdoe")
    r = client.get(f"/groups/{g.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for text in ("Tenants", "0111", "Wary", "80", "Spanish, English", "WhatsApp",
                 "Meets monthly at the library."):
        assert text in html, text
    # Timeline, latest first, with channel, initiated by, stage after and the note.
    assert html.index("broken streetlight") < html.index("First hello")
    assert "Requested" in html and "stage after: Rapport" in html and "jdoe" in html
    assert "Initial contact → <strong>Rapport</strong>" in html
    assert "Streetlight outage" in html and "Old graffiti" not in html
    # 25 of 30 days: due (>= 80% of the interval).
    assert 'id="stay-in-touch"' in html and "touch-due" in html


def test_group_page_names_members_only_when_the_user_may_see_them(make, auth, client):
    b1, b2 = make.beat(), make.beat()
    make.user("jdoe", beats=[b1])
    g = make.group("Block Club", beats=[b1])
    other = make.group("Other Beat Church", beats=[b2])
    alice = make.stakeholder("Alice Visible")
    make.membership(alice, g, role="leader")
    make.membership(alice, other)
    make.commit()
    auth.login("jdoe")
    html = client.get(f"/groups/{g.id}").get_data(as_text=True)
    assert "Alice Visible" in html and "Leader" in html


def test_erased_or_hidden_member_shows_as_a_number(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    g = make.group("Block Club", beats=[beat])
    s = make.stakeholder("Erased Person", erased_at=datetime.utcnow())
    make.membership(s, g)
    make.commit()
    auth.login("jdoe")
    html = client.get(f"/groups/{g.id}").get_data(as_text=True)
    assert "Erased Person" not in html and f"member #{s.id}" in html
    from crm.groups import services
    row = services.group_page(officer, g).members[0]
    assert services.MemberRow(row.membership, visible=False).display_name == f"member #{s.id}"


def test_group_page_timeline_is_paginated(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    g = make.group("Busy Club", beats=[beat])
    for i in range(25):
        make.contact(officer, groups=[g], occurred_at=_ago(i + 1), note=f"visit-{i:02d}-note")
    make.commit()
    auth.login("jdoe")
    first = client.get(f"/groups/{g.id}").get_data(as_text=True)
    assert "visit-00-note" in first and "visit-19-note" in first and "visit-20-note" not in first
    second = client.get(f"/groups/{g.id}?timeline=2").get_data(as_text=True)
    assert "visit-20-note" in second and "visit-00-note" not in second


def test_unit_member_sees_assigned_groups_only(make, auth, client):
    beat = make.beat()
    unit = make.user("unit1", role="unit")
    mine = make.group("Assigned Club", beats=[beat])
    other = make.group("Unassigned Club", beats=[beat])
    db.session.add(GroupAssignment(user_id=unit.id, group_id=mine.id))
    make.commit()
    auth.login("unit1")
    html = client.get("/groups/").get_data(as_text=True)
    assert "Assigned Club" in html and "Unassigned Club" not in html
    assert client.get(f"/groups/{other.id}").status_code == 404


# ---- create and edit --------------------------------------------------------------------

def _form(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def test_unit_member_creates_a_group_and_is_assigned_to_it(make, auth, client):
    make.beat("0111")
    unit = make.user("unit1", role="unit")
    make.commit()
    auth.login("unit1")
    html = _form(client, "/groups/new")
    r = client.post("/groups/new", data={
        "csrf_token": csrf_token_from(html), "name": "  Riverside   Tenants ", "kind": "tenants",
        "stance": "neutral", "stage": "initial_contact", "beats": "0111", "size_estimate": "120",
        "languages": "Spanish, English, spanish", "channels": "WhatsApp group, ",
        "contact_interval_days": "14", "description": "Estate on the river"})
    assert r.status_code == 303
    g = db.session.scalar(sa.select(CommunityGroup).where(CommunityGroup.name == "Riverside Tenants"))
    assert g.languages == ["Spanish", "English"] and g.channels == ["WhatsApp group"]
    assert [b.code for b in g.beats] == ["0111"] and g.contact_interval_days == 14
    assert db.session.get(GroupAssignment, (unit.id, g.id)) is not None
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "group.create"))
    assert ev.detail["after"]["name"] == "Riverside Tenants"
    assert client.get(r.headers["Location"]).status_code == 200


def test_invalid_group_form_names_the_field_and_keeps_typed_values(make, auth, client):
    make.user("boss", role="admin")
    make.group("Taken Name")
    make.commit()
    auth.login("boss")
    html = _form(client, "/groups/new")
    r = client.post("/groups/new", data={
        "csrf_token": csrf_token_from(html), "name": "Taken Name", "kind": "tenants",
        "stance": "neutral", "stage": "none", "beats": "9999", "size_estimate": "-3",
        "languages": "Polish", "channels": "", "contact_interval_days": "30",
        "description": "my typed text"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'class="field-error">Estimated size:' in html
    assert 'value="Polish"' in html and "my typed text" in html
    r = client.post("/groups/new", data={
        "csrf_token": csrf_token_from(html), "name": "Taken Name", "kind": "tenants",
        "stance": "neutral", "stage": "none", "beats": "9999", "size_estimate": "3",
        "languages": "Polish", "channels": "", "contact_interval_days": "30", "description": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'class="field-error">Name: another group already has this name' in html
    assert "unknown beat code: 9999" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunityGroup)) == 1


def test_officer_cannot_create_or_edit_groups(beat_world, auth, client):
    auth.login("jdoe")
    assert client.get("/groups/new").status_code == 403
    assert client.get(f"/groups/{beat_world['recent'].id}/edit").status_code == 403
    html = client.get(f"/groups/{beat_world['recent'].id}").get_data(as_text=True)
    assert "Edit group" not in html and "Declare a relation" not in html


def _edit_data(html, **changes):
    data = {"csrf_token": csrf_token_from(html)}
    for name in ("name", "beats", "size_estimate", "languages", "channels",
                 "contact_interval_days", "version_id"):
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or \
            re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
        data[name] = m.group(1) if m else ""
    for name in ("kind", "stance", "stage"):
        sel = html[html.index(f'name="{name}"'):]
        data[name] = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                               sel).group(1) or ""
    data["description"] = ""
    data.update(changes)
    return data


def test_edit_group_changes_fields_records_stage_change_and_audits(make, auth, client):
    beat = make.beat("0111")
    make.user("boss", role="admin")
    g = make.group("Block Club", beats=[beat], kind="tenants")
    make.commit()
    auth.login("boss")
    html = _form(client, f"/groups/{g.id}/edit")
    data = _edit_data(html, stance="receptive", stage="rapport", languages="Somali")
    data["kind"] = "tenants"
    r = client.post(f"/groups/{g.id}/edit", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)
    g = db.session.get(CommunityGroup, g.id)
    assert g.stance == "receptive" and g.languages == ["Somali"] and g.version_id == 2
    change = db.session.scalar(sa.select(RelationshipStageChange))
    assert (change.from_stage, change.to_stage) == ("none", "rapport")
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "group.update"))
    assert ev.detail["before"]["stance"] == "unknown" and ev.detail["after"]["stance"] == "receptive"
    assert "name" not in ev.detail["after"]  # only what changed


def test_stale_group_edit_is_refused_with_both_versions_shown(make, auth, client):
    beat = make.beat("0111")
    make.user("boss", role="admin")
    g = make.group("Block Club", beats=[beat], description="original")
    make.commit()
    auth.login("boss")
    html = _form(client, f"/groups/{g.id}/edit")   # opened at version 1
    # Meanwhile a colleague saves a change.
    g.description = "colleague's text"
    make.commit()
    data = _edit_data(html, description="my text", stance="wary")
    data["kind"] = "other"
    r = client.post(f"/groups/{g.id}/edit", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Someone else saved this first" in html
    assert "my text" in html and "colleague&#39;s text" in html
    g = db.session.get(CommunityGroup, g.id)
    assert g.description == "colleague's text" and g.stance == "unknown"  # nothing overwritten
    # The form now carries the saved version, so saving again is a deliberate overwrite.
    assert f'value="{g.version_id}"' in html
    again = client.post(f"/groups/{g.id}/edit", data={**data, "version_id": str(g.version_id),
                                                      "csrf_token": csrf_token_from(html)})
    assert again.status_code == 303
    assert db.session.get(CommunityGroup, g.id).description == "my text"


def test_supervisor_may_only_put_groups_in_their_district(make, auth, client):
    d1, d2 = make.district(), make.district()
    make.beat("0111", d1)
    make.beat("0999", d2)
    make.user("sarge", role="supervisor", district=d1)
    make.commit()
    auth.login("sarge")
    html = _form(client, "/groups/new")
    base = {"csrf_token": csrf_token_from(html), "name": "New Club", "kind": "other",
            "stance": "unknown", "stage": "none", "size_estimate": "", "languages": "",
            "channels": "", "contact_interval_days": "30", "description": ""}
    r = client.post("/groups/new", data={**base, "beats": "0999"})
    assert r.status_code == 422 and "outside your district: 0999" in r.get_data(as_text=True)
    r = client.post("/groups/new", data={**base, "beats": "0111"})
    assert r.status_code == 303
    assert client.get(r.headers["Location"]).status_code == 200


def test_group_page_works_for_each_reading_role(beat_world, make, auth, client):
    d = beat_world["b1"].district_id
    from crm.models import District
    make.user("sarge", role="supervisor", district=db.session.get(District, d))
    make.commit()
    for who in ("jdoe", "sarge", "boss"):
        client.delete_cookie("session")
        auth.login(who)
        assert client.get(f"/groups/{beat_world['stale'].id}").status_code == 200, who
