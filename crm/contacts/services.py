"""Contacts: logging one interaction, editing its note and follow-up, follow-up lists.

`log_contact` is the officer's 30-second path: it validates everything first (so a bad
field changes nothing), then writes the contact, its links, any quick-added person and
the relationship stages in a handful of statements. A client-made idempotency key makes
a double tap or a resent form return the first contact instead of writing a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, selectinload

from crm.access import (
    beat_ids_select,
    contact_scope,
    group_ids_select,
    stakeholder_scope,
    visible_stakeholder_ids,  # noqa: F401  (re-exported for the views)
)
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.handovers import scope as handover_scope
from crm.models import (
    Beat,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    GroupAssignment,
    Membership,
    RelationshipStageChange,
    Stakeholder,
    User,
    group_beats,
)
from crm.stakeholders import services as stakeholder_services
from crm.text import clean_text
from crm.timezones import day_start_utc, local_date, local_today
from crm.vocab import CHANNELS, ENFORCEMENT, INITIATED_BY, STAFF_ROLES, STAGES, TECHNIQUES

LOG_ROLES = STAFF_ROLES
FUTURE_TOLERANCE = timedelta(minutes=15)
MAX_NOTE = 2000
# Shown on the form next to the note, and enforced in spirit by review: no watch list.
NOTE_WARNING = ("Engagement record, not intelligence: do not record suspicion, religion, "
                "politics or ethnicity.")


# ---- who may do what --------------------------------------------------------------------------


def took_part(user: User, c: Contact) -> bool:
    return c.logged_by_id == user.id or any(link.user_id == user.id for link in c.officer_links)


def can_edit(user: User, c: Contact) -> bool:
    """The officers of the contact, supervisors (of its beat, via scope) and administrators."""
    return user.role in ("admin", "supervisor") or (user.role in LOG_ROLES and took_part(user, c))


def user_beats(user: User) -> list[Beat]:
    """Beats the user works, current assignment order first (supervisors: their district)."""
    if user.role == "supervisor":
        return list(db.session.scalars(sa.select(Beat).where(Beat.id.in_(beat_ids_select(user)))
                                       .order_by(Beat.code)))
    return user.current_beats()


def beat_choices(user: User) -> list[Beat]:
    """Beats offered on the contact form: the user's own, or all beats for unit and admin."""
    beats = user_beats(user)
    if beats or user.role == "officer":
        return beats
    return list(db.session.scalars(sa.select(Beat).order_by(Beat.code).limit(500)))


def default_beat(user: User) -> Beat | None:
    beats = user.current_beats()
    return beats[0] if beats else None


def offered_groups(user: User, limit: int = 300) -> list[CommunityGroup]:
    """Groups shown as checkboxes: the user's visible groups (their beats' groups for officers)."""
    return stakeholder_services.visible_groups(user, limit=limit)


def co_officer_choices(user: User) -> list[User]:
    """Colleagues who share a beat with the user (or everyone who logs contacts, for admin)."""
    from crm.models import BeatAssignment
    q = (sa.select(User).where(User.active.is_(True), User.id != user.id,
                               User.role.in_(LOG_ROLES)).order_by(User.display_name).limit(200))
    if user.role != "admin":
        today = local_today()
        q = q.where(User.id.in_(sa.select(BeatAssignment.user_id).where(
            BeatAssignment.beat_id.in_(beat_ids_select(user)), BeatAssignment.current_on(today))))
    return list(db.session.scalars(q))


# ---- logging a contact ------------------------------------------------------------------------


def _text(data: dict, key: str, max_len: int, errors: dict) -> str:
    value = clean_text(data.get(key))
    if len(value) > max_len:
        errors[key] = f"must be at most {max_len} characters (now {len(value)})"
    return value


def _ids(data: dict, key: str, errors: dict) -> list[int]:
    out = []
    for v in data.get(key) or []:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            errors[key] = "must be record ids"
    return list(dict.fromkeys(out))


def _find_by_key(key: str) -> Contact | None:
    return db.session.scalar(sa.select(Contact).where(Contact.idempotency_key == key))


