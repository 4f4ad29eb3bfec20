"""An erased person leaves nothing behind: not in any column of any table (the audit trail
included), not in former values, not in the SQLite file or its WAL, not in the logs."""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.audit.services import record_event
from crm.extensions import db
from crm.models import CaseAction, CaseEvent, Contact, ProblemCase, Stakeholder, StakeholderHistory
from crm.ops.logs import RedactQueryStrings, redact_urls
from crm.privacy.services import erase_stakeholder
from crm.stakeholders.services import update_stakeholder
from tests.conftest import make_config

OLD = {"name": "Zelda Smith", "phone": "312-555-0147", "email": "zsmith@old.example",
       "external_id": "EXT-OLD-9"}
NEW = {"name": "Zelda Quibble", "phone": "+1 555 0199", "email": "zelda.q@example.org"}
# Every form someone could find her by: whole values, name parts, bare digits, email local parts.
FORMS = ["Zelda Smith", "Zelda Quibble", "Zelda", "Quibble", "Smith", "312-555-0147",
         "3125550147", "555-0147", "+1 555 0199", "15550199", "555 0199", "zsmith@old.example",
         "zsmith", "zelda.q@example.org", "zelda.q", "EXT-OLD-9"]


def _digits_tolerant(form: str) -> re.Pattern:
    digits = re.sub(r"\D", "", form)
    if len(digits) >= 7 and re.fullmatch(r"[\d\s+().-]+", form):
        return re.compile(r"[\s().-]*".join(digits[-7:]))
    return re.compile(re.escape(form), re.IGNORECASE)


def _leftovers(text: str) -> list[str]:
    return [f for f in FORMS if _digits_tolerant(f).search(text)]


def _scan_every_column() -> list[str]:
    hits = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            for col, value in row.items():
                found = _leftovers(str(value)) if value is not None else []
                if found:
                    hits.append(f"{table.name}.{col}: {found}")
    return hits


def _person_with_history(make):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    admin = make.user("boss", role="admin")
    g = make.group("Laundromat Tenants", beats=[beat])
    z = make.stakeholder(OLD["name"], phone=OLD["phone"], email=OLD["email"],
                         external_id=OLD["external_id"])
    make.membership(z, g)
    make.commit()
    # Free text written while she still had her old name, number and email.
    make.contact(officer, groups=[g], stakeholders=[z], beat=beat,
                 note="Ms Smith asked for a call back on 3125550147 (or zsmith@old.example).",
                 follow_up_on=datetime.utcnow().date() + timedelta(days=3),
                 follow_up_note="Ring Zelda about the lift")
    make.commit()
    update_stakeholder(admin, z, NEW, version_id=z.version_id)
    make.commit()
    case = ProblemCase(title="Zelda's broken lift", problem_statement="Quibble reported it; phone 555 0199")
    db.session.add(case)
    db.session.flush()
    db.session.add_all([
        CaseAction(case_id=case.id, description="Call +1 (555) 0199 weekly", owner_kind="stakeholder",
                   owner_stakeholder_id=z.id),
        CaseEvent(case_id=case.id, at=datetime.utcnow(), action="participant.add",
                  summary="Added Zelda Quibble", detail={"who": "Zelda Quibble"}),
    ])
    # An audit write with free text, as a careless caller might make it.
    record_event(officer, "case.create", case, detail={
        "title": case.title, "changes": {"description": {"before": "", "after": "Call 555 0199"}}})
    make.commit()
    return z, admin, officer


def test_erasure_reaches_every_form_in_every_column_of_every_table(make):
    z, admin, _ = _person_with_history(make)
    former = db.session.scalars(sa.select(StakeholderHistory.value)
                                .where(StakeholderHistory.stakeholder_id == z.id)).all()
    assert set(former) == {OLD["name"], OLD["phone"], OLD["email"]}  # kept, for this moment
    assert _scan_every_column()  # the scan finds her before the erasure
    erase_stakeholder(admin, z, "She asked us to forget her")
    make.commit()
    assert _scan_every_column() == []
    note = db.session.scalar(sa.select(Contact.note))
    assert note == "Ms [erased] asked for a call back on [erased] (or [erased])."
    assert db.session.get(Stakeholder, z.id).name == f"Erased person #{z.id}"


