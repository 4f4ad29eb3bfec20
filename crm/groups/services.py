"""Community groups, their memberships and the declared relations between them.

Every function that changes records takes the acting user first, validates (raising
`ValidationError` with one message per field), writes the audit trail with the values
before and after, and flushes. None of them commits: the web request or CLI command does.

Reading helpers (`list_groups`, `group_row`, `group_page`) apply `crm.access` so callers get
only what the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from crm.access import (
    case_scope,
    contact_scope,
    group_scope,
    stakeholder_scope,
    visible_stakeholder_ids,  # noqa: F401  (re-exported for the views)
)
from crm.audit.services import record_event
from crm.beats.models import Beat
from crm.cases.models import CaseParticipant, ProblemCase
from crm.contacts.models import Contact, ContactGroup, ContactOfficer
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups.models import CommunityGroup, GroupRelation, RelationshipStageChange, group_beats
from crm.home.services import GroupRow
from crm.stakeholders.languages import json_list_matches
from crm.stakeholders.models import Membership, Stakeholder
from crm.text import clean_text, like_escape
from crm.timezones import day_start_utc, local_date, local_today
from crm.users.models import GroupAssignment, User
from crm.vocab import GROUP_KINDS, MEMBERSHIP_ROLES, RELATION_TYPES, STAFF_ROLES, STAGES, STANCES

EDITOR_ROLES = ("unit", "supervisor", "admin")
READER_ROLES = STAFF_ROLES
SORTS = ("name", "days", "size", "stance")
ROLE_ORDER = ("leader", "spokesperson", "liaison", "member")
GROUP_FIELDS = ("name", "kind", "stance", "stage", "size_estimate", "languages", "channels",
                "description", "contact_interval_days", "beats")
NAME_MAX = CommunityGroup.name.type.length
SIZE_MAX = 10_000_000  # people; also keeps the value inside a 32-bit column
ISSUE_MAX = GroupRelation.issue.type.length


def can_edit(user: User) -> bool:
    return user.role in EDITOR_ROLES


def split_list(value) -> list[str]:
    """'Spanish, English,,spanish' -> ['Spanish', 'English']: trimmed, blanks and repeats dropped."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    out: list[str] = []
    for item in items:
        item = str(item).strip()
        if item and item.lower() not in {o.lower() for o in out}:
            out.append(item)
    return out


# ---- reading ----------------------------------------------------------------------------

def last_contact_by_group() -> sa.Subquery:
    """One row per contacted group: (group_id, last), the latest ContactGroup.occurred_at.

    Set-based, from the (group_id, occurred_at) index; the same figure the home pages show
    (`crm.home.services.groups_by_days_since_contact`), joined instead of correlated so a
    whole page of groups is filtered and sorted on it in one query.
    """
    return (sa.select(ContactGroup.group_id, sa.func.max(ContactGroup.occurred_at).label("last"))
            .group_by(ContactGroup.group_id).subquery("last_contact"))


@dataclass
class GroupFilters:
    beat: str | None = None          # beat code
    kind: str | None = None
    stance: str | None = None
    stage: str | None = None
    min_days: int | None = None      # last contact at least this many days ago (never included)
    never: bool = False              # only groups never contacted
    q: str | None = None             # name contains
    language: str | None = None      # speaks this language (a code or a name)
    sort: str = "name"
    desc: bool = False


def _midnight(d: date) -> datetime:
    return day_start_utc(d)  # the department's midnight, in stored UTC