def _own_replay(actor: User, existing: Contact) -> Contact:
    if existing.logged_by_id != actor.id:
        raise ValidationError({"idempotency_key": "was already used; reload the form"})
    return existing


@dataclass
class _Plan:
    values: dict
    stakeholders: list[Stakeholder] = field(default_factory=list)
    groups: list[CommunityGroup] = field(default_factory=list)
    officer_ids: list[int] = field(default_factory=list)
    new_person: dict | None = None
    beat: Beat | None = None  # the beat sent, loaded by its check (the answer names its code)


# Each parser reads one part of the form, puts its problems in `errors` (field -> message)
# and returns a usable value, so `_validate` can report every bad field at once.

def _parse_occurred_at(data: dict, now: datetime, errors: dict) -> datetime:
    occurred_at = data.get("occurred_at") or now
    if isinstance(occurred_at, str):
        try:
            occurred_at = datetime.fromisoformat(occurred_at)
        except ValueError:
            errors["occurred_at"] = "is not a date and time"
            occurred_at = now
    if occurred_at.tzinfo is not None:
        occurred_at = occurred_at.astimezone(UTC).replace(tzinfo=None)
    if occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = "is in the future"
    return occurred_at


def _parse_choice(data: dict, key: str, vocab: tuple[str, ...], default: str | None,
                  errors: dict) -> str | None:
    value = data.get(key) or default
    if value is not None and value not in vocab:
        errors[key] = f"must be one of {', '.join(vocab)}"
    return value


def _parse_techniques(data: dict, errors: dict) -> list[str]:
    techniques = list(dict.fromkeys(data.get("techniques") or []))
    bad = [t for t in techniques if t not in TECHNIQUES]
    if bad:
        errors["techniques"] = f"unknown: {', '.join(map(str, bad))}"
    return techniques


def _parse_follow_up(data: dict, occurred_at: datetime, errors: dict) -> tuple[date | None, str]:
    follow_up_note = _text(data, "follow_up_note", 300, errors)
    follow_up_on = data.get("follow_up_on") or None
    if isinstance(follow_up_on, str):
        try:
            follow_up_on = date.fromisoformat(follow_up_on)
        except ValueError:
            errors["follow_up_on"] = "is not a date (YYYY-MM-DD)"
            follow_up_on = None
    if follow_up_on and follow_up_on < local_date(occurred_at):  # the local day of the contact
        errors["follow_up_on"] = "is before the contact"
    if follow_up_note and not follow_up_on and "follow_up_on" not in errors:
        errors["follow_up_on"] = "is needed for a follow-up note"
    return follow_up_on, follow_up_note


# ---- where the contact happened -----------------------------------------------------------------
# A contact is filed on the beat where the groups and people met live, not on the officer's
# first beat (a visit to a group on 1622 counted on 1613 made coverage lie). The officer is
# asked only when the groups and people chosen do not agree on one beat.


def pick_beat(own: list[int], beat_sets: list[set[int]]) -> tuple[int | None, list[int]]:
    """The beat of a contact from its subjects' beats; returns (beat id, beats to ask about).

    `own` is the officer's beats, first beat first; `beat_sets` has one set per chosen group
    (its beats) and per chosen person (their groups' beats). Subjects without a beat say
    nothing. The beat every subject shares wins; when several are shared (a group on two
    beats), the one the officer works, if exactly one; with no subjects on a beat, the
    officer's first beat. Otherwise (None, the beats to choose from).

    >>> pick_beat([7], [{3}, {3, 4}])
    (3, [])
    >>> pick_beat([7], [])
    (7, [])
    >>> pick_beat([4], [{3, 4}])
    (4, [])
    >>> pick_beat([7], [{3}, {4}])
    (None, [3, 4])
    """
    sets = [s for s in beat_sets if s]
    if not sets:
        return (own[0] if own else None), []
    common = set.intersection(*sets)
    if len(common) == 1:
        return next(iter(common)), []
    if common:
        mine = [b for b in own if b in common]
        if len(mine) == 1:
            return mine[0], []
        return None, sorted(common)
    return None, sorted(set.union(*sets))


