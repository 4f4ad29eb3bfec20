"""Need-to-know access, denied by default: the one place that decides which records a user sees.

Roles decide what kind of thing a user may do; assignments decide which records:

- officer: groups in their current beats; stakeholders who are members of those groups or
  whom they contacted; contacts they took part in or in their beats.
- supervisor: the same for every beat of their district.
- unit: the groups they are assigned (GroupAssignment) and the groups of the cases they lead
  or take part in; stakeholders of those groups; contacts with their assigned groups;
  cases they lead or take part in.
- admin: everything except well-being check-ins.
- analyst: no record pages; pseudonymised exports only.

Every list, page and API endpoint filters with these conditions, so a changed id in a URL
finds nothing (404) rather than someone else's record.
"""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from crm.extensions import db
from crm.handovers import scope as handover_scope
from crm.models import (
    Beat,
    BeatAssignment,
    CaseParticipant,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    GroupAssignment,
    Membership,
    ProblemCase,
    Stakeholder,
    User,
    case_beats,
    group_beats,
)
from crm.timezones import local_today

NOTHING = sa.false()


def beat_ids_select(user: User) -> sa.Select:
    """Beats the user works: current assignments, or every beat of a supervisor's district."""
    if user.role == "supervisor":
        return sa.select(Beat.id).where(Beat.district_id == user.district_id)
    return sa.select(BeatAssignment.beat_id).where(
        BeatAssignment.user_id == user.id, BeatAssignment.current_on(local_today()))


def _unit_case_ids(user: User) -> sa.Select:
    return sa.select(ProblemCase.id).where(sa.or_(
        ProblemCase.lead_id == user.id,
        ProblemCase.id.in_(sa.select(CaseParticipant.case_id)
                           .where(CaseParticipant.user_id == user.id))))


def group_ids_select(user: User) -> sa.Select | None:
    """Ids of the groups the user may see; None means all groups (admin)."""
    if user.role == "admin":
        return None
    if user.role in ("officer", "supervisor"):
        own = sa.select(group_beats.c.group_id).where(group_beats.c.beat_id.in_(beat_ids_select(user)))
        # A successor also sees the groups a transferred hand-over gave them.
        return sa.union(own, handover_scope.granted_group_ids(user.id)) if user.role == "officer" else own
    if user.role == "unit":
        return sa.union(
            sa.select(GroupAssignment.group_id).where(GroupAssignment.user_id == user.id),
            sa.select(CaseParticipant.group_id).where(
                CaseParticipant.case_id.in_(_unit_case_ids(user)),
                CaseParticipant.group_id.is_not(None)),
        )
    return sa.select(CommunityGroup.id).where(NOTHING)


def group_scope(user: User) -> sa.ColumnElement[bool]:
    ids = group_ids_select(user)
    return sa.true() if ids is None else CommunityGroup.id.in_(ids)


def area_beat_ids_select(user: User) -> sa.Select | None:
    """Beats the user may put a record such as a case on; None means every beat (admin).

    Their own beats (a supervisor: the district's), and for the unit also the beats of the
    groups they may see: never a beat that would carry their records past their scope.
    """
    if user.role == "admin":
        return None
    if user.role in ("officer", "supervisor"):
        return beat_ids_select(user)
    if user.role == "unit":
        return sa.union(beat_ids_select(user), sa.select(group_beats.c.beat_id).where(
            group_beats.c.group_id.in_(group_ids_select(user))))
    return sa.select(Beat.id).where(NOTHING)