def test_name_parts_are_matched_as_written(make):
    """"Rose Park" erased: the name goes, "rose bushes" and "Parkside" stay."""
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    rose = make.stakeholder("Rose Park")
    c = make.contact(officer, stakeholders=[rose], note="Rose planted rose bushes by Parkside.")
    make.commit()
    erase_stakeholder(officer, rose, "asked")
    make.commit()
    assert db.session.get(Contact, c.id).note == "[erased] planted rose bushes by Parkside."


def test_another_person_with_the_same_name_keeps_it(make):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    a, b = make.stakeholder("Ann Lee"), make.stakeholder("Ann Lee")
    make.commit()
    erase_stakeholder(officer, a, "asked")
    make.commit()
    assert db.session.get(Stakeholder, b.id).name == "Ann Lee"


def test_sql_errors_never_carry_the_values(make, app, caplog):
    """Neither bound parameters nor the values the database quotes reach the error log."""
    make.stakeholder("Zelda Quibble", external_id="EXT-SECRET-77", phone="555 0199")
    make.commit()
    db.session.add(Stakeholder(name="Zelda Quibble", external_id="EXT-SECRET-77",
                               phone="555 0199"))
    with pytest.raises(sa.exc.IntegrityError) as e:
        db.session.flush()
    db.session.rollback()
    assert "555 0199" not in str(e.value)  # hide_parameters: no "[parameters: ...]"
    with caplog.at_level(logging.ERROR):
        try:
            raise e.value
        except sa.exc.IntegrityError:
            app.logger.exception("Exception on /stakeholders/ [POST]")  # as Flask logs a 500
    assert "IntegrityError" in caplog.text
    for value in ("EXT-SECRET-77", "Zelda", "555 0199"):
        assert value not in caplog.text, value


def test_database_quoted_values_are_cut():
    from crm.ops.logs import redact_sql_values

    assert redact_sql_values('DETAIL:  Key (external_id)=(EXT-77) already exists.') == \
        "DETAIL:  Key (external_id)=(…) already exists."
    assert redact_sql_values("DETAIL:  Failing row contains (7, Zelda (Zee), null).") == \
        "DETAIL:  Failing row contains (…)."


def test_access_logs_keep_parameter_names_only():
    assert redact_urls('GET /stakeholders/search?q=Zelda+Quibble&page=2 HTTP/1.1') == \
        "GET /stakeholders/search?q=…&page=… HTTP/1.1"
    f = RedactQueryStrings()
    # werkzeug's development server
    rec = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '127.0.0.1 - - [x] "%s" %s %s',
                            ("GET /api/v1/stakeholders?phone=5550199 HTTP/1.1", "200", "-"), None)
    f.filter(rec)
    assert "5550199" not in rec.getMessage() and "phone=…" in rec.getMessage()
    # gunicorn: a dict of atoms (request line, query, referer)
    atoms = {"r": "GET /stakeholders/search?q=zelda.q%40example.org HTTP/1.1",
             "q": "q=zelda.q%40example.org", "f": "https://crm/stakeholders/search?q=Zelda",
             "s": "200"}
    rec = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                            '%(r)s %(q)s "%(f)s" %(s)s', (atoms,), None)
    f.filter(rec)
    msg = rec.getMessage()
    assert "zelda" not in msg.lower() and "q=…" in msg


def test_the_app_installs_the_filter_on_the_access_loggers(app):
    for name in ("werkzeug", "gunicorn.access"):
        assert any(isinstance(f, RedactQueryStrings) for f in logging.getLogger(name).filters)


def test_gunicorn_config_installs_the_filter_in_each_worker():
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    logging.getLogger("gunicorn.access").filters.clear()
    before = sys.getswitchinterval()
    try:
        conf["post_worker_init"](None)
        # and hands the GIL between a worker's threads more often (a POST behind a page)
        assert sys.getswitchinterval() == pytest.approx(conf["SWITCH_INTERVAL_S"])
        assert conf["SWITCH_INTERVAL_S"] < before
    finally:
        sys.setswitchinterval(before)
    assert any(isinstance(f, RedactQueryStrings)
               for f in logging.getLogger("gunicorn.access").filters)