def subject_beat_sets(group_ids: list[int], stakeholder_ids: list[int]) -> list[set[int]]:
    """One set of beat ids per group (its beats) and per person (their current groups' beats)."""
    sets: dict[tuple[str, int], set[int]] = {("g", g): set() for g in group_ids}
    sets.update({("s", s): set() for s in stakeholder_ids})
    if not sets:
        return []
    parts = []
    if group_ids:
        parts.append(sa.select(sa.literal("g").label("kind"), group_beats.c.group_id.label("id"),
                               group_beats.c.beat_id)
                     .where(group_beats.c.group_id.in_(group_ids)))
    if stakeholder_ids:
        parts.append(sa.select(sa.literal("s").label("kind"), Membership.stakeholder_id.label("id"),
                               group_beats.c.beat_id)
                     .join(group_beats, group_beats.c.group_id == Membership.group_id)
                     .where(Membership.stakeholder_id.in_(stakeholder_ids),
                            sa.or_(Membership.ends_on.is_(None),
                                   Membership.ends_on >= local_today())))
    for kind, ident, beat_id in db.session.execute(sa.union_all(*parts)):
        sets[(kind, ident)].add(beat_id)
    return list(sets.values())


def candidate_beats(group_ids: list[int], stakeholder_ids: list[int]) -> list[Beat]:
    """Every beat the chosen groups and people are on (offered when the officer must choose)."""
    ids = set().union(*subject_beat_sets(group_ids, stakeholder_ids), set())
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Beat).where(Beat.id.in_(ids)).order_by(Beat.code)))


def beat_codes(beat_ids) -> str:
    return ", ".join(db.session.scalars(sa.select(Beat.code).where(Beat.id.in_(list(beat_ids)))
                                        .order_by(Beat.code)))


def group_beat_codes(group_ids) -> dict[int, list[str]]:
    """Beat codes per group in one query (the form's live "Beat: …" line reads them)."""
    out: dict[int, list[str]] = {}
    if not group_ids:
        return out
    rows = db.session.execute(sa.select(group_beats.c.group_id, Beat.code)
                              .join(Beat, Beat.id == group_beats.c.beat_id)
                              .where(group_beats.c.group_id.in_(list(group_ids)))
                              .order_by(Beat.code))
    for gid, code in rows:
        out.setdefault(gid, []).append(code)
    return out


def beat_for_contact(officer: User, group_ids: list[int],
                     stakeholder_ids: list[int]) -> tuple[int | None, list[int]]:
    """`pick_beat` for an officer and chosen subjects (also used by the CSV import)."""
    own = [b.id for b in officer.current_beats()]
    return pick_beat(own, subject_beat_sets(group_ids, stakeholder_ids))


AMBIGUOUS_BEAT = ("the groups and people chosen are on beats {codes}: choose the beat where "
                  "the contact happened")


def _parse_beat(actor: User, data: dict, plan: _Plan, errors: dict) -> int | None:
    """The beat sent, if the actor may use it; else the one the groups and people decide."""
    sets = subject_beat_sets([g.id for g in plan.groups], [s.id for s in plan.stakeholders])
    beat_id = data.get("beat_id")
    if beat_id in ("", None):
        own = [b.id for b in actor.current_beats()]
        picked, ask = pick_beat(own, sets)
        if ask:
            errors["beat_id"] = AMBIGUOUS_BEAT.format(codes=beat_codes(ask))
        return picked
    try:
        beat_id = int(beat_id)
    except (TypeError, ValueError):
        errors["beat_id"] = "is not a beat"
        return None
    # The check loads the beat itself (not its map outline), so the answer's beat code
    # needs no second query.
    allowed = sa.select(Beat).options(defer(Beat.geometry)).where(Beat.id == beat_id)
    subjects_beats = set().union(*sets, set())
    if actor.role in ("officer", "supervisor") and beat_id not in subjects_beats:
        allowed = allowed.where(Beat.id.in_(beat_ids_select(actor)))
    plan.beat = db.session.scalar(allowed)
    if plan.beat is None:
        errors["beat_id"] = "is not one of your beats nor a beat of the groups chosen"
    return beat_id


