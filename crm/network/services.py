"""Adapter between the database and `analytics/`: set-based loaders, a cache, JSON documents.

Every analytic is reached through `compute(name, ...)`, which the CLI (`flask crm analytics`),
the API (`/api/v1/analytics/<name>`) and the pages share, so all three give the same document.
Loaders read whole tables in a few set-based queries (no per-row queries). Results are cached
per process and keyed by the `DataVersion` counters of the inputs they depend on, which every
committed ORM change bumps (see `bump_after_commit`); bulk writers that bypass the ORM
(seeding) call `bump_versions()` themselves.

Web requests do not call `compute` for the network analytics (overlap, factions, brokers,
introductions, the network layout): background jobs do, and the pages read the stored
results (`crm.network.results`, keyed by the finer counters in `FINE_DEPENDS`). Coverage and
hard-to-engage are still computed here on request; their loaders (`load_engagement_inputs`,
`load_officer_counts`, `load_officer_beats`, `load_groups`) are kept apart for the
engagement facts (`crm.facts`) to replace.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm.util import identity_key

import analytics
from crm.db import fetch_raw, listen_on_sessions
from crm.extensions import db
from crm.models import (
    Beat,
    BeatAssignment,
    CaseParticipant,
    CommunityGroup,
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    DataVersion,
    GroupRelation,
    Membership,
    ProblemCase,
    RelationshipStageChange,
    Stakeholder,
    User,
    group_beats,
)
from crm.network import live_share
from crm.timezones import (
    day_end_utc,
    iso_local,
    local_date,
    local_today,
    local_wall,
    window_utc,
    zone_name,
)

NAMES = ("overlap", "factions", "brokers", "introductions", "hard-to-engage", "coverage")
ENGAGING = ("proactive", "requested")
STRONG_STAGES = ("working_relationship", "collaborating_partner")

# Answered from the engagement facts (crm.facts), fresh on the next page load after any write.
# Pages and the API keep them per process by their change counters (`compute(live_cache=True)`:
# a contact bumps 'contacts' before its POST answers, so the next load recomputes, ~10 ms);
# everyone else (the CLI, the tests) computes them every time.
LIVE = ("hard-to-engage", "coverage")
# Which change counters each analytic depends on. 'network' and 'contacts' are the coarse
# families (any change of groups, members, relations, stakeholders, beats / of contacts and
# cases); the finer ones key the background results (crm.network.results), so that a contact
# logged every few seconds does not throw away overlap, factions and brokers.
DEPENDS = {
    "overlap": ("network",), "factions": ("network",), "brokers": ("network",),
    "introductions": ("network", "contacts"), "hard-to-engage": ("network", "contacts"),
    # coverage also names officers and follows their beat assignments ('staff').
    "coverage": ("network", "contacts", "staff"), "network-layout": ("network",),
}
FINE_DEPENDS = {
    "overlap": ("memberships", "groups"),
    "factions": ("memberships", "relations", "groups"),
    "brokers": ("memberships", "groups"),
    # links: which officers have a working relationship with which stakeholders.
    "introductions": ("memberships", "groups", "links"),
    "network-layout": ("memberships", "relations", "groups"),
}
# A coarse bump (bulk writers, seeding) implies every finer family under it.
_IMPLIES = {"network": ("memberships", "relations", "groups", "links"), "contacts": ("links",)}
_NETWORK_MODELS = (CommunityGroup, Membership, GroupRelation, Stakeholder, Beat)
_CONTACT_MODELS = (Contact, ContactGroup, ContactOfficer, ContactStakeholder, ProblemCase,
                   CaseParticipant, RelationshipStageChange)


# ---------------------------------------------------------------- change tracking

def _with_implied(names) -> list[str]:
    out = set(names)
    for name in names:
        out.update(_IMPLIES.get(name, ()))
    return sorted(out)


def bump_versions(*names: str) -> None:
    """Advance the named counters (and the finer ones they imply) inside the current transaction."""
    db.session.flush()
    _bump(db.session.connection(), _with_implied(names))


def _changed(obj, *attrs: str) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


def _fine_families(session, obj, is_new_or_deleted: bool) -> tuple[str, ...]:
    """The finer families one flushed object touches (only what the network analytics read)."""
    if isinstance(obj, Membership):
        return ("memberships",)
    if isinstance(obj, GroupRelation):
        return ("relations",)
    if isinstance(obj, Beat):
        return ("groups",)
    if isinstance(obj, CommunityGroup):
        # A contact moves a group's stage; only names and beats reach the network documents.
        return ("groups",) if is_new_or_deleted or _changed(obj, "name", "beats") else ()
    if isinstance(obj, Stakeholder):
        if is_new_or_deleted:
            # Deleted: its memberships and links go. New: nobody's member yet, and the
            # memberships that follow bump on their own. (Not `obj in session.new`: that
            # builds the set of every new object per call, quadratic in a bulk import.)
            return ("memberships", "links") if obj in session.deleted else ()
        out = ()
        if _changed(obj, "erased_at", "merged_into_id"):
            out += ("memberships", "links")
        if _changed(obj, "stage"):
            out += ("links",)
        return out
    if isinstance(obj, ContactStakeholder) and is_new_or_deleted:
        # A new officer-stakeholder link matters only for stakeholders at a strong stage.
        person = session.identity_map.get(identity_key(Stakeholder, obj.stakeholder_id))
        return ("links",) if person is None or person.stage in STRONG_STAGES else ()
    return ()


def note_changes(session, _flush_context):
    """Remember which input families this transaction touched; bumped once it commits."""
    touched = session.info.setdefault("crm_touched", set())
    fresh = set(session.new) | set(session.deleted)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _NETWORK_MODELS):
            touched.add("network")
        elif isinstance(obj, _CONTACT_MODELS):
            touched.add("contacts")
        elif isinstance(obj, BeatAssignment) or (
                isinstance(obj, User) and (obj in fresh or _changed(obj, "display_name"))):
            touched.add("staff")  # who works which beat, and officers' names (coverage)
            continue
        else:
            continue
        touched.update(_fine_families(session, obj, obj in fresh))


def bump_before_commit(session):
    """Bump as the committing transaction's last statement: the counters and the data they
    describe become visible together, and a contact's POST commits once, instead of a second
    transaction after it (on SQLite a second wait for the single writer, on PostgreSQL a second
    commit). The counter rows are locked only for the commit itself; concurrent writers are
    already serialised by the audit chain's lock at that point. A reader that read the old
    version caches under it, which the commit retires: never stale."""
    if session.in_nested_transaction():
        return  # a SAVEPOINT is released; the real commit is still to come
    session.flush()  # the last changes note their families first
    touched = session.info.pop("crm_touched", None)
    if touched:
        _bump(session.connection(), sorted(touched))


def bump_after_commit(session):
    """Whatever the commit's own final flush touched after `bump_before_commit` (normally
    nothing), in a short transaction of its own."""
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released; the real commit is still to come
    touched = session.info.pop("crm_touched", None)
    if not touched:
        return
    engine = session.get_bind()
    with engine.begin() as conn:
        _bump(conn, sorted(touched))


def _bump(conn, names: list[str]) -> None:
    """One UPDATE for all the counters; the missing ones (a fresh database) are created."""
    if has_request_context():
        g.pop("crm_versions", None)  # a bulk writer bumped mid-request: read them again
    updated = conn.execute(sa.update(DataVersion).where(DataVersion.name.in_(names))
                           .values(version=DataVersion.version + 1)).rowcount
    if updated < len(names):
        have = set(conn.scalars(sa.select(DataVersion.name).where(DataVersion.name.in_(names))))
        conn.execute(sa.insert(DataVersion), [{"name": n, "version": 1} for n in names
                                              if n not in have])


def forget_changes(session):
    if not session.in_nested_transaction():
        session.info.pop("crm_touched", None)


def current_versions(names: tuple[str, ...]) -> tuple[int, ...]:
    """The named change counters. In a web request all of them are read once and kept until
    the request bumps any (normally at its commit): the coverage page asked twice, once per
    answer."""
    if has_request_context():
        rows = g.get("crm_versions")
        if rows is None:
            rows = g.crm_versions = dict(db.session.execute(
                sa.select(DataVersion.name, DataVersion.version)).all())
    else:
        rows = dict(db.session.execute(sa.select(DataVersion.name, DataVersion.version)
                                       .where(DataVersion.name.in_(names))).all())
    return tuple(rows.get(n, 0) for n in names)


class LRU:
    """A small thread-safe per-process LRU (`get_or_compute`, `clear`): computed documents here,
    drawings and beat lists in crm.network.pages. tests/conftest.py empties every one."""

    def __init__(self, size: int = 64):
        self.size, self._data, self._lock = size, OrderedDict(), threading.Lock()

    def get_or_compute(self, key, fn: Callable[[], dict]) -> dict:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = fn()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def get_for(self, doc, key: tuple, make: Callable[[], object]):
        """`make()`, derived from `doc`, once per (document, key) while both are kept: a kept
        live document is the same object until the next write, so what is derived from it is
        as fresh. The entry holds `doc`, so its id cannot pass to another document."""
        kept, value = self.get_or_compute((id(doc), *key), lambda: (doc, make()))
        return value if kept is doc else make()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


cache = LRU(64)  # documents, keyed by analytic, parameters and data versions


# ---------------------------------------------------------------- loaders (set-based)

def _today() -> date:
    """The department's today (crm.timezones): windows and "current" follow its calendar."""
    return local_today()


