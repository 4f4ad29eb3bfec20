"""Writing and verifying the audit trail.

Each event's hash covers its own fields and the previous event's hash, so editing or
deleting any row breaks the chain from there on (`flask crm audit verify`). Deleting the
newest rows leaves a shorter chain that is still consistent, so the head (latest id and
hash) is also anchored outside the table, in `instance/audit-anchor.json` and, when
`REDIS_URL` is set, in Redis (`crm.audit.anchor`); verify compares the two.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa

from crm.audit import anchor
from crm.audit.models import AuditEvent
from crm.db import listen_on_sessions, utcnow
from crm.extensions import db

GENESIS = "0" * 64
# Never let these reach the trail, whatever a caller passes in `detail`: secrets, and the
# values of personal or free-text fields. The trail is append-only and cannot be erased, so
# it records THAT such a field changed (the key stays), never what it said.
SECRET_KEYS = {"password", "password_hash", "token", "token_hash", "totp_secret", "csrf_token"}
PERSONAL_KEYS = {"name", "phone", "email", "language", "external_id", "note", "follow_up_note",
                 "consent_method", "consent_purpose", "text", "coping", "decline_reason",
                 "outcome", "display_name",
                 # Free text that can name a community member (case titles and statements,
                 # SARA fields, action descriptions, timeline summaries): an erasure cannot
                 # reach into the trail, so it never holds them.
                 "title", "problem_statement", "place", "place_managers", "victim_target",
                 "guardians", "offender", "handlers", "analysis", "response_plan",
                 "assessment", "community_verdict", "description", "summary", "purpose",
                 "issue", "agency", "owner_agency", "query", "q"}


# Records about organisations and staff, whose names are not a community member's data.
NAMED_NON_PERSONAL = {"community_groups", "beats", "districts", "users", "group_relations"}


def _scrub(value, key: str | None = None, hidden: frozenset | set = PERSONAL_KEYS):
    if key in SECRET_KEYS or key in hidden:
        return "[redacted]" if value not in (None, "") else value
    if isinstance(value, dict):
        return {k: _scrub(v, k, hidden) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, None, hidden) for v in value]
    return value


def _digest(ev: AuditEvent) -> str:
    payload = json.dumps(
        [ev.prev_hash, ev.at.isoformat(), ev.actor_id, ev.actor_username, ev.ip, ev.action,
         ev.object_type, ev.object_id, ev.outcome, ev.detail],
        sort_keys=True, default=str, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_chain_and_read_head():
    """Serialise appends to the chain until this transaction commits, so two requests never
    link to the same predecessor (a fork `verify_chain` would report as tampering), and read
    the head the next event links to: (id, hash) or None.

    PostgreSQL: a transaction-scoped advisory lock of the chain's own, then the head, sent in
    one pipeline (one round trip; still two statements, so the head is read after the lock is
    held). SQLite: a no-op write to the audit table itself takes the database's (exclusive)
    write lock now rather than at the INSERT below; nothing outside the trail is touched.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        raw = db.session.connection().connection.driver_connection
        with raw.pipeline():  # psycopg 3
            raw.execute("SELECT pg_advisory_xact_lock(4242001)")
            cur = raw.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    else:
        if dialect == "sqlite":
            db.session.execute(sa.text("UPDATE audit_events SET id = id WHERE 0"))
        row = db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash)
                                 .order_by(AuditEvent.id.desc()).limit(1)).first()
    return tuple(row) if row else None


def record_event(actor, action: str, obj=None, *, outcome: str = "success",
                 detail: dict | None = None, ip: str = "", object_type: str | None = None,
                 object_id: str | int | None = None,
                 free_text: tuple[str, ...] = ()) -> AuditEvent:
    """Append one audit event for `actor` (a User or None for the system) and flush it.

    `free_text` names further keys of `detail` that hold typed text for this event (say a
    case's stage-change "reason"): the trail records that they were given, not what they say.
    """
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", "")
    newest = _lock_chain_and_read_head()
    last = newest[1] if newest else None
    ev = AuditEvent(
        at=utcnow(), actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", "") or "", ip=ip or "", action=action,
        object_type=object_type or "", object_id=str(object_id if object_id is not None else ""),
        outcome=outcome, prev_hash=last or GENESIS,
        detail=_scrub(detail or {}, None, (PERSONAL_KEYS - {"name", "display_name", "language"}
                      if object_type in NAMED_NON_PERSONAL else PERSONAL_KEYS) | set(free_text)),
    )
    ev.hash = _digest(ev)
    db.session.add(ev)
    db.session.flush()
    anchor.note_append(db.session, ev.id, ev.hash, newest)
    return ev


