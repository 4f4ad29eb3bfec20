"""What each role sees first: groups by days since last contact, follow-ups due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.beats.models import Beat
from crm.contacts.models import Contact, ContactGroup, ContactOfficer
from crm.extensions import db
from crm.groups.models import CommunityGroup, group_beats
from crm.timezones import local_date, local_today
from crm.users.models import User


@dataclass
class GroupRow:
    group: CommunityGroup
    beat_codes: list[str]
    last_contact_at: datetime | None
    days_since: int | None

    @property
    def status(self) -> str:
        """Stay-in-touch status against the group's expected contact interval."""
        if self.days_since is None or self.days_since > self.group.contact_interval_days:
            return "overdue"
        if self.days_since >= self.group.contact_interval_days * 0.8:
            return "due"
        return "ok"


def groups_by_days_since_contact(beat_ids: list[int], *, today: date | None = None,
                                 limit: int = 200) -> list[GroupRow]:
    """Groups in the beats, never-contacted first, then longest since last contact."""
    if not beat_ids:
        return []
    today = today or local_today()
    last = (sa.select(sa.func.max(ContactGroup.occurred_at))
            .where(ContactGroup.group_id == CommunityGroup.id)
            .correlate(CommunityGroup).scalar_subquery())
    in_beats = sa.select(group_beats.c.group_id).where(group_beats.c.beat_id.in_(beat_ids))
    rows = db.session.execute(
        sa.select(CommunityGroup, last.label("last"))
        .where(CommunityGroup.id.in_(in_beats))
        .order_by(sa.case((last.is_(None), 0), else_=1), last.asc(), CommunityGroup.name)
        .limit(limit)
    ).all()
    ids = [g.id for g, _ in rows]
    codes: dict[int, list[str]] = {}
    for gid, code in db.session.execute(
        sa.select(group_beats.c.group_id, Beat.code).join(Beat, Beat.id == group_beats.c.beat_id)
        .where(group_beats.c.group_id.in_(ids)).order_by(Beat.code)
    ):
        codes.setdefault(gid, []).append(code)
    return [GroupRow(g, codes.get(g.id, []), lt, None if lt is None else (today - local_date(lt)).days)
            for g, lt in rows]


HOME_FOLLOW_UPS = 15  # the home page shows the most pressing; the full list is one tap away


def follow_ups_due(*, officer_ids: list[int] | None = None, beat_ids: list[int] | None = None,
                   today: date | None = None, horizon_days: int = 7,
                   limit: int = HOME_FOLLOW_UPS) -> list[Contact]:
    """Open follow-ups due within the horizon (overdue included), earliest first."""
    today = today or local_today()
    open_due = sa.and_(Contact.follow_up_on.is_not(None), Contact.follow_up_done_at.is_(None),
                       Contact.follow_up_on <= today + timedelta(days=horizon_days))
    q = (sa.select(Contact)
         .options(selectinload(Contact.group_links).joinedload(ContactGroup.group))
         .order_by(Contact.follow_up_on, Contact.id).limit(limit))
    if officer_ids is not None:
        # Start from the officer's own contacts (two indexed lookups, each already narrowed to
        # open follow-ups); scanning every open follow-up in the city would be far slower.
        theirs = sa.union(
            sa.select(Contact.id).where(Contact.logged_by_id.in_(officer_ids), open_due),
            sa.select(ContactOfficer.contact_id)
            .join(Contact, Contact.id == ContactOfficer.contact_id)
            .where(ContactOfficer.user_id.in_(officer_ids), open_due))
        q = q.where(Contact.id.in_(theirs))
    else:
        q = q.where(open_due)
    if beat_ids is not None:
        q = q.where(Contact.beat_id.in_(beat_ids))
    return list(db.session.scalars(q))


def district_beat_ids(user: User) -> list[int]:
    if user.district_id is None:
        return []
    return list(db.session.scalars(sa.select(Beat.id).where(Beat.district_id == user.district_id)))
