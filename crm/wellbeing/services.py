"""Officer well-being check-ins: private to their author; aggregates over enough officers only.

Nobody but the author reads a check-in: not a supervisor, not an admin (every lookup is
filtered by author, so another id is a 404). Supervisors and admins see aggregates, and only
when at least `MIN_OFFICERS` distinct officers contributed, so nobody can be singled out.
The audit trail records ids only, never what a check-in says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import NotFoundError, ValidationError
from crm.extensions import db
from crm.models import Beat, BeatAssignment, Contact, ContactOfficer, User, WellbeingCheckin
from crm.timezones import day_start_utc, local_today

MIN_OFFICERS = 5
AUTHOR_ROLES = ("officer", "unit", "supervisor")
AGGREGATE_ROLES = ("supervisor", "admin")
COPING_MAX = 2000
NOT_ENOUGH = "Not enough officers to show without singling someone out."


def own_checkins(user: User) -> sa.Select:
    """The user's own check-ins, newest first: the only list of check-ins there is."""
    return (sa.select(WellbeingCheckin).where(WellbeingCheckin.officer_id == user.id)
            .order_by(WellbeingCheckin.occurred_at.desc(), WellbeingCheckin.id.desc()))


def get_own_checkin_or_404(user: User, checkin_id: int) -> WellbeingCheckin:
    """One of the user's own check-ins; anyone else's is a 404, whatever the role."""
    obj = db.session.scalar(sa.select(WellbeingCheckin).where(
        WellbeingCheckin.id == checkin_id, WellbeingCheckin.officer_id == user.id))
    if obj is None:
        raise NotFoundError("No such check-in among yours.")
    return obj


def _is_own_contact(user: User, contact_id: int) -> bool:
    took_part = sa.select(ContactOfficer.contact_id).where(ContactOfficer.user_id == user.id)
    return db.session.scalar(sa.select(Contact.id).where(
        Contact.id == contact_id,
        sa.or_(Contact.logged_by_id == user.id, Contact.id.in_(took_part)))) is not None


def create_checkin(actor: User, *, stress_level: int | None, boundary_crossed: bool = False,
                   coping: str | None = "", debrief_wanted: bool = False,
                   contact_id: int | None = None,
                   occurred_at: datetime | None = None) -> WellbeingCheckin:
    """Record a check-in for `actor` themself (never for someone else)."""
    errors: dict[str, str] = {}
    if actor.role not in AUTHOR_ROLES:
        errors["officer"] = "only officers, unit members and supervisors keep check-ins"
    if stress_level is None or not isinstance(stress_level, int) or not 1 <= stress_level <= 5:
        errors["stress_level"] = "must be a whole number from 1 (calm) to 5 (very stressed)"
    coping = (coping or "").strip()
    if len(coping) > COPING_MAX:
        errors["coping"] = f"must be at most {COPING_MAX} characters"
    if contact_id is not None and not _is_own_contact(actor, contact_id):
        errors["contact_id"] = "is not a contact you took part in"
    now = utcnow()
    if occurred_at is not None and occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = "cannot be in the future"
    if errors:
        raise ValidationError(errors)
    checkin = WellbeingCheckin(officer_id=actor.id, contact_id=contact_id,
                               occurred_at=occurred_at or now, stress_level=stress_level,
                               boundary_crossed=bool(boundary_crossed), coping=coping,
                               debrief_wanted=bool(debrief_wanted))
    db.session.add(checkin)
    db.session.flush()
    record_event(actor, "wellbeing_checkin.create", checkin)  # ids only: nothing it says
    return checkin


def delete_checkin(actor: User, checkin: WellbeingCheckin) -> None:
    """The author removes one of their own check-ins."""
    if checkin.officer_id != actor.id:
        raise NotFoundError("No such check-in among yours.")
    checkin_id = checkin.id
    db.session.delete(checkin)
    db.session.flush()
    record_event(actor, "wellbeing_checkin.delete", object_type="wellbeing_checkins",
                 object_id=checkin_id)


@dataclass
class Aggregate:
    days: int
    since: date
    shown: bool
    message: str = ""
    checkins: int | None = None
    officers: int | None = None
    mean_stress: float | None = None
    share_boundary_crossed: float | None = None
    debriefs_wanted: int | None = None


def _officer_ids(actor: User, since: date, today: date) -> sa.Select | None:
    """Whose check-ins an aggregate covers: officers assigned to a beat of the supervisor's
    district at some time in the window, or everyone (admin)."""
    if actor.role == "admin":
        return None
    district_beats = sa.select(Beat.id).where(Beat.district_id == actor.district_id)
    return sa.select(BeatAssignment.user_id).where(
        BeatAssignment.beat_id.in_(district_beats), BeatAssignment.starts_on <= today,
        sa.or_(BeatAssignment.ends_on.is_(None), BeatAssignment.ends_on >= since))


def aggregate_checkins(actor: User, *, days: int = 30, today: date | None = None) -> Aggregate:
    """Count, mean stress, share with a boundary crossed and debriefs wanted over `days`.

    Only shown when at least MIN_OFFICERS distinct officers contributed; otherwise nothing
    but the refusal comes back (not even how many officers there were).
    """
    if actor.role not in AGGREGATE_ROLES:
        raise ValidationError({"role": "only supervisors and admins see aggregates"})
    if not isinstance(days, int) or not 1 <= days <= 366:
        raise ValidationError({"days": "must be between 1 and 366"})
    today = today or local_today()
    since = today - timedelta(days=days)
    q = sa.select(
        sa.func.count(sa.distinct(WellbeingCheckin.officer_id)),
        sa.func.count(WellbeingCheckin.id),
        sa.func.avg(WellbeingCheckin.stress_level),
        sa.func.sum(sa.case((WellbeingCheckin.boundary_crossed.is_(True), 1), else_=0)),
        sa.func.sum(sa.case((WellbeingCheckin.debrief_wanted.is_(True), 1), else_=0)),
    ).where(WellbeingCheckin.occurred_at >= day_start_utc(since))  # the department's midnight
    scope = _officer_ids(actor, since, today)
    if scope is not None:
        q = q.where(WellbeingCheckin.officer_id.in_(scope))
    officers, count, mean, crossed, debriefs = db.session.execute(q).one()
    if (officers or 0) < MIN_OFFICERS:
        return Aggregate(days=days, since=since, shown=False, message=NOT_ENOUGH)
    return Aggregate(days=days, since=since, shown=True, checkins=count, officers=officers,
                     mean_stress=round(float(mean), 2), share_boundary_crossed=round(crossed / count, 3),
                     debriefs_wanted=int(debriefs or 0))