def group_list_query(user: User, f: GroupFilters, *, today: date | None = None) -> sa.Select:
    """`select(CommunityGroup, last_contact_at)` filtered, sorted and scoped for `user`."""
    today = today or local_today()
    last_q = last_contact_by_group()
    last = last_q.c.last
    q = (sa.select(CommunityGroup, last.label("last"))
         .outerjoin(last_q, last_q.c.group_id == CommunityGroup.id)
         .where(group_scope(user)))
    if f.beat:
        q = q.where(CommunityGroup.id.in_(
            sa.select(group_beats.c.group_id).join(Beat, Beat.id == group_beats.c.beat_id)
            .where(Beat.code == f.beat)))
    for attr in ("kind", "stance", "stage"):
        if getattr(f, attr):
            q = q.where(getattr(CommunityGroup, attr) == getattr(f, attr))
    if f.q:
        q = q.where(CommunityGroup.name.ilike(f"%{f.q}%"))
    if f.language:
        q = q.where(json_list_matches(CommunityGroup.languages, f.language))
    if f.never:
        q = q.where(last.is_(None))
    elif f.min_days is not None and f.min_days > 0:
        # days = today - date(last) >= N  <=>  last < midnight of (today - N + 1)
        q = q.where(sa.or_(last.is_(None), last < _midnight(today - timedelta(days=f.min_days - 1))))
    never_first = sa.case((last.is_(None), 0), else_=1)
    if f.sort == "days":
        # Ascending days since contact = most recent contact first, never contacted last.
        keys = [never_first.desc(), last.desc()] if not f.desc else [never_first, last.asc()]
    elif f.sort == "size":
        size = CommunityGroup.size_estimate
        keys = [sa.case((size.is_(None), 1), else_=0), size.desc() if f.desc else size.asc()]
    elif f.sort == "stance":
        order = sa.case({s: i for i, s in enumerate(STANCES)}, value=CommunityGroup.stance)
        keys = [order.desc() if f.desc else order.asc()]
    else:
        keys = [CommunityGroup.name.desc() if f.desc else CommunityGroup.name.asc()]
    return q.order_by(*keys, CommunityGroup.name, CommunityGroup.id)


