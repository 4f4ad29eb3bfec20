"""Well-being check-ins: private to the officer who wrote them; aggregates over ≥ 5 officers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.extensions import db
from crm.models import AuditEvent, WellbeingCheckin
from crm.wellbeing.services import aggregate_checkins, create_checkin
from tests.conftest import csrf_token_from

NOT_ENOUGH = "Not enough officers to show without singling someone out"


@pytest.fixture
def district(make):
    d = make.district("01")
    beat = make.beat("0111", d)
    return type("D", (), {"d": d, "beat": beat, "other": make.beat("0211", make.district("02"))})()


def _checkin(user, stress=3, **kw):
    return create_checkin(user, stress_level=stress, **kw)


def _bearer(user):
    return {"Authorization": f"Bearer {issue_token(user, user, 'test')[1]}"}


def test_officer_records_a_check_in_and_sees_only_their_own(make, auth, client, district):
    me = make.user("jdoe", beats=[district.beat])
    colleague = make.user("colleague", beats=[district.beat])
    _checkin(colleague, stress=5, coping="Colleague's private words")
    contact = make.contact(me, beat=district.beat)
    make.commit()
    auth.login("jdoe")
    page = client.get(f"/wellbeing/?contact={contact.id}").get_data(as_text=True)
    assert f'value="{contact.id}"' in page and "Colleague's private words" not in page
    r = client.post("/wellbeing/", data={
        "stress_level": "4", "boundary_crossed": "y", "coping": "Walked it off with my partner",
        "debrief_wanted": "y", "contact_id": str(contact.id), "csrf_token": csrf_token_from(page)})
    assert r.status_code == 303
    mine = db.session.scalars(sa.select(WellbeingCheckin).where(WellbeingCheckin.officer_id == me.id)).one()
    assert (mine.stress_level, mine.boundary_crossed, mine.debrief_wanted, mine.contact_id) == (
        4, True, True, contact.id)
    html = client.get("/wellbeing/").get_data(as_text=True)
    assert "4 / 5" in html and "5 / 5" not in html
    assert "Walked it off" in client.get(f"/wellbeing/{mine.id}").get_data(as_text=True)


def test_check_in_form_explains_what_is_wrong(make, auth, client, district):
    me = make.user("jdoe", beats=[district.beat])
    other = make.user("other", beats=[district.beat])
    theirs = make.contact(other, beat=district.beat)
    make.commit()
    auth.login("jdoe")
    page = client.get("/wellbeing/").get_data(as_text=True)
    r = client.post("/wellbeing/", data={"coping": "kept typing", "csrf_token": csrf_token_from(page)})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert '<p class="field-error">How stressed do you feel: ' in html and "kept typing" in html
    r = client.post("/wellbeing/", data={"stress_level": "2", "contact_id": str(theirs.id),
                                         "csrf_token": csrf_token_from(page)})
    assert r.status_code == 422
    assert ('<p class="field-error">Contact number: is not a contact you took part in</p>'
            in r.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WellbeingCheckin)) == 0
    del me


@pytest.mark.parametrize("reader", ["colleague", "sarge", "boss"])
def test_nobody_else_can_read_a_check_in_not_even_a_supervisor_or_admin(make, auth, client, district, reader):
    officer = make.user("jdoe", beats=[district.beat])
    make.user("colleague", beats=[district.beat])
    make.user("sarge", role="supervisor", district=district.d)
    make.user("boss", role="admin")
    c = _checkin(officer, stress=5, coping="Private words")
    make.commit()
    auth.login(reader)
    assert client.get(f"/wellbeing/{c.id}").status_code == 404
    page = client.get("/").get_data(as_text=True)
    assert client.post(f"/wellbeing/{c.id}/delete",
                       data={"csrf_token": csrf_token_from(page)}).status_code == 404
    listing = client.get("/wellbeing/")
    assert "Private words" not in listing.get_data(as_text=True)
    assert client.get(f"/api/v1/wellbeing/{c.id}").status_code == 404
    assert db.session.get(WellbeingCheckin, c.id) is not None


def test_api_gives_404_on_someone_elses_check_in_with_a_token(make, client, district):
    officer = make.user("jdoe", beats=[district.beat])
    boss = make.user("boss", role="admin")
    c = _checkin(officer)
    headers = _bearer(boss)
    make.commit()
    assert client.get(f"/api/v1/wellbeing/{c.id}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/wellbeing/{c.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/wellbeing/", headers=headers).status_code == 403


def test_api_create_list_and_delete_own_check_ins(make, client, district):
    me = make.user("jdoe", beats=[district.beat])
    other = make.user("other", beats=[district.beat])
    _checkin(other, stress=1)
    headers = _bearer(me)
    make.commit()
    r = client.post("/api/v1/wellbeing/", json={"stress_level": 6}, headers=headers)
    assert r.status_code == 422 and "stress_level" in r.get_json()["errors"]["json"]
    r = client.post("/api/v1/wellbeing/", json={"stress_level": 3, "debrief_wanted": True,
                                                "coping": "tea"}, headers=headers)
    assert r.status_code == 201
    body = r.get_json()
    assert body["stress_level"] == 3 and body["debrief_wanted"] is True
    listed = client.get("/api/v1/wellbeing/", headers=headers)
    assert [c["id"] for c in listed.get_json()] == [body["id"]] and "X-Pagination" in listed.headers
    assert client.get(f"/api/v1/wellbeing/{body['id']}", headers=headers).get_json()["coping"] == "tea"
    assert client.delete(f"/api/v1/wellbeing/{body['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/wellbeing/{body['id']}", headers=headers).status_code == 404


def test_check_ins_leave_only_ids_in_the_audit_trail(make, client, district):
    me = make.user("jdoe", beats=[district.beat])
    c = _checkin(me, stress=5, coping="Cried in the car afterwards", boundary_crossed=True)
    make.commit()
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("wellbeing%"))).all()
    assert [(e.action, e.object_id, e.detail) for e in events] == [
        ("wellbeing_checkin.create", str(c.id), {})]
    texts = " ".join(str(e.detail) for e in db.session.scalars(sa.select(AuditEvent)))
    assert "Cried" not in texts


def _officers_with_checkins(make, beat, n, prefix="o", stress=4, crossed=False, debrief=False):
    users = []
    for i in range(n):
        u = make.user(f"{prefix}{i}", beats=[beat])
        _checkin(u, stress=stress, boundary_crossed=crossed, debrief_wanted=debrief)
        users.append(u)
    return users


def test_aggregate_is_hidden_with_four_officers_and_shown_with_five(make, auth, client, district):
    make.user("sarge", role="supervisor", district=district.d)
    first = _officers_with_checkins(make, district.beat, 4, crossed=True)
    _checkin(first[0], stress=2)  # many check-ins by few officers still single someone out
    _officers_with_checkins(make, district.other, 3, prefix="far")  # other district: not counted
    make.commit()
    auth.login("sarge")
    html = client.get("/wellbeing/aggregate").get_data(as_text=True)
    assert NOT_ENOUGH in html and "Mean stress" not in html
    fifth = make.user("o_fifth", beats=[district.beat])
    _checkin(fifth, stress=2, debrief_wanted=True)
    make.commit()
    html = client.get("/wellbeing/aggregate").get_data(as_text=True)
    assert NOT_ENOUGH not in html
    assert "Mean stress</dt><dd>3.3 / 5" in html  # (4+4+4+4+2+2)/6
    assert "Debriefs wanted</dt><dd>1" in html and "Check-ins</dt><dd>6" in html


def test_admin_sees_aggregates_over_all_officers_under_the_same_rule(make, client, district):
    boss = make.user("boss", role="admin")
    _officers_with_checkins(make, district.beat, 3)
    _officers_with_checkins(make, district.other, 1, prefix="far")
    headers = _bearer(boss)
    make.commit()
    r = client.get("/api/v1/wellbeing/aggregate?days=30", headers=headers)
    assert r.status_code == 200
    assert r.get_json()["shown"] is False and r.get_json()["mean_stress"] is None
    _officers_with_checkins(make, district.other, 1, prefix="far2", stress=1)
    make.commit()
    body = client.get("/api/v1/wellbeing/aggregate?days=30", headers=headers).get_json()
    assert body["shown"] is True and body["officers"] == 5 and body["mean_stress"] == 3.4


def test_old_check_ins_fall_out_of_the_window(make, district):
    sarge = make.user("sarge", role="supervisor", district=district.d)
    _officers_with_checkins(make, district.beat, 4)
    late = make.user("late", beats=[district.beat])
    _checkin(late, occurred_at=datetime.utcnow() - timedelta(days=40))
    assert aggregate_checkins(sarge, days=30).shown is False
    assert aggregate_checkins(sarge, days=90).shown is True


def test_officers_cannot_see_aggregates(make, auth, client, district):
    me = make.user("jdoe", beats=[district.beat])
    headers = _bearer(me)
    make.commit()
    assert client.get("/api/v1/wellbeing/aggregate", headers=headers).status_code == 403
    auth.login("jdoe")
    assert client.get("/wellbeing/aggregate").status_code == 403


def test_wellbeing_endpoints_are_in_the_openapi_document(openapi_doc):
    paths = openapi_doc["paths"]
    assert {"/api/v1/wellbeing/", "/api/v1/wellbeing/{checkin_id}",
            "/api/v1/wellbeing/aggregate"} <= set(paths)
