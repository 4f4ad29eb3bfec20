"""Issue 11 item 1: can a user widen their own scope through a case? (No.)

Two districts: a unit member looks after one group of district 1. District 2 has a tenants'
group whose member has a phone and an email. Before the fix, the unit member opened a case
on district 2's beat, added its group as a participant, and the group and its member's phone
and email turned from 404 into 200. Now whatever a user attaches to a case must already be
theirs to see; wider access comes from someone who holds it, and is audited.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.cases import services as svc
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import AuditEvent, CaseParticipant, GroupAssignment, ProblemCase
from tests.conftest import csrf_token_from

PHONE, EMAIL = "555-0277", "zoe@far.example"


@pytest.fixture
def w(make):
    d1, d2 = make.district("01"), make.district("02")
    b1, b2 = make.beat("0111", d1), make.beat("0211", d2)
    club = make.group("Elm Block Club", beats=[b1])
    neighbours = make.group("Oak Neighbours", beats=[b1])  # district 1, not the unit's
    far = make.group("Far Tenants", beats=[b2])
    zoe = make.stakeholder("Zoe Far", phone=PHONE, email=EMAIL)
    make.membership(zoe, far)
    unit = make.user("unit1", role="unit")
    unit2 = make.user("unit2", role="unit")
    sarge1 = make.user("sarge1", role="supervisor", district=d1)
    sarge2 = make.user("sarge2", role="supervisor", district=d2)
    admin = make.user("admin1", role="admin")
    db.session.add(GroupAssignment(user_id=unit.id, group_id=club.id))
    make.commit()
    return type("W", (), dict(b1=b1, b2=b2, club=club, neighbours=neighbours, far=far, zoe=zoe,
                              unit=unit, unit2=unit2, sarge1=sarge1, sarge2=sarge2, admin=admin))


def _closed_to(client, w) -> bool:
    """World 2's group and person are 404 to the signed-in user, pages and API alike."""
    answers = [client.get(f"/groups/{w.far.id}"), client.get(f"/stakeholders/{w.zoe.id}"),
               client.get(f"/api/v1/groups/{w.far.id}"),
               client.get(f"/api/v1/stakeholders/{w.zoe.id}")]
    return all(r.status_code == 404 and PHONE not in r.get_data(as_text=True)
               and EMAIL not in r.get_data(as_text=True) for r in answers)


def _own_case(w) -> ProblemCase:
    case = svc.create_case(w.unit, title="Noise on Elm St", beat_ids=[w.b1.id])
    db.session.commit()
    return case


# ---- pages --------------------------------------------------------------------------------

def test_unit_member_cannot_open_a_case_on_a_beat_outside_their_area_page(w, auth, client):
    auth.login("unit1")
    token = csrf_token_from(client.get("/cases/new").get_data(as_text=True))
    r = client.post("/cases/new", data={"csrf_token": token, "title": "Far away",
                                        "beat_ids": [w.b2.id]})
    assert r.status_code == 422
    assert "Beats: contains a beat outside your area" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProblemCase)) == 0


def test_new_case_form_offers_only_the_beats_of_the_users_area(w, auth, client):
    auth.login("unit1")
    html = client.get("/cases/new").get_data(as_text=True)
    assert "0111" in html and "0211" not in html


def test_unit_member_cannot_add_a_group_they_do_not_see_page(w, auth, client):
    case = _own_case(w)
    auth.login("unit1")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Far Tenants" not in page and "Oak Neighbours" not in page  # not even offered
    for group in (w.far, w.neighbours):  # another district; the case's own district
        r = client.post(f"/cases/{case.id}/participants", data={
            "csrf_token": csrf_token_from(page), "p-kind": "group", "p-role": "co_producer",
            "p-group_id": group.id})
        assert r.status_code == 422
        assert "Group: is not a group you can see" in r.get_data(as_text=True)
    assert _closed_to(client, w)


# ---- API ----------------------------------------------------------------------------------

def _h(client):
    return {"X-CSRFToken": csrf_token_from(client.get("/").get_data(as_text=True))}


def test_unit_member_cannot_open_a_case_on_a_beat_outside_their_area_api(w, auth, client):
    auth.login("unit1")
    r = client.post("/api/v1/cases/", json={"title": "Far away", "beat_ids": [w.b2.id]},
                    headers=_h(client))
    assert r.status_code == 422 and "beat_ids" in r.get_json()["errors"]["json"]


def test_unit_member_cannot_attach_what_they_do_not_see_api(w, auth, client):
    """Participant, idea credit and action owner: each refused, and world 2 stays closed."""
    case = _own_case(w)
    auth.login("unit1")
    h = _h(client)
    base = f"/api/v1/cases/{case.id}"
    tries = [
        ("/participants", {"kind": "group", "role": "co_producer", "group_id": w.far.id},
         "group_id"),
        ("/participants", {"kind": "stakeholder", "role": "co_producer",
                           "stakeholder_id": w.zoe.id}, "stakeholder_id"),
        ("/ideas", {"text": "Lights", "proposed_by_group_id": w.far.id}, "proposed_by_group_id"),
        ("/actions", {"description": "Talk", "owner_kind": "group", "owner_group_id": w.far.id},
         "owner_group_id"),
    ]
    for path, body, field in tries:
        r = client.post(base + path, json=body, headers=h)
        assert r.status_code == 422, (path, r.get_json())
        assert field in r.get_json()["errors"]["json"]
    version = client.get(base).get_json()["version_id"]
    r = client.patch(base, json={"version_id": version, "beat_ids": [w.b1.id, w.b2.id]},
                     headers=h)
    assert r.status_code == 422 and "beat_ids" in r.get_json()["errors"]["json"]
    assert _closed_to(client, w)