def test_nothing_is_left_in_the_sqlite_file_or_its_wal(tmp_path):
    """Someone who copies the database files finds no trace, not even in freed space."""
    from crm import create_app
    from tests.conftest import Factory

    path = tmp_path / "erase.db"
    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        make = Factory()
        make.commit = db.session.commit
        z, admin, _ = _person_with_history(make)
        erase_stakeholder(admin, z, "asked")
        db.session.commit()
        wal = path.with_name(path.name + "-wal")
        blob = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated
        text = blob.decode("latin-1")
        assert _leftovers(text) == []
        db.session.remove()
        db.engine.dispose()


def test_erasure_reaches_what_the_app_itself_wrote(make, client, auth):
    """Her data went in through the API as officers type it (create, rename, a contact with
    a follow-up, a case with her as participant, idea and action owner, a title edit): the
    services' own audit details, case timeline and history rows included. After the erasure
    page, no column of any table holds any form of it."""
    from crm.models import GroupAssignment  # noqa: F401 - the models are all loaded
    from crm.users.services import issue_token
    from tests.conftest import csrf_token_from

    d = make.district("01")
    beat = make.beat("0111", d)
    officer = make.user("jdoe", beats=[beat])
    sarge = make.user("sarge", role="supervisor", district=d)
    g = make.group("Laundromat Tenants", beats=[beat])
    heads = {u: {"Authorization": f"Bearer {issue_token(u, u, 't')[1]}"} for u in (officer, sarge)}
    make.commit()
    api = lambda user, method, url, body=None: client.open(  # noqa: E731
        url, method=method, json=body, headers=heads[user])

    r = api(sarge, "POST", "/api/v1/stakeholders/", {**{k: OLD[k] for k in ("name", "phone", "email")},
                                                     "group_id": g.id})
    pid = r.get_json()["id"]
    contact = api(officer, "POST", "/api/v1/contacts/", {
        "channel": "meeting", "initiated_by": "proactive", "group_ids": [g.id], "stakeholder_ids": [pid],
        "note": "Ms Smith asked for a call back on 3125550147 (zsmith@old.example)",
        "follow_up_on": str(datetime.utcnow().date() + timedelta(days=2)),
        "follow_up_note": "Ring Zelda about the lift"}).get_json()
    version = api(sarge, "GET", f"/api/v1/stakeholders/{pid}").get_json()["version_id"]
    assert api(sarge, "PATCH", f"/api/v1/stakeholders/{pid}",
               {**NEW, "version_id": version}).status_code == 200
    kid = api(sarge, "POST", "/api/v1/cases/", {"title": "Zelda's broken lift", "beat_ids": [beat.id],
              "problem_statement": "Quibble reported it; phone 555 0199"}).get_json()["id"]
    for url, body in ((f"/api/v1/cases/{kid}/participants",
                       {"kind": "stakeholder", "stakeholder_id": pid, "role": "co_producer"}),
                      (f"/api/v1/cases/{kid}/ideas",
                       {"text": "Zelda Quibble suggests a rota", "proposed_by_stakeholder_id": pid}),
                      (f"/api/v1/cases/{kid}/actions",
                       {"description": "Call +1 (555) 0199 weekly", "owner_kind": "stakeholder",
                        "owner_stakeholder_id": pid}),
                      (f"/api/v1/cases/{kid}/contacts", {"contact_id": contact["id"]})):
        assert api(sarge, "POST", url, body).status_code == 201, url
    version = api(sarge, "GET", f"/api/v1/cases/{kid}").get_json()["version_id"]
    assert api(sarge, "PATCH", f"/api/v1/cases/{kid}",
               {"version_id": version, "title": "Lift of Zelda Quibble"}).status_code == 200
    assert _scan_every_column()  # she is there, in many places

    auth.login("sarge")
    page = client.get(f"/privacy/stakeholders/{pid}/erase").get_data(as_text=True)
    version = re.search(r'name="version_id"[^>]*value="(\d+)"', page)
    r = client.post(f"/privacy/stakeholders/{pid}/erase", data={
        "csrf_token": csrf_token_from(page), "reason": "She asked us to forget her",
        "confirm": "y", "version_id": version.group(1) if version else ""})
    assert r.status_code == 303
    assert _scan_every_column() == []