def _current(model, on: date):
    return sa.or_(model.ends_on.is_(None), model.ends_on >= on)



def _dt(value) -> datetime | None:
    """SQLite hands back raw timestamps as ISO text; PostgreSQL as datetimes."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def load_membership_arrays(on: date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Current memberships of stakeholders who are not erased or merged, as two id arrays."""
    on = on or _today()
    gone = sa.select(Stakeholder.id).where(sa.or_(Stakeholder.erased_at.is_not(None),
                                                  Stakeholder.merged_into_id.is_not(None)))
    q = (sa.select(Membership.stakeholder_id, Membership.group_id)
         .where(_current(Membership, on), Membership.stakeholder_id.not_in(gone)))
    if db.session.get_bind().dialect.name == "postgresql":
        return _copy_id_pairs(q)
    rows = fetch_raw(db.session, q)
    # fromiter over the flattened tuples is ~100x faster than np.asarray on Row objects.
    flat = np.fromiter(itertools.chain.from_iterable(rows), np.int64, 2 * len(rows))
    pairs = flat.reshape(-1, 2)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


# A binary COPY row of two bigints: field count, then each field's length and value.
_PAIR_ROW = np.dtype([("fields", ">i2"), ("len_a", ">i4"), ("a", ">i8"),
                      ("len_b", ">i4"), ("b", ">i8")])


