"""The audit chain's head, kept outside the audit table so a cut tail is noticed.

After each commit that appended events, the newest event's id and hash are written to a
file (`AUDIT_ANCHOR_FILE`, default `instance/audit-anchor.json`) and, when `REDIS_URL` is
set, to Redis, so someone who can delete rows in the database must also reach the app
server's disk (or Redis) to hide it. The head only moves forward (several workers commit in
any order); `reset` moves it back, for a restore that is itself audited.

Written after the commit, not before: an anchor ahead of the table would be a false alarm
after a rollback, whereas one that lags a commit (a crash in between) only weakens the
check for the newest events.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import flask
import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy.orm import Session

from crm.db import listen_on_sessions
from crm.ops import instance_file

log = logging.getLogger(__name__)
REDIS_KEY = "alliance:audit-anchor:"
_PENDING = "audit_anchor_pending"
_CHECKED = "audit_anchor_checked"


@dataclass(frozen=True)
class Head:
    id: int
    hash: str
    source: str = "file"


def _db_key() -> str:
    """Which database the head belongs to (several may share one instance directory)."""
    from crm.extensions import db

    return db.engine.url.render_as_string(hide_password=True)


def anchor_file() -> Path | None:
    """Where the head is kept; None (off) under TESTING unless a test sets the path."""
    return instance_file("AUDIT_ANCHOR_FILE", "audit-anchor.json")


def _redis():
    url = flask.current_app.config.get("REDIS_URL") if has_app_context() else None
    if not url:
        return None
    clients = flask.current_app.extensions.setdefault("audit_anchor_redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url, socket_timeout=2)
    return clients[url]


# Atomically: move the head forward only (or anywhere when ARGV[3] == "force").
_LUA_SET = """
local cur = redis.call('HGET', KEYS[1], 'id')
if ARGV[3] == 'force' or (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'id', ARGV[1], 'hash', ARGV[2])
end
return 1
"""


def _write_file(path: Path, key: str, head: Head, force: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Rewritten in place under an exclusive lock on the file itself (readers take a shared
    # one), not through a temporary file and a rename: on ext4 replacing a file by rename
    # flushes the new file's blocks, which stalled one contact POST in twenty by 4 ms.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = _parse(_read_fd(fd))
        cur = data.get(key)
        if not force and cur and int(cur["id"]) >= head.id:
            return
        data[key] = {"id": head.id, "hash": head.hash}
        out = json.dumps(data).encode()
        os.pwrite(fd, out, 0)
        os.ftruncate(fd, len(out))
        # No fsync: it cost ~4 ms on every audited request; after a power cut the anchor may
        # lag (or be unreadable, which `read` reports), never run ahead of the table.
    finally:
        os.close(fd)


def _read_fd(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> dict:
    """The file's heads by database; an empty file is no head, an unreadable one raises."""
    return json.loads(raw) if raw.strip() else {}


def _read_file(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # never half of a head being written
        return _read_fd(fd)
    finally:
        os.close(fd)


def write(head: Head, *, force: bool = False) -> None:
    """Record `head` wherever anchors are kept. Failing to anchor never fails the request
    (its commit is done); it is logged, and verify then reports a lagging anchor at worst."""
    key = _db_key()
    path = anchor_file()
    try:
        if path is not None:
            _write_file(path, key, head, force)
        client = _redis()
        if client is not None:
            client.eval(_LUA_SET, 1, REDIS_KEY + key, head.id, head.hash,
                        "force" if force else "")
    except Exception:  # noqa: BLE001 - an anchor failure must not break a committed request
        log.exception("could not write the audit anchor")


def read() -> Head | None:
    """The newest anchored head (file or Redis), or None when no anchor is kept yet."""
    key = _db_key()
    heads = []
    path = anchor_file()
    raw = _read_file(path) if path is not None else None
    if raw is not None:
        try:
            cur = _parse(raw).get(key)
        except ValueError:
            log.warning("audit anchor %s is unreadable; checking the chain without it", path)
            cur = None
        if cur:
            heads.append(Head(int(cur["id"]), cur["hash"], f"file {path.name}"))
    client = _redis()
    if client is not None:
        cur = client.hgetall(REDIS_KEY + key)
        if cur:
            heads.append(Head(int(cur[b"id"]), cur[b"hash"].decode(), "Redis"))
    return max(heads, key=lambda h: h.id) if heads else None


def note_append(session: Session, event_id: int, event_hash: str,
                previous: tuple[int, str] | None = None) -> None:
    """Remember this transaction's newest event; it is anchored once the commit succeeds,
    unless the event anchored before is no longer in the table (checked once per transaction).
    `previous` is the (id, hash) of the table's newest event before this append, as the
    caller read it under the chain lock (it saves a query when that event is the anchored one)."""
    if anchor_file() is None and _redis() is None:
        return
    if _CHECKED not in session.info:
        session.info[_CHECKED] = _anchored_event_present(session, previous)
    if session.info[_CHECKED]:
        session.info[_PENDING] = Head(event_id, event_hash)


def _anchored_event_present(session: Session, previous: tuple[int, str] | None = None) -> bool:
    """Whether the anchored event is still in the table with its hash. If not, the anchor
    must not move: cut the newest events, let one request append, and the new head would
    look like a normal continuation of the shortened chain. It stays on the missing event,
    so `crm audit verify` keeps reporting the cut (a restore re-anchors)."""
    head = read()
    if head is None:
        return True
    if previous is not None and previous[0] == head.id:
        found = previous[1]  # the newest event is the anchored one: no need to look it up
    else:
        found = session.execute(sa.text("SELECT hash FROM audit_events WHERE id = :id"),
                                {"id": head.id}).scalar()
    if found == head.hash:
        return True
    log.error("audit trail: the anchored event %s is %s; the anchor stays on it "
              "(run `flask crm audit verify`)", head.id, "missing" if found is None else "altered")
    return False


def _anchor_after_commit(session):
    session.info.pop(_CHECKED, None)
    head = session.info.pop(_PENDING, None)
    if head is not None:
        write(head)


def _forget_after_rollback(session):
    session.info.pop(_CHECKED, None)
    session.info.pop(_PENDING, None)


def register_listeners() -> None:
    """Hook the functions above into every ORM session (called by create_app; idempotent)."""
    listen_on_sessions(
        ("after_commit", _anchor_after_commit),
        ("after_rollback", _forget_after_rollback),
    )
