"""Privacy by design: retention review, erasure, subject access export and consent.

Personal data never reaches the audit trail from here: events carry ids, vocabulary values,
dates and reasons with the person's name, phone and email redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.models import (CaseAction, CaseIdea, CaseParticipant, Contact, ContactGroup,
                        ContactOfficer, ContactStakeholder, Membership, RelationshipStageChange,
                        Stakeholder, User)
from crm.vocab import CONSENT_STATUSES, SUBJECT_CATEGORIES

RETENTION_YEARS = 3  # review a record this long after its last activity
KEEP_DEFAULT_YEARS = 1
KEEP_MAX_YEARS = 3
ERASED_MARK = "[erased]"
REASON_MAX = 500
# Tables whose free text is never scrubbed: the append-only trail (which never holds personal
# values), the stakeholder rows themselves (blanked field by field) and officers' accounts.
_SCRUB_SKIP_TABLES = {"audit_events", "stakeholders", "users", "api_tokens", "alembic_version"}


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
    on = on or date.today()
    return sa.or_(Stakeholder.review_on.is_(None), Stakeholder.review_on >= on)


def live_stakeholder(on: date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition for stakeholder lists: not erased, not merged away, not past review."""
    return sa.and_(Stakeholder.erased_at.is_(None), Stakeholder.merged_into_id.is_(None),
                   not_past_review(on))


def past_review(on: date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition: the record waits in the review queue."""
    on = on or date.today()
    return sa.and_(Stakeholder.review_on < on, Stakeholder.erased_at.is_(None),
                   Stakeholder.merged_into_id.is_(None))


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


def _personal_values(people: list[Stakeholder]) -> list[str]:
    """The values that identify the people: what must never outlive an erasure."""
    values = {v.strip() for p in people for v in (p.name, p.phone, p.email) if v and v.strip()}
    return sorted(values, key=len, reverse=True)  # longest first: "Ann Lee" before "Ann"


def _pattern(values: list[str]) -> re.Pattern | None:
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in values)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def redact(text: str, people: list[Stakeholder]) -> str:
    """`text` with the people's name, phone and email replaced by "[erased]"."""
    pattern = _pattern(_personal_values(people))
    return pattern.sub(ERASED_MARK, text) if pattern and text else text


def keep_stakeholder(actor: User, s: Stakeholder, reason: str, *, until: date | None = None,
                     version_id: int | None = None, today: date | None = None,
                     ip: str = "") -> Stakeholder:
    """A supervisor keeps a record past review: push review_on by a year or to a chosen date."""
    today = today or date.today()
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
    db.session.flush()
    record_event(actor, "stakeholder.retention_keep", s, ip=ip, detail={
        "reason": redact(reason, [s]),
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


def _scrub_free_text(values: list[str]) -> int:
    """Replace the values wherever they stand as words in any free-text or JSON column.

    Candidate rows are found in SQL (case-insensitive LIKE), the replacement is done in
    Python on whole words so "Al" does not mangle "Alliance". Versioned rows get a new
    version so an edit form opened before the erasure cannot write the name back.
    """
    pattern = _pattern(values)
    if pattern is None:
        return 0
    changed_rows = 0
    for table in db.metadata.sorted_tables:
        if table.name in _SCRUB_SKIP_TABLES:
            continue
        cols = [c for c in table.columns
                if isinstance(c.type, (sa.String, sa.JSON)) and not c.primary_key]
        if not cols:
            continue
        pk = list(table.primary_key.columns)
        conds = []
        for c in cols:
            text = sa.cast(c, sa.Text) if isinstance(c.type, sa.JSON) else c
            conds += [sa.func.lower(text).contains(v.lower(), autoescape=True) for v in values]
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
    values = _personal_values(people)
    safe_reason = redact(reason, people)
    ids = [p.id for p in people]
    db.session.flush()
    memberships = db.session.scalar(sa.select(sa.func.count()).select_from(Membership)
                                    .where(Membership.stakeholder_id.in_(ids))) or 0
    scrubbed = _scrub_free_text(values)
    db.session.expire_all()  # rows changed in SQL above: read them afresh
    now = utcnow()
    for p in db.session.scalars(sa.select(Stakeholder).where(Stakeholder.id.in_(ids))):
        p.name = f"Erased person #{p.id}"
        p.phone = p.email = p.language = p.external_id = None
        p.consent_status = "not_asked"
        p.consent_on = p.consent_method = p.consent_purpose = None
        p.data_subject_category = "other"
        p.review_on = None
        p.erased_at = now
        p.memberships.clear()  # delete-orphan: the rows go
    db.session.flush()
    record_event(actor, "stakeholder.erase", s, ip=ip, detail={
        "reason": safe_reason, "memberships_deleted": memberships, "rows_scrubbed": scrubbed,
        "also_erased_ids": ids[1:]})
    return s


# ---- subject access -------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


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
    return {
        "generated_at": _iso(utcnow()),
        "person": {
            "id": s.id, "external_id": s.external_id, "name": s.name, "phone": s.phone,
            "email": s.email, "language": s.language,
            "data_subject_category": s.data_subject_category,
            "relationship_stage": s.stage, "review_on": _iso(s.review_on),
            "erased_at": _iso(s.erased_at), "created_at": _iso(s.created_at),
            "updated_at": _iso(s.updated_at),
        },
        "consent": {"status": s.consent_status, "on": _iso(s.consent_on),
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
    }


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
    today = today or date.today()
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
