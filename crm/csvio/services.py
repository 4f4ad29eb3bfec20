"""CSV import and export: one file per kind of record, one transaction per file.

The format of each kind is `COLUMNS[kind]` (one header row, UTF-8, a BOM tolerated); the
export writes exactly that format, so export -> import round-trips.

An import is checked in full before anything is written: every bad row is reported with its
file line (the header is line 1), column and reason, and a file with any bad row writes
nothing. Imports are idempotent on natural keys: a row whose record exists with equal values
is "unchanged", with different values "updated". References (beats, groups, stakeholders,
officers) are looked up once per file, not once per row.

Services flush and never commit: the CLI command or the web request is the commit boundary.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db
from crm.models import (Beat, CommunityGroup, Contact, ContactGroup, ContactOfficer,
                        ContactStakeholder, District, GroupRelation, Membership, Stakeholder,
                        User)
from crm.vocab import (CHANNELS, CONSENT_STATUSES, GROUP_KINDS, INITIATED_BY, MEMBERSHIP_ROLES,
                       RELATION_TYPES, STANCES)

KINDS = ("beats", "groups", "stakeholders", "memberships", "relations", "contacts")
COLUMNS: dict[str, tuple[str, ...]] = {
    "beats": ("code", "name", "district"),
    "groups": ("name", "kind", "beats", "stance", "size_estimate", "description"),
    "stakeholders": ("external_id", "name", "phone", "email", "language", "consent"),
    "memberships": ("stakeholder", "group", "role"),
    "relations": ("group_a", "group_b", "type", "issue"),
    "contacts": ("occurred_at", "officer", "stakeholders", "groups", "initiated_by", "channel",
                 "note"),
}
# Exports that carry personal data (names, phone numbers, who met whom).
PERSONAL_KINDS = ("stakeholders", "memberships", "contacts")
LIST_SEPARATOR = ";"
IMPORT_KEY_PREFIX = "import:"
# Kept exactly as written (a contact's note is part of its natural key).
FREE_TEXT = frozenset({"description", "issue", "note"})
_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-parameter limit


@dataclass
class RowError:
    line: int  # file line; the header is line 1
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    # Records created on the side, e.g. {"districts": 2} for a beats file.
    also_created: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        if self.errors:
            return f"{self.kind}: {len(self.errors)} problem(s) found; nothing was imported."
        if self.dry_run:
            text = (f"{self.kind} (dry run, nothing written): {self.created} would be created, "
                    f"{self.updated} would be updated, {self.unchanged} unchanged.")
        else:
            text = (f"{self.kind}: {self.created} created, {self.updated} updated, "
                    f"{self.unchanged} unchanged.")
        for what, n in self.also_created.items():
            if n:
                text += f" {n} {what} {'would be ' if self.dry_run else ''}created."
        return text


class _Check:
    """Collects the errors of one import and the per-row checks that produce them."""

    def __init__(self, report: ImportReport, progress: Callable[[int], None] | None):
        self.report = report
        self.progress = progress

    def error(self, line: int, column: str, reason: str) -> None:
        self.report.errors.append(RowError(line, column, reason))

    @property
    def count(self) -> int:
        return len(self.report.errors)

    def rows(self, rows: list[tuple[int, dict]]) -> Iterable[tuple[int, dict]]:
        for line, row in rows:
            yield line, row
            if self.progress:
                self.progress(1)

    def text(self, line: int, row: dict, col: str, column_type=None, *, required=False) -> str | None:
        value = row[col]
        if not value:
            if required:
                self.error(line, col, "is required")
            return None
        length = getattr(getattr(column_type, "type", None), "length", None)
        if length and len(value) > length:
            self.error(line, col, f"is {len(value)} characters long; at most {length} allowed")
            return None
        return value

    def choice(self, line: int, row: dict, col: str, values: tuple[str, ...],
               default: str | None = None) -> str | None:
        value = row[col].lower()
        if not value:
            if default is None:
                self.error(line, col, f"is required (one of {', '.join(values)})")
            return default
        if value not in values:
            self.error(line, col, f"{row[col]!r} is not one of {', '.join(values)}")
            return None
        return value


# ---- reading ------------------------------------------------------------------------------

def _decode(text_or_file) -> tuple[str | None, RowError | None]:
    data = text_or_file.read() if hasattr(text_or_file, "read") else text_or_file
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            return None, RowError(line, "", "the file is not UTF-8 text; save it as “CSV UTF-8”")
    return data.removeprefix("\ufeff"), None


def _parse(kind: str, text: str, check: _Check) -> list[tuple[int, dict]] | None:
    """The data rows as (file line, {column: value}); None when the header is bad.

    Values are stripped of surrounding blanks, except free text, which round-trips as is."""
    expected = COLUMNS[kind]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as e:
        check.error(1, "", f"the header row cannot be read as CSV: {e}")
        return None
    if not header or not any(h.strip() for h in header):
        check.error(1, "", f"the file has no header row; expected: {','.join(expected)}")
        return None
    header = [h.strip().lower() for h in header]
    seen: set[str] = set()
    for h in header:
        if h in seen:
            check.error(1, h, "the column appears twice")
        elif h not in expected:
            check.error(1, h or "(blank)", f"unknown column; expected: {','.join(expected)}")
        seen.add(h)
    for col in expected:
        if col not in seen:
            check.error(1, col, "missing column")
    if check.count:
        return None
    rows: list[tuple[int, dict]] = []
    last = reader.line_num
    try:
        for fields in reader:
            line, last = last + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank line
            if len(fields) != len(header):
                check.error(line, "", f"the row has {len(fields)} fields; the header has {len(header)}")
                continue
            rows.append((line, {h: f if h in FREE_TEXT else f.strip()
                                for h, f in zip(header, fields, strict=True)}))
    except csv.Error as e:
        check.error(last + 1, "", f"the row cannot be read as CSV: {e}; rows after it were not checked")
    return rows


def _split(value: str) -> list[str]:
    """A `;`-separated list, blanks dropped, duplicates removed, order kept."""
    return list(dict.fromkeys(v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()))


def _load(stmt_for: Callable[[list], sa.Select], values: Iterable) -> list:
    """Run `stmt_for(chunk)` for chunks of `values` (one IN list each) and gather the rows."""
    values = list(values)
    out: list = []
    for i in range(0, len(values), _CHUNK):
        out.extend(db.session.scalars(stmt_for(values[i:i + _CHUNK])).all())
    return out


def _groups_by_name(names: Iterable[str]) -> dict[str, CommunityGroup]:
    return {g.name: g for g in _load(
        lambda chunk: sa.select(CommunityGroup).where(CommunityGroup.name.in_(chunk)), set(names))}


class _StakeholderRefs:
    """Resolves references written as an external_id or, for people without one, a unique name."""

    def __init__(self, refs: set[str]):
        self.by_external = {s.external_id: s for s in _load(
            lambda chunk: sa.select(Stakeholder).where(Stakeholder.external_id.in_(chunk)), refs)}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for s in _load(lambda chunk: sa.select(Stakeholder).where(
                Stakeholder.name.in_(chunk), Stakeholder.erased_at.is_(None),
                Stakeholder.merged_into_id.is_(None)), refs):
            self.by_name[s.name].append(s.id)

    def resolve(self, ref: str) -> tuple[int | None, str | None]:
        s = self.by_external.get(ref)
        if s is not None:
            if s.erased_at is not None:
                return None, f"stakeholder {ref!r} was erased"
            if s.merged_into_id is not None:
                return None, f"stakeholder {ref!r} was merged into another record"
            return s.id, None
        ids = self.by_name.get(ref, [])
        if len(ids) == 1:
            return ids[0], None
        if ids:
            return None, (f"{len(ids)} stakeholders are named {ref!r}; "
                          "refer to them by external_id")
        return None, f"unknown stakeholder {ref!r} (neither an external_id nor a name)"


def stakeholder_ref(s: Stakeholder) -> str:
    return s.external_id or s.name


# ---- one planner per kind: check every row, count, and return the writes -----------------

def _first_seen(check: _Check, seen: dict, key, line: int, column: str, what: str) -> bool:
    if key in seen:
        check.error(line, column, f"{what} appears twice (also on line {seen[key]})")
        return False
    seen[key] = line
    return True


def _plan_beats(check: _Check, rows, report: ImportReport) -> Callable[[], None]:
    codes = {r["code"] for _, r in rows if r["code"]}
    beats = {b.code: b for b in _load(lambda c: sa.select(Beat).where(Beat.code.in_(c)), codes)}
    district_codes = {r["district"] for _, r in rows if r["district"]}
    districts = {d.code: d for d in _load(
        lambda c: sa.select(District).where(District.code.in_(c)), district_codes)}
    new_districts: list[str] = []
    creates, updates, seen = [], [], {}
    for line, r in check.rows(rows):
        before = check.count
        code = check.text(line, r, "code", Beat.code, required=True)
        name = check.text(line, r, "name", Beat.name, required=True)
        dcode = check.text(line, r, "district", District.code)
        if check.count > before or not _first_seen(check, seen, code, line, "code", f"beat {code}"):
            continue
        if dcode and dcode not in districts and dcode not in new_districts:
            new_districts.append(dcode)
        beat = beats.get(code)
        if beat is None:
            creates.append((code, name, dcode))
            report.created += 1
        elif (beat.name != name or dcode in new_districts
              or beat.district_id != getattr(districts.get(dcode), "id", None)):
            updates.append((beat, name, dcode))
            report.updated += 1
        else:
            report.unchanged += 1
    report.also_created["districts"] = len(new_districts)

    def apply():
        for dcode in new_districts:
            districts[dcode] = District(code=dcode, name=f"District {dcode}")
            db.session.add(districts[dcode])
        db.session.flush()
        for code, name, dcode in creates:
            db.session.add(Beat(code=code, name=name,
                                district_id=districts[dcode].id if dcode else None))
        for beat, name, dcode in updates:
            beat.name = name
            beat.district_id = districts[dcode].id if dcode else None
    return apply


def _plan_groups(check: _Check, rows, report: ImportReport) -> Callable[[], None]:
    groups = {g.name: g for g in _load(
        lambda c: sa.select(CommunityGroup).options(selectinload(CommunityGroup.beats))
        .where(CommunityGroup.name.in_(c)), {r["name"] for _, r in rows if r["name"]})}
    beat_codes = {code for _, r in rows for code in _split(r["beats"])}
    beats = {b.code: b for b in _load(lambda c: sa.select(Beat).where(Beat.code.in_(c)), beat_codes)}
    creates, updates, seen = [], [], {}
    for line, r in check.rows(rows):
        before = check.count
        name = check.text(line, r, "name", CommunityGroup.name, required=True)
        kind = check.choice(line, r, "kind", GROUP_KINDS, "other")
        stance = check.choice(line, r, "stance", STANCES, "unknown")
        size = None
        if r["size_estimate"]:
            try:
                size = int(r["size_estimate"])
            except ValueError:
                check.error(line, "size_estimate", f"{r['size_estimate']!r} is not a whole number")
            else:
                if size < 0:
                    check.error(line, "size_estimate", "cannot be negative")
        codes = _split(r["beats"])
        unknown = [c for c in codes if c not in beats]
        if unknown:
            check.error(line, "beats", f"unknown beat code(s): {', '.join(unknown)}")
        if check.count > before or not _first_seen(check, seen, name, line, "name", f"group {name!r}"):
            continue
        values = {"kind": kind, "stance": stance, "size_estimate": size,
                  "description": r["description"]}
        group_beats = [beats[c] for c in codes]
        group = groups.get(name)
        if group is None:
            creates.append((name, values, group_beats))
            report.created += 1
        elif (any(getattr(group, k) != v for k, v in values.items())
              or {b.id for b in group.beats} != {b.id for b in group_beats}):
            updates.append((group, values, group_beats))
            report.updated += 1
        else:
            report.unchanged += 1

    def apply():
        for name, values, group_beats in creates:
            db.session.add(CommunityGroup(name=name, beats=group_beats, **values))
        for group, values, group_beats in updates:
            for k, v in values.items():
                setattr(group, k, v)
            if {b.id for b in group.beats} != {b.id for b in group_beats}:
                group.beats = group_beats
    return apply


_STAKEHOLDER_FIELDS = ("name", "phone", "email", "language", "consent_status")


def _plan_stakeholders(check: _Check, rows, report: ImportReport) -> Callable[[], None]:
    by_external = {s.external_id: s for s in _load(
        lambda c: sa.select(Stakeholder).where(Stakeholder.external_id.in_(c)),
        {r["external_id"] for _, r in rows if r["external_id"]})}
    # People without an external_id are known by their name.
    by_name: dict[str, list[Stakeholder]] = defaultdict(list)
    for s in _load(lambda c: sa.select(Stakeholder).where(
            Stakeholder.name.in_(c), Stakeholder.external_id.is_(None),
            Stakeholder.erased_at.is_(None), Stakeholder.merged_into_id.is_(None)),
            {r["name"] for _, r in rows if r["name"] and not r["external_id"]}):
        by_name[s.name].append(s)
    creates, updates, seen = [], [], {}
    for line, r in check.rows(rows):
        before = check.count
        external_id = check.text(line, r, "external_id", Stakeholder.external_id)
        name = check.text(line, r, "name", Stakeholder.name, required=True)
        phone = check.text(line, r, "phone", Stakeholder.phone)
        email = check.text(line, r, "email", Stakeholder.email)
        if email and ("@" not in email or any(ch.isspace() for ch in email)):
            check.error(line, "email", f"{email!r} is not an email address")
        language = check.text(line, r, "language", Stakeholder.language)
        consent = check.choice(line, r, "consent", CONSENT_STATUSES, "not_asked")
        if check.count > before:
            continue
        if external_id:
            if not _first_seen(check, seen, ("external_id", external_id), line, "external_id",
                               f"external_id {external_id!r}"):
                continue
            existing = by_external.get(external_id)
            if existing is not None and existing.erased_at is not None:
                check.error(line, "external_id", "this stakeholder's personal data was erased; "
                            "an import does not bring it back")
                continue
            if existing is not None and existing.merged_into_id is not None:
                check.error(line, "external_id", "this stakeholder was merged into another "
                            "record; import the surviving record instead")
                continue
        else:
            if not _first_seen(check, seen, ("name", name), line, "name",
                               f"stakeholder {name!r} without an external_id"):
                continue
            matches = by_name.get(name, [])
            if len(matches) > 1:
                check.error(line, "name", f"{len(matches)} stakeholders without an external_id "
                            f"are named {name!r}; add an external_id to tell them apart")
                continue
            existing = matches[0] if matches else None
        values = {"name": name, "phone": phone, "email": email, "language": language,
                  "consent_status": consent}
        if existing is None:
            creates.append((external_id, values))
            report.created += 1
        elif any(getattr(existing, k) != v for k, v in values.items()):
            updates.append((existing, values))
            report.updated += 1
        else:
            report.unchanged += 1

    def apply():
        for external_id, values in creates:
            db.session.add(Stakeholder(external_id=external_id, **values))
        for s, values in updates:
            for k, v in values.items():
                setattr(s, k, v)
    return apply


def _plan_memberships(check: _Check, rows, report: ImportReport) -> Callable[[], None]:
    people = _StakeholderRefs({r["stakeholder"] for _, r in rows if r["stakeholder"]})
    groups = _groups_by_name(r["group"] for _, r in rows if r["group"])
    resolved = []
    for line, r in check.rows(rows):
        before = check.count
        sid = None
        if check.text(line, r, "stakeholder", required=True):
            sid, reason = people.resolve(r["stakeholder"])
            if reason:
                check.error(line, "stakeholder", reason)
        gname = check.text(line, r, "group", required=True)
        if gname and gname not in groups:
            check.error(line, "group", f"unknown group {gname!r}")
        role = check.choice(line, r, "role", MEMBERSHIP_ROLES, "member")
        if check.count == before:
            resolved.append((line, sid, groups[gname].id, role))
    existing = {(m.stakeholder_id, m.group_id): m for m in _load(
        lambda c: sa.select(Membership).where(Membership.stakeholder_id.in_(c)),
        {sid for _, sid, _, _ in resolved})}
    creates, updates, seen = [], [], {}
    for line, sid, gid, role in resolved:
        if not _first_seen(check, seen, (sid, gid), line, "stakeholder",
                           "this stakeholder and group pair"):
            continue
        m = existing.get((sid, gid))
        if m is None:
            creates.append((sid, gid, role))
            report.created += 1
        elif m.role != role:
            updates.append((m, role))
            report.updated += 1
        else:
            report.unchanged += 1

    def apply():
        for sid, gid, role in creates:
            db.session.add(Membership(stakeholder_id=sid, group_id=gid, role=role))
        for m, role in updates:
            m.role = role
    return apply


def _current_relations():
    today = date.today()
    return sa.select(GroupRelation).where(
        sa.or_(GroupRelation.ends_on.is_(None), GroupRelation.ends_on >= today))


def _plan_relations(check: _Check, rows, report: ImportReport) -> Callable[[], None]:
    groups = _groups_by_name({r[c] for _, r in rows for c in ("group_a", "group_b") if r[c]})
    existing: dict[tuple, GroupRelation] = {}
    for rel in db.session.scalars(_current_relations().order_by(GroupRelation.id)):
        pair = tuple(sorted((rel.group_a_id, rel.group_b_id)))
        existing.setdefault((*pair, rel.type), rel)
    creates, updates, seen = [], [], {}
    for line, r in check.rows(rows):
        before = check.count
        ids = {}
        for col in ("group_a", "group_b"):
            name = check.text(line, r, col, required=True)
            if name and name not in groups:
                check.error(line, col, f"unknown group {name!r}")
            elif name:
                ids[col] = groups[name].id
        rtype = check.choice(line, r, "type", RELATION_TYPES)
        issue = check.text(line, r, "issue", GroupRelation.issue) or ""
        if len(ids) == 2 and ids["group_a"] == ids["group_b"]:
            check.error(line, "group_b", "a group cannot be related to itself")
        if check.count > before:
            continue
        key = (*sorted((ids["group_a"], ids["group_b"])), rtype)
        if not _first_seen(check, seen, key, line, "group_b",
                           f"the {rtype} relation between these two groups"):
            continue
        rel = existing.get(key)
        if rel is None:
            creates.append((ids["group_a"], ids["group_b"], rtype, issue))
            report.created += 1
        elif rel.issue != issue:
            updates.append((rel, issue))
            report.updated += 1
        else:
            report.unchanged += 1

    def apply():
        for a, b, rtype, issue in creates:
            db.session.add(GroupRelation(group_a_id=a, group_b_id=b, type=rtype, issue=issue))
        for rel, issue in updates:
            rel.issue = issue
    return apply


def parse_when(value: str) -> datetime:
    """An ISO date (meaning 12:00) or datetime; an offset is converted to naive UTC."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(12, 0))
    when = datetime.fromisoformat(value)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def contact_natural_key(occurred_at: datetime, officer_id: int, note: str,
                        group_ids: Iterable[int], stakeholder_ids: Iterable[int]) -> tuple:
    return (occurred_at, officer_id, note or "", tuple(sorted(group_ids)),
            tuple(sorted(stakeholder_ids)))


