"""Restoring an older backup brings back neither the erased, nor revoked tokens, nor old
passwords, and keeps the audit events written since; the restore itself is audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.audit.models import AuditEvent
from crm.audit.services import record_event, verify_chain
from crm.db import utcnow
from crm.extensions import db
from crm.models import ApiToken, Contact, Stakeholder, User
from crm.ops import ledger
from crm.ops.backup import backup, restore_database
from crm.privacy.services import erase_stakeholder
from tests.conftest import PG_URL, Factory, make_config

KINDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _truncate_all() -> None:
    names = ", ".join(t.name for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=KINDS)
def live(request, tmp_path):
    """An app on a real database file (or the PostgreSQL test database, restored with
    pg_restore) with the ledger and the audit anchor switched on."""
    from crm import create_app

    kind = request.param
    db_opts = ({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}",
                "SQLALCHEMY_ENGINE_OPTIONS": {}} if kind == "sqlite" else {})
    app = create_app(make_config(
        kind, **db_opts, PRIVACY_LEDGER_FILE=str(tmp_path / "ledger.jsonl"),
        AUDIT_ANCHOR_FILE=str(tmp_path / "anchor.json")))
    with app.app_context():
        if kind == "sqlite":
            db.create_all()
        else:
            _truncate_all()
        make = Factory()
        beat = make.beat()
        w = type("World", (), {})()
        w.admin = make.user("boss", role="admin")
        w.officer = make.user("jdoe", beats=[beat])
        w.zelda = make.stakeholder("Zelda Quibble", phone="555 0199")
        w.contact = make.contact(w.officer, stakeholders=[w.zelda], beat=beat,
                                 note="Zelda Quibble asked about the lift")
        w.token = ApiToken(user_id=w.officer.id, name="phone", token_hash="a" * 64)
        db.session.add(w.token)
        db.session.commit()
        # Ids, not objects: a restore ends every session that held the old rows.
        for name in ("admin", "officer", "zelda", "contact", "token"):
            setattr(w, name, getattr(w, name).id)
        db.session.remove()  # reading those ids opened a transaction: no lock may outlive it
        w.path, w.tmp, w.kind = tmp_path / "live.db", tmp_path, kind
        yield app, w
        db.session.remove()
        if kind == "postgresql":
            _truncate_all()
        db.engine.dispose()


def _changes_after_the_backup(w):
    erase_stakeholder(db.session.get(User, w.admin), db.session.get(Stakeholder, w.zelda),
                      "asked")
    db.session.get(ApiToken, w.token).revoked_at = utcnow()
    db.session.get(User, w.officer).password_hash = "argon2-new-hash"
    record_event(None, "test.after_backup", object_type="test")
    db.session.commit()


def _assert_nothing_came_back(w):
    db.session.expire_all()
    z = db.session.get(Stakeholder, w.zelda)
    assert z.erased_at is not None and z.name == f"Erased person #{z.id}" and z.phone is None
    assert "Zelda" not in db.session.get(Contact, w.contact).note
    assert db.session.get(ApiToken, w.token).revoked_at is not None
    assert db.session.get(User, w.officer).password_hash == "argon2-new-hash"
    ev = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ops.restore")).one()
    assert ev.detail["erasures"] == 1 and ev.detail["tokens_revoked"] == 1
    assert ev.detail["credentials_reset"] == 1
    return ev


def test_restore_reapplies_erasures_revocations_and_keeps_the_trail(live):
    app, w = live
    with app.app_context():
        target = backup(db.engine.url, w.tmp / "old.backup")
        _changes_after_the_backup(w)
        entries = ledger.read()
        assert {e["kind"] for e in entries} == {"erasure", "token_revoked", "credentials"}
        assert "Zelda" not in (w.tmp / "ledger.jsonl").read_text()  # ids and hashes, no names
        restore_database(db, target, instance_dir=w.tmp)
        ev = _assert_nothing_came_back(w)
        # The events written after the backup are still there, and the chain holds.
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        # the erasure and the event written since the backup, then the erasure re-applied
        assert actions[-4:] == ["stakeholder.erase", "test.after_backup", "stakeholder.erase",
                                "ops.restore"]
        assert ev.detail["audit_events_carried_over"] >= 2
        report = verify_chain()
        assert report.ok, report


def test_restore_works_from_the_ledger_file_when_the_live_database_is_gone(live):
    app, w = live
    if w.kind != "sqlite":
        pytest.skip("deleting the live database is shown on SQLite")
    with app.app_context():
        target = backup(db.engine.url, w.tmp / "old.backup")
        _changes_after_the_backup(w)
        db.session.remove()
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            (w.tmp / f"live.db{suffix}").unlink(missing_ok=True)
        restore_database(db, target, instance_dir=w.tmp)
        ev = _assert_nothing_came_back(w)
        assert ev.detail["audit_events_carried_over"] == 0
        # The trail now ends before the lost events; the restore event (naming the old head)
        # is the new anchored head, so verify passes and the gap is on the record.
        assert ev.detail["anchor_before"]["id"] > 0
        assert verify_chain().ok


def test_a_reused_id_is_not_erased_again(live):
    """A person created after the restore gets an erased person's old id: left alone."""
    app, w = live
    with app.app_context():
        ledger.append([{"kind": "erasure", "stakeholder_id": w.zelda,
                        "created_at": "2001-01-01T00:00:00"}])
        counts = ledger.reapply(db, ledger.read())
        assert counts["erasures"] == 0
        assert db.session.get(Stakeholder, w.zelda).erased_at is None


def test_restore_command_reports_and_audits(live):
    app, w = live
    with app.app_context():
        target = backup(db.engine.url, w.tmp / "old.backup")
        _changes_after_the_backup(w)
    result = app.test_cli_runner().invoke(args=["crm", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "erased again: 1" in result.output
    with app.app_context():
        _assert_nothing_came_back(w)
