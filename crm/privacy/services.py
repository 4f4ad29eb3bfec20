"""Privacy by design: retention review, erasure, subject access export and consent.

Personal data never reaches the audit trail from here: events carry ids, vocabulary values,
dates and reasons with the person's name, phone and email redacted.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.audit.models import AuditEvent
from crm.audit.services import record_event
from crm.db import listen_on_sessions, utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import (
    CaseAction,
    CaseIdea,
    CaseParticipant,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    Membership,
    RelationshipStageChange,
    Stakeholder,
    User,
)
from crm.ops import ledger  # noqa: F401 - its session hooks record erasures for `restore`
from crm.privacy.models import StakeholderHistory
from crm.timezones import local_today
from crm.vocab import CONSENT_STATUSES, SUBJECT_CATEGORIES

log = logging.getLogger(__name__)
RETENTION_YEARS = 3  # review a record this long after its last activity
KEEP_DEFAULT_YEARS = 1
KEEP_MAX_YEARS = 3
ERASED_MARK = "[erased]"
REASON_MAX = 500
FORMER_VALUE_FIELDS = ("name", "phone", "email", "external_id")
_ERASED_IN_TX = "privacy_erased_in_transaction"
_ERASED_COMMITTED = "privacy_erasure_committed"
# Never scrubbed: the append-only trail (hash-chained; it never holds personal values, see
# crm.audit.services.PERSONAL_KEYS) and Alembic's bookkeeping.
_SCRUB_SKIP_TABLES = {"audit_events", "alembic_version"}
# Columns that are someone else's identity, not text about them: another person who is
# also called "Zelda Quibble" keeps their name; officers' names and credentials stay.
_SCRUB_SKIP_COLUMNS = {
    "stakeholders": {"name", "phone", "email", "external_id", "language",
                     "data_subject_category", "consent_status", "stage"},
    "users": {"username", "display_name", "password_hash", "role", "totp_secret",
              "session_nonce"},
    "api_tokens": {"token_hash"},
}


# ---- dates --------------------------------------------------------------------------------

def add_years(d: date, years: int) -> date:
    """`d` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


# ---- conditions other code can reuse --------------------------------------------------------

