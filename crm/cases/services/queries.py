"""Reads for the case pages and the API: always through the actor's scope (`crm.access`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.access import case_scope, contact_scope, visible_stakeholder_ids
from crm.errors import NotFoundError
from crm.extensions import db
from crm.models import (
    Beat,
    CaseAction,
    CaseEvent,
    CaseIdea,
    CaseMeasure,
    CaseParticipant,
    CommunityGroup,
    Contact,
    ContactGroup,
    Membership,
    ProblemCase,
    Stakeholder,
    User,
    case_beats,
    case_contacts,
    group_beats,
)

from . import lookups
from .actions import overdue_condition

CHOICES_LIMIT = 1000


# ---- one case and its parts ---------------------------------------------------------------

def load_case_options():
    """Eager loads for one case page / API read (no N+1 over its parts)."""
    return (selectinload(ProblemCase.beats), selectinload(ProblemCase.lead),
            selectinload(ProblemCase.participants).selectinload(CaseParticipant.group),
            selectinload(ProblemCase.participants).selectinload(CaseParticipant.stakeholder),
            selectinload(ProblemCase.participants).selectinload(CaseParticipant.user),
            selectinload(ProblemCase.ideas).selectinload(CaseIdea.proposed_by_group),
            selectinload(ProblemCase.ideas).selectinload(CaseIdea.proposed_by_stakeholder),
            selectinload(ProblemCase.actions).selectinload(CaseAction.owner_user),
            selectinload(ProblemCase.actions).selectinload(CaseAction.owner_group),
            selectinload(ProblemCase.actions).selectinload(CaseAction.owner_stakeholder),
            selectinload(ProblemCase.actions).selectinload(CaseAction.liaison_user),
            selectinload(ProblemCase.measures).selectinload(CaseMeasure.values),
            selectinload(ProblemCase.events).selectinload(CaseEvent.actor))


def get_case(actor: User, case_id: int, *, full: bool = True) -> ProblemCase:
    """A case the actor may see, with its parts loaded (`full`); NotFoundError otherwise."""
    ident = lookups.as_id(case_id)
    query = sa.select(ProblemCase).where(ProblemCase.id == ident, case_scope(actor))
    if full:
        query = query.options(*load_case_options()).execution_options(populate_existing=True)
    case = db.session.scalar(query) if ident else None
    if case is None:
        raise NotFoundError("No such case among those you may see.")
    return case


def reload_case(case: ProblemCase) -> ProblemCase:
    """The same case read again with its parts (after a change; its scope was checked before)."""
    return db.session.scalar(
        sa.select(ProblemCase).where(ProblemCase.id == case.id).options(*load_case_options())
        .execution_options(populate_existing=True))


def get_part(model, part_id: int, case: ProblemCase):
    """A participant, idea, action or measure of `case`; NotFoundError for any other id."""
    ident = lookups.as_id(part_id)
    obj = db.session.get(model, ident) if ident else None
    if obj is None or obj.case_id != case.id:
        raise NotFoundError(f"No such {model.__name__.removeprefix('Case').lower()} on this case.")
    return obj


# ---- lists ----------------------------------------------------------------------------

def case_list_query(user: User, *, stage: str | None = None, beat_id: int | None = None,
                    lead_id: int | None = None, overdue: bool = False, q: str | None = None,
                    today: date | None = None) -> sa.Select:
    query = (sa.select(ProblemCase).where(case_scope(user))
             .options(selectinload(ProblemCase.beats), selectinload(ProblemCase.lead))
             .order_by(ProblemCase.opened_on.desc(), ProblemCase.id.desc()))
    if stage:
        query = query.where(ProblemCase.stage == stage)
    if beat_id:
        query = query.where(ProblemCase.id.in_(
            sa.select(case_beats.c.case_id).where(case_beats.c.beat_id == beat_id)))
    if lead_id:
        query = query.where(ProblemCase.lead_id == lead_id)
    if overdue:
        query = query.where(ProblemCase.id.in_(
            sa.select(CaseAction.case_id).where(overdue_condition(today))))
    if q:
        query = query.where(ProblemCase.title.ilike(f"%{q}%"))
    return query


def list_filter_choices(user: User) -> tuple[list[User], list[Beat]]:
    """Leads and beats of the cases the user sees (the list page's filters)."""
    leads = db.session.scalars(
        sa.select(User).where(User.id.in_(
            sa.select(ProblemCase.lead_id).where(case_scope(user)))).order_by(User.display_name)
    ).all()
    beats = db.session.scalars(
        sa.select(Beat).where(Beat.id.in_(
            sa.select(case_beats.c.beat_id).join(ProblemCase, ProblemCase.id == case_beats.c.case_id)
            .where(case_scope(user)))).order_by(Beat.code)).all()
    return list(leads), list(beats)


def cases_for_figures(user: User, member_id: int | None = None) -> list[ProblemCase]:
    """The cases a unit's figures cover: what the user sees (a unit member: the cases they
    lead or take part in; admin: all), optionally narrowed to one member's cases."""
    query = sa.select(ProblemCase).where(case_scope(user)).options(
        selectinload(ProblemCase.actions), selectinload(ProblemCase.ideas),
        selectinload(ProblemCase.events))
    if member_id:
        query = query.where(sa.or_(
            ProblemCase.lead_id == member_id,
            ProblemCase.id.in_(sa.select(CaseParticipant.case_id)
                               .where(CaseParticipant.user_id == member_id))))
    return list(db.session.scalars(query))


def unit_members(user: User) -> list[User]:
    """Unit members a supervisor or admin may narrow the figures to (nobody for others)."""
    if user.role not in ("admin", "supervisor"):
        return []
    return list(db.session.scalars(sa.select(User).where(
        User.role == "unit", User.active.is_(True)).order_by(User.display_name)))


# ---- who may be named (`visible_stakeholder_ids` is crm.access's, re-exported) ----------------------------------------------------------------------

def stakeholder_ids_of(case: ProblemCase) -> set[int]:
    ids = {p.stakeholder_id for p in case.participants}
    ids |= {i.proposed_by_stakeholder_id for i in case.ideas}
    ids |= {a.owner_stakeholder_id for a in case.actions}
    return {i for i in ids if i}


def visible_people_names(user: User, case: ProblemCase) -> dict[int, str]:
    """{stakeholder id: name} of the case's people the user may see (others stay "Person #id")."""
    visible = visible_stakeholder_ids(user, stakeholder_ids_of(case))
    people = ([p.stakeholder for p in case.participants]
              + [i.proposed_by_stakeholder for i in case.ideas]
              + [a.owner_stakeholder for a in case.actions])
    return {s.id: s.name for s in people if s is not None and s.id in visible}


# ---- what the forms offer -------------------------------------------------------------------

def beat_choices(user: User, case: ProblemCase | None = None) -> list[Beat]:
    """Beats the user may put the case on, and those it already has."""
    beats = {b.id: b for b in db.session.scalars(lookups.selectable_beats(user))}
    for b in (case.beats if case is not None else ()):
        beats.setdefault(b.id, b)
    return sorted(beats.values(), key=lambda b: b.code)


def group_choices(user: User) -> list[CommunityGroup]:
    return list(db.session.scalars(lookups.selectable_groups(user).limit(CHOICES_LIMIT)))


def _case_group_ids_select(case: ProblemCase) -> sa.Select:
    """Groups of the case: its participants and the groups of its beats."""
    return sa.union(
        sa.select(CaseParticipant.group_id).where(CaseParticipant.case_id == case.id,
                                                  CaseParticipant.group_id.is_not(None)),
        sa.select(group_beats.c.group_id)
        .join(case_beats, case_beats.c.beat_id == group_beats.c.beat_id)
        .where(case_beats.c.case_id == case.id))


def people_choices(user: User, case: ProblemCase) -> list[Stakeholder]:
    """People the user may see who belong to the case's groups or already take part."""
    in_case = sa.or_(
        Stakeholder.id.in_(sa.select(Membership.stakeholder_id)
                           .where(Membership.group_id.in_(_case_group_ids_select(case)))),
        Stakeholder.id.in_(sa.select(CaseParticipant.stakeholder_id)
                           .where(CaseParticipant.case_id == case.id)))
    return list(db.session.scalars(
        lookups.selectable_stakeholders(user).where(in_case).limit(CHOICES_LIMIT)))


def contact_choices(user: User, case: ProblemCase) -> list[Contact]:
    """Recent contacts the user may see in the case's beats or with its groups, not yet linked."""
    linked = sa.select(case_contacts.c.contact_id).where(case_contacts.c.case_id == case.id)
    near = sa.or_(
        Contact.beat_id.in_(sa.select(case_beats.c.beat_id).where(case_beats.c.case_id == case.id)),
        Contact.id.in_(sa.select(ContactGroup.contact_id)
                       .where(ContactGroup.group_id.in_(_case_group_ids_select(case)))))
    return list(db.session.scalars(
        sa.select(Contact).where(contact_scope(user), near, Contact.id.not_in(linked))
        .order_by(Contact.occurred_at.desc()).limit(50)))


def beat_codes(ids) -> list[str]:
    ids = [i for i in (lookups.as_id(b) for b in ids or ()) if i]
    return list(db.session.scalars(sa.select(Beat.code).where(Beat.id.in_(ids))
                                   .order_by(Beat.code)))


def user_name(user_id) -> str | None:
    ident = lookups.as_id(user_id)
    u = db.session.get(User, ident) if ident else None
    return u.display_name if u else None