def _load_people(actor: User, ids: list[int], errors: dict) -> list[Stakeholder]:
    if not ids:
        return []
    people = list(db.session.scalars(sa.select(Stakeholder).where(
        Stakeholder.id.in_(ids), stakeholder_scope(actor), Stakeholder.live())))
    if len(people) != len(ids):
        errors["stakeholder_ids"] = "includes someone you cannot record a contact with"
    return people


def _load_groups(actor: User, ids: list[int], errors: dict) -> list[CommunityGroup]:
    if not ids:
        return []
    q = sa.select(CommunityGroup).where(CommunityGroup.id.in_(ids))
    visible = group_ids_select(actor)
    if visible is not None:
        q = q.where(CommunityGroup.id.in_(visible))
    groups = list(db.session.scalars(q))
    if len(groups) != len(ids):
        errors["group_ids"] = "includes a group that is not one of yours"
    return groups


def _check_officers(ids: list[int], errors: dict) -> None:
    if not ids:
        return
    found = set(db.session.scalars(sa.select(User.id).where(
        User.id.in_(ids), User.active.is_(True), User.role.in_(LOG_ROLES))))
    if found != set(ids):
        errors["officer_ids"] = "includes someone who cannot log contacts"


def _parse_new_person(data: dict, errors: dict) -> dict | None:
    new = data.get("new_stakeholder") or {}
    if not any((new.get(k) or "").strip() for k in ("name", "phone", "email")):
        return None
    try:
        return stakeholder_services.clean_fields({k: new.get(k) for k in ("name", "phone", "email")})
    except ValidationError as e:
        for k, msgs in e.errors.items():
            errors[f"new_{k}"] = msgs[0]
        return None


def _validate(actor: User, data: dict) -> _Plan:
    """Check a whole contact form; raise ValidationError naming every bad field."""
    if not actor.has_role(*LOG_ROLES):
        raise ValidationError({"role": "your role does not log contacts"})
    errors: dict[str, str] = {}
    occurred_at = _parse_occurred_at(data, utcnow(), errors)
    channel = _parse_choice(data, "channel", CHANNELS, "foot_patrol", errors)
    initiated_by = _parse_choice(data, "initiated_by", INITIATED_BY, "proactive", errors)
    enforcement = _parse_choice(data, "enforcement", ENFORCEMENT, "none", errors)
    stage_after = _parse_choice(data, "stage_after", STAGES, None, errors)
    techniques = _parse_techniques(data, errors)
    note = _text(data, "note", MAX_NOTE, errors)
    place = _text(data, "place", 200, errors)
    purpose = _text(data, "purpose", 200, errors)
    follow_up_on, follow_up_note = _parse_follow_up(data, occurred_at, errors)

    stakeholder_ids = _ids(data, "stakeholder_ids", errors)
    group_ids = _ids(data, "group_ids", errors)
    officer_ids = [i for i in _ids(data, "officer_ids", errors) if i != actor.id]
    plan = _Plan(values={}, stakeholders=_load_people(actor, stakeholder_ids, errors),
                 groups=_load_groups(actor, group_ids, errors), officer_ids=officer_ids)
    _check_officers(officer_ids, errors)
    beat_id = _parse_beat(actor, data, plan, errors)
    plan.new_person = _parse_new_person(data, errors)
    if not (plan.stakeholders or plan.groups or plan.new_person) and not (
            "stakeholder_ids" in errors or "group_ids" in errors or any(
                k.startswith("new_") for k in errors)):
        errors["stakeholder_ids"] = "choose at least one person or group (or add a new person)"
    if errors:
        raise ValidationError(errors)
    plan.values = dict(occurred_at=occurred_at, beat_id=beat_id, place=place, channel=channel,
                       initiated_by=initiated_by, purpose=purpose, techniques=techniques,
                       stage_after=stage_after, enforcement=enforcement, note=note,
                       follow_up_on=follow_up_on, follow_up_note=follow_up_note)
    return plan