def stakeholder_scope(user: User) -> sa.ColumnElement[bool]:
    """Whose personal fields the user may see (members of visible groups, or people they met)."""
    if user.role == "admin":
        return sa.true()
    if user.role == "analyst":
        return NOTHING
    groups = group_ids_select(user)
    via_groups = Stakeholder.id.in_(sa.select(Membership.stakeholder_id)
                                    .where(Membership.group_id.in_(groups)))
    if user.role == "officer":
        met = Stakeholder.id.in_(
            sa.select(ContactStakeholder.stakeholder_id).join(
                ContactOfficer, ContactOfficer.contact_id == ContactStakeholder.contact_id)
            .where(ContactOfficer.user_id == user.id))
        # Handed-over people stay with the beat: once the officer has left it, having met
        # them is no longer a reason to see them; the successor sees them through the plan.
        met = sa.and_(met, Stakeholder.id.not_in(handover_scope.handed_away_stakeholder_ids(user.id)))
        granted = Stakeholder.id.in_(handover_scope.granted_stakeholder_ids(user.id))
        return sa.or_(via_groups, met, granted)
    if user.role == "unit":
        in_cases = Stakeholder.id.in_(sa.select(CaseParticipant.stakeholder_id).where(
            CaseParticipant.case_id.in_(_unit_case_ids(user)),
            CaseParticipant.stakeholder_id.is_not(None)))
        return sa.or_(via_groups, in_cases)
    return via_groups


def visible_stakeholder_ids(user: User, ids) -> set[int]:
    """Which of `ids` the user may see by name (falsy ids are ignored)."""
    ids = {i for i in ids if i}
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Stakeholder.id).where(
        Stakeholder.id.in_(ids), stakeholder_scope(user))))


def contact_scope(user: User) -> sa.ColumnElement[bool]:
    if user.role == "admin":
        return sa.true()
    if user.role == "analyst":
        return NOTHING
    took_part = Contact.id.in_(sa.select(ContactOfficer.contact_id)
                               .where(ContactOfficer.user_id == user.id))
    if user.role in ("officer", "supervisor"):
        return sa.or_(took_part, Contact.logged_by_id == user.id,
                      Contact.beat_id.in_(beat_ids_select(user)),
                      Contact.id.in_(handover_scope.granted_contact_ids(user.id)))
    if user.role == "unit":
        # Contacts with the groups they look after: their follow-ups are the unit's to do.
        assigned = sa.select(ContactGroup.contact_id).where(ContactGroup.group_id.in_(
            sa.select(GroupAssignment.group_id).where(GroupAssignment.user_id == user.id)))
        return sa.or_(took_part, Contact.logged_by_id == user.id, Contact.id.in_(assigned))
    return sa.or_(took_part, Contact.logged_by_id == user.id)


def case_scope(user: User) -> sa.ColumnElement[bool]:
    if user.role == "admin":
        return sa.true()
    if user.role == "unit":
        return ProblemCase.id.in_(_unit_case_ids(user))
    if user.role in ("officer", "supervisor"):
        mine = ProblemCase.id.in_(_unit_case_ids(user))
        in_beats = ProblemCase.id.in_(sa.select(case_beats.c.case_id)
                                      .where(case_beats.c.beat_id.in_(beat_ids_select(user))))
        return sa.or_(mine, in_beats)
    return NOTHING


SCOPES = {CommunityGroup: group_scope, Stakeholder: stakeholder_scope, Contact: contact_scope,
          ProblemCase: case_scope}


def scoped(model, user: User) -> sa.Select:
    """`select(model)` limited to what `user` may see."""
    return sa.select(model).where(SCOPES[model](user))


def get_visible_or_404(model, ident: int, user: User):
    """Fetch one record the user may see; anything else is a 404, never a 403 that leaks existence."""
    obj = db.session.scalar(scoped(model, user).where(model.id == ident))
    if obj is None:
        abort(404)
    return obj


def require_role(*roles: str) -> User:
    """The signed-in user, if their role is one of `roles`; 403 otherwise (API endpoints)."""
    user = current_user._get_current_object()
    if not user.has_role(*roles):
        abort(403, description=f"Your role ({user.role}) may not do this.")
    return user


def roles_required(*roles: str):
    """View decorator: sign-in required, then one of `roles` (403 otherwise).

    Roles say what kind of thing a user may do; which records they reach is the scope
    functions' business, applied in the view's query.
    """
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            require_role(*roles)
            return view(*args, **kwargs)
        return wrapped
    return decorator
