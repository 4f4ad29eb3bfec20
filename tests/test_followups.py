"""What do I have to follow up, and can I tick it off from the list?"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Contact, GroupAssignment
from tests.conftest import csrf_token_from

TODAY = date.today()


@pytest.fixture
def world(make):
    beat, other_beat = make.beat("0111"), make.beat("0999")
    officer = make.user("jdoe", beats=[beat])
    colleague = make.user("partner", beats=[beat])
    make.user("faraway", beats=[other_beat])
    group = make.group("Block Club", beats=[beat])
    c = {
        "overdue": make.contact(officer, groups=[group], beat=beat,
                                follow_up_on=TODAY - timedelta(days=2), follow_up_note="Overdue call"),
        "today": make.contact(officer, groups=[group], beat=beat, follow_up_on=TODAY,
                              follow_up_note="Visit today"),
        "upcoming": make.contact(officer, groups=[group], beat=beat,
                                 follow_up_on=TODAY + timedelta(days=5), follow_up_note="Next week meeting"),
        "far": make.contact(officer, groups=[group], beat=beat,
                            follow_up_on=TODAY + timedelta(days=90), follow_up_note="Far future"),
        "done": make.contact(officer, groups=[group], beat=beat, follow_up_on=TODAY,
                             follow_up_note="Already done", follow_up_done_at=datetime.utcnow()),
        "colleague": make.contact(colleague, groups=[group], beat=beat, follow_up_on=TODAY,
                                  follow_up_note="Colleague visit"),
    }
    make.commit()
    return beat, other_beat, officer, group, c


def _section(html: str, key: str) -> str:
    start = html.index(f'id="follow-ups-{key}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_my_follow_ups_come_in_three_sections(world, auth, client):
    auth.login("jdoe")
    html = client.get("/contacts/follow-ups").get_data(as_text=True)
    assert "Overdue call" in _section(html, "overdue")
    assert "Visit today" in _section(html, "today")
    assert "Next week meeting" in _section(html, "upcoming")
    for absent in ("Far future", "Already done", "Colleague visit"):
        assert absent not in html


def test_marking_a_follow_up_done_from_the_list(world, auth, client):
    *_, officer, _, c = world
    auth.login("jdoe")
    html = client.get("/contacts/follow-ups").get_data(as_text=True)
    r = client.post(f"/contacts/{c['today'].id}/follow-up/done",
                    data={"csrf_token": csrf_token_from(html), "next": "/contacts/follow-ups"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/contacts/follow-ups")
    done = db.session.get(Contact, c["today"].id)
    assert done.follow_up_done_by_id == officer.id and done.follow_up_done_at is not None
    html = client.get("/contacts/follow-ups").get_data(as_text=True)
    assert "Visit today" not in html and "marked done" in html
    assert db.session.scalar(sa.select(AuditEvent.object_id)
                             .where(AuditEvent.action == "contact.follow_up_done")) == str(done.id)


def test_mark_done_needs_the_csrf_token(world, auth, client):
    *_, c = world
    auth.login("jdoe")
    assert client.post(f"/contacts/{c['today'].id}/follow-up/done").status_code == 400
    assert db.session.get(Contact, c["today"].id).follow_up_done_at is None


def test_a_beat_list_shows_everyones_follow_ups_in_my_beat(world, auth, client):
    *_, c = world
    auth.login("jdoe")
    html = client.get("/contacts/follow-ups?beat=0111").get_data(as_text=True)
    assert "Follow-ups in beat 0111" in html
    assert "Colleague visit" in html and "Visit today" in html
    assert client.get("/contacts/follow-ups?beat=0999").status_code == 404
    assert client.get("/contacts/follow-ups?beat=nope").status_code == 404


def test_an_officer_cannot_tick_off_a_follow_up_outside_their_beats(world, auth, client):
    *_, c = world
    auth.login("faraway")
    html = client.get("/contacts/follow-ups").get_data(as_text=True)
    r = client.post(f"/contacts/{c['today'].id}/follow-up/done",
                    data={"csrf_token": csrf_token_from(html)})
    assert r.status_code == 404


def test_a_supervisor_sees_any_beat_of_the_district(world, make, auth, client):
    beat = world[0]
    make.user("sarge", role="supervisor", district=beat.district)
    make.commit()
    auth.login("sarge")
    html = client.get("/contacts/follow-ups?beat=0111").get_data(as_text=True)
    assert "Colleague visit" in html and "Overdue call" in html


def test_a_unit_member_follows_up_the_contacts_of_their_groups(world, make, auth, client):
    *_, group, c = world
    unit = make.user("unit1", role="unit")
    db.session.add(GroupAssignment(user_id=unit.id, group_id=group.id))
    make.commit()
    auth.login("unit1")
    html = client.get("/contacts/follow-ups").get_data(as_text=True)
    assert "Overdue call" in html and "Colleague visit" in html
    assert "Includes contacts with the groups you are assigned" in html


def test_the_follow_ups_api_lists_mine_or_a_beats_and_marks_done(world, auth, client):
    *_, officer, _, c = world
    auth.login("jdoe")
    r = client.get("/api/v1/follow-ups/")
    assert r.status_code == 200
    rows = r.get_json()
    assert [row["follow_up_note"] for row in rows] == ["Overdue call", "Visit today", "Next week meeting"]
    assert [row["status"] for row in rows] == ["overdue", "today", "upcoming"]
    beat_rows = client.get("/api/v1/follow-ups/?beat=0111").get_json()
    assert "Colleague visit" in [row["follow_up_note"] for row in beat_rows]
    assert client.get("/api/v1/follow-ups/?beat=0999").status_code == 404
    token = csrf_token_from(client.get("/contacts/follow-ups").get_data(as_text=True))
    r = client.post(f"/api/v1/follow-ups/{c['overdue'].id}/done", headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.get_json()["status"] == "done"
    assert db.session.get(Contact, c["overdue"].id).follow_up_done_by_id == officer.id
    no_follow_up = client.post(f"/api/v1/follow-ups/{c['far'].id + 999}/done",
                               headers={"X-CSRFToken": token})
    assert no_follow_up.status_code == 404


def test_a_contact_without_follow_up_cannot_be_marked_done(world, make, auth, client):
    beat, _, officer, group, _ = world
    plain = make.contact(officer, groups=[group], beat=beat)
    make.commit()
    auth.login("jdoe")
    token = csrf_token_from(client.get("/contacts/follow-ups").get_data(as_text=True))
    r = client.post(f"/api/v1/follow-ups/{plain.id}/done", headers={"X-CSRFToken": token})
    assert r.status_code == 422
    assert "follow_up_on" in r.get_json()["errors"]["json"]


def test_an_analyst_has_no_follow_ups(world, make, auth, client):
    make.user("eva", role="analyst")
    make.commit()
    auth.login("eva")
    assert client.get("/contacts/follow-ups").status_code == 403
    assert client.get("/api/v1/follow-ups/").status_code == 403
