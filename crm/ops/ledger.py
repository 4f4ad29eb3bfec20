"""The erasure and revocation ledger: what a restore from an older backup must not undo.

Every committed erasure, API-token revocation and change of a user's credentials (password
hash, session nonce, disabled account) is appended as one JSON line to
`PRIVACY_LEDGER_FILE` (default `instance/privacy-ledger.jsonl`, mode 0600). `flask crm
restore` re-applies the ledger after copying the backup in (`reapply`).

Why a file outside the database rather than a table: a table would be restored with
everything else, i.e. rolled back to the backup's day, and a restore is most often needed
when the live database is damaged or gone, so it cannot be the only source either. The
restore also reads the same facts from the live database when it is still readable
(`live_entries`), which catches changes made by bulk SQL that the ORM hook below never sees.

What the ledger holds is deliberately not personal data: stakeholder ids (with the row's
creation time, so a reused id is never erased by mistake), the SHA-256 of revoked tokens
(already what the database stores), and the users' credential columns. The erased people's
names, phones and emails are not needed to re-erase them: a backup can only hold the
forms that were in the database when it was taken, and the restored rows (with their
recorded former values) yield exactly those forms to `erase_stakeholder` again.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from crm.db import listen_on_sessions
from crm.ops import instance_file

log = logging.getLogger(__name__)
_PENDING = "privacy_ledger_pending"
_CREDENTIAL_FIELDS = ("password_hash", "session_nonce", "active")


def ledger_file() -> Path | None:
    """Where the ledger is kept; None (off) under TESTING unless a test sets the path."""
    return instance_file("PRIVACY_LEDGER_FILE", "privacy-ledger.jsonl")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def erasure_entry(s) -> dict:
    return {"kind": "erasure", "stakeholder_id": s.id, "created_at": _iso(s.created_at)}


def token_entry(tok) -> dict:
    return {"kind": "token_revoked", "token_id": tok.id, "token_hash": tok.token_hash}


def credentials_entry(u) -> dict:
    return {"kind": "credentials", "user_id": u.id, "username": u.username,
            "password_hash": u.password_hash, "session_nonce": u.session_nonce,
            "active": bool(u.active)}


def _changed(obj, *fields: str) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _collect(session, flush_context):
    """Note what this transaction erased or revoked; written once the commit succeeds."""
    if ledger_file() is None:
        return
    from crm.models import ApiToken, Stakeholder, User

    pending = session.info.setdefault(_PENDING, [])
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Stakeholder) and obj.erased_at is not None and _changed(obj, "erased_at"):
            pending.append(erasure_entry(obj))
        elif isinstance(obj, ApiToken) and obj.revoked_at is not None and _changed(obj, "revoked_at"):
            pending.append(token_entry(obj))
        elif isinstance(obj, User) and obj not in session.new and _changed(obj, *_CREDENTIAL_FIELDS):
            pending.append(credentials_entry(obj))


def append(entries: list[dict], path: Path | None = None) -> None:
    path = path or ledger_file()
    if path is None or not entries:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.utcnow().isoformat()
    lines = "".join(json.dumps({"at": now, **e}, sort_keys=True) + "\n" for e in entries)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # several workers append; lines never interleave
        os.write(fd, lines.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_after_commit(session):
    entries = session.info.pop(_PENDING, None)
    if entries:
        try:
            append(entries)
        except Exception:  # noqa: BLE001 - the commit is done; the restore also reads the live db
            log.exception("could not append to the privacy ledger")


def _forget_after_rollback(session):
    session.info.pop(_PENDING, None)


def read(path: Path | None = None) -> list[dict]:
    path = path or ledger_file()
    if path is None or not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            log.warning("skipping a damaged privacy ledger line")  # e.g. a torn last write
    return out


def live_entries(db) -> list[dict]:
    """The same facts read from the live database before it is replaced."""
    from crm.models import ApiToken, Stakeholder, User

    out = [erasure_entry(s) for s in db.session.scalars(
        sa.select(Stakeholder).where(Stakeholder.erased_at.is_not(None)))]
    out += [token_entry(t) for t in db.session.scalars(
        sa.select(ApiToken).where(ApiToken.revoked_at.is_not(None)))]
    out += [credentials_entry(u) for u in db.session.scalars(sa.select(User))]
    return out


def reapply(db, entries: list[dict]) -> dict:
    """Erase, revoke and reset again whatever the restored database brought back.

    Returns counts per kind; flushes, never commits. The latest credentials per user win.
    """
    from crm.db import utcnow
    from crm.models import ApiToken, Stakeholder, User
    from crm.privacy.services import erase_stakeholder

    counts = {"erasures": 0, "tokens_revoked": 0, "credentials_reset": 0}
    erase_ids: dict[int, str | None] = {}
    token_hashes: set[str] = set()
    creds: dict[int, dict] = {}
    for e in entries:
        if e.get("kind") == "erasure":
            erase_ids[int(e["stakeholder_id"])] = e.get("created_at")
        elif e.get("kind") == "token_revoked":
            token_hashes.add(e["token_hash"])
        elif e.get("kind") == "credentials":
            creds[int(e["user_id"])] = e
    for sid, created in sorted(erase_ids.items()):
        s = db.session.get(Stakeholder, sid)
        if s is None or s.erased_at is not None:
            continue
        if created and _iso(s.created_at) != created:
            continue  # the id was given to someone else after the backup: not the same person
        erase_stakeholder(None, s, "erased before; erased again after a restore")
        counts["erasures"] += 1
    if token_hashes:
        for tok in db.session.scalars(sa.select(ApiToken).where(
                ApiToken.token_hash.in_(token_hashes), ApiToken.revoked_at.is_(None))):
            tok.revoked_at = utcnow()
            counts["tokens_revoked"] += 1
    for uid, e in creds.items():
        u = db.session.get(User, uid)
        if u is None or u.username != e["username"]:
            continue
        values = {f: e[f] for f in _CREDENTIAL_FIELDS if f in e}
        if any(getattr(u, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(u, f, v)
            counts["credentials_reset"] += 1
    db.session.flush()
    return counts


def register_listeners() -> None:
    """Hook the functions above into every ORM session (called by create_app; idempotent)."""
    listen_on_sessions(
        ("after_flush", _collect),
        ("after_commit", _write_after_commit),
        ("after_rollback", _forget_after_rollback),
    )