# ---- grants: only from someone who holds the scope, and audited ---------------------------------

@pytest.fixture
def cross_case(w):
    """A case over both districts with a group of each, opened by the admin."""
    case = svc.create_case(w.admin, title="Shared corridor", beat_ids=[w.b1.id, w.b2.id])
    svc.add_participant(w.admin, case, kind="group", role="co_producer", group_id=w.club.id)
    svc.add_participant(w.admin, case, kind="group", role="affected_party", group_id=w.far.id)
    db.session.commit()
    return case


def test_a_supervisor_cannot_pass_on_scope_they_do_not_hold_page(w, cross_case, auth, client):
    """District 1's supervisor sees the case (a beat of theirs) but not district 2's group."""
    auth.login("sarge1")
    page = client.get(f"/cases/{cross_case.id}").get_data(as_text=True)
    r = client.post(f"/cases/{cross_case.id}/participants", data={
        "csrf_token": csrf_token_from(page), "p-kind": "officer", "p-role": "co_producer",
        "p-user_id": w.unit.id})
    assert r.status_code == 422
    assert "Officer: would give them groups or people of this case that you do not see" \
        in r.get_data(as_text=True)
    auth.logout()
    auth.login("unit1")
    assert _closed_to(client, w)


def test_a_supervisor_cannot_make_an_outsider_lead_api(w, cross_case, auth, client):
    auth.login("sarge1")
    h = _h(client)
    version = client.get(f"/api/v1/cases/{cross_case.id}").get_json()["version_id"]
    r = client.patch(f"/api/v1/cases/{cross_case.id}",
                     json={"version_id": version, "lead_id": w.unit2.id}, headers=h)
    assert r.status_code == 422 and "lead_id" in r.get_json()["errors"]["json"]
    r = client.post(f"/api/v1/cases/{cross_case.id}/participants",
                    json={"kind": "officer", "role": "co_producer", "user_id": w.unit.id},
                    headers=h)
    assert r.status_code == 422 and "user_id" in r.get_json()["errors"]["json"]


def test_the_supervisor_who_holds_it_grants_it_and_the_grant_is_audited(w, cross_case, auth,
                                                                       client):
    auth.login("sarge2")
    r = client.post(f"/api/v1/cases/{cross_case.id}/participants",
                    json={"kind": "officer", "role": "co_producer", "user_id": w.unit.id},
                    headers=_h(client))
    assert r.status_code == 201, r.get_json()
    grant = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "case.scope_grant"))
    assert grant is not None and grant.actor_username == "sarge2"
    # The unit member already had the club: the grant names only what they gained.
    assert grant.detail["grantee_id"] == w.unit.id and grant.detail["group_ids"] == [w.far.id]
    assert grant.detail["stakeholder_ids"] == [] and grant.detail["via"] == "participant"
    # ... and the case's timeline says so, for everyone who reads the case.
    db.session.expire_all()
    assert "now sees 1 group(s) of this case" in db.session.get(
        ProblemCase, cross_case.id).events[-1].summary
    auth.logout()
    auth.login("unit1")
    assert client.get(f"/groups/{w.far.id}").status_code == 200
    assert client.get(f"/cases/{cross_case.id}").status_code == 200


def test_an_admin_may_make_anyone_lead_and_that_is_a_grant(w, cross_case):
    svc.update_case(w.admin, cross_case, {"lead_id": w.unit2.id},
                    version_id=cross_case.version_id)
    grant = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "case.scope_grant"))
    assert grant.detail["via"] == "lead"
    assert set(grant.detail["group_ids"]) == {w.club.id, w.far.id}


def test_joining_without_gaining_anything_is_no_grant(w):
    """A unit member who already looks after every group of the case joins without a grant."""
    case = svc.create_case(w.admin, title="Elm St", beat_ids=[w.b1.id])
    svc.add_participant(w.admin, case, kind="group", role="co_producer", group_id=w.club.id)
    svc.add_participant(w.admin, case, kind="officer", role="co_producer", user_id=w.unit.id)
    svc.add_participant(w.admin, case, kind="officer", role="resource", user_id=w.unit2.id)
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "case.scope_grant")).all()
    assert [(e.detail["grantee_id"], e.detail["group_ids"]) for e in events] == [
        (w.unit2.id, [w.club.id])]


def test_a_unit_member_in_the_case_may_bring_in_a_colleague_for_what_they_hold(w):
    case = _own_case(w)
    svc.add_participant(w.unit, case, kind="group", role="co_producer", group_id=w.club.id)
    p = svc.add_participant(w.unit, case, kind="officer", role="co_producer", user_id=w.unit2.id)
    assert isinstance(p, CaseParticipant)
    with pytest.raises(ValidationError) as e:  # but never a group they do not see
        svc.add_participant(w.unit, case, kind="group", role="affected_party",
                            group_id=w.neighbours.id)
    assert "group_id" in e.value.errors


def test_beats_already_on_a_case_stay_when_a_narrower_editor_saves_it(w, cross_case):
    """District 1's supervisor edits the title; the case keeps district 2's beat."""
    svc.update_case(w.sarge1, cross_case, {"title": "Corridor", "beat_ids": [w.b1.id, w.b2.id]},
                    version_id=cross_case.version_id)
    assert [b.code for b in cross_case.beats] == ["0111", "0211"]


def test_a_unit_member_without_an_area_is_told_who_can_open_the_case(w, auth, client):
    auth.login("unit2")
    html = client.get("/cases/new").get_data(as_text=True)
    assert "a supervisor or admin whose area it is can open the case" in html
    assert "0111" not in html and "0211" not in html
