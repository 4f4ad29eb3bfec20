"""Can an officer log a contact on a phone in one screen, without ever losing it?"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.contacts import services
from crm.extensions import db
from crm.models import AuditEvent, Contact, RelationshipStageChange, Stakeholder
from tests.conftest import csrf_token_from


def open_form(client) -> tuple[str, dict]:
    r = client.get("/contacts/new")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="idempotency_key"', html)
    return html, {"csrf_token": csrf_token_from(html), "idempotency_key": key.group(1),
                  "occurred_at": datetime.utcnow().strftime("%Y-%m-%dT%H:%M"),
                  "channel": "foot_patrol", "initiated_by": "proactive", "enforcement": "none"}


@pytest.fixture
def beat_world(make):
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    group = make.group("Maple Tenants", beats=[beat], stage="initial_contact")
    person = make.stakeholder("Ana Lopez", stage="none")
    make.membership(person, group, role="leader")
    make.commit()
    return beat, officer, group, person


def test_the_form_opens_with_now_my_beat_and_the_no_intelligence_warning(beat_world, auth, client):
    beat, _, group, _ = beat_world
    auth.login("jdoe")
    html, fields = open_form(client)
    assert len(fields["idempotency_key"]) >= 32
    # The beat comes from the groups chosen; before any, the officer's beat is shown.
    assert f'Beat: <strong id="beat-preview-code">{beat.code}</strong>' in html
    assert "Engagement record, not intelligence: do not record suspicion, religion, politics or ethnicity." in html
    assert group.name in html
    for technique in ("active_listening", "de_escalation"):
        assert f'value="{technique}"' in html
    assert 'name="occurred_at"' in html and datetime.utcnow().strftime("%Y-%m-%dT") in html
    assert "<script>" not in html and 'style="' not in html
    assert "/static/contacts.js" in html


def test_a_contact_links_people_groups_officers_and_moves_the_stage(beat_world, make, auth, client):
    beat, officer, group, person = beat_world
    colleague = make.user("partner", beats=[beat])
    make.commit()
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"stakeholder_ids": [str(person.id)], "group_ids": [str(group.id)],
                   "officer_ids": [str(colleague.id)], "beat_id": str(beat.id),
                   "techniques": ["active_listening", "reframing"], "stage_after": "rapport",
                   "note": "Talked about the broken lights.", "new_name": "Bo Chen",
                   "new_phone": "555-0101", "follow_up_on": (date.today() + timedelta(days=3)).isoformat(),
                   "follow_up_note": "Bring the repair ticket"})
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 303
    contact = db.session.scalars(sa.select(Contact)).one()
    assert r.headers["Location"].endswith(f"/contacts/{contact.id}")
    assert contact.techniques == ["active_listening", "reframing"]
    assert contact.beat_id == beat.id and contact.logged_by_id == officer.id
    assert {link.user_id for link in contact.officer_links} == {officer.id, colleague.id}
    assert {link.occurred_at for link in contact.officer_links} == {contact.occurred_at}
    new_person = db.session.scalar(sa.select(Stakeholder).where(Stakeholder.name == "Bo Chen"))
    assert new_person.phone == "555-0101"
    assert {link.stakeholder_id for link in contact.stakeholder_links} == {person.id, new_person.id}
    [glink] = contact.group_links
    assert (glink.group_id, glink.initiated_by, glink.occurred_at) == (group.id, "proactive", contact.occurred_at)
    db.session.refresh(person)
    db.session.refresh(group)
    assert person.stage == group.stage == new_person.stage == "rapport"
    changes = db.session.scalars(sa.select(RelationshipStageChange)).all()
    assert {(c.stakeholder_id, c.group_id, c.from_stage) for c in changes} == {
        (person.id, None, "none"), (new_person.id, None, "none"), (None, group.id, "initial_contact")}
    assert all(c.contact_id == contact.id for c in changes)
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "contact.create" in actions and "stakeholder.create" in actions

    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert f'href="/groups/{group.id}"' in page and "Contact saved." in page
    assert "Bring the repair ticket" in page


def test_a_stage_that_does_not_change_writes_no_history(beat_world, auth, client):
    _, _, group, _ = beat_world
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"group_ids": [str(group.id)], "stage_after": "initial_contact"})
    assert client.post("/contacts/new", data=fields).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RelationshipStageChange)) == 0


def test_bad_input_keeps_everything_typed_and_names_the_field(beat_world, auth, client):
    _, _, group, person = beat_world
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"stakeholder_ids": [str(person.id)], "group_ids": [str(group.id)],
                   "note": "Long chat about the playground", "new_name": "Quick Added Person",
                   "new_email": "not-an-email", "techniques": ["boundary_setting"],
                   "follow_up_note": "Call her back"})
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Long chat about the playground" in html
    assert 'value="Quick Added Person"' in html
    assert 'value="not-an-email"' in html
    assert "New person: email: is not an email address" in html
    assert "Follow up on: is needed for a follow-up note" in html
    assert f'name="stakeholder_ids" value="{person.id}"' in html and "Ana Lopez" in html
    assert re.search(rf'value="{group.id}"\s+checked', html)
    assert re.search(r'value="boundary_setting"\s+checked', html)
    assert f'value="{fields["idempotency_key"]}"' in html
    assert 'data-has-errors="1"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stakeholder)) == 1


def test_a_contact_with_nobody_is_refused_naming_the_people_field(beat_world, auth, client):
    auth.login("jdoe")
    _, fields = open_form(client)
    fields["note"] = "Kept note"
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 422
    assert "People: choose at least one person or group" in r.get_data(as_text=True)


def test_a_person_outside_my_scope_cannot_be_slipped_into_a_contact(beat_world, make, auth, client):
    stranger = make.stakeholder("Far Away")
    make.commit()
    auth.login("jdoe")
    _, fields = open_form(client)
    fields["stakeholder_ids"] = [str(stranger.id)]
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 422
    assert "People: includes someone you cannot record a contact with" in r.get_data(as_text=True)
    assert "Far Away" not in r.get_data(as_text=True)


def test_the_same_idempotency_key_twice_gives_one_contact(beat_world, auth, client):
    _, _, group, _ = beat_world
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"group_ids": [str(group.id)], "new_name": "Only Once"})
    first = client.post("/contacts/new", data=fields)
    second = client.post("/contacts/new", data=fields)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stakeholder)
                             .where(Stakeholder.name == "Only Once")) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Already saved" in page


def test_a_race_on_the_same_key_is_caught_by_the_unique_constraint(beat_world, monkeypatch):
    """Two sends that both pass the lookup: the second insert fails and finds the first."""
    _, officer, group, _ = beat_world
    data = {"group_ids": [group.id], "channel": "meeting", "initiated_by": "requested"}
    first, created = services.log_contact(officer, data, "race-key-0001")
    assert created
    db.session.commit()
    first_id = first.id
    real = services._find_by_key
    calls = []

    def blind_first_lookup(key):
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(services, "_find_by_key", blind_first_lookup)
    again, created = services.log_contact(officer, data, "race-key-0001")
    assert not created and again.id == first_id
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_someone_elses_key_is_refused(beat_world, make):
    beat, officer, group, _ = beat_world
    other = make.user("other", beats=[beat])
    services.log_contact(officer, {"group_ids": [group.id]}, "shared-key-0001")
    with pytest.raises(services.ValidationError) as e:
        services.log_contact(other, {"group_ids": [group.id]}, "shared-key-0001")
    assert "idempotency_key" in e.value.errors


def test_logging_a_contact_takes_few_queries(beat_world, make, auth, client, app):
    _, _, group, person = beat_world
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"stakeholder_ids": [str(person.id)], "group_ids": [str(group.id)],
                   "new_name": "Counted Person", "stage_after": "rapport",
                   "techniques": ["active_listening"]})
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        r = client.post("/contacts/new", data=fields)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert r.status_code == 303
    # A new person and three stage changes included: 35 on a fresh database (the contact and
    # its links in one flush, one read and five upserts for the engagement facts, two audit
    # events, the counters); it was 42 before the facts stopped reading back what they wrote.
    assert len(statements) <= 36, statements


def test_an_officer_cannot_open_a_contact_outside_their_beats(make, auth, client):
    mine, theirs = make.beat(), make.beat()
    make.user("jdoe", beats=[mine])
    other = make.user("other", beats=[theirs])
    c = make.contact(other, beat=theirs, note="Not yours")
    make.commit()
    auth.login("jdoe")
    assert client.get(f"/contacts/{c.id}").status_code == 404
    assert client.get(f"/contacts/{c.id}/edit").status_code == 404


def test_an_analyst_has_no_contact_form(make, auth, client):
    make.user("eva", role="analyst")
    make.commit()
    auth.login("eva")
    assert client.get("/contacts/new").status_code == 403


def test_editing_a_note_is_version_checked_and_a_stale_edit_shows_both(beat_world, make, auth, client):
    beat, officer, group, _ = beat_world
    c = make.contact(officer, groups=[group], beat=beat, note="First words")
    make.commit()
    auth.login("jdoe")
    page = client.get(f"/contacts/{c.id}/edit").get_data(as_text=True)
    token = csrf_token_from(page)
    version = c.version_id
    # Someone else saves in between.
    services.update_contact(officer, c, {"note": "Saved by a colleague"}, version_id=None)
    make.commit()
    r = client.post(f"/contacts/{c.id}/edit", data={
        "csrf_token": token, "version_id": version, "note": "My late words", "place": "",
        "purpose": "", "follow_up_on": "", "follow_up_note": ""})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "changed by someone else" in html
    assert "My late words" in html and "Saved by a colleague" in html
    db.session.refresh(c)
    assert c.note == "Saved by a colleague"
    # Sending again after seeing both saves mine.
    r = client.post(f"/contacts/{c.id}/edit", data={
        "csrf_token": token, "version_id": c.version_id, "note": "My late words", "place": "",
        "purpose": "", "follow_up_on": (date.today() + timedelta(days=1)).isoformat(),
        "follow_up_note": "Check in"})
    assert r.status_code == 303
    db.session.refresh(c)
    assert c.note == "My late words" and c.follow_up_note == "Check in"


def test_only_the_contacts_officers_edit_it(beat_world, make, auth, client):
    beat, officer, group, _ = beat_world
    make.user("bystander", beats=[beat])
    c = make.contact(officer, groups=[group], beat=beat)
    make.commit()
    auth.login("bystander")
    assert client.get(f"/contacts/{c.id}").status_code == 200
    assert client.get(f"/contacts/{c.id}/edit").status_code == 403
