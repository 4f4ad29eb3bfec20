"""The audit chain's head is anchored outside the table: cutting the tail is noticed."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from crm.audit import anchor
from crm.audit.models import AuditEvent
from crm.audit.services import _digest, record_event, verify_chain
from crm.extensions import db


@pytest.fixture
def anchored(app, tmp_path, monkeypatch):
    path = tmp_path / "audit-anchor.json"
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(path))
    return path


def _append(n: int) -> list[AuditEvent]:
    evs = []
    for i in range(n):
        evs.append(record_event(None, f"test.event.{i}", object_type="test", detail={"i": i}))
        db.session.commit()
    return evs


def _cut_newest(k: int) -> None:
    """What someone with database access does: plain SQL, around the ORM's refusal."""
    newest = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(k)).all()
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id >= :i"), {"i": min(newest)})
    db.session.commit()


def test_each_commit_moves_the_anchor_to_the_newest_event(anchored):
    evs = _append(3)
    head = anchor.read()
    assert (head.id, head.hash) == (evs[-1].id, evs[-1].hash)
    assert oct(anchored.stat().st_mode & 0o777) == "0o600"
    assert verify_chain().ok


def test_deleting_the_newest_events_fails_verification(anchored, runner):
    _append(5)
    assert verify_chain().ok
    _cut_newest(2)
    report = verify_chain()
    assert not report.ok and report.checked == 3 and "missing" in report.missing_tail
    result = runner.invoke(args=["crm", "audit", "verify"])
    assert result.exit_code == 1 and "TAMPERED" in result.output


def test_a_forged_replacement_of_the_newest_event_fails_verification(anchored):
    evs = _append(3)
    last_id, at, prev = evs[-1].id, evs[-1].at, evs[-1].prev_hash
    _cut_newest(1)
    forged = AuditEvent(id=last_id, at=at, actor_id=None, actor_username="", ip="",
                        action="test.harmless", object_type="test", object_id="", outcome="success",
                        detail={}, prev_hash=prev)
    forged.hash = _digest(forged)
    db.session.add(forged)
    db.session.commit()
    report = verify_chain()
    assert not report.ok and report.broken_at == last_id


def test_a_rolled_back_event_does_not_move_the_anchor(anchored):
    evs = _append(2)
    record_event(None, "test.rolled_back")
    db.session.rollback()
    assert anchor.read().id == evs[-1].id
    assert verify_chain().ok


def test_the_anchor_file_keeps_one_head_per_database(anchored):
    _append(1)
    data = json.loads(anchored.read_text())
    assert list(data) == [db.engine.url.render_as_string(hide_password=True)]


def test_without_an_anchor_a_cut_tail_is_not_reported(app):
    """The check above is the anchor's doing: the chain alone cannot see a cut tail."""
    _append(3)
    _cut_newest(1)
    assert verify_chain().ok


def test_appending_locks_the_chain_without_writing_other_tables(app):
    seen: list[str] = []

    def spy(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        record_event(None, "test.lock")
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)
    assert seen and not any("data_versions" in s for s in seen)


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a free port (skipped where Redis is not installed)."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=5)


def test_with_redis_the_anchor_is_kept_there_too(app, redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", None)  # Redis alone
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.extensions, "audit_anchor_redis", {})
    evs = _append(4)
    head = anchor.read()
    assert (head.id, head.hash, head.source) == (evs[-1].id, evs[-1].hash, "Redis")
    _cut_newest(1)
    assert not verify_chain().ok


def test_a_cut_tail_stays_reported_after_new_events_are_appended(anchored, runner):
    """Delete the newest events, then let the app append (any audited request does): the
    anchor must not move onto the shortened chain, or the cut would be hidden."""
    _append(5)
    _cut_newest(2)
    _append(3)  # later requests, chained onto the shortened trail
    # PostgreSQL: the anchored id is gone; SQLite reuses ids: it holds another event now.
    assert not verify_chain().ok
    result = runner.invoke(args=["crm", "audit", "verify"])
    assert result.exit_code == 1 and "TAMPERED" in result.output


def test_an_operator_re_anchors_a_database_recreated_on_purpose(anchored, runner):
    """After a cut (or a database recreated under the same instance directory) verify keeps
    failing until an operator re-anchors; the move is audited with the old head, and a chain
    whose hashes do not match is never re-anchored."""
    _append(4)
    old = anchor.read()
    _cut_newest(2)
    assert not verify_chain().ok
    refused = runner.invoke(args=["crm", "audit", "reanchor"])
    assert refused.exit_code == 2 and not verify_chain().ok
    result = runner.invoke(args=["crm", "audit", "reanchor", "--yes"])
    assert result.exit_code == 0, result.output
    assert verify_chain().ok
    ev = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert ev.action == "audit.reanchor"
    assert ev.detail["anchor_before"] == {"id": old.id, "hash": old.hash}
    assert anchor.read().id == ev.id
    # A forged event in the middle: re-anchoring refuses and says so.
    earlier = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)).where(AuditEvent.id < ev.id))
    db.session.execute(sa.text("UPDATE audit_events SET action = 'forged' WHERE id = :i"),
                       {"i": earlier})
    db.session.commit()
    forged = runner.invoke(args=["crm", "audit", "reanchor", "--yes"])
    assert forged.exit_code == 1 and "TAMPERED" in forged.output
    assert anchor.read().id == ev.id