def _insert(contact: Contact) -> None:
    """Insert the contact first, so a duplicate key fails before anything else is written.

    On a duplicate key the whole unit is rolled back, not a SAVEPOINT around the insert:
    nothing is written before it (a token's last use at most), pysqlite makes a first
    SAVEPOINT the transaction itself (RELEASE would commit), and on PostgreSQL the SAVEPOINT
    and its RELEASE were two more round trips on every contact POST.
    """
    try:
        db.session.add(contact)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise


def log_contact(actor: User, data: dict, idempotency_key: str | None = None, *,
                ip: str = "") -> tuple[Contact, bool]:
    """Record one contact; returns (contact, created).

    `data` keys: occurred_at, beat_id, place, channel, initiated_by, purpose, techniques,
    stage_after, enforcement, note, follow_up_on, follow_up_note, stakeholder_ids,
    group_ids, officer_ids (co-officers), new_stakeholder ({name, phone, email}).
    A key already used by this actor returns the first contact with created=False.
    """
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 64:
            raise ValidationError({"idempotency_key": "must be at most 64 characters"})
        existing = _find_by_key(key)
        if existing is not None:
            return _own_replay(actor, existing), False
    plan = _validate(actor, data)
    v = plan.values
    at = v["occurred_at"]

    # The contact goes in with its links in one flush, through the relationships: the facts
    # see a new contact (nothing to read before it), and the answer reads its links, groups
    # and beat from memory instead of loading them again.
    contact = Contact(logged_by_id=actor.id, idempotency_key=key, **v)
    if plan.beat is not None:
        contact.beat = plan.beat
    contact.officer_links = [ContactOfficer(user_id=uid, occurred_at=at)
                             for uid in [actor.id, *plan.officer_ids]]
    contact.stakeholder_links = [ContactStakeholder(stakeholder=s, occurred_at=at)
                                 for s in plan.stakeholders]
    contact.group_links = [ContactGroup(group=g, occurred_at=at, initiated_by=v["initiated_by"])
                           for g in plan.groups]
    try:
        _insert(contact)
    except IntegrityError:
        # Two sends of the same form raced past the lookup: the unique key let one win.
        existing = _find_by_key(key) if key else None
        if existing is None:
            raise
        return _own_replay(actor, existing), False

    people = list(plan.stakeholders)
    if plan.new_person:
        person = stakeholder_services.create_stakeholder(actor, plan.new_person,
                                                         allow_duplicate=True,
                                                         met_in_contact=True, ip=ip)
        people.append(person)
        contact.stakeholder_links.append(
            ContactStakeholder(stakeholder=person, occurred_at=at))

    stage_changes = []
    if v["stage_after"]:
        for subject in [*people, *plan.groups]:
            if subject.stage != v["stage_after"]:
                is_group = isinstance(subject, CommunityGroup)
                db.session.add(RelationshipStageChange(
                    stakeholder_id=None if is_group else subject.id,
                    group_id=subject.id if is_group else None, contact_id=contact.id,
                    changed_by_id=actor.id, from_stage=subject.stage, to_stage=v["stage_after"],
                    changed_at=at))
                stage_changes.append({"group" if is_group else "stakeholder": subject.id,
                                      "from": subject.stage, "to": v["stage_after"]})
                subject.stage = v["stage_after"]
    db.session.flush()
    record_event(actor, "contact.create", contact, ip=ip, detail={
        "beat_id": v["beat_id"], "channel": v["channel"], "initiated_by": v["initiated_by"],
        "groups": [g.id for g in plan.groups], "stakeholders": [s.id for s in people],
        "officers": [actor.id, *plan.officer_ids], "stage_changes": stage_changes,
        "follow_up_on": v["follow_up_on"].isoformat() if v["follow_up_on"] else None})
    # A visit the officer was assigned (or an introduction they asked for) is now done.
    from crm.assignments.services import close_for_contact
    close_for_contact(actor, contact.id, at, [actor.id, *plan.officer_ids],
                      [g.id for g in plan.groups], [s.id for s in people], ip=ip)
    return contact, True


# ---- editing ----------------------------------------------------------------------------------

EDITABLE = ("note", "follow_up_on", "follow_up_note", "place", "purpose")


