"""Privacy by design: retention review, erasure, subject access export and consent.

Each test asks what a user (or someone who later reads the database) would see.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.audit.services import record_event
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import (
    AuditEvent,
    CaseAction,
    CaseEvent,
    CaseIdea,
    CaseParticipant,
    Contact,
    ContactStakeholder,
    Membership,
    ProblemCase,
    Stakeholder,
    StakeholderHistory,
)
from crm.privacy.services import (
    add_years,
    erase_stakeholder,
    keep_stakeholder,
    not_past_review,
    record_consent,
    refresh_review_dates,
)
from tests.conftest import csrf_token_from

NAME, PHONE, EMAIL = "Zelda Quibble", "+1 555 0199", "zelda.q@example.org"
TODAY = date.today()


def _ago(days: int) -> datetime:
    return datetime.utcnow() - timedelta(days=days)


def _old_person(make, name, **kw):
    """A record created four years ago: its review date is its own, not pushed by creation."""
    return make.stakeholder(name, created_at=_ago(1500), **kw)


def _old_membership(stakeholder, group, role="member"):
    m = Membership(stakeholder_id=stakeholder.id, group_id=group.id, role=role,
                   created_at=_ago(1400), updated_at=_ago(1400))
    db.session.add(m)
    db.session.flush()
    return m


@pytest.fixture
def world(make):
    """Two districts; a supervisor, an officer and an admin; Zelda in a group of district 1."""
    d1, d2 = make.district("01"), make.district("02")
    b1, b2 = make.beat("0111", d1), make.beat("0211", d2)
    w = type("World", (), {})()
    w.sarge = make.user("sarge", role="supervisor", district=d1)
    w.farsarge = make.user("farsarge", role="supervisor", district=d2)
    w.officer = make.user("jdoe", beats=[b1])
    w.faroff = make.user("faroff", beats=[b2])
    w.admin = make.user("boss", role="admin")
    w.g1 = make.group("Laundromat Tenants", beats=[b1])
    w.g2 = make.group("Harbour Church", beats=[b2])
    w.b1, w.b2 = b1, b2
    w.zelda = _old_person(make, NAME, phone=PHONE, email=EMAIL, language="Portuguese",
                               external_id="EXT-77", consent_status="given",
                               consent_on=TODAY - timedelta(days=400), consent_method="verbal",
                               consent_purpose="stay in touch about the tenants' meetings",
                               review_on=TODAY - timedelta(days=3))
    _old_membership(w.zelda, w.g1, role="leader")
    _old_membership(w.zelda, w.g2)
    w.c1 = make.contact(w.officer, groups=[w.g1], stakeholders=[w.zelda], beat=b1,
                        occurred_at=_ago(1200), channel="meeting", stage_after="rapport",
                        note=f"Met {NAME} at the laundromat; call {PHONE} or mail {EMAIL}.",
                        follow_up_on=TODAY - timedelta(days=1190),
                        follow_up_note=f"Ask {NAME.split()[0]} Quibble about the lift")
    w.c2 = make.contact(w.faroff, groups=[w.g2], stakeholders=[w.zelda], beat=b2,
                        occurred_at=_ago(1150), channel="phone", initiated_by="requested",
                        note="Church hall booking.")
    return w


def _post_form(client, page_url: str, post_url: str, data: dict, **kw):
    token = csrf_token_from(client.get(page_url).get_data(as_text=True))
    return client.post(post_url, data={**data, "csrf_token": token}, **kw)


# ---- retention review -----------------------------------------------------------------------

def test_review_date_is_three_years_after_the_latest_activity(make, world):
    """Which activity counts: creation, last contact or a membership change, whichever is last."""
    old = make.stakeholder("Created Long Ago", created_at=_ago(500))
    contacted = make.stakeholder("Contacted Later", created_at=_ago(900))
    make.contact(world.officer, stakeholders=[contacted], occurred_at=_ago(100))
    joined = make.stakeholder("Joined Later", created_at=_ago(900))
    db.session.add(Membership(stakeholder_id=joined.id, group_id=world.g1.id,
                              created_at=_ago(50), updated_at=_ago(50)))
    kept = make.stakeholder("Already Kept", created_at=_ago(900), review_on=TODAY + timedelta(days=600))
    make.commit()
    refresh_review_dates(world.admin)
    make.commit()
    for s, days in ((old, 500), (contacted, 100), (joined, 50)):
        db.session.refresh(s)
        assert s.review_on == add_years((datetime.utcnow() - timedelta(days=days)).date(), 3), s.name
    db.session.refresh(kept)
    assert kept.review_on == TODAY + timedelta(days=600)  # a later "keep until" stands


def test_a_new_contact_moves_the_review_date_later_never_earlier(make, world):
    s = make.stakeholder("Active Again", created_at=_ago(1200), review_on=TODAY + timedelta(days=5))
    make.contact(world.officer, stakeholders=[s], occurred_at=_ago(2))
    make.commit()
    refresh_review_dates()
    db.session.refresh(s)
    assert s.review_on == add_years(_ago(2).date(), 3)


def test_records_past_review_leave_lists_that_use_the_helper(make, world):
    make.stakeholder("Due Tomorrow", review_on=TODAY + timedelta(days=1))
    make.stakeholder("Due Today", review_on=TODAY)
    make.stakeholder("No Date Yet")
    make.commit()
    names = set(db.session.scalars(sa.select(Stakeholder.name).where(not_past_review())))
    assert {"Due Tomorrow", "Due Today", "No Date Yet"} <= names
    assert NAME not in names  # three days past its review date


def test_supervisor_review_queue_lists_only_past_records_of_their_district(make, auth, client, world):
    make.stakeholder("Future Person", review_on=TODAY + timedelta(days=30))
    make.membership(make.stakeholder("Fresh Member"), world.g1)
    far = _old_person(make, "Far Person", review_on=TODAY - timedelta(days=10))
    _old_membership(far, world.g2)
    make.commit()
    auth.login("sarge")
    html = client.get("/privacy/review").get_data(as_text=True)
    assert NAME in html and "Laundromat Tenants" in html
    assert "Future Person" not in html and "Far Person" not in html and "Fresh Member" not in html
    auth.logout()
    auth.login("boss")
    html = client.get("/privacy/review").get_data(as_text=True)
    assert NAME in html and "Far Person" in html and "Future Person" not in html


def test_officers_and_analysts_have_no_review_queue(make, auth, client, world):
    make.user("eval", role="analyst")
    make.commit()
    auth.login("jdoe")
    assert client.get("/privacy/review").status_code == 403
    assert client.get(f"/privacy/stakeholders/{world.zelda.id}/export.json").status_code == 403
    auth.logout()
    auth.login("eval")
    assert client.get("/privacy/review").status_code == 403


def test_keeping_a_record_needs_a_reason_and_pushes_the_review_a_year(make, auth, client, world):
    make.commit()
    auth.login("sarge")
    url = f"/privacy/stakeholders/{world.zelda.id}/keep"
    r = _post_form(client, "/privacy/review", url,
                   {"reason": "  ", "version_id": world.zelda.version_id})
    assert r.status_code == 422
    assert '<p class="field-error">Why keep it: ' in r.get_data(as_text=True)
    assert world.zelda.review_on == TODAY - timedelta(days=3)
    r = _post_form(client, "/privacy/review", url, {
        "reason": f"{NAME} chairs the tenants' safety working group", "version_id": world.zelda.version_id})
    assert r.status_code == 303
    assert world.zelda.review_on == add_years(TODAY, 1)
    ev = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "stakeholder.retention_keep")).one()
    assert ev.object_id == str(world.zelda.id)
    # Typed text stays out of the append-only trail; the reason is kept where erasure reaches.
    assert ev.detail["reason"] == "[redacted]"
    assert db.session.scalars(sa.select(StakeholderHistory.value).where(
        StakeholderHistory.field == "keep_reason")).all() == [
        f"{NAME} chairs the tenants' safety working group"]
    assert ev.detail["review_on"]["after"] == add_years(TODAY, 1).isoformat()
    assert NAME not in client.get("/privacy/review").get_data(as_text=True)


def test_keep_until_a_chosen_date_at_most_three_years_ahead(make, auth, client, world):
    make.commit()
    auth.login("sarge")
    url = f"/privacy/stakeholders/{world.zelda.id}/keep"
    too_far = add_years(TODAY, 3) + timedelta(days=1)
    r = _post_form(client, "/privacy/review", url, {"reason": "Case still open",
                                                    "until": too_far.isoformat()})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Review again on: must be at most 3 years ahead" in html
    assert "Case still open" in html  # what was typed stays
    chosen = TODAY + timedelta(days=200)
    r = _post_form(client, "/privacy/review", url, {"reason": "Case still open",
                                                    "until": chosen.isoformat()})
    assert r.status_code == 303 and world.zelda.review_on == chosen


def test_keep_refuses_a_stale_form_and_shows_the_saved_state(make, auth, client, world):
    make.commit()
    auth.login("sarge")
    page = client.get("/privacy/review").get_data(as_text=True)
    stale = world.zelda.version_id
    keep_stakeholder(world.admin, world.zelda, "someone else kept it first",
                     until=TODAY + timedelta(days=10))
    world.zelda.review_on = TODAY - timedelta(days=1)  # and it is due again
    make.commit()
    r = client.post(f"/privacy/stakeholders/{world.zelda.id}/keep", data={
        "reason": "mine", "version_id": stale, "csrf_token": csrf_token_from(page)})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "changed by someone else" in html and "mine" in html
    assert (TODAY - timedelta(days=1)).isoformat() in html  # what is saved now


def test_keep_service_validates_reason_and_date():
    class Dummy:
        id, erased_at, version_id = 1, None, 1
    with pytest.raises(ValidationError) as e:
        keep_stakeholder(None, Dummy(), "")
    assert "reason" in e.value.errors
    with pytest.raises(ValidationError) as e:
        keep_stakeholder(None, Dummy(), "ok", until=TODAY)
    assert "until" in e.value.errors
    with pytest.raises(ConflictError):
        keep_stakeholder(None, Dummy(), "ok", version_id=7)


def test_erasing_from_the_queue_needs_a_reason_and_a_ticked_box(make, auth, client, world):
    make.commit()
    auth.login("sarge")
    url = f"/privacy/stakeholders/{world.zelda.id}/erase"
    r = _post_form(client, "/privacy/review", url, {"reason": "No longer involved", "back": "review"})
    assert r.status_code == 422
    assert "tick the box to confirm" in r.get_data(as_text=True)
    assert world.zelda.erased_at is None
    r = _post_form(client, "/privacy/review", url, {"reason": "No longer involved",
                                                    "confirm": "y", "back": "review"})
    assert r.status_code == 303
    assert world.zelda.erased_at is not None and world.zelda.name == f"Erased person #{world.zelda.id}"
    assert NAME not in client.get("/privacy/review").get_data(as_text=True)


def test_supervisor_cannot_erase_someone_outside_their_district(make, auth, client, world):
    far = _old_person(make, "Far Person", review_on=TODAY - timedelta(days=10))
    _old_membership(far, world.g2)
    make.commit()
    auth.login("sarge")
    r = _post_form(client, "/privacy/review", f"/privacy/stakeholders/{far.id}/erase",
                   {"reason": "x", "confirm": "y"})
    assert r.status_code == 404
    assert far.erased_at is None


# ---- erasure --------------------------------------------------------------------------------

def _cells_containing(value: str) -> list[str]:
    """Every table.column whose text (or JSON text) contains `value`, case-insensitively."""
    hits = []
    for table in db.metadata.sorted_tables:
        for col in table.columns:
            if not isinstance(col.type, (sa.String, sa.JSON)):
                continue
            text = sa.cast(col, sa.Text) if isinstance(col.type, sa.JSON) else col
            n = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(
                sa.func.lower(text).like(f"%{value.lower()}%")))
            if n:
                hits.append(f"{table.name}.{col.name}")
    return hits


def test_erasure_leaves_no_personal_data_in_any_table(make, auth, client, world):
    """After erasure nobody, not even someone reading the raw database, finds Zelda again."""
    z = world.zelda
    case = ProblemCase(title="Laundromat lift", problem_statement=f"{NAME} reported the broken lift")
    db.session.add(case)
    db.session.flush()
    db.session.add_all([
        CaseParticipant(case_id=case.id, kind="stakeholder", role="co_producer", stakeholder_id=z.id),
        CaseIdea(case_id=case.id, text="Rota for checking the lift", proposed_by_stakeholder_id=z.id),
        CaseAction(case_id=case.id, description=f"Call {PHONE} weekly", owner_kind="stakeholder",
                   owner_stakeholder_id=z.id),
        CaseEvent(case_id=case.id, at=datetime.utcnow(), action="participant.add",
                  summary=f"Added {NAME}", detail={"who": NAME, "email": EMAIL}),
    ])
    make.commit()
    auth.login("sarge")
    # Everything a supervisor does around the record writes to the audit trail first.
    assert client.get(f"/privacy/stakeholders/{z.id}/consent").status_code == 200
    assert client.get(f"/privacy/stakeholders/{z.id}/export.json").status_code == 200
    assert client.get(f"/privacy/stakeholders/{z.id}/export.html").status_code == 200
    _post_form(client, "/privacy/review", f"/privacy/stakeholders/{z.id}/keep",
               {"reason": f"{NAME} ({EMAIL}) still chairs the group"})
    z.review_on = TODAY - timedelta(days=1)
    make.commit()
    r = _post_form(client, f"/privacy/stakeholders/{z.id}/erase", f"/privacy/stakeholders/{z.id}/erase",
                   {"reason": f"{NAME} asked us to forget her, phone {PHONE}", "confirm": "y"})
    assert r.status_code == 303

    for value in (NAME, PHONE, EMAIL, "EXT-77", "Portuguese"):
        assert _cells_containing(value) == [], value
    # The tombstone keeps contacts and cases true without saying who it was.
    s = db.session.get(Stakeholder, z.id)
    assert s.name == f"Erased person #{z.id}" and s.erased_at is not None
    assert (s.phone, s.email, s.language, s.external_id, s.consent_on, s.consent_method) == (None,) * 6
    assert s.consent_status == "not_asked"
    assert db.session.scalars(sa.select(Membership).where(Membership.stakeholder_id == z.id)).all() == []
    assert set(db.session.scalars(sa.select(ContactStakeholder.contact_id)
                                  .where(ContactStakeholder.stakeholder_id == z.id))) == {world.c1.id, world.c2.id}
    assert db.session.get(Contact, world.c1.id).note == "Met [erased] at the laundromat; call [erased] or mail [erased]."
    assert db.session.scalar(sa.select(CaseParticipant.stakeholder_id)) == z.id
    assert db.session.scalar(sa.select(CaseIdea.proposed_by_stakeholder_id)) == z.id
    assert db.session.scalar(sa.select(CaseAction.owner_stakeholder_id)) == z.id
    ev = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "stakeholder.erase")).one()
    assert ev.object_id == str(z.id) and ev.detail["reason"] == "[redacted]"
    assert db.session.scalars(sa.select(StakeholderHistory.value).where(
        StakeholderHistory.field == "erasure_reason")).one().startswith("[erased] asked us")
    assert ev.detail["memberships_deleted"] == 2


def test_erasure_bumps_the_version_of_scrubbed_records_and_happens_once(make, world):
    before = world.c1.version_id
    make.commit()
    erase_stakeholder(world.admin, world.zelda, "asked")
    make.commit()
    assert db.session.get(Contact, world.c1.id).version_id == before + 1
    with pytest.raises(ValidationError):
        erase_stakeholder(world.admin, world.zelda, "again")


def test_erasing_scrubs_whole_words_only(make, world):
    al = make.stakeholder("Al")
    c = make.contact(world.officer, stakeholders=[al], note="Al came to the Alliance meeting.")
    make.commit()
    erase_stakeholder(world.admin, al, "asked")
    make.commit()
    assert db.session.get(Contact, c.id).note == "[erased] came to the Alliance meeting."


def test_erasure_also_erases_records_merged_into_the_person(make, world):
    dup = make.stakeholder("Z. Quibble", phone="555-0000", merged_into_id=world.zelda.id)
    make.commit()
    erase_stakeholder(world.admin, world.zelda, "asked")
    make.commit()
    assert db.session.get(Stakeholder, dup.id).erased_at is not None
    assert _cells_containing("Z. Quibble") == [] and _cells_containing("555-0000") == []


# ---- subject access export ------------------------------------------------------------------

def test_subject_access_export_holds_every_contact_and_membership(make, auth, client, world):
    """The JSON and the printable page list everything held, from every district."""
    world.officer.display_name = "Officer Jane Doe"
    make.contact(world.faroff, stakeholders=[world.zelda], beat=world.b2,
                 occurred_at=_ago(3), note="Third contact elsewhere")
    make.commit()
    auth.login("sarge")
    r = client.get(f"/privacy/stakeholders/{world.zelda.id}/export.json")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    d = r.get_json()
    assert d["person"]["name"] == NAME and d["person"]["phone"] == PHONE
    assert d["person"]["review_on"] == (TODAY - timedelta(days=3)).isoformat()
    assert d["consent"]["status"] == "given" and d["consent"]["method"] == "verbal"
    assert sorted((m["group"], m["role"]) for m in d["memberships"]) == [
        ("Harbour Church", "member"), ("Laundromat Tenants", "leader")]
    assert len(d["contacts"]) == 3
    first = d["contacts"][0]
    assert first["officers"] == ["Officer Jane Doe"] and first["groups"] == ["Laundromat Tenants"]
    assert first["channel"] == "meeting" and first["stage_after"] == "rapport"
    assert first["follow_up"]["note"].startswith("Ask Zelda")
    assert d["contacts"][1]["initiated_by"] == "requested"
    html = client.get(f"/privacy/stakeholders/{world.zelda.id}/export.html").get_data(as_text=True)
    for text in ("Officer Jane Doe", "Harbour Church", "Laundromat Tenants", "Church hall booking.",
                 "Third contact elsewhere", "Contacts with officers (3)", "privacy.css", PHONE):
        assert text in html, text
    actions = db.session.scalars(sa.select(AuditEvent.detail).where(
        AuditEvent.action == "stakeholder.subject_access_export")).all()
    assert [a["format"] for a in actions] == ["json", "html"]
    assert all(NAME not in str(a) for a in actions)


def test_subject_access_export_includes_case_involvement(make, auth, client, world):
    case = ProblemCase(title="Laundromat lift")
    db.session.add(case)
    db.session.flush()
    db.session.add_all([
        CaseParticipant(case_id=case.id, kind="stakeholder", role="co_producer",
                        stakeholder_id=world.zelda.id),
        CaseIdea(case_id=case.id, text="A lift rota", proposed_by_stakeholder_id=world.zelda.id),
        CaseAction(case_id=case.id, description="Print the rota", owner_kind="stakeholder",
                   owner_stakeholder_id=world.zelda.id)])
    make.commit()
    auth.login("boss")
    d = client.get(f"/privacy/stakeholders/{world.zelda.id}/export.json").get_json()
    assert d["cases"]["participation"] == [{"case_id": case.id, "case": "Laundromat lift",
                                            "role": "co_producer"}]
    assert d["cases"]["ideas"][0]["text"] == "A lift rota"
    assert d["cases"]["actions"][0]["description"] == "Print the rota"


def test_supervisor_of_another_district_gets_404_for_the_export(make, auth, client, world):
    solo = make.stakeholder("Only Far")
    make.membership(solo, world.g2)
    make.commit()
    auth.login("sarge")
    assert client.get(f"/privacy/stakeholders/{solo.id}/export.html").status_code == 404


def test_subject_access_export_lists_who_read_the_record(make, auth, client, world):
    """The person learns who saw their record: opened it, got it in a list, exported it."""
    world.officer.display_name = "Officer Jane Doe"
    other = make.stakeholder("Somebody Else")
    make.membership(other, world.g1)
    make.commit()
    auth.login("jdoe")
    assert client.get(f"/stakeholders/{world.zelda.id}").status_code == 200
    assert client.get(f"/stakeholders/{other.id}").status_code == 200
    auth.logout()
    auth.login("sarge")
    d = client.get(f"/privacy/stakeholders/{world.zelda.id}/export.json").get_json()
    reads = [(r["by"], r["what"]) for r in d["reads"]]
    assert ("Officer Jane Doe", "stakeholder.read") in reads
    assert all(r["at"] and r["role"] for r in d["reads"])
    # Reading someone else is not a read of her.
    hers = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "stakeholder.read", AuditEvent.object_id == str(world.zelda.id))).all()
    assert len([r for r in reads if r[1] == "stakeholder.read"]) == len(hers)
    # The second export lists the first one.
    d2 = client.get(f"/privacy/stakeholders/{world.zelda.id}/export.json").get_json()
    assert "stakeholder.subject_access_export" in [r["what"] for r in d2["reads"]]
    html = client.get(f"/privacy/stakeholders/{world.zelda.id}/export.html").get_data(as_text=True)
    assert "Who has seen this record" in html and "Officer Jane Doe" in html


def test_reads_in_lists_count_by_exact_id(make, world):
    from crm.privacy.services import reads_of

    z = world.zelda
    record_event(world.officer, "stakeholder.list", object_type="stakeholders",
                 detail={"ids": [z.id * 10 + 1, z.id + 100]})
    record_event(world.officer, "stakeholder.list", object_type="stakeholders",
                 detail={"ids": [z.id]})
    record_event(world.sarge, "stakeholder.review_queue_view", object_type="stakeholders",
                 detail={"stakeholder_ids": [z.id]})
    record_event(world.officer, "stakeholder.update", z, detail={})  # a change, not a read
    assert [(e.action, e.actor_username) for e in reads_of(z.id)] == [
        ("stakeholder.list", "jdoe"), ("stakeholder.review_queue_view", "sarge")]


def test_consent_given_without_a_date_gets_one(make, world):
    """An API or import record marked "given" without a date: today on creation, and for
    older records the day the trail first shows it, never null in the export."""
    from crm.privacy.services import subject_access_data
    from crm.stakeholders.services import create_stakeholder

    s = create_stakeholder(world.admin, {"name": "Given Now", "consent_status": "given"})
    assert s.consent_on == TODAY
    legacy = make.stakeholder("Legacy Import", consent_status="given",
                              created_at=datetime(2024, 3, 2, 10, 0))
    make.commit()
    d = subject_access_data(legacy)
    assert d["consent"]["on"] == "2024-03-02" and d["consent"]["on_recorded"] is False
    assert subject_access_data(world.zelda)["consent"]["on"] == (TODAY - timedelta(days=400)).isoformat()


# ---- consent --------------------------------------------------------------------------------

def test_consent_given_needs_date_method_and_purpose(make, auth, client, world):
    s = make.stakeholder("New Person")
    make.membership(s, world.g1)
    make.commit()
    auth.login("jdoe")
    url = f"/privacy/stakeholders/{s.id}/consent"
    r = _post_form(client, url, url, {"status": "given", "category": "representative",
                                      "version_id": s.version_id})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert '<p class="field-error">Date given or withdrawn: is required' in html
    assert '<p class="field-error">How: is required' in html
    assert '<p class="field-error">For what purpose: is required' in html
    r = _post_form(client, url, url, {
        "status": "given", "consent_on": TODAY.isoformat(), "method": "signed form",
        "purpose": "invitations to beat meetings", "category": "representative",
        "version_id": s.version_id})
    assert r.status_code == 303
    assert (s.consent_status, s.consent_on, s.consent_method, s.data_subject_category) == (
        "given", TODAY, "signed form", "representative")
    ev = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "stakeholder.consent")).one()
    assert ev.detail["after"]["status"] == "given" and "signed form" not in str(ev.detail)


def test_consent_withdrawn_and_not_asked(make, world):
    z = world.zelda
    record_consent(world.sarge, z, status="withdrawn", consent_on=TODAY, method="phone call",
                   purpose=None, category="community_member")
    assert z.consent_status == "withdrawn" and z.consent_on == TODAY
    record_consent(world.sarge, z, status="not_asked", consent_on=TODAY, method="x",
                   purpose="y", category="other")
    assert (z.consent_status, z.consent_on, z.consent_method, z.consent_purpose) == (
        "not_asked", None, None, None)
    with pytest.raises(ValidationError) as e:
        record_consent(world.sarge, z, status="given", consent_on=TODAY + timedelta(days=2),
                       method="m", purpose="p", category="nope")
    assert set(e.value.errors) == {"consent_on", "category"}


def test_consent_refuses_a_stale_form_and_shows_both_versions(make, auth, client, world):
    s = make.stakeholder("Busy Person")
    make.membership(s, world.g1)
    make.commit()
    auth.login("jdoe")
    url = f"/privacy/stakeholders/{s.id}/consent"
    page = client.get(url).get_data(as_text=True)
    stale = s.version_id
    record_consent(world.sarge, s, status="withdrawn", consent_on=TODAY, method="letter",
                   purpose=None, category="community_member")
    make.commit()
    r = client.post(url, data={"status": "given", "consent_on": TODAY.isoformat(),
                               "method": "verbal at the meeting", "purpose": "newsletter",
                               "category": "community_member", "version_id": stale,
                               "csrf_token": csrf_token_from(page)})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "changed by someone else" in html
    assert "letter" in html and "verbal at the meeting" in html
    assert s.consent_status == "withdrawn"


def test_consent_page_is_scoped_and_audited_as_a_read(make, auth, client, world):
    make.commit()
    auth.login("faroff")  # met Zelda (contact c2): may see her
    assert client.get(f"/privacy/stakeholders/{world.zelda.id}/consent").status_code == 200
    stranger = make.stakeholder("Stranger")
    make.commit()
    assert client.get(f"/privacy/stakeholders/{stranger.id}/consent").status_code == 404
    reads = db.session.scalars(sa.select(AuditEvent.object_id).where(
        AuditEvent.action == "stakeholder.read")).all()
    assert reads == [str(world.zelda.id)]
