"""Scope that comes with a case: only someone who holds it may pass it on, and it is audited.

A unit member sees the groups and people of the cases they lead or take part in
(`crm.access`). So making someone a case's lead or an officer participant can give them
groups and people they did not see before. That is a grant: the actor must see every one of
those groups and people themselves (a supervisor or admin whose area covers them, for a unit
member joining a case in another district), and each grant is written to the audit trail as
`case.scope_grant`, naming the grantee and what they gained (ids only).
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.access import group_scope, stakeholder_scope
from crm.audit.services import record_event
from crm.extensions import db
from crm.models import CommunityGroup, ProblemCase, Stakeholder, User


def case_subjects(case: ProblemCase) -> tuple[set[int], set[int]]:
    """(group ids, stakeholder ids) that take part in the case."""
    groups = {p.group_id for p in case.participants if p.group_id}
    people = {p.stakeholder_id for p in case.participants if p.stakeholder_id}
    return groups, people


def outside_scope(user: User, group_ids: set[int], people_ids: set[int]
                  ) -> tuple[set[int], set[int]]:
    """The ids among these that `user` may not see today."""
    seen_groups = set(db.session.scalars(sa.select(CommunityGroup.id).where(
        CommunityGroup.id.in_(group_ids), group_scope(user)))) if group_ids else set()
    seen_people = set(db.session.scalars(sa.select(Stakeholder.id).where(
        Stakeholder.id.in_(people_ids), stakeholder_scope(user)))) if people_ids else set()
    return group_ids - seen_groups, people_ids - seen_people


def check_grant(actor: User, grantee: User, case: ProblemCase, field: str, errors: dict
                ) -> dict | None:
    """What `grantee` would gain by joining `case`, if `actor` may give it.

    Returns None when nothing is gained, the grant (ids) to record when the actor holds all
    of it, and puts a message on `field` when the actor does not (the grantee is not added).
    """
    if grantee.id == actor.id:
        return None  # they already see the case they change; joining it adds nothing
    groups, people = outside_scope(grantee, *case_subjects(case))
    if not groups and not people:
        return None
    missing_groups, missing_people = outside_scope(actor, groups, people)
    if missing_groups or missing_people:
        errors[field] = ("would give them groups or people of this case that you do not see "
                         "yourself; a supervisor or admin whose area covers them can add them")
        return None
    return {"grantee_id": grantee.id, "group_ids": sorted(groups),
            "stakeholder_ids": sorted(people)}


def grant_note(grant: dict | None) -> str:
    """What a grant gives, for the case timeline ("" when nothing)."""
    if not grant:
        return ""
    parts = [f"{len(grant['group_ids'])} group(s)" if grant["group_ids"] else "",
             f"{len(grant['stakeholder_ids'])} person(s)" if grant["stakeholder_ids"] else ""]
    return " — now sees " + " and ".join(p for p in parts if p) + " of this case"


def record_grant(actor: User, case: ProblemCase, grant: dict | None, *, via: str) -> None:
    """The audit event of a grant checked by `check_grant` (nothing when nothing was gained)."""
    if grant:
        record_event(actor, "case.scope_grant", case,
                     detail={"case_id": case.id, "via": via, **grant})