def snapshot(c: Contact) -> dict:
    return {"note": c.note, "follow_up_on": c.follow_up_on.isoformat() if c.follow_up_on else None,
            "follow_up_note": c.follow_up_note, "place": c.place, "purpose": c.purpose,
            "version_id": c.version_id}


def update_contact(actor: User, c: Contact, data: dict, *, version_id: int | None,
                   ip: str = "") -> Contact:
    """Change the note, place, purpose or follow-up; a stale version raises ConflictError."""
    if version_id is not None and int(version_id) != c.version_id:
        raise ConflictError(
            f"This contact was changed by someone else since you opened it (now version "
            f"{c.version_id}, you edited version {version_id}).", current=snapshot(c))
    errors: dict[str, str] = {}
    values = {}
    for key, max_len in (("note", MAX_NOTE), ("follow_up_note", 300), ("place", 200),
                         ("purpose", 200)):
        if key in data:
            values[key] = _text(data, key, max_len, errors)
    if "follow_up_on" in data:
        fu = data["follow_up_on"] or None
        if isinstance(fu, str):
            try:
                fu = date.fromisoformat(fu)
            except ValueError:
                errors["follow_up_on"] = "is not a date (YYYY-MM-DD)"
        if isinstance(fu, date) and fu < local_date(c.occurred_at):
            errors["follow_up_on"] = "is before the contact"
        values["follow_up_on"] = fu
    note_after = values.get("follow_up_note", c.follow_up_note)
    if note_after and values.get("follow_up_on", c.follow_up_on) is None \
            and "follow_up_on" not in errors:
        errors["follow_up_on"] = "is needed for a follow-up note"
    if errors:
        raise ValidationError(errors)
    before, after = {}, {}
    for k, val in values.items():
        if getattr(c, k) != val:
            old = getattr(c, k)
            before[k] = old.isoformat() if isinstance(old, date) else old
            after[k] = val.isoformat() if isinstance(val, date) else val
            setattr(c, k, val)
    if "follow_up_on" in after and c.follow_up_done_at is not None:
        c.follow_up_done_at = None  # a new date reopens the follow-up
        c.follow_up_done_by_id = None
    if after:
        db.session.flush()
        record_event(actor, "contact.update", c, ip=ip, detail={"before": before, "after": after})
    return c


def mark_follow_up_done(actor: User, c: Contact, *, ip: str = "") -> Contact:
    """Close the contact's follow-up (a second call changes nothing)."""
    if c.follow_up_on is None:
        raise ValidationError({"follow_up_on": "this contact has no follow-up"})
    if c.follow_up_done_at is None:
        c.follow_up_done_at = utcnow()
        c.follow_up_done_by_id = actor.id
        db.session.flush()
        record_event(actor, "contact.follow_up_done", c, ip=ip,
                     detail={"follow_up_on": c.follow_up_on.isoformat()})
    return c


def delete_contact(actor: User, c: Contact, *, ip: str = "") -> None:
    if actor.role != "admin":
        raise ValidationError({"role": "only administrators delete contacts"})
    detail = {"occurred_at": c.occurred_at.isoformat(), "logged_by_id": c.logged_by_id,
              "groups": [link.group_id for link in c.group_links],
              "stakeholders": [link.stakeholder_id for link in c.stakeholder_links]}
    record_event(actor, "contact.delete", c, ip=ip, detail=detail)
    db.session.delete(c)
    db.session.flush()


# ---- reading ----------------------------------------------------------------------------------


def contact_condition(user: User) -> sa.ColumnElement[bool]:
    """Which contacts the user may see: the one rule in `crm.access.contact_scope`."""
    return contact_scope(user)


CONTACT_LOADS = (selectinload(Contact.group_links).joinedload(ContactGroup.group),
                 selectinload(Contact.stakeholder_links).joinedload(ContactStakeholder.stakeholder),
                 selectinload(Contact.officer_links).joinedload(ContactOfficer.officer))


