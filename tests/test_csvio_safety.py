"""Spreadsheet-safe exports, bidi controls, one email rule, chunked and background imports."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import sqlalchemy as sa

from crm.csvio import safe
from crm.csvio.services import COLUMNS, KINDS, export_csv, import_csv
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CommunityGroup, Contact, Stakeholder
from crm.text import clean_text
from tests.conftest import csrf_token_from

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1 555 0100", "-2+3", "@SUM(A1)", "\tTab",
            "\rCR", "'=already quoted", "''=twice", "'plain quote", "plain"]


def csv_text(kind: str, *lines: str) -> str:
    return "\n".join([",".join(COLUMNS[kind]), *lines]) + "\n"


# ---- formula neutralising ------------------------------------------------------------------

@pytest.mark.parametrize("value", FORMULAS)
def test_does_a_neutralised_cell_read_back_as_it_was(value):
    assert safe.restore(safe.neutralise(value)) == value
    assert not safe.neutralise(value).startswith(safe.FORMULA_START)


def test_are_numbers_written_as_numbers():
    assert safe.neutralise(-5) == -5 and safe.neutralise(2.5) == 2.5


@pytest.fixture
def formula_world(make):
    beat = make.beat(code="B1")
    officer = make.user(username="olsen", role="officer", beats=[beat])
    group = make.group(name="=cmd|' /C calc'!A0", beats=[beat], description="-1 or more")
    person = make.stakeholder(name="@Ann Lee", external_id="+S1", phone="+1 555 0100",
                              email="ann@example.org")
    make.membership(person, group)
    make.contact(officer, groups=[group], stakeholders=[person],
                 occurred_at=datetime(2024, 5, 1, 12), note="=2+5")
    make.commit()
    return group, person


@pytest.mark.parametrize("kind", KINDS)
def test_does_no_export_cell_start_a_formula_and_does_the_file_round_trip(formula_world, kind):
    text = export_csv(None, kind)

    for row in list(csv.reader(io.StringIO(text)))[1:]:
        assert not any(cell.startswith(safe.FORMULA_START) for cell in row), row
    report = import_csv(None, kind, text)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 0)


def test_is_a_quoted_formula_imported_without_its_quote(formula_world):
    group, person = formula_world
    text = export_csv(None, "stakeholders")
    assert "'@Ann Lee" in text and "'+1 555 0100" in text

    report = import_csv(None, "stakeholders", text.replace("ann@example.org", "ann@example.net"))
    assert report.updated == 1
    db.session.expire_all()
    p = db.session.get(Stakeholder, person.id)
    assert (p.name, p.phone, p.email) == ("@Ann Lee", "+1 555 0100", "ann@example.net")


def test_does_the_outcomes_export_neutralise_formula_cells(make, monkeypatch):
    from crm.network import outcomes

    monkeypatch.setattr(outcomes, "outcome_rows",
                        lambda *a, **k: iter([("2024-05", "=officer", "@group", 3)]))
    text = outcomes.export_outcomes(None, "secret")
    assert text.splitlines()[1] == "2024-05,'=officer,'@group,3"


# ---- bidi controls -------------------------------------------------------------------------

BIDI = "Ann\u202eeL\u202c \u2066x\u2069\u200f"


def test_are_bidi_controls_removed_from_typed_text():
    assert clean_text(BIDI) == "AnneL x"
    assert clean_text("a\x00b") == "ab"


def test_do_the_service_cleaners_strip_bidi_controls(make):
    from crm.groups.services import clean_group_fields
    from crm.stakeholders.services import clean_fields

    assert clean_fields({"name": BIDI})["name"] == "AnneL x"
    cleaned = clean_group_fields({"name": "Elm\u202e Club", "description": "x\u2067y"},
                                 creating=True)
    assert (cleaned["name"], cleaned["description"]) == ("Elm Club", "xy")


def test_are_bidi_controls_stripped_from_case_texts_and_officer_names(make):
    """Names shown beside people's: case titles, agency owners, measures, officers."""
    from crm.cases import services as cases
    from crm.users.services import UserChanges, update_user

    beat = make.beat("0111")
    admin = make.user("ada", role="admin")
    case = cases.create_case(admin, title="Lift\u202e tfiL", beat_ids=[beat.id],
                             problem_statement="Cars\u202e srac\nat night")
    action = cases.add_action(admin, case, description="Call", owner_kind="agency",
                              owner_agency="Housing\u2066 Dept\u2069")
    officer = make.user("bo")
    update_user(admin, officer, UserChanges(role="officer", display_name="Bo\u202e Lee"),
                version_id=officer.version_id)
    assert (case.title, case.problem_statement, action.owner_agency, officer.display_name) == \
        ("Lift tfiL", "Cars srac\nat night", "Housing Dept", "Bo Lee")


def test_does_a_csv_import_strip_bidi_controls(make):
    make.user(username="ada", role="admin")
    report = import_csv(None, "stakeholders", csv_text("stakeholders", f"X1,{BIDI},,,,"))

    assert report.ok
    assert db.session.scalar(sa.select(Stakeholder.name).where(
        Stakeholder.external_id == "X1")) == "AnneL x"


# ---- one rule per field --------------------------------------------------------------------

@pytest.mark.parametrize("email", ["ann@example", "ann @example.org", "ann@@example.org"])
def test_is_one_email_rule_used_by_pages_and_imports(make, email):
    from crm.stakeholders.services import clean_fields

    with pytest.raises(ValidationError) as e:
        clean_fields({"name": "Ann", "email": email})
    report = import_csv(None, "stakeholders", csv_text("stakeholders", f",Ann,,{email},,"))
    assert [(r.column, r.reason) for r in report.errors] == [("email", e.value.errors["email"][0])]