def _copy_id_pairs(stmt: sa.Select) -> tuple[np.ndarray, np.ndarray]:
    """The two non-null integer columns of `stmt` as int64 arrays, through PostgreSQL's
    binary COPY read by numpy: no Python object per row (fetchall makes 2 ints and a tuple
    per membership, most of a 3,000,000-row load). `stmt`'s parameters must be plain
    numbers and dates (rendered as literals, as `fetch_raw` does)."""
    conn = db.session.connection()
    a, b = stmt.selected_columns
    stmt = stmt.with_only_columns(sa.cast(a, sa.BigInteger), sa.cast(b, sa.BigInteger))
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    buf = bytearray()
    with conn.connection.dbapi_connection.cursor() as cur, \
            cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)") as copy:
        for block in copy:
            buf += block
    # Header: 11-byte signature, flags, extension length (and extension); trailer: -1.
    start = 19 + int.from_bytes(buf[15:19], "big")
    body = memoryview(buf)[start:len(buf) - 2]
    rows = np.frombuffer(body, dtype=_PAIR_ROW)
    if not (buf[:11] == b"PGCOPY\n\xff\r\n\x00" and len(body) % _PAIR_ROW.itemsize == 0
            and (rows["fields"] == 2).all() and (rows["len_a"] == 8).all()
            and (rows["len_b"] == 8).all()):
        raise RuntimeError("unexpected COPY BINARY layout for two bigint columns")
    return rows["a"].astype(np.int64), rows["b"].astype(np.int64)


# The current membership arrays, one entry per process: see `membership_arrays`.
_memberships = LRU(1)
_memberships_lock = threading.Lock()


