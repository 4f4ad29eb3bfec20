"""CSV import within the importer's scope: a file may change only what a page would let them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.csvio.services import COLUMNS, import_csv
from crm.extensions import db
from crm.models import (
    AuditEvent,
    Beat,
    CommunityGroup,
    Contact,
    GroupAssignment,
    Membership,
    Stakeholder,
)


def csv_text(kind: str, *lines: str, header: str | None = None) -> str:
    return "\n".join([header or ",".join(COLUMNS[kind]), *lines]) + "\n"


@pytest.fixture
def scoped(make):
    """A unit member who looks after "Ours"; "Theirs" and its member are out of scope."""
    d1, d2 = make.district(code="D1"), make.district(code="D2")
    b1, b2 = make.beat(code="B1", district=d1), make.beat(code="B2", district=d2)
    una = make.user(username="una", role="unit")
    ada = make.user(username="ada", role="admin")
    olsen = make.user(username="olsen", role="officer", beats=[b1])
    ours = make.group(name="Ours", beats=[b1], stance="receptive")
    theirs = make.group(name="Theirs", beats=[b2], stance="wary")
    mine = make.stakeholder(name="Mia Mine", external_id="M-1", phone="555-0001")
    hidden = make.stakeholder(name="Hal Hidden", external_id="H-1", phone="555-0002")
    make.membership(mine, ours)
    make.membership(hidden, theirs)
    db.session.add(GroupAssignment(user_id=una.id, group_id=ours.id))
    make.commit()
    return dict(una=una, ada=ada, olsen=olsen, ours=ours, theirs=theirs, mine=mine,
                hidden=hidden, beats=(b1, b2))


def reasons(report) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.reason) for e in report.errors]


@pytest.mark.parametrize("dry_run", [True, False])
def test_does_a_hidden_person_get_the_same_answer_as_an_unknown_one(scoped, dry_run):
    """Can a unit member tell whether someone outside their scope exists? No."""
    report = import_csv(scoped["una"], "memberships", csv_text(
        "memberships", "H-1,Ours,member", "Z-9,Ours,member", "Hal Hidden,Ours,member",
        "Nobody Here,Ours,member"), dry_run=dry_run)

    by_line = {line: reason for line, _, reason in reasons(report)}
    assert by_line[2] == by_line[3].replace("Z-9", "H-1")
    assert by_line[4] == by_line[5].replace("Nobody Here", "Hal Hidden")
    assert "unknown stakeholder" in by_line[2]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 2


@pytest.mark.parametrize("dry_run", [True, False])
def test_does_a_hidden_group_get_the_same_answer_as_an_unknown_one(scoped, dry_run):
    report = import_csv(scoped["una"], "memberships", csv_text(
        "memberships", "M-1,Theirs,member", "M-1,No Such Group,member"), dry_run=dry_run)

    assert [r for _, _, r in reasons(report)] == ["unknown group 'Theirs'",
                                                  "unknown group 'No Such Group'"]


def test_can_a_unit_import_add_an_out_of_scope_person_to_its_group(scoped):
    report = import_csv(scoped["una"], "memberships", csv_text("memberships", "H-1,Ours,leader"))

    assert not report.ok
    assert db.session.scalar(sa.select(Membership).where(
        Membership.stakeholder_id == scoped["hidden"].id,
        Membership.group_id == scoped["ours"].id)) is None


def test_can_a_unit_import_rewrite_an_out_of_scope_persons_phone_and_consent(scoped):
    report = import_csv(scoped["una"], "stakeholders", csv_text(
        "stakeholders", "H-1,Hal Hidden,555-9999,hal@example.org,en,given"))

    assert [(c, r) for _, c, r in reasons(report)] == [
        ("external_id", "is already used by another record; ask an administrator")]
    db.session.expire_all()
    hidden = db.session.get(Stakeholder, scoped["hidden"].id)
    assert (hidden.phone, hidden.email, hidden.consent_status) == ("555-0002", None, "not_asked")


def test_can_a_unit_import_update_people_in_its_scope(scoped):
    report = import_csv(scoped["una"], "stakeholders", csv_text(
        "stakeholders", "M-1,Mia Mine,555-7777,,,given"))

    assert report.ok and report.updated == 1
    assert db.session.get(Stakeholder, scoped["mine"].id).phone == "555-7777"


def test_must_a_unit_give_a_new_person_one_of_its_groups(scoped):
    header = ",".join((*COLUMNS["stakeholders"], "group"))
    refused = import_csv(scoped["una"], "stakeholders", csv_text(
        "stakeholders", "N-1,Nia New,,,,,", "N-2,Ned New,,,,,Theirs", header=header))
    assert [(line, c) for line, c, _ in reasons(refused)] == [(2, "group"), (3, "group")]
    assert reasons(refused)[1][2] == "unknown group 'Theirs'"

    report = import_csv(scoped["una"], "stakeholders", csv_text(
        "stakeholders", "N-1,Nia New,,,,,Ours", header=header))
    assert report.ok and report.created == 1
    nia = db.session.scalar(sa.select(Stakeholder).where(Stakeholder.external_id == "N-1"))
    assert [m.group_id for m in nia.memberships] == [scoped["ours"].id]


def test_can_a_unit_import_change_another_groups_stance(scoped):
    report = import_csv(scoped["una"], "groups", csv_text(
        "groups", "Theirs,other,B2,hostile,,", "Ours,other,B1,neutral,,"))

    assert [(line, c, r) for line, c, r in reasons(report)] == [
        (2, "name", "another group already has this name")]
    db.session.expire_all()
    assert db.session.get(CommunityGroup, scoped["theirs"].id).stance == "wary"
    assert db.session.get(CommunityGroup, scoped["ours"].id).stance == "receptive"


def test_does_a_unit_look_after_a_group_it_creates_by_import(scoped):
    report = import_csv(scoped["una"], "groups", csv_text("groups", "New Club,youth,B1,,,"))

    assert report.ok and report.created == 1
    club = db.session.scalar(sa.select(CommunityGroup).where(CommunityGroup.name == "New Club"))
    assert db.session.scalar(sa.select(GroupAssignment).where(
        GroupAssignment.group_id == club.id, GroupAssignment.user_id == scoped["una"].id))


def test_can_a_unit_log_contacts_as_another_officer_by_import(scoped):
    row = "2024-05-02,{},M-1,Ours,proactive,visit,Hello"
    refused = import_csv(scoped["una"], "contacts", csv_text("contacts", row.format("olsen")))
    assert [(c, r) for _, c, r in reasons(refused)] == [
        ("officer", "must be you (una); only administrators import contacts for other officers")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0

    mine = import_csv(scoped["una"], "contacts", csv_text("contacts", row.format("una")))
    assert mine.ok and mine.created == 1
    by_admin = import_csv(scoped["ada"], "contacts", csv_text("contacts", row.format("olsen")))
    assert by_admin.ok and by_admin.created == 1


def test_can_a_unit_log_contacts_with_hidden_people_or_groups_by_import(scoped):
    report = import_csv(scoped["una"], "contacts", csv_text(
        "contacts", "2024-05-02,una,H-1,Theirs,proactive,visit,Hi"))

    assert [c for _, c, _ in reasons(report)] == ["stakeholders", "groups"]


def test_is_a_beats_import_for_administrators_only(scoped):
    """Can a unit move beats between districts by import? No."""
    text = csv_text("beats", "B1,Beat one,D2")
    refused = import_csv(scoped["una"], "beats", text)
    assert reasons(refused) == [(1, "", "only administrators import beats")]
    assert db.session.get(Beat, scoped["beats"][0].id).district.code == "D1"

    done = import_csv(scoped["ada"], "beats", text)
    assert done.ok and done.updated == 1


def test_can_a_unit_relate_groups_it_cannot_see(scoped):
    report = import_csv(scoped["una"], "relations", csv_text("relations", "Ours,Theirs,competing,"))
    assert reasons(report) == [(2, "group_b", "unknown group 'Theirs'")]


def test_does_each_imported_record_get_its_own_audit_event(scoped):
    import_csv(scoped["ada"], "stakeholders", csv_text(
        "stakeholders", "M-1,Mia Mine,555-1234,,,", "N-1,Nia New,,,,", "N-2,Ned New,,,,"))

    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("stakeholder.%")).order_by(AuditEvent.id)).all()
    new_ids = set(db.session.scalars(sa.select(Stakeholder.id).where(
        Stakeholder.external_id.in_(["N-1", "N-2"]))))
    assert sorted((e.action, e.object_id) for e in events) == sorted(
        [("stakeholder.update", str(scoped["mine"].id))]
        + [("stakeholder.create", str(i)) for i in new_ids])
    update = next(e for e in events if e.action == "stakeholder.update")
    assert update.detail["changed"] == ["phone"] and update.detail["via"] == "csv.import"
    assert "555" not in str([e.detail for e in events])  # names of fields, never values


def test_does_a_unit_export_leave_out_relations_of_groups_it_cannot_see(scoped):
    from crm.csvio.services import export_csv
    from crm.models import GroupRelation

    db.session.add(GroupRelation(group_a_id=scoped["ours"].id, group_b_id=scoped["theirs"].id,
                                 type="competing"))
    db.session.commit()

    assert "Theirs" not in export_csv(scoped["una"], "relations")
    assert "Theirs" in export_csv(scoped["ada"], "relations")
    assert "Hal Hidden" not in export_csv(scoped["una"], "memberships")