def contacts_query(user: User, *, officer_id: int | None = None, beat_id: int | None = None,
                   group_id: int | None = None, stakeholder_id: int | None = None,
                   date_from: date | None = None, date_to: date | None = None,
                   initiated_by: str | None = None) -> sa.Select:
    """Contacts the user may see, newest first, with the usual filters."""
    q = (sa.select(Contact).where(contact_condition(user)).options(*CONTACT_LOADS)
         .order_by(Contact.occurred_at.desc(), Contact.id.desc()))
    if officer_id is not None:
        q = q.where(Contact.id.in_(sa.select(ContactOfficer.contact_id)
                                   .where(ContactOfficer.user_id == officer_id)))
    if beat_id is not None:
        q = q.where(Contact.beat_id == beat_id)
    if group_id is not None:
        q = q.where(Contact.id.in_(sa.select(ContactGroup.contact_id)
                                   .where(ContactGroup.group_id == group_id)))
    if stakeholder_id is not None:
        q = q.where(Contact.id.in_(sa.select(ContactStakeholder.contact_id)
                                   .where(ContactStakeholder.stakeholder_id == stakeholder_id)))
    if date_from is not None:  # local days: from local midnight to local midnight
        q = q.where(Contact.occurred_at >= day_start_utc(date_from))
    if date_to is not None:
        q = q.where(Contact.occurred_at < day_start_utc(date_to + timedelta(days=1)))
    if initiated_by is not None:
        q = q.where(Contact.initiated_by == initiated_by)
    return q


# ---- follow-ups -------------------------------------------------------------------------------


@dataclass
class FollowUps:
    overdue: list[Contact]
    today: list[Contact]
    upcoming: list[Contact]

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.upcoming)


def mine_condition(user: User) -> sa.ColumnElement[bool]:
    """Contacts that are the user's to follow up: theirs, and for the unit their groups'."""
    cond = sa.or_(Contact.logged_by_id == user.id,
                  Contact.id.in_(sa.select(ContactOfficer.contact_id)
                                 .where(ContactOfficer.user_id == user.id)))
    if user.role == "unit":
        assigned = sa.select(ContactGroup.contact_id).where(ContactGroup.group_id.in_(
            sa.select(GroupAssignment.group_id).where(GroupAssignment.user_id == user.id)))
        cond = sa.or_(cond, Contact.id.in_(assigned))
    # A hand-over moves follow-ups: the successor's to do now, no longer the leaving officer's.
    cond = sa.or_(cond, Contact.id.in_(handover_scope.granted_contact_ids(user.id)))
    return sa.and_(cond, Contact.id.not_in(handover_scope.handed_away_contact_ids(user.id)))


def follow_ups_query(user: User, *, beat_id: int | None = None, today: date | None = None,
                     horizon_days: int = 30) -> sa.Select:
    """Open follow-ups the user may see: theirs, or a beat's; due up to the horizon."""
    today = today or local_today()
    q = (sa.select(Contact).where(
        contact_condition(user), Contact.follow_up_on.is_not(None),
        Contact.follow_up_done_at.is_(None),
        Contact.follow_up_on <= today + timedelta(days=horizon_days))
        .options(*CONTACT_LOADS).order_by(Contact.follow_up_on, Contact.id))
    if beat_id is not None:
        q = q.where(Contact.beat_id == beat_id)
    else:
        q = q.where(mine_condition(user))
    return q


def follow_ups(user: User, *, beat_id: int | None = None, today: date | None = None,
               horizon_days: int = 30, limit: int = 300) -> FollowUps:
    today = today or local_today()
    rows = list(db.session.scalars(follow_ups_query(user, beat_id=beat_id, today=today,
                                                    horizon_days=horizon_days).limit(limit)))
    return FollowUps(overdue=[c for c in rows if c.follow_up_on < today],
                     today=[c for c in rows if c.follow_up_on == today],
                     upcoming=[c for c in rows if c.follow_up_on > today])


def follow_up_beat(user: User, code: str) -> Beat | None:
    """The beat named by `code` if the user may list its follow-ups (their beats; admin: any)."""
    q = sa.select(Beat).where(Beat.code == code)
    if user.role in ("officer", "supervisor"):
        q = q.where(Beat.id.in_(beat_ids_select(user)))
    elif user.role != "admin":
        return None
    return db.session.scalar(q)