@pytest.mark.parametrize("size,message", [("-1", "must be 0 or more"),
                                          ("many", "must be a whole number"),
                                          ("99999999999", "must be at most 10,000,000")])
def test_is_one_size_estimate_rule_used_by_pages_and_imports(make, size, message):
    from crm.groups.services import clean_group_fields

    with pytest.raises(ValidationError) as e:
        clean_group_fields({"size_estimate": size}, creating=False)
    assert e.value.errors == {"size_estimate": [message]}
    report = import_csv(None, "groups", csv_text("groups", f"G,other,,,{size},"))
    assert [(r.column, r.reason) for r in report.errors] == [("size_estimate", message)]


# ---- chunked writes and honest reports -----------------------------------------------------

def test_is_a_long_import_committed_in_chunks(make, monkeypatch):
    monkeypatch.setattr("crm.csvio.services.read_chunks.__defaults__", (10,))
    commits = []

    report = import_csv(None, "groups", csv_text(
        "groups", *(f"G{i},other,,,," for i in range(35))),
        commit=lambda: (commits.append(1), db.session.commit()))

    assert report.ok and report.created == 35
    assert len(commits) >= 8  # 4 checked chunks, 4 written chunks, the summary


def test_is_a_failure_after_a_commit_reported_as_a_partial_import(make, monkeypatch):
    """Does the importer ever hear "nothing was imported" after rows were saved? No."""
    monkeypatch.setattr("crm.csvio.services.read_chunks.__defaults__", (10,))
    from crm.csvio.plans.groups import GroupsPlanner

    real_apply, calls = GroupsPlanner.apply, []

    def apply_then_fail(self, writes):
        calls.append(1)
        if len(calls) == 3:  # a concurrent writer took a name between check and write
            db.session.add(CommunityGroup(name="G25"))
        return real_apply(self, writes)

    monkeypatch.setattr(GroupsPlanner, "apply", apply_then_fail)
    report = import_csv(None, "groups", csv_text("groups", *(f"G{i},other,,,," for i in range(35))),
                        commit=db.session.commit)

    assert report.committed_rows == 20
    assert "the first 20 rows were imported and saved" in report.summary()
    assert "nothing was imported" not in report.summary()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunityGroup)) == 20


def test_does_a_cli_import_commit_while_it_runs(runner, make, tmp_path, monkeypatch):
    monkeypatch.setattr("crm.csvio.services.read_chunks.__defaults__", (50,))
    from crm.csvio.plans.groups import GroupsPlanner

    seen = []
    real_plan = GroupsPlanner.plan

    def plan(self, rows):
        # Another connection sees the earlier chunks: they were committed already.
        with db.engine.connect() as other:
            seen.append(other.execute(sa.text("SELECT count(*) FROM community_groups")).scalar())
        return real_plan(self, rows)

    monkeypatch.setattr(GroupsPlanner, "plan", plan)
    path = tmp_path / "groups.csv"
    path.write_text(csv_text("groups", *(f"G{i},other,,,," for i in range(120))))

    result = runner.invoke(args=["crm", "import", "groups", str(path)])

    assert result.exit_code == 0, result.output
    if db.engine.url.database in (None, "", ":memory:"):
        pytest.skip("one in-memory connection: no second reader to ask")
    assert seen[-1] == 100  # the third written chunk sees the first two committed


# ---- background imports through the page ---------------------------------------------------

def background(app, monkeypatch, tmp_path, limit: int) -> None:
    """Uploads above `limit` bytes go to a job, run inline (no thread) in tests."""
    for key, value in (("CSV_BACKGROUND_BYTES", limit), ("IMPORT_JOBS_INLINE", True),
                       ("IMPORT_DIR", str(tmp_path))):
        monkeypatch.setitem(app.config, key, value)


def test_is_a_large_upload_imported_in_the_background_with_progress(client, auth, make, app,
                                                                    tmp_path, monkeypatch):
    beat = make.beat(code="B1")
    una = make.user(username="una", role="unit")
    group = make.group(name="Ours", beats=[beat])
    from crm.models import GroupAssignment
    db.session.add(GroupAssignment(user_id=una.id, group_id=group.id))
    make.commit()
    background(app, monkeypatch, tmp_path, 100)
    auth.login("una")
    rows = [f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00,una,,Ours,proactive,visit,walk {i}"
            for i in range(300)]
    token = csrf_token_from(client.get("/data/import").get_data(as_text=True))

    r = client.post("/data/import", data={
        "kind": "contacts", "csrf_token": token,
        "file": (io.BytesIO(csv_text("contacts", *rows).encode()), "contacts.csv")},
        content_type="multipart/form-data")

    assert r.status_code == 303 and "/data/import/jobs/" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert 'data-status="done"' in html and "contacts: 300 created" in html
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 300
    assert list(tmp_path.iterdir()) == []  # the saved upload is gone
    make.user(username="uwe", role="unit")
    make.commit()
    auth.logout()
    auth.login("uwe")
    assert client.get(r.headers["Location"]).status_code == 404  # someone else's job


def test_does_a_background_import_report_bad_rows(client, auth, make, app, tmp_path,
                                                 monkeypatch):
    make.user(username="ada", role="admin")
    make.commit()
    background(app, monkeypatch, tmp_path, 10)
    auth.login("ada")
    token = csrf_token_from(client.get("/data/import").get_data(as_text=True))

    r = client.post("/data/import", data={
        "kind": "groups", "csrf_token": token,
        "file": (io.BytesIO(csv_text("groups", "A,spaceship,,,,", "B,other,,,-3,").encode()),
                 "g.csv")}, content_type="multipart/form-data")

    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-status="failed"' in html and "nothing was imported" in html
    assert "spaceship" in html and "must be 0 or more" in html
