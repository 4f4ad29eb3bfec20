"""One officer's figures for the officer page and `GET /api/v1/officers/<id>/summary`.

Who may open whose page (need-to-know, like `crm.access`): an administrator any officer's; a
supervisor the officers working a beat of their district (current beat assignments, the rule
`crm.assignments` uses for whom they may assign); every officer, unit member and supervisor
their own. Analysts never (they see no names). Anything else is a 404.

The window's totals (group-contacts, proactive, with receptive and with wary or hostile groups)
come from the engagement facts (`crm.facts`, one indexed SUM over at most `days` rows), the
same sums the coverage page shows, so the two pages agree. The weekly bars count contacts
(each contact once) and the groups list reads the officer's contact links, both on the
`contact_officers (user_id, occurred_at)` index.

The comfort-zone rule is `analytics.coverage`'s, with its own defaults (read from its
signature, so the words on the page can never drift from the rule that sets the flag).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

import analytics
from crm.access import NOTHING, beat_ids_select, group_ids_select
from crm.assignments import services as assignments
from crm.extensions import db
from crm.facts.models import NO_BEAT, OfficerBeatLast, OfficerDay
from crm.facts.services import OFFICER_COUNTS, window
from crm.models import (
    Beat,
    BeatAssignment,
    CommunityGroup,
    ContactGroup,
    ContactOfficer,
    User,
    group_beats,
)
from crm.timezones import day_end_utc, iso_local, local_date, local_today
from crm.vocab import STANCES

_RULE = inspect.signature(analytics.coverage).parameters
COMFORT_THRESHOLD: float = _RULE["comfort_threshold"].default
MIN_PROACTIVE: int = _RULE["min_proactive"].default
WINDOWS = (30, 60, 90, 180, 365)
DEFAULT_DAYS = 90
PAGE_ROLES = ("officer", "unit", "supervisor")  # whose contacts make an officer page
GROUP_LIST = 100  # groups listed on the page (the count covers all)


def analytics_today() -> date:
    """Today by the analytics' day rule (the department's local day, like the coverage page
    and the facts), so this page and the coverage page count the same window."""
    return local_today()


# ---- who may see whose page ---------------------------------------------------------------


def officer_scope(actor: User, today: date | None = None) -> sa.ColumnElement[bool]:
    """Users whose officer page the actor may open (see the module docstring)."""
    if actor.role == "admin":
        return User.role.in_(PAGE_ROLES)
    if actor.role not in PAGE_ROLES:
        return NOTHING
    own = User.id == actor.id
    if actor.role == "supervisor":
        in_district = User.id.in_(sa.select(BeatAssignment.user_id).where(
            BeatAssignment.beat_id.in_(beat_ids_select(actor)),
            BeatAssignment.current_on(today or local_today())))
        return sa.and_(User.role.in_(PAGE_ROLES), sa.or_(own, in_district))
    return own


def visible_officer_ids(actor: User, ids) -> set[int]:
    """Which of `ids` the actor may open an officer page for."""
    ids = {i for i in ids if i}
    if not ids or actor is None:
        return set()
    return set(db.session.scalars(sa.select(User.id).where(User.id.in_(ids),
                                                           officer_scope(actor))))


def get_officer(actor: User, user_id: int) -> User | None:
    """The officer if the actor may see their page; None otherwise (shown as a 404)."""
    return db.session.scalar(sa.select(User).where(User.id == user_id, officer_scope(actor)))


# ---- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekBar:
    start: date  # first day counted (a Monday, or the window's first day)
    end: date  # last day counted (a Sunday, or the window's last day)
    contacts: int

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "contacts": self.contacts}


@dataclass(frozen=True)
class GroupReached:
    id: int
    name: str | None  # None: a group outside the viewer's scope
    stance: str
    contacts: int
    proactive: int
    last_at: datetime

    def to_dict(self) -> dict:
        return {"id": self.id if self.name is not None else None, "name": self.name,
                "stance": self.stance, "contacts": self.contacts, "proactive": self.proactive,
                "last_at": iso_local(self.last_at)}  # local time with its offset, like the API


@dataclass(frozen=True)
class ComfortZone:
    """The comfort-zone rule applied to one officer, with every figure it uses."""

    proactive: int  # proactive group-contacts in the window
    proactive_receptive: int  # ... of them with receptive groups
    beat_codes: tuple[str, ...]  # the beats of the baseline
    beats_assigned: bool  # the officer's assigned beats (else the beats they logged in)
    beat_groups: int  # groups in those beats
    beat_receptive: int  # ... of them receptive
    threshold: float = COMFORT_THRESHOLD
    min_proactive: int = MIN_PROACTIVE

    @property
    def share(self) -> float | None:
        return self.proactive_receptive / self.proactive if self.proactive else None

    @property
    def baseline(self) -> float | None:
        return self.beat_receptive / self.beat_groups if self.beat_groups else None

    @property
    def index(self) -> float | None:
        if self.share is None or self.baseline is None:
            return None
        return round(self.share - self.baseline, 6)

    @property
    def flagged(self) -> bool:
        return bool(self.index is not None and self.proactive >= self.min_proactive
                    and self.index >= self.threshold)

    def rule_text(self) -> str:
        return (f"An officer is flagged “comfort zone” when at least {self.min_proactive} of "
                f"their group-contacts in the window were proactive (their own choice of whom to "
                f"visit) and the share of those with receptive groups is at least "
                f"{round(self.threshold * 100)} percentage points above the share of receptive "
                f"groups among all the groups on their beats.")

    def figures_text(self, name: str) -> str:
        """The rule in the officer's own numbers, ending with the verdict."""
        if not self.proactive:
            return f"{name} made no proactive group-contact in the window: not flagged."
        beats = ", ".join(self.beat_codes) or "none"
        where = "their beats" if self.beats_assigned else "the beats they logged contacts in"
        first = (f"{self.proactive_receptive} of {name}'s {self.proactive} proactive "
                 f"group-contacts ({_pct(self.share)}) were with receptive groups")
        if self.baseline is None:
            return first + f"; {where} ({beats}) hold no groups to compare with: not flagged."
        groups_are = "group on" if self.beat_groups == 1 else "groups on"
        verb = "is" if self.beat_receptive == 1 or self.beat_groups == 1 else "are"
        second = (f"{self.beat_receptive} of the {self.beat_groups} {groups_are} {where} "
                  f"({beats}) {verb} receptive ({_pct(self.baseline)})")
        diff = round(self.index * 100)
        verdict = (f"a difference of {diff:+d} points" +
                   (f", at least {round(self.threshold * 100)}" if diff >= round(self.threshold * 100)
                    else f", below {round(self.threshold * 100)}"))
        if self.flagged:
            end = ": flagged."
        elif self.proactive < self.min_proactive:
            end = (f"; with fewer than {self.min_proactive} proactive group-contacts that is too "
                   f"little to judge: not flagged.")
        else:
            end = ": not flagged."
        return f"{first}; {second}: {verdict}{end}"

    def to_dict(self) -> dict:
        return {"rule": self.rule_text(), "threshold": self.threshold,
                "min_proactive": self.min_proactive, "proactive": self.proactive,
                "proactive_receptive": self.proactive_receptive, "share_receptive": self.share,
                "beats": list(self.beat_codes), "beats_assigned": self.beats_assigned,
                "beat_groups": self.beat_groups, "beat_receptive": self.beat_receptive,
                "baseline_share": self.baseline, "index": self.index, "flagged": self.flagged}