def contact_import_key(natural_key: tuple) -> str:
    """Deterministic idempotency key: "import:" + sha256 of the natural key (fits 64 chars)."""
    occurred_at, officer_id, note, group_ids, stakeholder_ids = natural_key
    payload = "\x1f".join([occurred_at.isoformat(), str(officer_id), note,
                           ",".join(map(str, group_ids)), ",".join(map(str, stakeholder_ids))])
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return (IMPORT_KEY_PREFIX + digest)[:64]


def _plan_contacts(check: _Check, rows, report: ImportReport) -> Callable[[], None]:
    officers = {u.username: u for u in _load(
        lambda c: sa.select(User).where(User.username.in_(c)),
        {r["officer"].lower() for _, r in rows if r["officer"]})}
    people = _StakeholderRefs({ref for _, r in rows for ref in _split(r["stakeholders"])})
    groups = _groups_by_name(name for _, r in rows for name in _split(r["groups"]))
    latest = utcnow() + timedelta(days=1)
    resolved = []
    for line, r in check.rows(rows):
        before = check.count
        when = None
        if check.text(line, r, "occurred_at", required=True):
            try:
                when = parse_when(r["occurred_at"])
            except ValueError:
                check.error(line, "occurred_at", f"{r['occurred_at']!r} is not an ISO date "
                            "(2024-05-31) or date and time (2024-05-31T14:30)")
            else:
                if when > latest:
                    check.error(line, "occurred_at", "is in the future")
        officer = None
        if check.text(line, r, "officer", required=True):
            officer = officers.get(r["officer"].lower())
            if officer is None:
                check.error(line, "officer", f"unknown username {r['officer']!r}")
        sids = []
        for ref in _split(r["stakeholders"]):
            sid, reason = people.resolve(ref)
            if reason:
                check.error(line, "stakeholders", reason)
            sids.append(sid)
        unknown = [g for g in _split(r["groups"]) if g not in groups]
        if unknown:
            check.error(line, "groups", f"unknown group(s): {', '.join(map(repr, unknown))}")
        initiated_by = check.choice(line, r, "initiated_by", INITIATED_BY)
        channel = check.choice(line, r, "channel", CHANNELS)
        if check.count > before:
            continue
        gids = sorted({groups[g].id for g in _split(r["groups"])})
        key = contact_natural_key(when, officer.id, r["note"], gids, set(sids))
        resolved.append((line, key, initiated_by, channel))

    # Existing contacts, matched by import key or by natural key (contacts logged in the app).
    by_key = {c.idempotency_key: c for c in _load(
        lambda c: sa.select(Contact).options(selectinload(Contact.group_links))
        .where(Contact.idempotency_key.in_(c)),
        {contact_import_key(k) for _, k, _, _ in resolved})}
    by_natural: dict[tuple, Contact] = {}
    if resolved:
        whens = [k[0] for _, k, _, _ in resolved]
        officer_ids = {k[1] for _, k, _, _ in resolved}
        for c in _load(lambda chunk: sa.select(Contact).options(
                selectinload(Contact.group_links), selectinload(Contact.stakeholder_links))
                .where(Contact.logged_by_id.in_(chunk),
                       Contact.occurred_at.between(min(whens), max(whens)))
                .order_by(Contact.id), officer_ids):
            nk = contact_natural_key(c.occurred_at, c.logged_by_id, c.note,
                                     [link.group_id for link in c.group_links],
                                     [link.stakeholder_id for link in c.stakeholder_links])
            by_natural.setdefault(nk, c)
    creates, updates, seen = [], [], {}
    for line, key, initiated_by, channel in resolved:
        if not _first_seen(check, seen, key, line, "", "the same contact (time, officer, "
                           "note, groups and stakeholders)"):
            continue
        c = by_key.get(contact_import_key(key)) or by_natural.get(key)
        if c is None:
            creates.append((key, initiated_by, channel))
            report.created += 1
        elif (c.initiated_by, c.channel) != (initiated_by, channel):
            updates.append((c, initiated_by, channel))
            report.updated += 1
        else:
            report.unchanged += 1

    def apply():
        for key, initiated_by, channel in creates:
            when, officer_id, note, gids, sids = key
            c = Contact(occurred_at=when, channel=channel, initiated_by=initiated_by, note=note,
                        logged_by_id=officer_id, idempotency_key=contact_import_key(key))
            c.officer_links = [ContactOfficer(user_id=officer_id, occurred_at=when)]
            c.group_links = [ContactGroup(group_id=g, occurred_at=when, initiated_by=initiated_by)
                             for g in gids]
            c.stakeholder_links = [ContactStakeholder(stakeholder_id=s, occurred_at=when)
                                   for s in sids]
            db.session.add(c)
        for c, initiated_by, channel in updates:
            c.initiated_by, c.channel = initiated_by, channel
            for link in c.group_links:
                link.initiated_by = initiated_by
    return apply


