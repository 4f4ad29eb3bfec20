"""Backups: SQLite's online backup API (consistent while the app runs) or pg_dump/pg_restore.

A restore brings back an older state, but not everything in it may come back: people erased
since, revoked tokens, old passwords, and the audit events written since. `restore_database`
therefore restores, then re-applies the erasure and revocation ledger (crm.ops.ledger),
appends the audit events written since the backup (when the live database can still be
read), and audits the restore itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess  # nosec B404
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa


def default_backup_path(instance_dir: Path, url: sa.URL) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ext = "sqlite3" if url.get_backend_name() == "sqlite" else "pgdump"
    return Path(instance_dir) / "backups" / f"alliance-{stamp}.{ext}"


def _pg_env(url: sa.URL) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database or ""]
    return args, env


def _sqlite_copy(source, target) -> None:
    """SQLite's online backup API: a consistent copy even while the app writes."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup(url: sa.URL, target: Path) -> Path:
    """Write a complete copy of the database to `target` and return its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        _sqlite_copy(url.database, target)
    elif backend == "postgresql":
        args, env = _pg_env(url)
        argv = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args]
        subprocess.run(argv, check=True, env=env)  # noqa: S603  # nosec B603
    else:
        raise ValueError(f"no backup method for {backend}")
    target.chmod(0o600)  # it holds personal data
    return target


def restore(url: sa.URL, source: Path) -> None:
    """Replace the database's contents with the backup at `source`."""
    if not source.exists():
        raise FileNotFoundError(source)
    backend = url.get_backend_name()
    if backend == "sqlite":
        _sqlite_copy(source, url.database)
    elif backend == "postgresql":
        args, env = _pg_env(url)
        # A session still holding a lock must make the restore fail, not wait forever.
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lock_timeout=30s").strip()
        argv = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                *args, str(source)]
        subprocess.run(argv, check=True, env=env)  # noqa: S603  # nosec B603
    else:
        raise ValueError(f"no restore method for {backend}")


def backup_audit_head(url: sa.URL, source: Path) -> int:
    """The newest audit event id inside the backup file (0 when it has none)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            return con.execute("SELECT coalesce(max(id), 0) FROM audit_events").fetchone()[0]
        finally:
            con.close()
    # pg_restore writes the table's COPY data as text; the id is the first column.
    argv = [_tool("pg_restore"), "--data-only", "--table=audit_events", "--file=-", str(source)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout  # noqa: S603  # nosec B603
    head, in_copy = 0, False
    for line in out.splitlines():
        if line.startswith("COPY ") and "audit_events" in line:
            in_copy = True
        elif in_copy and line == "\\.":
            in_copy = False
        elif in_copy and line:
            head = max(head, int(line.split("\t", 1)[0]))
    return head


def _event_rows(db, after_id: int) -> list[dict]:
    from crm.audit.models import AuditEvent

    cols = [c.key for c in sa.inspect(AuditEvent).column_attrs]
    return [{c: getattr(ev, c) for c in cols} for ev in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id))]


def _carry_over(db, tail: list[dict], archive_dir: Path) -> tuple[int, str | None]:
    """Append the live trail's newer events to the restored one when they continue its
    chain; otherwise keep them in a file, so no audit event is ever silently lost."""
    from crm.audit.models import AuditEvent

    if not tail:
        return 0, None
    last = db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash)
                              .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is not None and last.hash == tail[0]["prev_hash"] and last.id < tail[0]["id"]:
        db.session.execute(sa.insert(AuditEvent), tail)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                "(SELECT max(id) FROM audit_events))"))
        return len(tail), None
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"audit-not-restored-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        for row in tail:
            f.write(json.dumps(row, default=str) + "\n")
    return 0, path.name


def restore_database(db, source: Path, *, instance_dir: Path) -> dict:
    """Restore `source`, re-apply the ledger, keep the audit trail whole; audited and committed.

    Returns what was done (also the detail of the `ops.restore` audit event).
    """
    from crm.audit import anchor
    from crm.audit.services import record_event
    from crm.network.live_share import SharedAnswers
    from crm.ops import ledger

    url = db.engine.url
    live: list[dict] = []
    tail: list[dict] = []
    anchor_before = anchor.read()
    try:  # the live database may be the thing that broke: then the ledger file alone serves
        head = backup_audit_head(url, source)
        live = ledger.live_entries(db)
        tail = _event_rows(db, head)
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).warning("live database unreadable before the restore; "
                                            "re-applying the ledger file only", exc_info=True)
    db.session.rollback()
    db.session.remove()
    db.engine.dispose()  # no open connection may hold the old database
    restore(url, source)
    db.engine.dispose()
    SharedAnswers(instance_dir / "live-answers").prune(max_age=0)  # keyed by the old counters
    carried, archived = _carry_over(db, tail, instance_dir / "backups")
    # The file's entries first, the live state last: for credentials the latest wins.
    counts = ledger.reapply(db, ledger.read() + live)
    detail = {"file": source.name, **counts, "audit_events_carried_over": carried,
              "audit_events_archived_to": archived,
              "anchor_before": {"id": anchor_before.id, "hash": anchor_before.hash}
              if anchor_before else None}
    ev = record_event(None, "ops.restore", object_type="database", detail=detail)
    head_after = anchor.Head(ev.id, ev.hash)
    db.session.commit()
    # The chain may now end below the old anchor (events not carried over): the restore
    # event, which names the old head, becomes the new one.
    anchor.write(head_after, force=True)
    return detail


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path
