"""SQLite: write-ahead-log checkpoints in the background, not inside a contact POST.

SQLite copies its write-ahead log back into the database file (a checkpoint, with an fsync)
inside the commit of whichever connection takes the log past 1,000 pages. On the large demo
that was one contact POST in ~40, 10-40 ms longer (more under load, the live bench's slowest
POSTs). With `SQLITE_CHECKPOINT_SECONDS` set (the default, 1 s), every process that opens a
connection also runs a daemon thread that checkpoints every so many seconds. PASSIVE: it
never waits for a reader or the writer, so a request never waits for it either. Each pass
opens the file afresh (a restore may replace it). The connections' own rule moves from 1,000
to `BACKSTOP_PAGES`: a commit checkpoints only if the thread fell behind (a bulk load that
keeps the writer busy), so the log stays bounded.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

import sqlalchemy as sa

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 10_000  # ~40 MB of log: far past what the thread leaves between passes
_lock = threading.Lock()
_running: dict[str, int] = {}  # database path -> pid of the process whose thread checkpoints it


def configure(engine: sa.Engine, seconds: float) -> None:
    """Switch the engine's SQLite connections to background checkpoints (0 s: SQLite's own)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not seconds or path in (None, "", ":memory:"):
        return

    @sa.event.listens_for(engine, "connect")
    def _checkpoint_on_commit_only_as_a_backstop(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        start(path, seconds)  # this process checkpoints: a fork has its own thread to start

    @sa.event.listens_for(engine, "checkout")
    def _thread_in_this_process(_dbapi_conn, _record, _proxy):
        if _running.get(path) != os.getpid():  # a worker forked with pooled connections
            start(path, seconds)


def start(path: str, seconds: float) -> None:
    """Run the checkpoint thread for `path` in this process (once)."""
    with _lock:
        if _running.get(path) == os.getpid():
            return
        _running[path] = os.getpid()
    threading.Thread(target=_loop, args=(path, seconds), name="sqlite-checkpoint",
                     daemon=True).start()


def checkpoint(path: str) -> tuple[int, int, int] | None:
    """One PASSIVE checkpoint: (busy, frames in the log, frames copied back), or None."""
    try:
        # mode=rw never creates the file; a short wait for the writer's brief index lock
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0.2)
        try:
            return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as e:  # locked, or the file is being replaced: the next pass
        log.debug("checkpoint of %s skipped: %s", path, e)
        return None


def _loop(path: str, seconds: float) -> None:
    while _running.get(path) == os.getpid():
        time.sleep(seconds)
        if not os.path.exists(path):  # deleted (a test's file): a new engine starts again
            with _lock:
                _running.pop(path, None)
            return
        checkpoint(path)
