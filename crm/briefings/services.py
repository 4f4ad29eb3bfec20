"""Printable briefings: a beat briefing for roll call or a community meeting, a case summary.

Both read only what the viewer may see (crm.access): the beat must be one of theirs (an
officer's assignment or a hand-over they give or received, a supervisor's district, a unit
member's groups' beats, every beat for an admin); the groups, follow-ups and cases on it are
cut down by the usual scopes. Names of people shown are audited like any list of names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from crm.access import (
    area_beat_ids_select,
    beat_ids_select,
    case_scope,
    contact_scope,
    group_scope,
    visible_stakeholder_ids,
)
from crm.audit.services import record_event
from crm.extensions import db
from crm.handovers import services as handovers
from crm.handovers.models import Handover
from crm.handovers.services import OPEN_ACTION
from crm.models import (
    Beat,
    CaseAction,
    CommunityGroup,
    Contact,
    ContactGroup,
    ProblemCase,
    Stakeholder,
    User,
    case_beats,
    group_beats,
)
from crm.timezones import day_start_utc, local_date, local_today

BRIEFING_ROLES = ("officer", "supervisor", "unit", "admin")
GROUP_LIMIT = 400  # a briefing is printed: past this the page says how many were left out
FOLLOW_UP_LIMIT = 100
HARD_DAYS = 90  # the my-beat page's default window for "hard to engage"
HANDOVER_RECENT_DAYS = 90  # a transferred hand-over stays on the briefing this long


# ---- which beat, and may the viewer see it --------------------------------------------------

def find_beat(key: str) -> Beat | None:
    """A beat by its code ("1622") or, failing that, by its id."""
    key = (key or "").strip()
    if not key or len(key) > 40:
        return None
    beat = db.session.scalar(sa.select(Beat).where(Beat.code == key))
    if beat is None and key.isdigit() and int(key) < 2**31:
        beat = db.session.get(Beat, int(key))
    return beat


def _handover_beat_ids(user: User) -> sa.Select:
    return handovers.handovers_for(user).with_only_columns(Handover.beat_id).order_by(None)


def may_brief(user: User | None, beat_id: int) -> bool:
    """May `user` read the briefing of this beat? (analysts never: it names people)"""
    if user is None or user.role not in BRIEFING_ROLES:
        return False
    if user.role == "admin":
        return True
    own = area_beat_ids_select(user) if user.role == "unit" else beat_ids_select(user)
    allowed = sa.union(own, _handover_beat_ids(user))
    return db.session.scalar(sa.select(sa.literal(True)).where(
        sa.literal(beat_id).in_(sa.select(allowed.subquery().c[0])))) is True


# ---- the beat briefing ----------------------------------------------------------------------

@dataclass
class GroupLine:
    group: CommunityGroup
    last_contact_at: datetime | None
    days_since: int | None
    open_cases: int = 0

    @property
    def overdue(self) -> bool:
        return self.days_since is None or self.days_since > self.group.contact_interval_days


@dataclass
class HardLine:
    group_id: int
    name: str
    days_since: int | None
    reasons: list[str]
    chains: list[list[str]]  # each chain as the words of its steps


@dataclass
class BeatBriefing:
    beat: Beat
    today: date
    groups: list[GroupLine]
    groups_total: int
    follow_ups: list[Contact]
    hard: list[HardLine]
    hard_pending: bool
    cases: list[ProblemCase]
    open_actions: dict[int, int]
    handover: Handover | None = None
    handover_rows: list = field(default_factory=list)

    @property
    def stance_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for g in self.groups:
            counts[g.group.stance] = counts.get(g.group.stance, 0) + 1
        order = ("receptive", "neutral", "wary", "hostile", "unknown")
        return [(s, counts[s]) for s in order if s in counts]


def _groups(user: User, beat: Beat, today: date) -> tuple[list[GroupLine], int]:
    last = (sa.select(sa.func.max(ContactGroup.occurred_at))
            .where(ContactGroup.group_id == CommunityGroup.id)
            .correlate(CommunityGroup).scalar_subquery())
    where = (CommunityGroup.id.in_(sa.select(group_beats.c.group_id)
                                   .where(group_beats.c.beat_id == beat.id)),
             group_scope(user))
    total = db.session.scalar(sa.select(sa.func.count(CommunityGroup.id)).where(*where))
    rows = db.session.execute(
        sa.select(CommunityGroup, last.label("last")).where(*where)
        .order_by(CommunityGroup.name, CommunityGroup.id).limit(GROUP_LIMIT)).all()
    return [GroupLine(g, lt, None if lt is None else (today - local_date(lt)).days)
            for g, lt in rows], total


def _follow_ups(user: User, beat: Beat, group_ids: list[int]) -> list[Contact]:
    on_beat = Contact.beat_id == beat.id
    if group_ids:
        on_beat = sa.or_(on_beat, Contact.id.in_(
            sa.select(ContactGroup.contact_id).where(ContactGroup.group_id.in_(group_ids))))
    return list(db.session.scalars(
        sa.select(Contact).where(Contact.follow_up_on.is_not(None),
                                 Contact.follow_up_done_at.is_(None), on_beat,
                                 contact_scope(user))
        .order_by(Contact.follow_up_on, Contact.id).limit(FOLLOW_UP_LIMIT)))


def _cases(user: User, beat: Beat) -> tuple[list[ProblemCase], dict[int, int]]:
    cases = list(db.session.scalars(
        sa.select(ProblemCase).where(
            ProblemCase.id.in_(sa.select(case_beats.c.case_id).where(case_beats.c.beat_id == beat.id)),
            ProblemCase.stage != "closed", case_scope(user))
        .order_by(ProblemCase.opened_on, ProblemCase.id)))
    ids = [c.id for c in cases]
    counts = dict(db.session.execute(
        sa.select(CaseAction.case_id, sa.func.count()).where(
            CaseAction.case_id.in_(ids), CaseAction.status.in_(OPEN_ACTION))
        .group_by(CaseAction.case_id)).all()) if ids else {}
    return cases, counts


def _chain_words(chain: dict, me: User, names: dict[int, str]) -> list[str]:
    words = []
    for step in chain["steps"]:
        if step["kind"] == "officer":
            words.append("You" if step["id"] == me.id else (step.get("name") or "An officer"))
        elif step["kind"] == "stakeholder":
            words.append(names.get(step["id"]) or "a member")
        else:
            words.append(step.get("name") or f"Group #{step['id']}")
    return words


def _hard(user: User, beat: Beat, *, ip: str) -> tuple[list[HardLine], bool]:
    from crm.network import pages
    from crm.network.services import compute

    flags = compute("hard-to-engage", beat_ids=[beat.id], days=HARD_DAYS)["groups"]
    visible = set(db.session.scalars(sa.select(CommunityGroup.id).where(
        CommunityGroup.id.in_([f["group"]["id"] for f in flags]), group_scope(user)))) if flags else set()
    flags = [f for f in flags if f["group"]["id"] in visible]
    found = pages.introductions_for(user, [f["group"]["id"] for f in flags])
    wanted = {s["id"] for chains in found.chains.values() for c in chains
              for s in c["steps"] if s["kind"] == "stakeholder"}
    names = pages.visible_names(user, wanted, ip=ip)
    lines = [HardLine(f["group"]["id"], f["group"]["name"], f["days_since_contact"],
                      list(f["reasons"]),
                      [_chain_words(c, user, names) for c in found.chains.get(f["group"]["id"], [])])
             for f in flags]
    return lines, found.pending


def current_handover(user: User, beat: Beat, today: date) -> Handover | None:
    """The beat's hand-over the viewer may open: one waiting for its transfer, or one
    transferred in the last `HANDOVER_RECENT_DAYS` days (newest first)."""
    since = day_start_utc(today - timedelta(days=HANDOVER_RECENT_DAYS))  # local midnight
    return db.session.scalar(
        handovers.handovers_for(user).where(
            Handover.beat_id == beat.id,
            sa.or_(Handover.status == "draft", Handover.transferred_at >= since))
        .order_by(None).order_by(Handover.status != "draft", Handover.id.desc()).limit(1))


def beat_briefing(user: User, beat: Beat, *, today: date | None = None, ip: str = "") -> BeatBriefing:
    """Everything the beat briefing prints (the caller checked `may_brief`)."""
    today = today or local_today()  # "overdue" by the department's day
    groups, total = _groups(user, beat, today)
    cases, actions = _cases(user, beat)
    hard, pending = _hard(user, beat, ip=ip)
    out = BeatBriefing(beat=beat, today=today, groups=groups, groups_total=total,
                       follow_ups=_follow_ups(user, beat, [g.group.id for g in groups]),
                       hard=hard, hard_pending=pending, cases=cases, open_actions=actions)
    h = current_handover(user, beat, today)
    if h is not None:
        out.handover = h
        out.handover_rows = handovers.item_rows(user, h)
        people = sorted({r.item.stakeholder_id for r in out.handover_rows
                         if r.kind == "person" and r.item.stakeholder_id})
        if people:
            record_event(user, "stakeholder.read", object_type="stakeholders",
                         object_id=",".join(map(str, people))[:200], ip=ip,
                         detail={"ids": people, "fields": ["name", "language"],
                                 "via": "briefing.beat"})
    record_event(user, "briefing.read", object_type="beat", object_id=str(beat.id), ip=ip,
                 detail={"groups": len(groups), "follow_ups": len(out.follow_ups),
                         "cases": len(cases), "handover": h.id if h else None})
    return out


# ---- the case summary -----------------------------------------------------------------------

def case_people_names(user: User, case: ProblemCase, *, ip: str = "") -> dict[int, str]:
    """Names of the case's people the viewer may see (participants, proposers, owners), audited."""
    ids = {p.stakeholder_id for p in case.participants} | \
          {i.proposed_by_stakeholder_id for i in case.ideas} | \
          {a.owner_stakeholder_id for a in case.actions}
    visible = visible_stakeholder_ids(user, ids)
    names = dict(db.session.execute(sa.select(Stakeholder.id, Stakeholder.name).where(
        Stakeholder.id.in_(visible), Stakeholder.live())).all()) if visible else {}
    if names:
        record_event(user, "stakeholder.read", object_type="stakeholders",
                     object_id=",".join(map(str, sorted(names)))[:200], ip=ip,
                     detail={"ids": sorted(names), "fields": ["name"], "via": "briefing.case"})
    record_event(user, "briefing.read", object_type="case", object_id=str(case.id), ip=ip)
    return names