def membership_arrays(on: date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`load_membership_arrays`, loaded once per process for each version of the memberships.

    Overlap, factions, brokers, introductions and the layouts that a worker computes after a
    change then share one load (3,000,000 rows at xlarge: seconds each) instead of one each.
    Keyed by the database, the 'memberships' counter and the day; one load at a time, so
    worker threads asking together wait for it instead of loading it again. The arrays are
    read-only: every analytic gets the same ones. A transaction with writes of its own not yet
    counted reads the database (it sees rows the counter does not describe yet).
    """
    on = on or _today()
    if db.session.info.get("crm_touched"):
        return load_membership_arrays(on)
    key = (str(db.engine.url), current_versions(("memberships",)), on)

    def load():
        arrays = load_membership_arrays(on)
        for a in arrays:
            a.flags.writeable = False
        return arrays

    with _memberships_lock:
        return _memberships.get_or_compute(key, load)


def load_group_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(CommunityGroup.id, CommunityGroup.name)).all())


# Up to this many groups are named in an IN list; beyond it the whole table is read.
BY_ID_LIMIT = 2000


def load_open_cases(group_ids: list[int] | None = None) -> dict[int, int]:
    """Open problem-solving cases per group (of `group_ids` only, when given)."""
    q = (sa.select(CaseParticipant.group_id, sa.func.count(sa.distinct(CaseParticipant.case_id)))
         .join(ProblemCase, ProblemCase.id == CaseParticipant.case_id)
         .where(ProblemCase.stage != "closed", CaseParticipant.group_id.is_not(None))
         .group_by(CaseParticipant.group_id))
    if group_ids is not None and len(group_ids) <= BY_ID_LIMIT:
        q = q.where(CaseParticipant.group_id.in_(group_ids))
    return dict(db.session.execute(q).all())


def load_groups(on: date | None = None) -> list[analytics.GroupInfo]:
    beats: dict[int, list[int]] = {}
    for gid, bid in db.session.execute(sa.select(group_beats.c.group_id, group_beats.c.beat_id)):
        beats.setdefault(gid, []).append(bid)
    open_cases = load_open_cases()
    rows = db.session.execute(sa.select(
        CommunityGroup.id, CommunityGroup.name, CommunityGroup.stance,
        CommunityGroup.size_estimate, CommunityGroup.contact_interval_days)).all()
    return [analytics.GroupInfo(id=i, name=n, stance=s, size_estimate=z,
                                beat_ids=tuple(sorted(beats.get(i, ()))),
                                contact_interval_days=iv, open_cases=open_cases.get(i, 0))
            for i, n, s, z, iv in rows]


def load_relations(on: date | None = None, types: tuple[str, ...] | None = None,
                   group_ids: list[int] | None = None) -> list[analytics.Relation]:
    """Current relations (of `types`; touching one of `group_ids`, when given)."""
    on = on or _today()
    q = (sa.select(GroupRelation.group_a_id, GroupRelation.group_b_id, GroupRelation.type,
                   GroupRelation.issue)
         .where(_current(GroupRelation, on),
                sa.or_(GroupRelation.starts_on.is_(None), GroupRelation.starts_on <= on)))
    if types:
        q = q.where(GroupRelation.type.in_(types))
    if group_ids is not None and len(group_ids) <= BY_ID_LIMIT:
        q = q.where(sa.or_(GroupRelation.group_a_id.in_(group_ids),
                           GroupRelation.group_b_id.in_(group_ids)))
    rows = db.session.execute(q).all()
    return [analytics.Relation(a, b, t, i or None) for a, b, t, i in rows]


def group_contact_facts_query(as_of: datetime, *group_columns) -> sa.Select:
    """Per group: last contact of any kind and last proactive or requested contact.

    Each value is a correlated MAX over the (group_id[, initiated_by], occurred_at) indexes,
    so the database answers with three index seeks per group instead of a scan. Without
    `group_columns` this is the lower bound the benchmark compares `hard_to_engage` against.
    """
    cg = ContactGroup.__table__

    def last(*initiated):
        q = sa.select(sa.func.max(cg.c.occurred_at)).where(
            cg.c.group_id == CommunityGroup.id, cg.c.occurred_at <= as_of)
        if initiated:
            q = q.where(cg.c.initiated_by == initiated[0])
        return q.correlate(CommunityGroup).scalar_subquery()

    return sa.select(CommunityGroup.id, last(), last("proactive"), last("requested"),
                     *group_columns)


def load_engagement_inputs(as_of: datetime, days: int, beat_ids: list[int] | None = None
                           ) -> tuple[list[analytics.GroupInfo],
                                      dict[int, analytics.GroupContactFacts]]:
    """Groups and their contact facts for hard-to-engage.

    First the per-group facts (the benchmark's lower-bound query, unchanged); groups with a
    proactive or requested contact inside the window can never be flagged and are dropped
    there. Only the remaining candidates get their attributes, open cases and latest stage
    change, by id, so the extra work scales with the groups that need attention."""
    from crm.facts.services import group_last_rows

    window_start = window_utc(local_date(as_of), days)[0]  # whole local days ending with as_of
    # The engagement facts (one row per group, kept current by every contact write) answer
    # any moment after the latest contact; an earlier as_of is read from the records.
    rows = group_last_rows(as_of, beat_ids)
    if rows is None:
        q = group_contact_facts_query(as_of)
        if beat_ids is not None:
            q = q.where(CommunityGroup.id.in_(sa.select(group_beats.c.group_id)
                                              .where(group_beats.c.beat_id.in_(beat_ids))))
        rows = fetch_raw(db.session, q)
    # ISO text compares like the datetime it holds, so engaged groups are skipped unparsed.
    start_key = window_start.isoformat(sep=" ") if db.engine.dialect.name == "sqlite" else window_start
    candidates = [row for row in rows
                  if not ((row[2] is not None and row[2] > start_key)
                          or (row[3] is not None and row[3] > start_key))]
    if not candidates:
        return [], {}
    ids = [row[0] for row in candidates]
    attrs = {gid: rest for gid, *rest in db.session.execute(sa.select(
        CommunityGroup.id, CommunityGroup.name, CommunityGroup.stance,
        CommunityGroup.size_estimate, CommunityGroup.contact_interval_days)
        .where(CommunityGroup.id.in_(ids)))}
    latest = (sa.select(sa.func.max(RelationshipStageChange.id))
              .where(RelationshipStageChange.group_id.in_(ids),
                     RelationshipStageChange.changed_at <= as_of)
              .group_by(RelationshipStageChange.group_id))
    stages = {gid: (to, frm) for gid, frm, to in db.session.execute(
        sa.select(RelationshipStageChange.group_id, RelationshipStageChange.from_stage,
                  RelationshipStageChange.to_stage)
        .where(RelationshipStageChange.id.in_(latest)))}
    open_cases = load_open_cases(ids)
    groups, facts = [], {}
    for gid, last_any, last_pro, last_req in candidates:
        name, stance, size, interval = attrs[gid]
        last_any, last_pro, last_req = _dt(last_any), _dt(last_pro), _dt(last_req)
        groups.append(analytics.GroupInfo(id=gid, name=name, stance=stance, size_estimate=size,
                                          contact_interval_days=interval,
                                          open_cases=open_cases.get(gid, 0)))
        engaging = max((d for d in (last_pro, last_req) if d is not None), default=None)
        # With no engaging contact in the window, any contact in it was reactive.
        in_win = int(last_any is not None and last_any > window_start)
        st = stages.get(gid, (None, None))
        # analytics counts calendar days with .date(): it gets local wall-clock times.
        facts[gid] = analytics.GroupContactFacts(
            group_id=gid, last_contact_at=local_wall(last_any),
            last_engaging_at=local_wall(engaging), contacts_in_window=in_win,
            reactive_in_window=in_win if engaging is None or engaging <= window_start else 0,
            last_stage=st[0], previous_stage=st[1])
    return groups, facts


def load_officer_counts(as_of: datetime, days: int) -> list[analytics.OfficerContactCount]:
    start = window_utc(local_date(as_of), days)[0]  # whole local days ending with as_of
    co, cg, c = ContactOfficer.__table__, ContactGroup.__table__, Contact.__table__
    # Drive from the contacts' occurred_at index (the window), then primary-key lookups.
    q = (sa.select(co.c.user_id, c.c.beat_id, cg.c.group_id, c.c.initiated_by, sa.func.count())
         .select_from(c.join(co, co.c.contact_id == c.c.id).join(cg, cg.c.contact_id == c.c.id))
         .where(c.c.occurred_at > start, c.c.occurred_at <= as_of)
         .group_by(co.c.user_id, c.c.beat_id, cg.c.group_id, c.c.initiated_by))
    return [analytics.OfficerContactCount(o, b, g, i, n) for o, b, g, i, n in db.session.execute(q)]


def load_officer_beats(on: date | None = None) -> dict[int, list[int]]:
    from crm.models import BeatAssignment
    on = on or _today()
    out: dict[int, list[int]] = {}
    for uid, bid in db.session.execute(
        sa.select(BeatAssignment.user_id, BeatAssignment.beat_id)
        .where(BeatAssignment.starts_on <= on, _current(BeatAssignment, on))):
        out.setdefault(uid, []).append(bid)
    return out


def load_officer_links(as_of: datetime) -> list[analytics.OfficerLink]:
    """Officers and the stakeholders they have a working relationship with (by stage)."""
    cs, co = ContactStakeholder.__table__, ContactOfficer.__table__
    q = (sa.select(co.c.user_id, Stakeholder.id, Stakeholder.stage, sa.func.max(cs.c.occurred_at))
         .select_from(Stakeholder.__table__.join(cs, cs.c.stakeholder_id == Stakeholder.id)
                      .join(co, co.c.contact_id == cs.c.contact_id))
         .where(Stakeholder.stage.in_(STRONG_STAGES), Stakeholder.erased_at.is_(None),
                cs.c.occurred_at <= as_of)
         .group_by(co.c.user_id, Stakeholder.id, Stakeholder.stage))
    return [analytics.OfficerLink(o, s, st, at) for o, s, st, at in db.session.execute(q)]


# ---------------------------------------------------------------- documents

def _ref(names: dict[int, str], gid: int) -> dict:
    return {"id": gid, "name": names.get(gid, f"Group #{gid}")}


def _group_filter(beat_ids: list[int] | None) -> set[int] | None:
    if beat_ids is None:
        return None
    return set(db.session.scalars(sa.select(group_beats.c.group_id)
                                  .where(group_beats.c.beat_id.in_(beat_ids))))


def _overlap(p) -> dict:
    s, g = membership_arrays()
    res = analytics.overlap(s, g)
    names, keep = load_group_names(), _group_filter(p["beat_ids"])
    # The first `limit` pairs (touching the beats' groups) picked on the arrays: `res.pairs`
    # would build every pair as an object first (millions at xlarge, most of the cost).
    rows = np.arange(len(res))
    if keep is not None:
        wanted = np.fromiter(keep, np.int64, len(keep))
        rows = rows[np.isin(res.group_a, wanted) | np.isin(res.group_b, wanted)]
    if p["limit"]:
        rows = rows[:p["limit"]]
    pairs = [{"group_a": _ref(names, a), "group_b": _ref(names, b), "shared": n,
              "jaccard": round(j, 6)}
             for a, b, n, j in zip(res.group_a[rows].tolist(), res.group_b[rows].tolist(),
                                   res.shared[rows].tolist(), res.jaccard[rows].tolist(),
                                   strict=True)]
    return {"pair_count": len(res), "pairs": pairs}


def _factions(p) -> dict:
    s, g = membership_arrays()
    relations = load_relations()
    # Memberships as one (n, 2) array: mediators are found in numpy, no tuple per row.
    res = analytics.factions(relations, np.column_stack((s, g)), seed=0)
    names, keep = load_group_names(), _group_filter(p["beat_ids"])
    issues = {frozenset((r.group_a, r.group_b)): r.issue for r in relations}
    factions = [f for f in res.factions if keep is None or keep.intersection(f)]
    return {
        "factions": [{"groups": [_ref(names, gid) for gid in f]} for f in factions],
        "frustrated": [{"group_a": _ref(names, r.group_a), "group_b": _ref(names, r.group_b),
                        "type": r.type, "issue": issues.get(frozenset((r.group_a, r.group_b)))}
                       for r in res.frustrated
                       if keep is None or r.group_a in keep or r.group_b in keep],
        "frustration": res.frustration,
        "triangle_balance": res.triangle_balance,
        "exact": res.exact,
        "mediators": [{"stakeholder": {"id": m.stakeholder_id}, "group_a": _ref(names, m.group_a),
                       "group_b": _ref(names, m.group_b)} for m in res.mediators
                      if keep is None or m.group_a in keep or m.group_b in keep],
    }


def _brokers(p) -> dict:
    s, g = membership_arrays()
    res = analytics.brokers(s, g, k=100, seed=0, top=p["limit"] or 25)
    names = load_group_names()
    out = []
    for b in res.brokers:
        item = b.to_dict()
        item["name"] = names.get(b.id) if b.kind == "group" else f"Stakeholder #{b.id}"
        out.append(item)
    return {"brokers": out, "exact": res.exact, "sources": res.sources, "nodes": res.nodes,
            "shrunk_nodes": res.shrunk_nodes}


def _hard_to_engage(p) -> dict:
    groups, facts = load_engagement_inputs(p["as_of_dt"], p["days"], p["beat_ids"])
    # Only competing relations weigh on engagement priority, and only the candidates' count.
    relations = load_relations(types=("competing",), group_ids=[g.id for g in groups])
    res = analytics.hard_to_engage(groups, facts, relations, as_of=p["as_of"], days=p["days"])
    names = {gi.id: gi.name for gi in groups}
    flags = res.groups[: p["limit"]] if p["limit"] else res.groups
    return {"as_of": p["as_of"].isoformat(), "window_days": p["days"],
            "groups": [{"group": _ref(names, f.group_id), "days_since_contact": f.days_since_contact,
                        "reasons": list(f.reasons), "reason_codes": list(f.reason_codes),
                        "priority": f.priority} for f in flags]}


def _coverage(p) -> dict:
    from crm.facts.reads import coverage_for_beats

    officer_beats = load_officer_beats()
    # From the engagement facts, summed by the database for the beats asked only (a
    # district's page reads its own dozen beats, not the city); a window they cannot answer
    # (as_of before the latest contact) is counted from the records.
    res = coverage_for_beats(p["as_of"], p["as_of_dt"], p["days"], p["beat_ids"], officer_beats)
    if res is None:
        res = analytics.coverage(load_groups(), load_officer_counts(p["as_of_dt"], p["days"]),
                                 as_of=p["as_of"], days=p["days"], officer_beats=officer_beats)
    # The columns shown, not whole Beat rows (their outlines are large).
    beats = {b.id: b for b in db.session.execute(
        sa.select(Beat.id, Beat.code, Beat.name, Beat.district_id))}
    users = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_([o.officer_id for o in res.officers]))).all())
    wanted = set(p["beat_ids"]) if p["beat_ids"] is not None else None
    beat_rows = []
    for bc in res.beats:
        if wanted is not None and bc.beat_id not in wanted:
            continue
        d = bc.to_dict()
        b = beats.get(d.pop("beat_id"))
        d["beat"] = ({"id": b.id, "code": b.code, "name": b.name, "district_id": b.district_id}
                     if b else None)
        beat_rows.append(d)
    officers = []
    for oc in res.officers:
        if wanted is not None and not wanted.intersection(officer_beats.get(oc.officer_id, ())):
            continue
        d = oc.to_dict()
        oid = d.pop("officer_id")
        d["officer"] = {"id": oid, "name": users.get(oid, f"User #{oid}")}
        officers.append(d)
    return {"as_of": p["as_of"].isoformat(), "window_days": p["days"], "beats": beat_rows,
            "officers": officers}


INTRO_HOPS = 4  # officer -> stakeholder -> group -> stakeholder -> target (see _near)


@dataclass(frozen=True)
class _IntroInputs:
    links: tuple
    users: dict
    group_names: dict


@lru_cache(maxsize=1)
def _intro_inputs(database: str, versions: tuple, as_of: date) -> _IntroInputs:
    """Officers' working relationships and names, loaded once per data version (the
    memberships come from `membership_arrays`, shared with the other analytics).

    A worker that computes introductions for many target groups in a row (a my-beat page asks
    for ten) loads these once; on the large demo a load takes seconds, a target a fraction.
    """
    links = tuple(load_officer_links(day_end_utc(as_of)))
    users = dict(db.session.execute(sa.select(User.id, User.display_name)).all())
    return _IntroInputs(links, users, load_group_names())


def _near(s: np.ndarray, g: np.ndarray, target: int) -> np.ndarray:
    """The memberships a chain of at most 4 hops to `target` can use, as (stakeholder, group) rows.

    Such a chain is officer -> stakeholder -> group -> member of the target -> target, so
    only memberships in the target or in another group of one of its members matter.
    Cutting the graph down first gives the same chains (and the same tie-breaks) as the
    whole graph, at a fraction of the cost of indexing 300,000 memberships per target.
    """
    groups = np.unique(g[np.isin(s, s[g == target])])
    keep = np.isin(g, groups)
    return np.column_stack((s[keep], g[keep]))


def _introductions(p) -> dict:
    gid = p["group_id"]
    if gid is None:
        raise ValueError("introductions needs a target group (--group ID / ?group=ID)")
    inp = _intro_inputs(str(db.engine.url), current_versions(FINE_DEPENDS["introductions"]),
                        p["as_of"])
    names, users = inp.group_names, inp.users
    if gid not in names:
        raise LookupError(f"no group {gid}")
    chains = analytics.introductions(gid, _near(*membership_arrays(p["as_of"]), gid), inp.links,
                                     officer_id=p["officer_id"], max_hops=INTRO_HOPS,
                                     limit=p["limit"] or 10)

    def step(kind, ident):
        if kind == "group":
            return {"kind": kind, "id": ident, "name": names.get(ident)}
        if kind == "officer":
            return {"kind": kind, "id": ident, "name": users.get(ident)}
        return {"kind": kind, "id": ident, "name": f"Stakeholder #{ident}"}

    return {"target": _ref(names, gid), "chains": [
        {"officer": {"id": c.officer_id, "name": users.get(c.officer_id)},
         "steps": [step(k, i) for k, i in c.steps], "hops": c.hops, "stage": c.stage,
         "last_contact_at": iso_local(c.last_contact_at)} for c in chains]}


def _network_layout(p) -> dict:
    """Positions of the groups of some beats for the network page (the spring layout is the cost)."""
    from crm.network import svg

    q = sa.select(CommunityGroup.id, CommunityGroup.name, CommunityGroup.stance)
    if p["beat_ids"] is not None:
        q = q.where(CommunityGroup.id.in_(sa.select(group_beats.c.group_id)
                                          .where(group_beats.c.beat_id.in_(p["beat_ids"]))))
    groups = {gid: (name, stance) for gid, name, stance in db.session.execute(q)}
    s, g = membership_arrays()
    keep = np.isin(g, np.fromiter(groups, dtype=np.int64, count=len(groups)))
    res = analytics.overlap(s[keep], g[keep], min_shared=p["min_shared"])
    members = dict.fromkeys(groups, 0)
    members.update(zip(res.group_ids.tolist(), res.group_sizes.tolist(), strict=True))
    overlaps = zip(res.group_a.tolist(), res.group_b.tolist(), res.shared.tolist(), strict=True)
    relations = [(r.group_a, r.group_b, r.type) for r in load_relations()
                 if r.group_a in groups and r.group_b in groups]
    drawing = svg.draw_network(members, overlaps, relations, seed=0)
    return {"drawing": dataclasses.asdict(drawing),
            "groups": [{"id": gid, "name": n, "stance": st} for gid, (n, st) in groups.items()],
            "relations": len(relations)}


_COMPUTE = {"overlap": _overlap, "factions": _factions, "brokers": _brokers,
            "introductions": _introductions, "hard-to-engage": _hard_to_engage,
            "coverage": _coverage, "network-layout": _network_layout}


def compute(name: str, *, as_of: date | None = None, days: int = 90,
            beat_ids: list[int] | None = None, group_id: int | None = None,
            officer_id: int | None = None, limit: int | None = None, min_shared: int = 2,
            use_cache: bool = True, live_cache: bool = False) -> dict:
    """The JSON document of analytic `name`; identical for the CLI, the API and the pages.

    Computes in the caller. Web requests read the network analytics through
    `crm.network.results.latest` instead, which never waits for a computation.
    """
    if name not in _COMPUTE:
        raise ValueError(f"unknown analytic {name!r}; choose from {', '.join(NAMES)}")
    if days < 1 or days > 3650:
        raise ValueError("days must be between 1 and 3650")
    as_of = as_of or _today()
    # as_of is a local day; as_of_dt its last stored instant (naive UTC), DST included.
    params = {"as_of": as_of, "as_of_dt": day_end_utc(as_of),
              "days": days, "beat_ids": sorted(beat_ids) if beat_ids is not None else None,
              "group_id": group_id, "officer_id": officer_id, "limit": limit,
              "min_shared": min_shared}
    if name == "overlap" and limit is None:
        params["limit"] = 1000  # the full list can run to millions of pairs
    run = lambda: _COMPUTE[name](params)  # noqa: E731
    if name in LIVE:
        # A transaction with writes of its own (not yet counted) never reads the cache.
        if not live_cache or db.session.info.get("crm_touched"):
            return run()
        use_cache = True
    key = (name, as_of, days, tuple(params["beat_ids"]) if beat_ids is not None else None,
           group_id, officer_id, params["limit"], min_shared, current_versions(DEPENDS[name]),
           _today() if name in LIVE else None,  # current beat assignments are today's
           zone_name())  # windows and days are the department's (tests switch zones)
    if name in LIVE:  # computed once per machine after a write, not once per worker
        return cache.get_or_compute(key, lambda: live_share.shared(key, run))
    return cache.get_or_compute(key, run) if use_cache else run()


def register_listeners() -> None:
    """Hook the functions above into every ORM session (called by create_app; idempotent)."""
    listen_on_sessions(
        ("after_flush", note_changes),
        ("before_commit", bump_before_commit),
        ("after_commit", bump_after_commit),
        ("after_rollback", forget_changes),
    )
