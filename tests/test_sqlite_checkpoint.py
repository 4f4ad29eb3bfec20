"""SQLite checkpoints run in a background thread, never inside a request's commit."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa

from crm import create_app
from crm.audit.services import record_event
from crm.extensions import db
from crm.ops import checkpoint
from tests.conftest import make_config


def _wal_frames(path) -> int:
    """Pages in the write-ahead log (its header is 32 bytes, each frame 24 + page size)."""
    wal = f"{path}-wal"
    return max(0, (os.path.getsize(wal) - 32) // (24 + 4096)) if os.path.exists(wal) else 0


def _app(path, seconds):
    return create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                                  SQLALCHEMY_ENGINE_OPTIONS={},
                                  SQLITE_CHECKPOINT_SECONDS=seconds))


def _write_pages(app, events: int) -> None:
    with app.app_context():
        for i in range(events):
            record_event(None, "test.checkpoint", object_type="test", object_id=i,
                         detail={"padding": "x" * 3000})
            db.session.commit()


def test_commits_leave_the_checkpoint_to_the_background_thread(tmp_path):
    path = tmp_path / "crm.db"
    app = _app(path, 3600)  # the thread waits an hour: only a commit could checkpoint
    with app.app_context():
        db.create_all()
        conn = db.session.connection()
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == checkpoint.BACKSTOP_PAGES
        db.session.rollback()
    # SQLite's own rule would copy the log back (and reset it) every 1,000 pages.
    _write_pages(app, 500)
    assert 2000 < _wal_frames(path) < checkpoint.BACKSTOP_PAGES  # measured ~4,000; ~1,000 with SQLite's
    # The thread's pass (called here rather than waiting an hour) copies every frame back.
    busy, frames, copied = checkpoint.checkpoint(str(path))
    assert busy == 0 and frames > 2000 and copied == frames
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM audit_events")) == 500
        db.engine.dispose()


def test_a_writer_the_thread_cannot_keep_up_with_is_still_bounded(tmp_path):
    path = tmp_path / "crm.db"
    app = _app(path, 3600)
    with app.app_context():
        db.create_all()
    _write_pages(app, 1800)  # ~14,000 frames written: past the backstop once
    assert _wal_frames(path) < checkpoint.BACKSTOP_PAGES + 200
    with app.app_context():
        db.engine.dispose()


def test_the_thread_checkpoints_on_its_own(tmp_path, monkeypatch):
    path = tmp_path / "crm.db"
    passes = []
    real = checkpoint.checkpoint
    monkeypatch.setattr(checkpoint, "checkpoint", lambda p: passes.append((p, real(p))) or passes[-1][1])
    app = _app(path, 0.05)
    with app.app_context():
        db.create_all()
    _write_pages(app, 50)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
            p == str(path) and r and r[1] > 50 and r[2] == r[1] for p, r in passes):
        time.sleep(0.05)
    copied = [r for p, r in passes if p == str(path) and r and r[1] > 50 and r[2] == r[1]]
    assert copied, passes[-5:]
    with app.app_context():
        db.engine.dispose()


def test_off_leaves_sqlites_own_checkpoints(tmp_path):
    app = _app(tmp_path / "crm.db", 0)
    with app.app_context():
        db.create_all()
        assert db.session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        db.session.rollback()
        db.engine.dispose()