def not_past_review(on: date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition: the stakeholder is not past its retention review date.

    Lists and searches of stakeholders add it to their WHERE clause so that a record whose
    review is overdue disappears from daily work until a supervisor keeps or erases it.
    A record without a review date yet (see `refresh_review_dates`) is not past review.
    """
    on = on or local_today()
    return sa.or_(Stakeholder.review_on.is_(None), Stakeholder.review_on >= on)


def live_stakeholder(on: date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition for stakeholder lists: not erased, not merged away, not past review."""
    return sa.and_(Stakeholder.live(), not_past_review(on))


def past_review(on: date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition: the record waits in the review queue."""
    on = on or local_today()
    return sa.and_(Stakeholder.review_on < on, Stakeholder.live())


# ---- retention review -----------------------------------------------------------------------

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def last_activity_expr() -> sa.ColumnElement:
    """Correlated SQL: the latest of created, last contact and last membership change."""
    created = Stakeholder.created_at
    last_contact = (sa.select(sa.func.max(ContactStakeholder.occurred_at))
                    .where(ContactStakeholder.stakeholder_id == Stakeholder.id)
                    .correlate(Stakeholder).scalar_subquery())
    last_membership = (sa.select(sa.func.max(Membership.updated_at))
                       .where(Membership.stakeholder_id == Stakeholder.id)
                       .correlate(Stakeholder).scalar_subquery())
    parts = (created, sa.func.coalesce(last_contact, created),
             sa.func.coalesce(last_membership, created))
    if _dialect() == "sqlite":
        return sa.func.max(*parts)  # the scalar, multi-argument max()
    return sa.func.greatest(*parts)


def _plus_years_as_date(expr: sa.ColumnElement, years: int) -> sa.ColumnElement:
    if _dialect() == "sqlite":
        return sa.func.date(expr, f"+{int(years)} years", type_=sa.Date)
    interval = sa.literal_column(f"INTERVAL '{int(years)} years'", type_=sa.Interval)
    return sa.cast(expr + interval, sa.Date)


def refresh_review_dates(actor: User | None = None, *, years: int = RETENTION_YEARS) -> int:
    """Give every record without a review date one: `years` after its last activity.

    One set-based UPDATE. A record whose activity since moved its due date later is moved
    too (never earlier, so a supervisor's "keep until" stands). Returns the rows changed.
    """
    due = _plus_years_as_date(last_activity_expr(), years)
    stmt = (sa.update(Stakeholder)
            .where(Stakeholder.erased_at.is_(None),
                   sa.or_(Stakeholder.review_on.is_(None), Stakeholder.review_on < due))
            .values(review_on=due, version_id=Stakeholder.version_id + 1)
            .execution_options(synchronize_session=False))
    changed = db.session.execute(stmt).rowcount or 0
    if changed:
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Stakeholder):
                db.session.expire(obj, ["review_on", "version_id", "updated_at"])
        record_event(actor, "stakeholder.review_dates_refresh", object_type="stakeholders",
                     detail={"changed": changed, "years": years})
    db.session.flush()
    return changed


@dataclass
class ReviewRow:
    stakeholder: Stakeholder
    last_contact_at: datetime | None
    group_names: list[str]


def review_queue(scope: sa.ColumnElement[bool], *, on: date | None = None,
                 limit: int = 200) -> list[ReviewRow]:
    """Records past their review date within `scope` (a crm.access condition), oldest first."""
    last_contact = (sa.select(sa.func.max(ContactStakeholder.occurred_at))
                    .where(ContactStakeholder.stakeholder_id == Stakeholder.id)
                    .correlate(Stakeholder).scalar_subquery())
    rows = db.session.execute(
        sa.select(Stakeholder, last_contact.label("last_contact"))
        .where(past_review(on), scope)
        .options(selectinload(Stakeholder.memberships).selectinload(Membership.group))
        .order_by(Stakeholder.review_on, Stakeholder.id).limit(limit)).all()
    return [ReviewRow(s, lc, sorted(m.group.name for m in s.memberships)) for s, lc in rows]


def _check_version(s: Stakeholder, version_id: int | None) -> None:
    if version_id is not None and version_id != s.version_id:
        raise ConflictError(
            f"This person's record was changed by someone else (now version {s.version_id}, "
            f"you started from version {version_id}). Nothing was saved; check and try again.",
            current={"id": s.id, "version_id": s.version_id})


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "is required: say why"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"must be at most {REASON_MAX} characters"})
    return reason


def _former_values(ids: list[int]) -> list[str]:
    return list(db.session.scalars(sa.select(StakeholderHistory.value).where(
        StakeholderHistory.stakeholder_id.in_(ids),
        StakeholderHistory.field.in_(FORMER_VALUE_FIELDS))))


def _personal_values(people: list[Stakeholder], former: list[str] = ()) -> list[str]:
    """The values that identify the people, now and before: what must never outlive an erasure."""
    values = {v.strip() for p in people for v in (p.name, p.phone, p.email, p.external_id)
              if v and v.strip()}
    values |= {v.strip() for v in former if v and v.strip()}
    return sorted(values, key=len, reverse=True)  # longest first: "Ann Lee" before "Ann"


def _value_regex(value: str) -> str:
    """A phone in any layout ("+1 555 0199", "555-0199", "15550199"), anything else as written."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 7 and re.fullmatch(r"[\d\s+().\-/]+", value):
        sep = r"[\s().\-/]*"
        # With and without the country code, and the local number alone ("555 0199").
        variants = {digits, digits[-10:], digits[-7:]}
        return "|".join(r"\+?" + sep.join(v) for v in sorted(variants, key=len, reverse=True))
    return re.escape(value)


def _forms(values: list[str]) -> tuple[list[str], list[str]]:
    """(case-insensitive forms, case-sensitive name parts) of the people's values.

    Besides each whole value: phones as bare digits, an email's local part, and the parts of
    a name of three letters or more ("Zelda", "Quibble"). Name parts are matched as written
    (capitalised), so erasing "Rose Park" removes "Rose" but not "rose bushes".
    """
    forms: set[str] = set()
    parts: set[str] = set()
    for v in values:
        forms.add(v)
        digits = re.sub(r"\D", "", v)
        if len(digits) >= 7 and re.fullmatch(r"[\d\s+().\-/]+", v):
            forms.add(digits)
        elif "@" in v:
            local = v.split("@", 1)[0]
            if len(local) >= 4:
                forms.add(local)
        else:
            words = re.findall(r"[^\W\d_][\w'’-]*", v)
            if len(words) > 1:
                parts |= {w for w in words if len(w) >= 3 and w[0].isupper()}
    parts -= forms
    key = lambda x: (-len(x), x)  # noqa: E731 - longest first
    return sorted(forms, key=key), sorted(parts, key=key)


def _pattern(values: list[str]) -> re.Pattern | None:
    """One regex for every form of the values, whole words only ("Al" leaves "Alliance")."""
    if not values:
        return None
    forms, parts = _forms(values)
    alternatives = "|".join(_value_regex(v) for v in forms)
    rx = rf"(?<!\w)(?i:{alternatives})(?!\w)"
    if parts:
        rx += "|" + rf"(?<!\w)(?:{'|'.join(re.escape(p) for p in parts)})(?!\w)"
    return re.compile(rx)


def _like_terms(values: list[str]) -> list[str]:
    """Lower-case substrings that any match of `_pattern` contains (candidate rows in SQL)."""
    forms, parts = _forms(values)
    terms = set()
    for f in forms + parts:
        digits = re.sub(r"\D", "", f)
        if len(digits) >= 7 and re.fullmatch(r"[\d\s+().\-/]+", f):
            terms.add(digits[-4:])  # the last four digits stand together in every layout
        else:
            terms.add(f.lower())
            terms.add(json.dumps(f.lower())[1:-1])  # as a JSON column may store it: "Jos\u00e9"
    # A row holding "zelda quibble" also holds "zelda": the shorter term finds it already.
    return sorted(t for t in terms if not any(o != t and o in t for o in terms))


def redact(text: str, people: list[Stakeholder]) -> str:
    """`text` with the people's name, phone and email replaced by "[erased]"."""
    pattern = _pattern(_personal_values(people))
    return pattern.sub(ERASED_MARK, text) if pattern and text else text


def keep_stakeholder(actor: User, s: Stakeholder, reason: str, *, until: date | None = None,
                     version_id: int | None = None, today: date | None = None,
                     ip: str = "") -> Stakeholder:
    """A supervisor keeps a record past review: push review_on by a year or to a chosen date."""
    today = today or local_today()
    if s.erased_at is not None:
        raise ValidationError({"stakeholder": "is erased; there is nothing to keep"})
    reason = _clean_reason(reason)
    latest = add_years(today, KEEP_MAX_YEARS)
    if until is None:
        until = add_years(today, KEEP_DEFAULT_YEARS)
    elif until <= today:
        raise ValidationError({"until": "must be a date after today"})
    elif until > latest:
        raise ValidationError({"until": f"must be at most {KEEP_MAX_YEARS} years ahead "
                                        f"({latest.isoformat()})"})
    _check_version(s, version_id)
    before = s.review_on
    s.review_on = until
    db.session.add(StakeholderHistory(stakeholder_id=s.id, field="keep_reason", value=reason,
                                      recorded_at=utcnow()))
    db.session.flush()
    # The reason is typed text: it stays in stakeholder_history (which erasures scrub), the
    # trail records that one was given.
    record_event(actor, "stakeholder.retention_keep", s, ip=ip, free_text=("reason",), detail={
        "reason": reason,
        "review_on": {"before": before.isoformat() if before else None,
                      "after": until.isoformat()}})
    return s


# ---- erasure --------------------------------------------------------------------------------

def _replace_in(value, pattern: re.Pattern):
    """Replace in a string or, recursively, in the strings of a JSON value."""
    if isinstance(value, str):
        return pattern.sub(ERASED_MARK, value)
    if isinstance(value, list):
        return [_replace_in(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _replace_in(v, pattern) for k, v in value.items()}
    return value


def _text_columns(table: sa.Table) -> list[sa.Column]:
    skip = _SCRUB_SKIP_COLUMNS.get(table.name, set())
    return [c for c in table.columns
            if isinstance(c.type, (sa.String, sa.Text, sa.JSON)) and not c.primary_key
            and c.name not in skip]


def _scrub_free_text(values: list[str]) -> int:
    """Replace every form of the values wherever it stands as a word, in every text or JSON
    column of every table on the metadata (so a table added later is covered too).

    Candidate rows are found in SQL (case-insensitive LIKE), the replacement is done in
    Python on whole words so "Al" does not mangle "Alliance". Versioned rows get a new
    version so an edit form opened before the erasure cannot write the name back.
    """
    pattern = _pattern(values)
    if pattern is None:
        return 0
    terms = _like_terms(values)
    sqlite = _dialect() == "sqlite"
    changed_rows = 0
    for table in db.metadata.sorted_tables:
        if table.name in _SCRUB_SKIP_TABLES:
            continue
        cols = _text_columns(table)
        if not cols:
            continue
        pk = list(table.primary_key.columns)
        conds = []
        for c in cols:
            text = sa.cast(c, sa.Text) if isinstance(c.type, sa.JSON) else c
            if sqlite:  # LIKE is case-insensitive there already (and lower() is ASCII-only)
                conds += [text.contains(t, autoescape=True) for t in terms]
            else:
                conds += [sa.func.lower(text).contains(t, autoescape=True) for t in terms]
        for row in db.session.execute(sa.select(*pk, *cols).where(sa.or_(*conds))).mappings():
            changes = {}
            for c in cols:
                new = _replace_in(row[c.name], pattern)
                if new != row[c.name]:
                    changes[c.name] = new
            if not changes:
                continue
            if "version_id" in table.c:
                changes["version_id"] = table.c.version_id + 1
            db.session.execute(table.update().where(*(k == row[k.name] for k in pk))
                               .values(**changes))
            changed_rows += 1
    return changed_rows


def _wipe_sqlite_leftovers(session) -> None:  # noqa: ARG001
    """After an erasure commits on SQLite: overwritten pages must not keep the old text.

    `secure_delete` (set on the erasing connection before it wrote) zeroes deleted and
    shrunk content; a TRUNCATE checkpoint then moves the WAL into the database file and
    empties the WAL, which held the pages as they were before the erasure.
    """
    from crm.extensions import db as _db

    try:
        with _db.engine.connect() as conn:
            for _ in range(3):  # a reader still on an old snapshot makes it return busy
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
                if not busy or not busy[0]:
                    break
    except Exception:  # noqa: BLE001 - the erasure is committed; the next checkpoint follows
        log.exception("WAL checkpoint after an erasure failed")


def _after_erasure_commit(session):
    if session.info.pop(_ERASED_IN_TX, False):
        session.info[_ERASED_COMMITTED] = True


def _after_erasure_transaction(session, transaction):
    # Not in after_commit: other after-commit hooks still write (data version bumps), and
    # the checkpoint must come after the last write of the transaction.
    if transaction.parent is None and session.info.pop(_ERASED_COMMITTED, False):
        _wipe_sqlite_leftovers(session)


def _forget_erasure(session):
    session.info.pop(_ERASED_IN_TX, None)


def _keep_former_values(session, flush_context, instances):
    """A person's name, phone, email or external id changes: remember the old value for a
    later erasure (not when the change is the erasure itself)."""
    for obj in session.dirty:
        if not isinstance(obj, Stakeholder) or obj.erased_at is not None:
            continue
        state = sa.inspect(obj)
        for field in FORMER_VALUE_FIELDS:
            hist = state.attrs[field].history
            if not hist.has_changes():
                continue
            for old in hist.deleted:
                if old and str(old).strip() and old != getattr(obj, field):
                    session.add(StakeholderHistory(stakeholder_id=obj.id, field=field,
                                                   value=str(old), recorded_at=utcnow()))


def erase_stakeholder(actor: User, s: Stakeholder, reason: str, *,
                      version_id: int | None = None, ip: str = "") -> Stakeholder:
    """Erase a person: their personal data goes everywhere, a tombstone row stays.

    Contacts and case records keep pointing at the tombstone (so counts and histories stay
    true) but no longer show who it was; memberships are deleted; the name, phone and email
    are scrubbed from free text; records merged into this one are erased with it.
    """
    if s.erased_at is not None:
        raise ValidationError({"stakeholder": "is already erased"})
    reason = _clean_reason(reason)
    _check_version(s, version_id)
    people = [s] + list(db.session.scalars(sa.select(Stakeholder).where(
        Stakeholder.merged_into_id == s.id, Stakeholder.erased_at.is_(None))))
    ids = [p.id for p in people]
    db.session.flush()
    values = _personal_values(people, _former_values(ids))
    if _dialect() == "sqlite":
        # Zero what this transaction deletes or shrinks; the WAL is emptied after the commit.
        db.session.execute(sa.text("PRAGMA secure_delete = ON"))
        db.session.info[_ERASED_IN_TX] = True
    memberships = db.session.scalar(sa.select(sa.func.count()).select_from(Membership)
                                    .where(Membership.stakeholder_id.in_(ids))) or 0
    db.session.execute(sa.delete(StakeholderHistory).where(
        StakeholderHistory.stakeholder_id.in_(ids),
        StakeholderHistory.field.in_(FORMER_VALUE_FIELDS)))
    scrubbed = _scrub_free_text(values)
    db.session.expire_all()  # rows changed in SQL above: read them afresh
    now = utcnow()
    for p in db.session.scalars(sa.select(Stakeholder).where(Stakeholder.id.in_(ids))):
        p.name = f"Erased person #{p.id}"
        p.phone = p.email = p.language = p.external_id = None
        p.interpreter_needed = False
        p.consent_status = "not_asked"
        p.consent_on = p.consent_method = p.consent_purpose = None
        p.data_subject_category = "other"
        p.review_on = None
        p.erased_at = now
        p.memberships.clear()  # delete-orphan: the rows go
    # Why, in words, with the people's data already gone from it; the trail only says that a
    # reason was given (typed text may name someone else, erased later).
    db.session.add(StakeholderHistory(stakeholder_id=s.id, field="erasure_reason",
                                      value=_pattern(values).sub(ERASED_MARK, reason)
                                      if values else reason, recorded_at=now))
    db.session.flush()
    record_event(actor, "stakeholder.erase", s, ip=ip, free_text=("reason",), detail={
        "reason": reason, "memberships_deleted": memberships, "rows_scrubbed": scrubbed,
        "also_erased_ids": ids[1:]})
    return s


# ---- subject access -------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Audit actions that show a person's data to someone: the subject access export lists them.
READ_ACTION_SUFFIXES = (".read", ".list", ".review_queue_view", ".subject_access_export",
                        ".search")
_ID_LIST_KEYS = ("ids", "stakeholder_ids")


def _is_read(action: str) -> bool:
    return action.endswith(READ_ACTION_SUFFIXES)


def _names_person(ev: AuditEvent, sid: int) -> bool:
    if ev.object_type == "stakeholders" and str(sid) in ev.object_id.split(","):
        return True
    detail = ev.detail or {}
    return any(sid in (detail.get(k) or []) for k in _ID_LIST_KEYS)


def reads_of(sid: int, *, batch: int = 5000) -> list[AuditEvent]:
    """Audit events in which someone saw this person's record: opened it, listed or searched
    and got it back, exported it. Candidates are narrowed in SQL (the id's digits in the
    object id or the JSON detail), then checked exactly in Python."""
    digits = str(sid)
    cond = sa.and_(
        sa.or_(*(AuditEvent.action.endswith(suffix) for suffix in READ_ACTION_SUFFIXES)),
        sa.or_(sa.and_(AuditEvent.object_type == "stakeholders",
                       AuditEvent.object_id.contains(digits)),
               sa.cast(AuditEvent.detail, sa.Text).contains(digits)))
    out, last = [], 0
    while True:
        rows = db.session.scalars(sa.select(AuditEvent).where(cond, AuditEvent.id > last)
                                  .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return out
        out += [ev for ev in rows if _is_read(ev.action) and _names_person(ev, sid)]
        last = rows[-1].id


def consent_given_on(s: Stakeholder) -> date | None:
    """The consent date; when a record was marked "given" without one (an import, an older
    form), the day the trail first shows it given, else the day the record was created."""
    if s.consent_on is not None or s.consent_status != "given":
        return s.consent_on
    for ev in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "stakeholders",
                                        AuditEvent.object_id == str(s.id),
                                        AuditEvent.action.in_(("stakeholder.create",
                                                               "stakeholder.update",
                                                               "stakeholder.consent")))
            .order_by(AuditEvent.id.desc())):
        after = (ev.detail or {}).get("after") or {}
        if after.get("consent_status") == "given" or after.get("status") == "given":
            return ev.at.date()
    return s.created_at.date() if s.created_at else None


def subject_access_data(s: Stakeholder) -> dict:
    """Everything held about one person, as plain data (JSON-ready)."""
    memberships = db.session.scalars(
        sa.select(Membership).where(Membership.stakeholder_id == s.id)
        .options(selectinload(Membership.group)).order_by(Membership.id)).all()
    contacts = db.session.scalars(
        sa.select(Contact).join(ContactStakeholder, ContactStakeholder.contact_id == Contact.id)
        .where(ContactStakeholder.stakeholder_id == s.id)
        .options(selectinload(Contact.officer_links).selectinload(ContactOfficer.officer),
                 selectinload(Contact.group_links).selectinload(ContactGroup.group),
                 selectinload(Contact.beat))
        .order_by(Contact.occurred_at, Contact.id)).all()
    stages = db.session.scalars(
        sa.select(RelationshipStageChange).where(RelationshipStageChange.stakeholder_id == s.id)
        .order_by(RelationshipStageChange.changed_at, RelationshipStageChange.id)).all()
    participants = db.session.scalars(
        sa.select(CaseParticipant).where(CaseParticipant.stakeholder_id == s.id)
        .options(selectinload(CaseParticipant.case)).order_by(CaseParticipant.id)).all()
    ideas = db.session.scalars(
        sa.select(CaseIdea).where(CaseIdea.proposed_by_stakeholder_id == s.id)
        .options(selectinload(CaseIdea.case)).order_by(CaseIdea.id)).all()
    actions = db.session.scalars(
        sa.select(CaseAction).where(CaseAction.owner_stakeholder_id == s.id)
        .options(selectinload(CaseAction.case)).order_by(CaseAction.id)).all()
    reads = reads_of(s.id)
    reader_ids = {ev.actor_id for ev in reads if ev.actor_id is not None}
    officers = ({u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(reader_ids)))}
                if reader_ids else {})
    return {
        "generated_at": _iso(utcnow()),
        "person": {
            "id": s.id, "external_id": s.external_id, "name": s.name, "phone": s.phone,
            "email": s.email, "language": s.language,
            "interpreter_needed": s.interpreter_needed,
            "data_subject_category": s.data_subject_category,
            "relationship_stage": s.stage, "review_on": _iso(s.review_on),
            "erased_at": _iso(s.erased_at), "created_at": _iso(s.created_at),
            "updated_at": _iso(s.updated_at),
        },
        "consent": {"status": s.consent_status, "on": _iso(consent_given_on(s)),
                    "on_recorded": s.consent_on is not None or s.consent_status != "given",
                    "method": s.consent_method, "purpose": s.consent_purpose},
        "memberships": [{"group": m.group.name, "role": m.role, "starts_on": _iso(m.starts_on),
                         "ends_on": _iso(m.ends_on), "recorded_at": _iso(m.created_at)}
                        for m in memberships],
        "contacts": [{
            "id": c.id, "occurred_at": _iso(c.occurred_at),
            "officers": sorted(link.officer.display_name for link in c.officer_links),
            "groups": sorted(link.group.name for link in c.group_links),
            "beat": c.beat.code if c.beat else None, "place": c.place, "channel": c.channel,
            "initiated_by": c.initiated_by, "purpose": c.purpose,
            "techniques": list(c.techniques or []), "stage_after": c.stage_after,
            "enforcement": c.enforcement, "note": c.note,
            "follow_up": ({"on": _iso(c.follow_up_on), "note": c.follow_up_note,
                           "done_at": _iso(c.follow_up_done_at)} if c.follow_up_on else None),
        } for c in contacts],
        "stage_history": [{"changed_at": _iso(st.changed_at), "from": st.from_stage,
                           "to": st.to_stage, "contact_id": st.contact_id} for st in stages],
        "cases": {
            "participation": [{"case_id": p.case_id, "case": p.case.title, "role": p.role}
                              for p in participants],
            "ideas": [{"case_id": i.case_id, "case": i.case.title, "text": i.text,
                       "status": i.status, "decline_reason": i.decline_reason,
                       "proposer_told_on": _iso(i.proposer_told_on)} for i in ideas],
            "actions": [{"case_id": a.case_id, "case": a.case.title,
                         "description": a.description, "status": a.status,
                         "due_on": _iso(a.due_on), "outcome": a.outcome} for a in actions],
        },
        # Who has seen the record (staff names: the person has a right to know them).
        "reads": [{"at": _iso(ev.at), "by": _reader(ev, officers), "role": _role(ev, officers),
                   "what": ev.action, "outcome": ev.outcome} for ev in reads],
    }


def _reader(ev: AuditEvent, officers: dict) -> str:
    u = officers.get(ev.actor_id)
    return (u.display_name or u.username) if u is not None else (ev.actor_username or "system")


def _role(ev: AuditEvent, officers: dict) -> str | None:
    u = officers.get(ev.actor_id)
    return u.role if u is not None else None


def export_subject_access(actor: User, s: Stakeholder, *, fmt: str, ip: str = "") -> dict:
    """The subject access export, audited (ids and format only)."""
    data = subject_access_data(s)
    record_event(actor, "stakeholder.subject_access_export", s, ip=ip,
                 detail={"format": fmt, "contacts": len(data["contacts"]),
                         "memberships": len(data["memberships"])})
    return data


# ---- consent --------------------------------------------------------------------------------

def record_consent(actor: User, s: Stakeholder, *, status: str, consent_on: date | None,
                   method: str | None, purpose: str | None, category: str,
                   version_id: int | None = None, today: date | None = None,
                   ip: str = "") -> Stakeholder:
    """Record consent given, withdrawn or not asked, and the data subject category."""
    today = today or local_today()
    method, purpose = (method or "").strip() or None, (purpose or "").strip() or None
    errors: dict[str, str] = {}
    if s.erased_at is not None:
        errors["stakeholder"] = "is erased"
    if status not in CONSENT_STATUSES:
        errors["status"] = f"must be one of {', '.join(CONSENT_STATUSES)}"
    if category not in SUBJECT_CATEGORIES:
        errors["category"] = f"must be one of {', '.join(SUBJECT_CATEGORIES)}"
    if status in ("given", "withdrawn"):
        if consent_on is None:
            errors["consent_on"] = ("is required: when was consent given" if status == "given"
                                    else "is required: when was consent withdrawn")
        elif consent_on > today:
            errors["consent_on"] = "cannot be in the future"
    if status == "given":
        if not method:
            errors["method"] = "is required: how was consent given (e.g. signed form, verbal)"
        if not purpose:
            errors["purpose"] = "is required: what the person agreed to"
    if method and len(method) > 80:
        errors["method"] = "must be at most 80 characters"
    if purpose and len(purpose) > 200:
        errors["purpose"] = "must be at most 200 characters"
    if errors:
        raise ValidationError(errors)
    _check_version(s, version_id)
    if status == "not_asked":
        consent_on = method = purpose = None
    before = {"status": s.consent_status, "on": _iso(s.consent_on),
              "category": s.data_subject_category}
    fields = {"consent_status": status, "consent_on": consent_on, "consent_method": method,
              "consent_purpose": purpose, "data_subject_category": category}
    changed = [k for k, v in fields.items() if getattr(s, k) != v]
    for k, v in fields.items():
        setattr(s, k, v)
    db.session.flush()
    # Method and purpose are free text: the trail names which fields changed, not their text.
    record_event(actor, "stakeholder.consent", s, ip=ip, detail={
        "before": before,
        "after": {"status": status, "on": _iso(consent_on), "category": category},
        "changed": changed})
    return s


def register_listeners() -> None:
    """Hook the functions above into every ORM session (called by create_app; idempotent)."""
    listen_on_sessions(
        ("after_commit", _after_erasure_commit),
        ("after_transaction_end", _after_erasure_transaction),
        ("after_rollback", _forget_erasure),
        ("before_flush", _keep_former_values),
    )