@dataclass
class OfficerSummary:
    officer: User
    as_of: date
    days: int
    weeks: list[WeekBar]
    contacts: int  # contacts in the window, each once
    group_contacts: int  # one per group of a contact (the coverage page's count)
    proactive: int  # proactive group-contacts
    stance_mix: dict[str, int]  # stance -> group-contacts
    groups: list[GroupReached]
    groups_reached: int
    comfort: ComfortZone
    assignments: list = field(default_factory=list)

    @property
    def proactive_share(self) -> float | None:
        return self.proactive / self.group_contacts if self.group_contacts else None

    @property
    def first_day(self) -> date:
        return self.as_of - timedelta(days=self.days - 1)

    def to_dict(self) -> dict:
        return {
            "officer": {"id": self.officer.id, "name": self.officer.display_name,
                        "role": self.officer.role},
            "as_of": self.as_of.isoformat(), "window_days": self.days,
            "first_day": self.first_day.isoformat(),
            "contacts": self.contacts, "group_contacts": self.group_contacts,
            "proactive_group_contacts": self.proactive, "proactive_share": self.proactive_share,
            "weeks": [w.to_dict() for w in self.weeks],
            "stance_mix": self.stance_mix,
            "groups_reached": self.groups_reached,
            "groups": [g.to_dict() for g in self.groups],
            "comfort_zone": self.comfort.to_dict(),
            "open_assignments": [
                {"id": a.id, "kind": a.kind, "group": {"id": a.group_id, "name": a.group.name},
                 "due_on": a.due_on.isoformat(), "overdue": a.is_overdue(self.as_of)}
                for a in self.assignments],
        }


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def _dt(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def week_bars(times, first: date, last: date) -> list[WeekBar]:
    """Contacts per calendar week (Monday to Sunday) from `first` to `last`, both included;
    the first and last week are cut to the window."""
    counts: dict[date, int] = {}
    for t in times:
        d = local_date(_dt(t))  # the department's calendar day
        if first <= d <= last:
            monday = d - timedelta(days=d.weekday())
            counts[monday] = counts.get(monday, 0) + 1
    bars = []
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        bars.append(WeekBar(max(monday, first), min(monday + timedelta(days=6), last),
                            counts.get(monday, 0)))
        monday += timedelta(days=7)
    return bars


def _fact_totals(user_id: int, first: date, last: date) -> list[int]:
    """[group-contacts, proactive, receptive, wary/hostile, proactive receptive] from the facts."""
    row = db.session.execute(
        sa.select(*(sa.func.coalesce(sa.func.sum(getattr(OfficerDay, c)), 0) for c in OFFICER_COUNTS))
        .where(OfficerDay.user_id == user_id, OfficerDay.day >= first, OfficerDay.day <= last)).one()
    return [int(v) for v in row]


def _baseline(officer: User, start: datetime, as_of: date) -> tuple[list[int], bool]:
    """The beats of the comfort-zone baseline: assigned ones, else those logged in (coverage's rule)."""
    assigned = list(db.session.scalars(sa.select(BeatAssignment.beat_id).where(
        BeatAssignment.user_id == officer.id, BeatAssignment.current_on(as_of))))
    if assigned:
        return sorted(set(assigned)), True
    seen = db.session.scalars(sa.select(OfficerBeatLast.beat_id).where(
        OfficerBeatLast.user_id == officer.id, OfficerBeatLast.last_at > start,
        OfficerBeatLast.beat_id != NO_BEAT))
    return sorted(set(seen)), False


def _comfort(officer: User, totals: list[int], start: datetime, as_of: date) -> ComfortZone:
    beat_ids, assigned = _baseline(officer, start, as_of)
    codes = tuple(db.session.scalars(sa.select(Beat.code).where(Beat.id.in_(beat_ids))
                                     .order_by(Beat.code))) if beat_ids else ()
    n_groups = n_receptive = 0
    if beat_ids:
        pool = sa.select(group_beats.c.group_id).where(
            group_beats.c.beat_id.in_(beat_ids))
        n_groups, n_receptive = db.session.execute(
            sa.select(sa.func.count(),
                      sa.func.coalesce(sa.func.sum(sa.case(
                          (CommunityGroup.stance == "receptive", 1), else_=0)), 0))
            .where(CommunityGroup.id.in_(pool))).one()
    return ComfortZone(proactive=totals[1], proactive_receptive=totals[4], beat_codes=codes,
                       beats_assigned=assigned, beat_groups=int(n_groups),
                       beat_receptive=int(n_receptive))


def _groups(actor: User, officer: User, start: datetime, end: datetime) -> list[GroupReached]:
    """The groups the officer had contacts with in the window, most contacts first."""
    co, cg, g = ContactOfficer.__table__, ContactGroup.__table__, CommunityGroup.__table__
    q = (sa.select(g.c.id, g.c.name, g.c.stance, sa.func.count(),
                   sa.func.coalesce(sa.func.sum(sa.case((cg.c.initiated_by == "proactive", 1),
                                                        else_=0)), 0),
                   sa.func.max(co.c.occurred_at))
         .select_from(co.join(cg, cg.c.contact_id == co.c.contact_id)
                      .join(g, g.c.id == cg.c.group_id))
         .where(co.c.user_id == officer.id, co.c.occurred_at > start, co.c.occurred_at <= end)
         .group_by(g.c.id, g.c.name, g.c.stance))
    rows = db.session.execute(q).all()
    visible = group_ids_select(actor)
    shown = ({r[0] for r in rows} if visible is None else set(db.session.scalars(
        sa.select(CommunityGroup.id).where(CommunityGroup.id.in_([r[0] for r in rows]),
                                           CommunityGroup.id.in_(visible))))) if rows else set()
    out = [GroupReached(gid, name if gid in shown else None, stance, int(n), int(pro), _dt(last))
           for gid, name, stance, n, pro, last in rows]
    out.sort(key=lambda x: (-x.contacts, -x.last_at.timestamp(), x.id))
    return out


def officer_summary(actor: User, officer: User, *, days: int = DEFAULT_DAYS,
                    as_of: date | None = None) -> OfficerSummary:
    """The officer page's figures for the window of `days` ending on `as_of` (today).

    `actor` decides which group names and assignments are shown (their scope); call
    `get_officer` first to decide whether the page may be shown at all.
    """
    if days not in WINDOWS:
        raise ValueError(f"days must be one of {', '.join(map(str, WINDOWS))}")
    as_of = as_of or analytics_today()
    end = day_end_utc(as_of)  # the window's local days, DST included
    start, first, last = window(end, days)
    totals = _fact_totals(officer.id, first, last)
    times = db.session.scalars(sa.select(ContactOfficer.occurred_at).where(
        ContactOfficer.user_id == officer.id, ContactOfficer.occurred_at > start,
        ContactOfficer.occurred_at <= end))
    weeks = week_bars(times, first, last)
    groups = _groups(actor, officer, start, end)
    mix = {s: 0 for s in STANCES}
    for gr in groups:
        mix[gr.stance] = mix.get(gr.stance, 0) + gr.contacts
    open_ = list(db.session.scalars(
        assignments.assignments_query(actor, officer_id=officer.id).limit(50)))
    return OfficerSummary(
        officer=officer, as_of=as_of, days=days, weeks=weeks,
        contacts=sum(w.contacts for w in weeks), group_contacts=totals[0], proactive=totals[1],
        stance_mix=mix, groups=groups, groups_reached=len(groups),
        comfort=_comfort(officer, totals, start, as_of), assignments=open_)
