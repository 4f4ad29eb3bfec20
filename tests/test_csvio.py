"""CSV import and export: services, `flask crm import|export` and the /data pages."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.csvio.read import EXPORTED_OPTIONAL_COLUMNS
from crm.csvio.services import (
    COLUMNS,
    KINDS,
    contact_import_key,
    contact_natural_key,
    export_csv,
    import_csv,
)
from crm.extensions import db
from crm.models import (
    AuditEvent,
    Beat,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    District,
    GroupAssignment,
    GroupRelation,
    Membership,
    Stakeholder,
)
from tests.conftest import csrf_token_from

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
TABLES = (District, Beat, CommunityGroup, Stakeholder, Membership, GroupRelation, Contact,
          ContactGroup, ContactOfficer, ContactStakeholder)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def counts() -> dict[str, int]:
    return {m.__tablename__: count(m) for m in TABLES}


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.fixture
def world(make):
    """Two beats, three groups, two stakeholders and an officer, committed."""
    d = make.district(code="D1")
    b1, b2 = make.beat(code="B1", district=d), make.beat(code="B2", district=d)
    officer = make.user(username="olsen", role="officer", beats=[b1])
    groups = {name: make.group(name=name, beats=[b1]) for name in
              ("Tenants of Elm", "Elm Bar Owners", "St Mark's Church")}
    ann = make.stakeholder(name="Ann Lee", external_id="S-1")
    bob = make.stakeholder(name="Bob Ray")
    make.commit()
    return dict(beats=(b1, b2), officer=officer, groups=groups, ann=ann, bob=bob)


# ---- each kind ----------------------------------------------------------------------------

def test_can_i_import_beats_and_are_missing_districts_created(make):
    report = import_csv(None, "beats", (FIXTURES / "beats.csv").read_bytes())

    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert report.also_created == {"districts": 2}
    north = db.session.scalar(sa.select(District).where(District.code == "NORTH"))
    assert north.name == "District NORTH"
    assert [b.code for b in north.beats] == ["N1", "N2"]


def test_can_i_import_groups_with_beats_and_are_kind_and_stance_defaulted(world):
    report = import_csv(None, "groups", csv_text(
        "name,kind,beats,stance,size_estimate,description",
        "Youth Club,youth,B1;B2,wary,40,Meets Fridays",
        "Quiet Neighbours,,,,,",
    ))

    assert report.errors == [] and report.created == 2
    youth = db.session.scalar(sa.select(CommunityGroup).where(CommunityGroup.name == "Youth Club"))
    assert (youth.kind, youth.stance, youth.size_estimate) == ("youth", "wary", 40)
    assert [b.code for b in youth.beats] == ["B1", "B2"]
    quiet = db.session.scalar(
        sa.select(CommunityGroup).where(CommunityGroup.name == "Quiet Neighbours"))
    assert (quiet.kind, quiet.stance, quiet.size_estimate, quiet.beats) == (
        "other", "unknown", None, [])


def test_can_i_import_stakeholders_from_a_file_with_a_bom(make):
    data = "\ufeffexternal_id,name,phone,email,language,consent\n" \
           "X-1,Maria Silva,555-0101,maria@example.org,pt,given\n" \
           ",Jo Park,,,,\n"
    report = import_csv(None, "stakeholders", data.encode("utf-8"))

    assert report.errors == [] and report.created == 2
    maria = db.session.scalar(sa.select(Stakeholder).where(Stakeholder.external_id == "X-1"))
    assert (maria.name, maria.phone, maria.email, maria.language, maria.consent_status) == (
        "Maria Silva", "555-0101", "maria@example.org", "pt", "given")
    jo = db.session.scalar(sa.select(Stakeholder).where(Stakeholder.name == "Jo Park"))
    assert (jo.external_id, jo.phone, jo.consent_status) == (None, None, "not_asked")


def test_can_i_import_memberships_by_external_id_or_unique_name(world):
    report = import_csv(None, "memberships", csv_text(
        "stakeholder,group,role",
        "S-1,Tenants of Elm,leader",
        "Bob Ray,Tenants of Elm,",
        "Bob Ray,St Mark's Church,liaison",
    ))

    assert report.errors == [] and report.created == 3
    roles = {(m.stakeholder.name, m.group.name): m.role
             for m in db.session.scalars(sa.select(Membership))}
    assert roles == {("Ann Lee", "Tenants of Elm"): "leader",
                     ("Bob Ray", "Tenants of Elm"): "member",
                     ("Bob Ray", "St Mark's Church"): "liaison"}


def test_is_an_ambiguous_stakeholder_name_a_bad_row(world, make):
    make.stakeholder(name="Sam Doe")
    make.stakeholder(name="Sam Doe", external_id="S-7")
    report = import_csv(None, "memberships", csv_text(
        "stakeholder,group,role", "Sam Doe,Tenants of Elm,member"))

    assert [(e.line, e.column) for e in report.errors] == [(2, "stakeholder")]
    assert "2 stakeholders are named 'Sam Doe'" in report.errors[0].reason
    assert count(Membership) == 0


def test_can_i_import_relations_and_is_the_pair_unordered(world):
    report = import_csv(None, "relations", csv_text(
        "group_a,group_b,type,issue",
        "Tenants of Elm,Elm Bar Owners,competing,late-night noise",
        "Tenants of Elm,St Mark's Church,allied,",
    ))
    assert report.errors == [] and report.created == 2

    again = import_csv(None, "relations", csv_text(
        "group_a,group_b,type,issue",
        "Elm Bar Owners,Tenants of Elm,competing,late-night noise",
    ))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert count(GroupRelation) == 2

    both_ways = import_csv(None, "relations", csv_text(
        "group_a,group_b,type,issue",
        "Elm Bar Owners,Tenants of Elm,competing,noise",
        "Tenants of Elm,Elm Bar Owners,competing,noise",
    ))
    assert [(e.line, e.column) for e in both_ways.errors] == [(3, "group_b")]


def test_can_i_import_contacts_with_their_officer_group_and_stakeholder_links(world):
    report = import_csv(None, "contacts", csv_text(
        "occurred_at,officer,stakeholders,groups,initiated_by,channel,note",
        "2024-05-02,olsen,S-1;Bob Ray,Tenants of Elm;Elm Bar Owners,requested,meeting,"
        "Noise meeting",
        "2024-05-03T18:30:00,OLSEN,,St Mark's Church,proactive,foot_patrol,",
    ))

    assert report.errors == [] and report.created == 2
    first = db.session.scalar(sa.select(Contact).where(Contact.note == "Noise meeting"))
    assert first.occurred_at == datetime(2024, 5, 2, 12, 0)
    assert first.logged_by_id == world["officer"].id
    assert [link.user_id for link in first.officer_links] == [world["officer"].id]
    assert {s.name for s in first.stakeholders} == {"Ann Lee", "Bob Ray"}
    assert {g.name for g in first.groups} == {"Tenants of Elm", "Elm Bar Owners"}
    assert all(link.occurred_at == first.occurred_at for link in
               first.officer_links + first.group_links + first.stakeholder_links)
    assert {link.initiated_by for link in first.group_links} == {"requested"}
    key = contact_natural_key(first.occurred_at, world["officer"].id, "Noise meeting",
                              [g.id for g in first.groups], [s.id for s in first.stakeholders])
    assert first.idempotency_key == contact_import_key(key)
    assert first.idempotency_key.startswith("import:") and len(first.idempotency_key) <= 64
    second = db.session.scalar(sa.select(Contact).where(Contact.note == ""))
    assert second.occurred_at == datetime(2024, 5, 3, 18, 30)


# ---- bad files ----------------------------------------------------------------------------

def test_does_a_file_with_bad_rows_import_nothing_and_report_every_bad_row(make):
    make.beat(code="N1")
    report = import_csv(None, "groups", (FIXTURES / "groups_bad.csv").read_text())

    assert report.created == report.updated == report.unchanged == 0
    found = [(e.line, e.column) for e in report.errors]
    assert found == [(3, "kind"), (4, "name"), (5, "size_estimate"), (5, "beats")]
    reasons = {(e.line, e.column): e.reason for e in report.errors}
    assert "'spaceship' is not one of" in reasons[(3, "kind")]
    assert reasons[(4, "name")] == "is required"
    assert "ZZ9" in reasons[(5, "beats")]
    assert db.session.scalar(
        sa.select(CommunityGroup).where(CommunityGroup.name == "Good group")) is None


def test_are_bad_contact_rows_reported_with_their_file_line(world):
    # The quoted note spans two lines, so the rows after it sit one file line further down.
    report = import_csv(None, "contacts", csv_text(
        "occurred_at,officer,stakeholders,groups,initiated_by,channel,note",
        '2024-05-02,olsen,S-1,Tenants of Elm,proactive,meeting,"two\nlines"',
        "yesterday,nobody,Sam Doe;Z-9,No Such Group,by chance,pigeon,x",
        "2024-05-02,olsen,,,proactive,meeting,too,many,fields",
        '2024-05-02,olsen,S-1,Tenants of Elm,proactive,meeting,"two\nlines"',
    ))

    assert [(e.line, e.column) for e in report.errors] == [
        (4, "occurred_at"), (4, "officer"), (4, "stakeholders"), (4, "stakeholders"),
        (4, "groups"), (4, "initiated_by"), (4, "channel"), (5, ""), (6, "")]
    assert "also on line 2" in report.errors[-1].reason
    assert count(Contact) == 0


def test_are_unknown_and_missing_header_columns_reported(make):
    report = import_csv(None, "beats", csv_text("code,title,district,colour", "B1,One,D1,red"))

    assert [(e.line, e.column, e.reason) for e in report.errors] == [
        (1, "title", "unknown column; expected: code,name,district"),
        (1, "colour", "unknown column; expected: code,name,district"),
        (1, "name", "missing column"),
    ]
    assert count(Beat) == 0


def test_is_a_file_that_is_not_utf8_reported(make):
    report = import_csv(None, "stakeholders",
                        "external_id,name,phone,email,language,consent\n,Jos\xe9,,,,\n"
                        .encode("latin-1"))

    assert [(e.line, e.column) for e in report.errors] == [(2, "")]
    assert "not UTF-8" in report.errors[0].reason
    assert count(Stakeholder) == 0


def test_is_an_erased_stakeholder_not_brought_back_by_an_import(make):
    make.stakeholder(name="(erased)", external_id="GONE", erased_at=datetime(2024, 1, 1))
    report = import_csv(None, "stakeholders", csv_text(
        ",".join(COLUMNS["stakeholders"]), "GONE,Erased Person,555,,,given"))

    assert [(e.line, e.column) for e in report.errors] == [(2, "external_id")]
    assert db.session.scalar(sa.select(Stakeholder.name).where(
        Stakeholder.external_id == "GONE")) == "(erased)"


# ---- idempotency, updates, dry run --------------------------------------------------------

FILES = {
    "beats": csv_text("code,name,district", "B1,Beat one,D1", "B9,Beat nine,D9"),
    "groups": csv_text("name,kind,beats,stance,size_estimate,description",
                       "Tenants of Elm,tenants,B1;B2,receptive,80,Elm St estate",
                       "New Youth Club,youth,B2,,,"),
    "stakeholders": csv_text("external_id,name,phone,email,language,consent",
                             "S-1,Ann Lee,555-0100,ann@example.org,en,given",
                             "S-2,Cy Young,,,,", ",Bob Ray,,,,"),
    "memberships": csv_text("stakeholder,group,role", "S-1,Tenants of Elm,leader",
                            "Bob Ray,Elm Bar Owners,member"),
    "relations": csv_text("group_a,group_b,type,issue",
                          "Tenants of Elm,Elm Bar Owners,competing,noise"),
    "contacts": csv_text("occurred_at,officer,stakeholders,groups,initiated_by,channel,note",
                         "2024-05-02T09:15:00,olsen,S-1,Tenants of Elm,proactive,visit,Hello",
                         "2024-05-03,olsen,Bob Ray,,reactive,phone,Called about noise"),
}


def versions() -> dict:
    out = {}
    for model in (District, Beat, CommunityGroup, Stakeholder, Membership, GroupRelation, Contact):
        for row_id, version in db.session.execute(sa.select(model.id, model.version_id)):
            out[(model.__tablename__, row_id)] = version
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_does_reimporting_a_file_change_nothing(world, kind):
    first = import_csv(None, kind, FILES[kind])
    assert first.errors == []
    db.session.commit()
    before, before_versions = counts(), versions()

    again = import_csv(None, kind, FILES[kind])
    db.session.commit()

    assert again.errors == []
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == first.created + first.updated + first.unchanged
    assert counts() == before
    assert versions() == before_versions


def test_are_changed_values_updated_on_reimport(world):
    import_csv(None, "stakeholders", FILES["stakeholders"])
    report = import_csv(None, "stakeholders", csv_text(
        "external_id,name,phone,email,language,consent",
        "S-1,Ann Lee-Park,555-0199,ann@example.org,en,withdrawn",
        "S-2,Cy Young,,,,", ",Bob Ray,555-0123,,,"))

    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    ann = db.session.get(Stakeholder, world["ann"].id)
    assert (ann.name, ann.phone, ann.consent_status) == ("Ann Lee-Park", "555-0199", "withdrawn")
    assert db.session.get(Stakeholder, world["bob"].id).phone == "555-0123"

    import_csv(None, "contacts", FILES["contacts"])
    changed = FILES["contacts"].replace("proactive,visit", "requested,meeting")
    report = import_csv(None, "contacts", changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    hello = db.session.scalar(sa.select(Contact).where(Contact.note == "Hello"))
    assert (hello.initiated_by, hello.channel) == ("requested", "meeting")
    assert {link.initiated_by for link in hello.group_links} == {"requested"}


@pytest.mark.parametrize("kind", KINDS)
def test_does_a_dry_run_write_nothing(world, kind):
    before, audit_before = counts(), count(AuditEvent)

    report = import_csv(None, kind, FILES[kind], dry_run=True)

    assert report.errors == [] and report.dry_run
    assert report.created + report.updated >= 1
    assert "dry run, nothing written" in report.summary()
    assert counts() == before
    assert count(AuditEvent) == audit_before


# ---- export -------------------------------------------------------------------------------

def test_does_export_then_import_round_trip(world, make):
    b1, _ = world["beats"]
    tenants, bars = world["groups"]["Tenants of Elm"], world["groups"]["Elm Bar Owners"]
    tenants.kind, tenants.stance, tenants.size_estimate = "tenants", "wary", 120
    # Cleaned the way the group form cleans it (no outer blanks), so it round-trips as is.
    tenants.description = "Estate, 3 blocks;\n\"active\" since 2019"
    make.membership(world["ann"], tenants, role="leader")
    make.membership(world["bob"], bars)
    db.session.add(GroupRelation(group_a_id=bars.id, group_b_id=tenants.id, type="competing",
                                 issue="noise, after 11pm"))
    # A contact logged in the app (no import key), with a time that has microseconds.
    make.contact(world["officer"], groups=[tenants, bars], stakeholders=[world["ann"]],
                 occurred_at=datetime(2024, 4, 30, 17, 5, 9, 123456), note="Résumé of the walk\n")
    make.contact(world["officer"], groups=[tenants], occurred_at=datetime(2024, 4, 29, 12))
    make.commit()
    before, before_versions = counts(), versions()

    for kind in KINDS:
        text = export_csv(None, kind)
        assert text.splitlines()[0] == ",".join(COLUMNS[kind] + EXPORTED_OPTIONAL_COLUMNS.get(kind, ()))
        report = import_csv(None, kind, text)
        assert report.errors == [], (kind, report.errors)
        assert (report.created, report.updated) == (0, 0), kind
        assert report.unchanged == len(text.strip().splitlines()) - 1 or kind in (
            "groups", "contacts")  # multi-line free text

    assert counts() == before
    assert versions() == before_versions


def test_does_an_export_into_an_empty_database_restore_the_records(world, make):
    make.membership(world["ann"], world["groups"]["Tenants of Elm"], role="spokesperson")
    make.contact(world["officer"], groups=[world["groups"]["Tenants of Elm"]],
                 stakeholders=[world["bob"]], occurred_at=datetime(2024, 3, 1, 10, 0), note="Hi")
    make.commit()
    exports = {kind: export_csv(None, kind) for kind in KINDS}

    for model in (ContactGroup, ContactOfficer, ContactStakeholder, Contact, Membership,
                  GroupRelation):
        db.session.execute(sa.delete(model))
    db.session.commit()
    for kind in KINDS:
        report = import_csv(None, kind, exports[kind])
        assert report.errors == [], (kind, report.errors)

    assert {kind: export_csv(None, kind) for kind in KINDS} == exports


def test_is_every_import_and_export_audited(world, make):
    boss = make.user(username="boss", role="admin")
    import_csv(None, "beats", FILES["beats"])
    export_csv(boss, "stakeholders")

    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.in_(["csv.import", "csv.export"])).order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_type) for e in events] == [("csv.import", "beats"),
                                                           ("csv.export", "stakeholders")]
    assert events[0].detail == {"kind": "beats", "created": 1, "updated": 1, "unchanged": 0,
                                "districts_created": 1}
    assert events[1].detail["rows"] == 2 and events[1].detail["personal_data"] is True
    assert events[1].actor_username == "boss"


def test_does_a_web_export_hold_only_what_the_user_may_see(world, make):
    """An officer's export lists members of their beat's groups only."""
    make.membership(world["ann"], world["groups"]["Tenants of Elm"])
    make.commit()
    text = export_csv(world["officer"], "stakeholders")
    assert "Ann Lee" in text and "Bob Ray" not in text


def test_are_lookups_set_based_for_a_large_file(world, make):
    from sqlalchemy import event

    rows = [f"2024-01-01T{h:02d}:{m:02d}:00,olsen,S-1;Bob Ray,Tenants of Elm;Elm Bar Owners,"
            f"proactive,visit,walk {h}-{m}" for h in range(10) for m in range(60)]
    text = csv_text(",".join(COLUMNS["contacts"]), *rows)
    statements = []
    listener = lambda *a, **k: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        report = import_csv(None, "contacts", text, dry_run=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)

    assert report.errors == [] and report.created == 600
    assert len(statements) < 20


# ---- command line -------------------------------------------------------------------------

def test_can_i_import_a_file_from_the_command_line(runner, make, tmp_path):
    result = runner.invoke(args=["crm", "import", "beats", str(FIXTURES / "beats.csv")])

    assert result.exit_code == 0, result.output
    assert "beats: 3 created, 0 updated, 0 unchanged. 2 districts created." in result.output
    db.session.remove()  # a fresh session: the command committed
    assert count(Beat) == 3

    again = runner.invoke(args=["crm", "import", "beats", str(FIXTURES / "beats.csv")])
    assert again.exit_code == 0 and "0 created, 0 updated, 3 unchanged" in again.output


def test_does_the_command_line_list_every_bad_row_and_exit_1(runner, make):
    make.beat(code="N1")
    make.commit()

    result = runner.invoke(args=["crm", "import", "groups", str(FIXTURES / "groups_bad.csv")])

    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "line 3, column kind: 'spaceship' is not one of" in result.output
    assert "line 4, column name: is required" in result.output
    assert "line 5, column size_estimate: must be 0 or more" in result.output
    assert "line 5, column beats: unknown beat code(s): ZZ9" in result.output
    db.session.remove()
    assert count(CommunityGroup) == 0


def test_does_a_command_line_dry_run_write_nothing(runner, make):
    result = runner.invoke(args=["crm", "import", "beats", str(FIXTURES / "beats.csv"),
                                 "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "beats (dry run, nothing written): 3 would be created" in result.output
    db.session.remove()
    assert count(Beat) == 0


def test_does_a_large_file_show_progress_on_the_command_line(runner, make, tmp_path):
    path = tmp_path / "beats.csv"
    path.write_text(csv_text("code,name,district", *(f"X{i},Beat {i},D1" for i in range(1200))))

    result = runner.invoke(args=["crm", "import", "beats", str(path)])

    assert result.exit_code == 0, result.output
    assert "Checking beats" in result.output
    assert "1200 created" in result.output


def test_can_i_export_from_the_command_line_to_stdout_or_a_file(runner, world, tmp_path):
    result = runner.invoke(args=["crm", "export", "stakeholders"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("external_id,name,phone,email,language,consent,interpreter\n")
    assert "S-1,Ann Lee,,,,not_asked" in result.output

    out = tmp_path / "groups.csv"
    result = runner.invoke(args=["crm", "export", "groups", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS["groups"])
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    db.session.remove()
    assert count(AuditEvent.__table__) and db.session.scalar(sa.select(sa.func.count()).where(
        AuditEvent.action == "csv.export")) == 2


# ---- web ----------------------------------------------------------------------------------

def upload(client, kind, text, *, dry_run=False, token=None):
    if token is None:
        token = csrf_token_from(client.get("/data/import").get_data(as_text=True))
    data = {"kind": kind, "file": (io.BytesIO(text.encode()), f"{kind}.csv")}
    if dry_run:
        data["dry_run"] = "y"
    if token:
        data["csrf_token"] = token
    return client.post("/data/import", data=data, content_type="multipart/form-data")


def test_can_a_unit_member_import_a_file_on_the_web(client, auth, world, make):
    una = make.user(username="una", role="unit")
    db.session.add(GroupAssignment(user_id=una.id, group_id=world["groups"]["Tenants of Elm"].id))
    make.commit()
    auth.login("una")

    r = upload(client, "groups", FILES["groups"])

    assert r.status_code == 200
    assert "groups: 1 created, 1 updated, 0 unchanged." in r.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(sa.select(CommunityGroup.id).where(
        CommunityGroup.name == "New Youth Club")) is not None


def test_does_a_web_dry_run_write_nothing(client, auth, world, make):
    make.user(username="ada", role="admin")
    make.commit()
    auth.login("ada")

    r = upload(client, "groups", FILES["groups"], dry_run=True)

    assert r.status_code == 200 and "would be created" in r.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(sa.select(CommunityGroup.id).where(
        CommunityGroup.name == "New Youth Club")) is None


def test_does_a_bad_upload_show_every_bad_row_and_keep_the_chosen_kind(client, auth, make):
    make.user(username="una", role="unit")
    make.beat(code="N1")
    make.commit()
    auth.login("una")

    r = upload(client, "groups", (FIXTURES / "groups_bad.csv").read_text())

    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert html.count('<td data-label="Line">') == 4
    assert '<option selected value="groups">' in html or 'value="groups" selected' in html
    assert "spaceship" in html and "ZZ9" in html
    db.session.remove()
    assert count(CommunityGroup) == 0


def test_is_the_import_page_forbidden_to_an_officer(client, auth, world):
    auth.login("olsen")

    assert client.get("/data/import").status_code == 403
    assert client.get("/data/export/stakeholders").status_code == 403
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert upload(client, "beats", FILES["beats"], token=token).status_code == 403
    db.session.remove()
    assert count(District) == 1


def test_is_an_upload_without_a_csrf_token_refused(client, auth, make):
    make.user(username="una", role="unit")
    make.commit()
    auth.login("una")

    r = upload(client, "beats", FILES["beats"], token="")

    assert r.status_code == 400
    db.session.remove()
    assert count(Beat) == 0


def test_is_an_upload_without_a_file_refused(client, auth, make):
    make.user(username="una", role="unit")
    make.commit()
    auth.login("una")
    token = csrf_token_from(client.get("/data/import").get_data(as_text=True))

    r = client.post("/data/import", data={"kind": "beats", "csrf_token": token},
                    content_type="multipart/form-data")

    assert r.status_code == 422
    assert "Choose a CSV file." in r.get_data(as_text=True)


def test_must_i_sign_in_to_see_the_import_page(client):
    r = client.get("/data/import")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_can_a_unit_member_download_an_export(client, auth, world, make):
    make.user(username="una", role="unit")
    make.commit()
    auth.login("una")

    r = client.get("/data/export/beats")

    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"
    assert r.get_data(as_text=True) == "code,name,district\nB1,Beat 2,D1\nB2,Beat 3,D1\n"
    assert client.get("/data/export/passwords").status_code == 404
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).where(
        AuditEvent.action == "csv.export", AuditEvent.actor_username == "una")) == 1