def record_events(actor, events: list[tuple[str, object, dict]], *, ip: str = "") -> int:
    """Append one event per (action, record, detail), chained in order, in one flush.

    The same events as calling `record_event` for each, for bulk work (a CSV import writes
    one per changed record): one chain lock, one look-up of the head, one INSERT batch.
    """
    if not events:
        return 0
    newest = _lock_chain_and_read_head()
    last = newest[1] if newest else GENESIS
    at = utcnow()
    made = []
    for action, obj, detail in events:
        object_type = type(obj).__tablename__
        hidden = (PERSONAL_KEYS - {"name", "display_name", "language"}
                  if object_type in NAMED_NON_PERSONAL else PERSONAL_KEYS)
        ev = AuditEvent(
            at=at, actor_id=getattr(actor, "id", None),
            actor_username=getattr(actor, "username", "") or "", ip=ip or "", action=action,
            object_type=object_type, object_id=str(getattr(obj, "id", "")), outcome="success",
            prev_hash=last, detail=_scrub(detail or {}, None, hidden))
        ev.hash = last = _digest(ev)
        made.append(ev)
    db.session.add_all(made)
    db.session.flush()
    anchor.note_append(db.session, made[-1].id, made[-1].hash, newest)
    return len(made)


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None  # id of the first event whose hash or link does not match
    # The anchored head (id, hash) is missing or differs: the newest events were removed.
    missing_tail: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None and self.missing_tail is None


def verify_chain(batch: int = 5000, *, use_anchor: bool = True) -> ChainReport:
    """Walk the trail in id order, recompute every hash and meet the anchored head on the way
    (without `use_anchor`, only the hashes: what `reanchor` needs to trust the table)."""
    head = anchor.read() if use_anchor else None
    prev, checked, last_id, head_seen = GENESIS, 0, 0, head is None
    while True:
        rows = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev or _digest(ev) != ev.hash:
                return ChainReport(checked, ev.id)
            if head is not None and ev.id == head.id:
                if ev.hash != head.hash:
                    return ChainReport(checked, ev.id, f"event {ev.id} is not the anchored one")
                head_seen = True
            prev, checked, last_id = ev.hash, checked + 1, ev.id
        db.session.expunge_all()
    if not head_seen:
        # Events after the anchor are fine (written since, or the anchor write lagged a
        # commit); the anchored event itself gone means the tail was cut.
        return ChainReport(checked, None, f"the anchored event {head.id} ({head.source}) is "
                                          f"missing: the trail ends at event {last_id}")
    return ChainReport(checked, None)


def reanchor() -> AuditEvent:
    """Anchor the chain at this database's newest event, for an operator who recreated or
    replaced the database on purpose (a restore re-anchors by itself). Refused when a hash in
    the table does not match; the old head is kept in the `audit.reanchor` event, so moving
    the anchor is itself on the trail. Commits."""
    report = verify_chain(use_anchor=False)
    if report.broken_at is not None:
        raise ValueError(f"event {report.broken_at} does not match its hash: not re-anchoring")
    before = anchor.read()
    ev = record_event(None, "audit.reanchor", object_type="audit",
                      detail={"anchor_before": {"id": before.id, "hash": before.hash}
                              if before else None, "events_verified": report.checked})
    head = anchor.Head(ev.id, ev.hash)
    db.session.commit()
    anchor.write(head, force=True)  # the old head may be missing: move it back on purpose
    return ev


class AppendOnlyError(RuntimeError):
    pass


def _refuse_audit_changes(session, flush_context, instances):
    """The ORM refuses to update or delete an audit event once written."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("audit events are append-only")


def register_listeners() -> None:
    """Hook the functions above into every ORM session (called by create_app; idempotent)."""
    listen_on_sessions(("before_flush", _refuse_audit_changes))
