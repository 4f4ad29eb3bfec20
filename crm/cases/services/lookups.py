"""The records a case may point at, each checked against the actor's scope.

Everything a user attaches to a case (beats, groups, people, contacts) must already be theirs
to see (`crm.access`): attaching never widens the attacher's own scope. Each lookup puts a
message on the named field in `errors` instead of raising, so one refusal lists every field.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.access import area_beat_ids_select, group_scope, stakeholder_scope
from crm.extensions import db
from crm.models import Beat, CommunityGroup, Stakeholder, User
from crm.text import clean_text
from crm.vocab import STAFF_ROLES

MAX_ID = 2**31 - 1  # the widest id column; bigger numbers name nothing (and overflow PostgreSQL)


def as_id(value) -> int | None:
    """An id as an int, or None when missing, not a number or out of range."""
    if value in (None, "", 0):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n <= MAX_ID else None


def text(value, field: str, errors: dict, *, required: bool = False, max_len: int | None = None
         ) -> str:
    v = clean_text(value)  # no bidi controls: a title or agency name cannot spoof its reading
    if required and not v:
        errors[field] = "is required"
    elif max_len and len(v) > max_len:
        errors[field] = f"must be at most {max_len} characters"
    return v


def user(user_id, field: str, errors: dict) -> User | None:
    if user_id in (None, "", 0):
        return None
    ident = as_id(user_id)
    u = db.session.get(User, ident) if ident else None
    if u is None or not u.active or u.role not in STAFF_ROLES:
        errors[field] = "is not an active officer"
        return None
    return u


def officer_choices() -> list[User]:
    return list(db.session.scalars(
        sa.select(User).where(User.active.is_(True), User.role.in_(STAFF_ROLES))
        .order_by(User.display_name)))


def selectable_groups(actor: User, case=None) -> sa.Select:
    """Groups the actor may attach to a case: only those they already see.

    (`case` is accepted for callers of the old signature; a case's beats no longer add their
    groups, which let a unit member reach any group by opening a case on its beat.)
    """
    return sa.select(CommunityGroup).where(group_scope(actor)).order_by(CommunityGroup.name)


def _one(select: sa.Select, model, value, field: str, errors: dict, message: str):
    """The record `value` names among `select`; None (and `message` on `field`) otherwise.
    Hidden and unknown ids get the same message: the answer never tells who exists."""
    if value in (None, "", 0):
        return None
    ident = as_id(value)
    obj = db.session.scalar(select.where(model.id == ident)) if ident else None
    if obj is None:
        errors[field] = message
    return obj


def group(actor: User, group_id, field: str, errors: dict) -> CommunityGroup | None:
    return _one(selectable_groups(actor), CommunityGroup, group_id, field, errors,
                "is not a group you can see")


def selectable_stakeholders(actor: User) -> sa.Select:
    return (sa.select(Stakeholder).where(stakeholder_scope(actor), Stakeholder.live())
            .order_by(Stakeholder.name))


def stakeholder(actor: User, stakeholder_id, field: str, errors: dict) -> Stakeholder | None:
    return _one(selectable_stakeholders(actor), Stakeholder, stakeholder_id, field, errors,
                "is not a person you can see")


def selectable_beats(actor: User) -> sa.Select:
    """Beats the actor may put a case on (their area; every beat for an admin)."""
    query = sa.select(Beat).order_by(Beat.code)
    ids = area_beat_ids_select(actor)
    return query if ids is None else query.where(Beat.id.in_(ids))


def beats(actor: User, beat_ids, errors: dict, *, keep=()) -> list[Beat]:
    """The beats named by `beat_ids`: each in the actor's area, or already on the case (`keep`:
    a beat the case has stays when someone with a smaller area edits it)."""
    raw = list(beat_ids or ())
    ids = sorted({i for i in (as_id(b) for b in raw) if i})
    if len(ids) != len({str(b) for b in raw}):
        errors["beat_ids"] = "contains an unknown beat"
        return []
    kept = {b.id for b in keep}
    found = list(db.session.scalars(
        selectable_beats(actor).where(Beat.id.in_(set(ids) - kept)))) if set(ids) - kept else []
    chosen = sorted([b for b in keep if b.id in ids] + found, key=lambda b: b.code)
    if len(chosen) != len(ids):
        errors["beat_ids"] = "contains a beat outside your area (or an unknown one)"
    return chosen