_PLANNERS = {
    "beats": _plan_beats, "groups": _plan_groups, "stakeholders": _plan_stakeholders,
    "memberships": _plan_memberships, "relations": _plan_relations, "contacts": _plan_contacts,
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(KINDS)}"})


def import_csv(actor, kind: str, text_or_file, *, dry_run: bool = False, ip: str = "",
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Check and import one CSV file of `kind` (text, bytes or a file object).

    Bad rows raise nothing: they are listed in `report.errors` and nothing is written.
    With `dry_run` the report says what would be created and updated, and nothing is written.
    `progress(n)` is called as rows are checked (the CLI's progress bar).
    """
    _check_kind(kind)
    report = ImportReport(kind=kind, dry_run=dry_run)
    check = _Check(report, progress)
    text, decode_error = _decode(text_or_file)
    if decode_error:
        report.errors.append(decode_error)
        return report
    rows = _parse(kind, text, check)
    if rows is None:
        return report
    with db.session.no_autoflush:
        apply = _PLANNERS[kind](check, rows, report)
    if report.errors:
        return _failed(report)
    if dry_run:
        return report
    try:
        with db.session.begin_nested():  # a SAVEPOINT: a refused write leaves nothing behind
            apply()
            db.session.flush()
    except (sa.exc.IntegrityError, sa.exc.DataError) as e:
        report.errors.append(RowError(0, "", "the database refused the import "
                                      f"({type(getattr(e, 'orig', e)).__name__}); "
                                      "nothing was imported, please try again"))
        return _failed(report)
    record_event(actor, "csv.import", object_type=kind, ip=ip,
                 detail={"kind": kind, "created": report.created, "updated": report.updated,
                         "unchanged": report.unchanged, **{f"{k}_created": n for k, n in
                                                           report.also_created.items() if n}})
    return report


def _failed(report: ImportReport) -> ImportReport:
    report.errors.sort(key=lambda e: e.line)
    report.created = report.updated = report.unchanged = 0
    report.also_created = {}
    return report


# ---- export -------------------------------------------------------------------------------

def _export_rows(kind: str, actor=None) -> Iterable[list]:
    """Rows of `kind`; for a signed-in user only what crm.access lets them see (the CLI,
    run by whoever operates the server, has no actor and exports everything)."""
    from crm.access import contact_scope, group_scope, stakeholder_scope

    def scope(fn):
        return fn(actor) if actor is not None else sa.true()

    s = db.session
    if kind == "beats":
        for b in s.scalars(sa.select(Beat).options(selectinload(Beat.district)).order_by(Beat.code)):
            yield [b.code, b.name, b.district.code if b.district else ""]
    elif kind == "groups":
        for g in s.scalars(sa.select(CommunityGroup).where(scope(group_scope))
                           .options(selectinload(CommunityGroup.beats))
                           .order_by(CommunityGroup.name)):
            yield [g.name, g.kind, LIST_SEPARATOR.join(b.code for b in g.beats), g.stance,
                   "" if g.size_estimate is None else g.size_estimate, g.description]
    elif kind == "stakeholders":
        for p in s.scalars(_live_stakeholders().where(scope(stakeholder_scope))
                           .order_by(Stakeholder.id)):
            yield [p.external_id or "", p.name, p.phone or "", p.email or "", p.language or "",
                   p.consent_status]
    elif kind == "memberships":
        live = _live_stakeholders().where(scope(stakeholder_scope)).subquery()
        for m in s.scalars(sa.select(Membership).join(live, live.c.id == Membership.stakeholder_id)
                           .options(selectinload(Membership.stakeholder),
                                    selectinload(Membership.group)).order_by(Membership.id)):
            yield [stakeholder_ref(m.stakeholder), m.group.name, m.role]
    elif kind == "relations":
        for rel in s.scalars(_current_relations().options(
                selectinload(GroupRelation.group_a), selectinload(GroupRelation.group_b))
                .order_by(GroupRelation.id)):
            yield [rel.group_a.name, rel.group_b.name, rel.type, rel.issue]
    elif kind == "contacts":
        for c in s.scalars(sa.select(Contact).where(scope(contact_scope)).options(
                selectinload(Contact.logged_by),
                selectinload(Contact.group_links).selectinload(ContactGroup.group),
                selectinload(Contact.stakeholder_links).selectinload(ContactStakeholder.stakeholder))
                .order_by(Contact.occurred_at, Contact.id)):
            yield [c.occurred_at.isoformat(), c.logged_by.username,
                   LIST_SEPARATOR.join(sorted(stakeholder_ref(p) for p in c.stakeholders)),
                   LIST_SEPARATOR.join(sorted(g.name for g in c.groups)),
                   c.initiated_by, c.channel, c.note]


def _live_stakeholders() -> sa.Select:
    """Stakeholders that still hold personal data: not erased, not merged away."""
    return sa.select(Stakeholder).where(Stakeholder.erased_at.is_(None),
                                        Stakeholder.merged_into_id.is_(None))


def export_csv(actor, kind: str, *, ip: str = "") -> str:
    """Every record of `kind` as CSV in the import format; the export is audited."""
    _check_kind(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[kind])
    n = 0
    for row in _export_rows(kind, actor):
        writer.writerow(row)
        n += 1
    record_event(actor, "csv.export", object_type=kind, ip=ip,
                 detail={"kind": kind, "rows": n, "personal_data": kind in PERSONAL_KINDS})
    return out.getvalue()