def _beat_codes(group_ids: list[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}
    if not group_ids:
        return codes
    for gid, code in db.session.execute(
        sa.select(group_beats.c.group_id, Beat.code).join(Beat, Beat.id == group_beats.c.beat_id)
        .where(group_beats.c.group_id.in_(group_ids)).order_by(Beat.code)
    ):
        codes.setdefault(gid, []).append(code)
    return codes


def _rows(pairs, today: date) -> list[GroupRow]:
    codes = _beat_codes([g.id for g, _ in pairs])
    return [GroupRow(g, codes.get(g.id, []), lt, None if lt is None else (today - local_date(lt)).days)
            for g, lt in pairs]


def list_groups(user: User, f: GroupFilters, *, page: int = 1, per_page: int = 25,
                today: date | None = None) -> tuple[list[GroupRow], int]:
    """One page of visible groups with their last contact and stay-in-touch status, and the total."""
    today = today or local_today()
    q = group_list_query(user, f, today=today)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
    pairs = db.session.execute(q.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return _rows(pairs, today), total


def group_row(group: CommunityGroup, *, today: date | None = None) -> GroupRow:
    """The group with its beats, last contact and stay-in-touch status."""
    last = db.session.scalar(sa.select(sa.func.max(ContactGroup.occurred_at))
                             .where(ContactGroup.group_id == group.id))
    return _rows([(group, last)], today or local_today())[0]


@dataclass
class MemberRow:
    membership: Membership
    visible: bool  # may the user see this person's name?

    @property
    def display_name(self) -> str:
        s = self.membership.stakeholder
        if not self.visible or s.erased_at is not None:
            return f"member #{s.id}"
        return s.name

    @property
    def current(self) -> bool:
        m = self.membership
        return m.ends_on is None or m.ends_on >= local_today()


@dataclass
class TimelineEntry:
    contact: Contact
    note_visible: bool  # the note is shown only to users who may see the contact itself

    @property
    def note_excerpt(self) -> str:
        note = (self.contact.note or "").strip()
        return note if len(note) <= 160 else note[:157].rstrip() + "…"


@dataclass
class GroupPage:
    row: GroupRow
    members: list[MemberRow]
    relations: list[GroupRelation]
    visible_group_ids: set[int]
    timeline: list[TimelineEntry]
    timeline_total: int
    stage_history: list[RelationshipStageChange]
    open_cases: list[ProblemCase]
    extra: dict = field(default_factory=dict)
    members_total: int | None = None    # memberships matching the member search (paged lists)
    members_current: int | None = None  # current memberships of the group, search or not

    @property
    def current_relations(self) -> list[GroupRelation]:
        return [r for r in self.relations if r.is_current]

    @property
    def ended_relations(self) -> list[GroupRelation]:
        return [r for r in self.relations if not r.is_current]



def _member_query(user: User, group: CommunityGroup, q: str | None) -> sa.Select:
    """The group's memberships, current first, leaders first; `q` matches the names the user
    may see only (a hidden member is never found by name)."""
    query = sa.select(Membership).where(Membership.group_id == group.id)
    if q:
        query = query.where(Membership.stakeholder_id.in_(
            sa.select(Stakeholder.id).where(Stakeholder.name.ilike(f"%{like_escape(q)}%", escape="\\"),
                                            stakeholder_scope(user), Stakeholder.live())))
    return query


def group_page(user: User, group: CommunityGroup, *, timeline_page: int = 1,
               timeline_size: int = 20, today: date | None = None,
               members_page: int | None = None, members_size: int = 50,
               members_q: str | None = None) -> GroupPage:
    """Everything the group page shows, in a fixed number of queries.

    `members_page` pages the member list (`members_size` a page, filtered by `members_q`);
    None lists every member (small groups, the API).
    """
    member_q = _member_query(user, group, members_q)
    paged = members_page is not None
    members_total = members_current = None
    if paged:
        members_total = db.session.scalar(
            sa.select(sa.func.count()).select_from(member_q.subquery()))
        members_current = db.session.scalar(
            sa.select(sa.func.count(Membership.id)).where(
                Membership.group_id == group.id,
                sa.or_(Membership.ends_on.is_(None), Membership.ends_on >= local_today())))
    member_q = (member_q.options(selectinload(Membership.stakeholder))
                .order_by(sa.case((Membership.ends_on.is_(None), 0), else_=1),
                          sa.case({r: i for i, r in enumerate(ROLE_ORDER)}, value=Membership.role,
                                  else_=len(ROLE_ORDER)), Membership.id))
    if paged:
        member_q = member_q.limit(members_size).offset((max(members_page, 1) - 1) * members_size)
    memberships = list(db.session.scalars(member_q))
    ids = [m.stakeholder_id for m in memberships]
    visible = set(db.session.scalars(sa.select(Stakeholder.id).where(
        Stakeholder.id.in_(ids), stakeholder_scope(user)))) if ids else set()
    relations = list(db.session.scalars(
        sa.select(GroupRelation)
        .where(sa.or_(GroupRelation.group_a_id == group.id, GroupRelation.group_b_id == group.id))
        .options(selectinload(GroupRelation.group_a), selectinload(GroupRelation.group_b))
        .order_by(GroupRelation.starts_on.desc(), GroupRelation.id.desc())))
    others = {r.group_a_id for r in relations} | {r.group_b_id for r in relations}
    visible_groups = set(db.session.scalars(sa.select(CommunityGroup.id).where(
        CommunityGroup.id.in_(others), group_scope(user)))) if others else set()

    contacts_q = (sa.select(Contact).join(ContactGroup, ContactGroup.contact_id == Contact.id)
                  .where(ContactGroup.group_id == group.id))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(contacts_q.subquery()))
    contacts = list(db.session.scalars(
        contacts_q.options(selectinload(Contact.officer_links).selectinload(ContactOfficer.officer))
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(timeline_size).offset((max(timeline_page, 1) - 1) * timeline_size)))
    cids = [c.id for c in contacts]
    readable = set(db.session.scalars(sa.select(Contact.id).where(
        Contact.id.in_(cids), contact_scope(user)))) if cids else set()

    history = list(db.session.scalars(
        sa.select(RelationshipStageChange).where(RelationshipStageChange.group_id == group.id)
        .order_by(RelationshipStageChange.changed_at.desc(), RelationshipStageChange.id.desc())
        .limit(50)))
    cases = list(db.session.scalars(
        sa.select(ProblemCase).where(
            ProblemCase.id.in_(sa.select(CaseParticipant.case_id)
                               .where(CaseParticipant.group_id == group.id)),
            ProblemCase.stage != "closed", case_scope(user))
        .order_by(ProblemCase.opened_on.desc(), ProblemCase.id.desc())))
    return GroupPage(
        row=group_row(group, today=today),
        members=[MemberRow(m, m.stakeholder_id in visible) for m in memberships],
        relations=relations, visible_group_ids=visible_groups,
        timeline=[TimelineEntry(c, c.id in readable) for c in contacts], timeline_total=total,
        stage_history=history, open_cases=cases, members_total=members_total,
        members_current=members_current)


# ---- groups -----------------------------------------------------------------------------

def group_snapshot(g: CommunityGroup) -> dict:
    """The editable fields as plain values (audit before/after, conflict pages)."""
    return {"name": g.name, "kind": g.kind, "stance": g.stance, "stage": g.stage,
            "size_estimate": g.size_estimate, "languages": list(g.languages or []),
            "channels": list(g.channels or []), "description": g.description or "",
            "contact_interval_days": g.contact_interval_days,
            "beats": [b.code for b in g.beats]}


def _check_version(obj, version_id: int | None, snapshot) -> None:
    if version_id is not None and int(version_id) != obj.version_id:
        raise ConflictError(
            f"{_thing(obj)} was changed by someone else since you opened it (you edited version "
            f"{version_id}, the saved version is now {obj.version_id}). Nothing was overwritten.",
            current={"id": obj.id, "version_id": obj.version_id, **snapshot(obj)})


def _thing(obj) -> str:
    return {CommunityGroup: "This group", GroupRelation: "This relation",
            Membership: "This membership"}.get(type(obj), "This record")


def _flush(obj, snapshot, unique_field: str | None = None) -> None:
    """Flush in a savepoint: a lost race on a unique key or a version becomes a clean error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except StaleDataError as e:
        raise ConflictError(f"{_thing(obj)} was changed by someone else while you saved. "
                            "Nothing was overwritten.") from e
    except IntegrityError as e:
        raise ValidationError({unique_field or "record": "is already taken"}) from e


def clean_size_estimate(value) -> int | None:
    """The one rule for a group's estimated size: blank, or a whole number of 0 or more."""
    if value in (None, ""):
        return None
    try:
        size = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({"size_estimate": "must be a whole number"}) from None
    if size < 0:
        raise ValidationError({"size_estimate": "must be 0 or more"})
    if size > SIZE_MAX:
        raise ValidationError({"size_estimate": f"must be at most {SIZE_MAX:,}"})
    return size


def _clean_interval(value, errors: dict) -> int | None:
    try:
        days = int(value)
    except (TypeError, ValueError):
        errors["contact_interval_days"] = "must be a whole number of days"
        return None
    if not 1 <= days <= 3650:
        errors["contact_interval_days"] = "must be between 1 and 3650 days"
    return days


def _clean_short_list(fname: str, value, errors: dict) -> list[str]:
    items = [clean_text(i, one_line=True) for i in split_list(value)]
    if any(len(i) > 60 for i in items):
        errors[fname] = "each entry must be at most 60 characters"
    elif len(items) > 20:
        errors[fname] = "at most 20 entries"
    return items


def clean_group_fields(data: dict, *, creating: bool) -> dict:
    """Check the editable fields present in `data` that need no database; return them cleaned.

    The one set of rules for a group's fields (pages, API and CSV import): names and free
    text through `crm.text.clean_text`, vocabularies from `crm.vocab`. Raises ValidationError
    naming every bad field. Beats and name clashes need the database: `_clean_group`.
    """
    errors: dict[str, str] = {}
    out: dict = {}
    if "name" in data or creating:
        name = clean_text(data.get("name"), one_line=True)
        if not name:
            errors["name"] = "is required"
        elif len(name) > NAME_MAX:
            errors["name"] = f"must be at most {NAME_MAX} characters"
        out["name"] = name
    for fname, vocab in (("kind", GROUP_KINDS), ("stance", STANCES), ("stage", STAGES)):
        if fname in data:
            if data[fname] not in vocab:
                errors[fname] = f"must be one of {', '.join(vocab)}"
            out[fname] = data[fname]
    if "size_estimate" in data:
        try:
            out["size_estimate"] = clean_size_estimate(data["size_estimate"])
        except ValidationError as e:
            errors.update(e.errors)
    if "contact_interval_days" in data:
        out["contact_interval_days"] = _clean_interval(data["contact_interval_days"], errors)
    for fname in ("languages", "channels"):
        if fname in data:
            out[fname] = _clean_short_list(fname, data[fname], errors)
    if "description" in data:
        out["description"] = clean_text(data["description"])
        if len(out["description"]) > 5000:
            errors["description"] = "must be at most 5000 characters"
    if errors:
        raise ValidationError(errors)
    return out


def _clean_group(actor: User, data: dict, group: CommunityGroup | None) -> dict:
    """Validate the editable fields present in `data`; return them normalised."""
    errors: dict = {}
    try:
        out = clean_group_fields({k: v for k, v in data.items() if k != "beats"},
                                 creating=group is None)
    except ValidationError as e:
        errors.update(e.errors)
        out = {}
    if out.get("name"):
        clash = db.session.scalar(sa.select(CommunityGroup.id).where(
            sa.func.lower(CommunityGroup.name) == out["name"].lower(),
            CommunityGroup.id != (group.id if group else -1)))
        if clash:
            errors["name"] = "another group already has this name"
    if "beats" in data:
        codes = split_list(data["beats"])
        beats = list(db.session.scalars(sa.select(Beat).where(Beat.code.in_(codes)))) if codes else []
        found = {b.code for b in beats}
        missing = [c for c in codes if c not in found]
        if missing:
            errors["beats"] = f"unknown beat code{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
        elif actor.role == "supervisor":
            outside = [b.code for b in beats if b.district_id != actor.district_id]
            if outside:
                errors["beats"] = f"outside your district: {', '.join(outside)}"
            elif not beats:
                errors["beats"] = "name at least one beat of your district"
        out["beats"] = sorted(beats, key=lambda b: b.code)
    if errors:
        raise ValidationError(errors)
    return out


def _record_stage(actor: User, group: CommunityGroup, before: str, after: str) -> None:
    if before != after:
        db.session.add(RelationshipStageChange(
            group_id=group.id, changed_by_id=actor.id, from_stage=before, to_stage=after,
            changed_at=utcnow()))


def create_group(actor: User, data: dict) -> CommunityGroup:
    """Create a group; a unit member who creates one is assigned to it (so they can see it)."""
    clean = _clean_group(actor, data, None)
    beats = clean.pop("beats", [])
    group = CommunityGroup(**clean)
    group.beats = beats
    db.session.add(group)
    _flush(group, group_snapshot, "name")
    if group.stage != "none":
        _record_stage(actor, group, "none", group.stage)
    if actor.role == "unit":
        db.session.add(GroupAssignment(user_id=actor.id, group_id=group.id))
    record_event(actor, "group.create", group, detail={"after": group_snapshot(group)})
    return group


def update_group(actor: User, group: CommunityGroup, data: dict,
                 version_id: int | None) -> CommunityGroup:
    """Change the fields present in `data`; refuse if the group moved past `version_id`."""
    _check_version(group, version_id, group_snapshot)
    clean = _clean_group(actor, data, group)
    before = group_snapshot(group)
    for key, value in clean.items():
        setattr(group, key, value)
    _record_stage(actor, group, before["stage"], group.stage)
    _flush(group, group_snapshot, "name")
    after = group_snapshot(group)
    changed = {k for k in after if after[k] != before[k]}
    record_event(actor, "group.update", group, detail={
        "before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed},
        "version_id": group.version_id})
    return group


def delete_group(actor: User, group: CommunityGroup) -> None:
    record_event(actor, "group.delete", group, detail={"before": group_snapshot(group)})
    db.session.delete(group)
    db.session.flush()


# ---- relations --------------------------------------------------------------------------

def relation_snapshot(r: GroupRelation) -> dict:
    return {"group_a_id": r.group_a_id, "group_b_id": r.group_b_id, "type": r.type,
            "issue": r.issue or "",
            "starts_on": r.starts_on.isoformat() if r.starts_on else None,
            "ends_on": r.ends_on.isoformat() if r.ends_on else None}


def _current_between(a_id: int, b_id: int, rtype: str, *, exclude: int | None = None):
    today = local_today()
    return db.session.scalar(sa.select(GroupRelation).where(
        sa.or_(sa.and_(GroupRelation.group_a_id == a_id, GroupRelation.group_b_id == b_id),
               sa.and_(GroupRelation.group_a_id == b_id, GroupRelation.group_b_id == a_id)),
        GroupRelation.type == rtype,
        GroupRelation.open_on(today),
        GroupRelation.id != (exclude or -1)).limit(1))


def _clean_relation_fields(data: dict, errors: dict) -> dict:
    out = {}
    if "type" in data:
        if data["type"] not in RELATION_TYPES:
            errors["type"] = f"must be one of {', '.join(RELATION_TYPES)}"
        out["type"] = data["type"]
    if "issue" in data:
        out["issue"] = clean_text(data["issue"], one_line=True)
        if len(out["issue"]) > ISSUE_MAX:
            errors["issue"] = f"must be at most {ISSUE_MAX} characters"
    for key in ("starts_on", "ends_on"):
        if key in data:
            out[key] = data[key]
    return out


def _check_dates(starts_on, ends_on, errors: dict) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "must be on or after the start date"


def declare_relation(actor: User, a: CommunityGroup, b: CommunityGroup | None, type: str,  # noqa: A002
                     issue: str = "", starts_on: date | None = None) -> GroupRelation:
    """Declare that `a` and `b` are allied, competing or overlapping over `issue`."""
    errors: dict[str, str] = {}
    clean = _clean_relation_fields({"type": type, "issue": issue}, errors)
    if b is None:
        errors["group_b_id"] = "choose the other group"
    elif b.id == a.id:
        errors["group_b_id"] = "a group cannot be related to itself"
    elif "type" not in errors and _current_between(a.id, b.id, clean["type"]):
        errors["group_b_id"] = (f"{a.name} and {b.name} already have a current "
                                f"{clean['type']} relation; edit or end that one instead")
    if errors:
        raise ValidationError(errors)
    rel = GroupRelation(group_a_id=a.id, group_b_id=b.id, type=clean["type"],
                        issue=clean["issue"], starts_on=starts_on or local_today())
    db.session.add(rel)
    _flush(rel, relation_snapshot)
    record_event(actor, "group_relation.create", rel, detail={"after": relation_snapshot(rel)})
    return rel


def update_relation(actor: User, rel: GroupRelation, data: dict,
                    version_id: int | None) -> GroupRelation:
    """Change type, issue or dates of a relation (only the keys present in `data`)."""
    _check_version(rel, version_id, relation_snapshot)
    errors: dict[str, str] = {}
    clean = _clean_relation_fields(data, errors)
    starts_on = clean.get("starts_on", rel.starts_on)
    ends_on = clean.get("ends_on", rel.ends_on)
    _check_dates(starts_on, ends_on, errors)
    rtype = clean.get("type", rel.type)
    still_current = ends_on is None or ends_on >= local_today()
    if not errors and still_current and _current_between(rel.group_a_id, rel.group_b_id, rtype,
                                                         exclude=rel.id):
        errors["type"] = f"these groups already have a current {rtype} relation"
    if errors:
        raise ValidationError(errors)
    before = relation_snapshot(rel)
    for key, value in clean.items():
        setattr(rel, key, value)
    _flush(rel, relation_snapshot)
    record_event(actor, "group_relation.update", rel,
                 detail={"before": before, "after": relation_snapshot(rel)})
    return rel


def end_relation(actor: User, rel: GroupRelation, ends_on: date | None,
                 version_id: int | None) -> GroupRelation:
    """Mark a relation as over from `ends_on` (today if not given); it stays in the history."""
    _check_version(rel, version_id, relation_snapshot)
    ends_on = ends_on or local_today()
    errors: dict[str, str] = {}
    _check_dates(rel.starts_on, ends_on, errors)
    if errors:
        raise ValidationError(errors)
    before = relation_snapshot(rel)
    rel.ends_on = ends_on
    _flush(rel, relation_snapshot)
    record_event(actor, "group_relation.end", rel,
                 detail={"before": before, "after": relation_snapshot(rel)})
    return rel


def delete_relation(actor: User, rel: GroupRelation) -> None:
    """Remove a relation recorded by mistake (ending it keeps the history instead)."""
    record_event(actor, "group_relation.delete", rel, detail={"before": relation_snapshot(rel)})
    db.session.delete(rel)
    db.session.flush()


# ---- memberships ------------------------------------------------------------------------

def membership_snapshot(m: Membership) -> dict:
    return {"stakeholder_id": m.stakeholder_id, "group_id": m.group_id, "role": m.role,
            "starts_on": m.starts_on.isoformat() if m.starts_on else None,
            "ends_on": m.ends_on.isoformat() if m.ends_on else None}


def add_membership(actor: User, stakeholder: Stakeholder | None, group: CommunityGroup,
                   role: str = "member", starts_on: date | None = None) -> Membership:
    """Record that `stakeholder` belongs to `group` in `role` (one row per person and group)."""
    errors: dict[str, str] = {}
    if role not in MEMBERSHIP_ROLES:
        errors["role"] = f"must be one of {', '.join(MEMBERSHIP_ROLES)}"
    if stakeholder is None:
        errors["stakeholder_id"] = "choose a person you can see"
    elif not stakeholder.is_live:
        errors["stakeholder_id"] = "this record was erased or merged into another"
    else:
        existing = db.session.scalar(sa.select(Membership).where(
            Membership.stakeholder_id == stakeholder.id, Membership.group_id == group.id))
        if existing is not None:
            errors["stakeholder_id"] = ("is already a member of this group" if existing.ends_on is None
                                        else "has an ended membership of this group; edit it to "
                                             "reopen it")
    if errors:
        raise ValidationError(errors)
    m = Membership(stakeholder_id=stakeholder.id, group_id=group.id, role=role,
                   starts_on=starts_on or local_today())
    db.session.add(m)
    _flush(m, membership_snapshot, "stakeholder_id")
    record_event(actor, "membership.create", m, detail={"after": membership_snapshot(m)})
    return m


def update_membership(actor: User, m: Membership, data: dict,
                      version_id: int | None) -> Membership:
    """Change role or dates (keys present in `data`); an ends_on of None reopens it."""
    _check_version(m, version_id, membership_snapshot)
    errors: dict[str, str] = {}
    if "role" in data and data["role"] not in MEMBERSHIP_ROLES:
        errors["role"] = f"must be one of {', '.join(MEMBERSHIP_ROLES)}"
    _check_dates(data.get("starts_on", m.starts_on), data.get("ends_on", m.ends_on), errors)
    if errors:
        raise ValidationError(errors)
    before = membership_snapshot(m)
    for key in ("role", "starts_on", "ends_on"):
        if key in data:
            setattr(m, key, data[key])
    _flush(m, membership_snapshot)
    record_event(actor, "membership.update", m,
                 detail={"before": before, "after": membership_snapshot(m)})
    return m


def end_membership(actor: User, m: Membership, ends_on: date | None = None,
                   version_id: int | None = None) -> Membership:
    """The person left the group on `ends_on` (today if not given)."""
    return update_membership(actor, m, {"ends_on": ends_on or local_today()}, version_id)


def delete_membership(actor: User, m: Membership) -> None:
    record_event(actor, "membership.delete", m, detail={"before": membership_snapshot(m)})
    db.session.delete(m)
    db.session.flush()


# ---- scoping helpers for relations and memberships ---------------------------------------

def visible_group_ids(user: User) -> sa.Select:
    return sa.select(CommunityGroup.id).where(group_scope(user))


def relations_query(user: User) -> sa.Select:
    """Relations that touch at least one group the user may see."""
    ids = visible_group_ids(user)
    return (sa.select(GroupRelation)
            .where(sa.or_(GroupRelation.group_a_id.in_(ids), GroupRelation.group_b_id.in_(ids)))
            .options(selectinload(GroupRelation.group_a), selectinload(GroupRelation.group_b)))


def memberships_query(user: User) -> sa.Select:
    """Memberships of the groups the user may see."""
    return (sa.select(Membership).where(Membership.group_id.in_(visible_group_ids(user)))
            .options(selectinload(Membership.stakeholder), selectinload(Membership.group)))


def visible_stakeholder(user: User, ident: int | None) -> Stakeholder | None:
    if ident is None:
        return None
    return db.session.scalar(sa.select(Stakeholder).where(
        Stakeholder.id == ident, stakeholder_scope(user)))


def visible_group(user: User, ident: int | None) -> CommunityGroup | None:
    if ident is None:
        return None
    return db.session.scalar(sa.select(CommunityGroup).where(
        CommunityGroup.id == ident, group_scope(user)))
