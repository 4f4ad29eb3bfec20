"""Keeping the engagement facts equal to the records, and reading them.

Maintenance works by difference: for the contacts a write touches, take their contribution
to every fact before the write and after it, and apply the difference (`apply_change`).
Counts change by the delta (an upsert that adds); "last" values move forward by an upsert
that keeps the later time, and are looked up again from the records (indexed seeks) only when
something they were built from went away (a deleted contact, a moved link). The ORM listeners
(`crm.facts.listeners`) do this for every flush; bulk writers that bypass the ORM use
`track(contact_ids)` ... `.apply()` or `apply_new_contacts(ids)`, and `rebuild()` recomputes
everything from the records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crm.db import fetch_raw
from crm.extensions import db
from crm.facts.models import (
    NO_BEAT,
    BeatDay,
    GroupLastContact,
    OfficerBeatLast,
    OfficerDay,
    OfficerGroupLast,
)
from crm.models import CommunityGroup, Contact, ContactGroup, ContactOfficer
from crm.timezones import day_end_utc, local_date, sql_local_date, window_utc

WARY = ("wary", "hostile")
CHUNK = 500

_c, _co, _cg, _g = (Contact.__table__, ContactOfficer.__table__, ContactGroup.__table__,
                    CommunityGroup.__table__)
_BD, _OD = BeatDay.__table__, OfficerDay.__table__
_GL, _OGL, _OBL = GroupLastContact.__table__, OfficerGroupLast.__table__, OfficerBeatLast.__table__
BEAT_COUNTS = ("n", "n_proactive", "n_receptive", "n_wary_hostile")
OFFICER_COUNTS = (*BEAT_COUNTS, "n_proactive_receptive")


def _chunks(ids: list, size: int = CHUNK):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _dt(value) -> datetime | None:
    """SQLite hands back raw timestamps as ISO text; PostgreSQL as datetimes."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# ---------------------------------------------------------------- contributions

@dataclass
class Contribution:
    """What a set of contacts adds to the facts."""

    beat_days: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))
    officer_days: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    # key -> {(contact_id, occurred_at[, initiated_by])}
    officer_group: dict = field(default_factory=lambda: defaultdict(set))
    officer_beat: dict = field(default_factory=lambda: defaultdict(set))
    group: dict = field(default_factory=lambda: defaultdict(set))
    # (officer, group) -> its officer-group fact's last_at as read with the records (None: no
    # row); only with `contribution(..., with_facts=True)`, read just before applying.
    officer_group_last: dict | None = None


@lru_cache(maxsize=2)
def _contribution_select(with_facts: bool) -> sa.Select:
    """Each group link of the contacts `ids` with its contact, group and officers (built once:
    constructing it cost about as much as running it)."""
    cols = [_cg.c.contact_id, _cg.c.group_id, _cg.c.occurred_at, _cg.c.initiated_by,
            _c.c.id, _c.c.occurred_at, _c.c.initiated_by, _c.c.beat_id, _co.c.user_id,
            _g.c.id, _g.c.stance]
    # Outer joins: a group link counts for the group's last contact on its own, a pair
    # (officer, group) only where the contact, the officer link and the group all exist.
    joined = (_cg.outerjoin(_c, _c.c.id == _cg.c.contact_id)
              .outerjoin(_g, _g.c.id == _cg.c.group_id)
              .outerjoin(_co, _co.c.contact_id == _cg.c.contact_id))
    if with_facts:
        cols.append(_OGL.c.last_at)
        joined = joined.outerjoin(_OGL, sa.and_(_OGL.c.user_id == _co.c.user_id,
                                                _OGL.c.group_id == _cg.c.group_id))
    return (sa.select(*cols).select_from(joined)
            .where(_cg.c.contact_id.in_(sa.bindparam("ids", expanding=True))))


def contribution(conn, contact_ids: Iterable[int], *, with_facts: bool = False) -> Contribution:
    """The facts the given contacts make, read from the records as they stand in `conn`:
    one statement per chunk of contacts (each group link with its contact, group and
    officers). `with_facts` also reads each (officer, group) pair's current fact row."""
    out = Contribution(officer_group_last={} if with_facts else None)
    ids = sorted({i for i in contact_ids if i is not None})
    for chunk in _chunks(ids):
        for (cid, group, link_at, link_initiated, contact, at, initiated, beat, user, group_row,
             stance, *fact) in conn.execute(_contribution_select(with_facts), {"ids": chunk}):
            out.group[group].add((cid, _dt(link_at), link_initiated))
            if contact is None or user is None or group_row is None:
                continue
            at = _dt(at)
            day, beat = local_date(at), beat or NO_BEAT  # the department's calendar day
            pro, rec, wh = initiated == "proactive", stance == "receptive", stance in WARY
            b = out.beat_days[(day, beat)]
            o = out.officer_days[(day, user)]
            for vec in (b, o):
                vec[0] += 1
                vec[1] += pro
                vec[2] += rec
                vec[3] += wh
            o[4] += pro and rec
            out.officer_group[(user, group)].add((cid, at))
            out.officer_beat[(user, beat)].add((cid, at))
            if with_facts:
                out.officer_group_last[(user, group)] = _dt(fact[0])
    return out


def contacts_of_groups(conn, group_ids: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(sorted(set(group_ids))):
        out.update(conn.scalars(sa.select(_cg.c.contact_id).where(_cg.c.group_id.in_(chunk))))
    return out


# ---------------------------------------------------------------- applying a difference

def _later(current, incoming):
    """The later of two nullable times, in SQL (SQLite's max() returns NULL on a NULL)."""
    return sa.case((incoming.is_(None), current),
                   (sa.or_(current.is_(None), incoming > current), incoming), else_=current)


@lru_cache(maxsize=32)
def _upsert(dialect: str, table: sa.Table, keys: tuple[str, ...], cols: tuple[str, ...],
            how: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE of `cols`: added ("add"), the later time kept
    ("later") or replaced ("set"). Built once per table and reused: constructing it cost
    more than running it in every contact write."""
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return _on_conflict(stmt, table, keys, cols, how)


def _on_conflict(stmt, table: sa.Table, keys: tuple[str, ...], cols: tuple[str, ...], how: str):
    """`stmt` (an INSERT into `table`) updating `cols` of an existing row: "add", "later", "set"."""
    new = {"add": lambda c: table.c[c] + stmt.excluded[c],
           "later": lambda c: _later(table.c[c], stmt.excluded[c]),
           "set": lambda c: stmt.excluded[c]}[how]
    return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: new(c) for c in cols})


# Up to this many rows in all go as one statement (an everyday write touches ~5); a bulk
# change goes table by table, as executemany batches, far from PostgreSQL's 65,535
# parameters per statement and without compiling a statement per row count.
TOGETHER_ROWS = 40


class _Writes:
    """The fact upserts of one change, sent together.

    On PostgreSQL they go as one statement, each upsert a data-modifying CTE: under load a
    contact POST waited for a CPU after every round trip, and the five fact tables were five
    of them. Elsewhere (SQLite, in process) each runs at once. Anything that must see the
    queued upserts (a delete of rows that fell to zero, a second upsert of the same table)
    goes through `execute`, which sends them first.
    """

    def __init__(self, conn):
        self.conn = conn
        self.together = conn.dialect.name == "postgresql"
        self.queued: list[tuple] = []

    def upsert(self, table, keys: tuple[str, ...], cols: tuple[str, ...], how: str,
               rows: list[dict]) -> None:
        if not self.together:
            self.conn.execute(_upsert(self.conn.dialect.name, table, keys, cols, how), rows)
            return
        if any(q[0] is table for q in self.queued):  # one statement may not touch a row twice
            self.send()
        self.queued.append((table, keys, cols, how, rows))

    def execute(self, stmt, params=None):
        self.send()
        return self.conn.execute(stmt, params)

    def send(self) -> None:
        queued, self.queued = self.queued, []
        if len(queued) < 2 or sum(len(q[4]) for q in queued) > TOGETHER_ROWS:
            for table, keys, cols, how, rows in queued:  # bulk work: SQLAlchemy batches them
                self.conn.execute(_upsert("postgresql", table, keys, cols, how), rows)
        else:
            shape = tuple((t, k, c, how, len(rows)) for t, k, c, how, rows in queued)
            params = {f"w{j}_{i}_{name}": value for j, (*_, rows) in enumerate(queued)
                      for i, row in enumerate(rows) for name, value in row.items()}
            self.conn.exec_driver_sql(_upserts_together(shape), params)


@lru_cache(maxsize=64)
def _upserts_together(shape: tuple) -> str:
    """`SELECT 1` with one upsert CTE per (table, keys, cols, how, number of rows) of `shape`,
    its values bound as w<j>_<i>_<column>: compiled once per shape to psycopg's SQL (through
    SQLAlchemy, a statement this size cost ~2 ms of cache-key work per execution; the server
    runs it in ~0.2 ms)."""
    ctes = []
    for j, (table, keys, cols, how, n) in enumerate(shape):
        rows = [{c: sa.bindparam(f"w{j}_{i}_{c}", type_=table.c[c].type) for c in (*keys, *cols)}
                for i in range(n)]
        stmt = postgresql.insert(table).values(rows)
        ctes.append(_on_conflict(stmt, table, keys, cols, how).cte(f"w{j}"))
    return str(sa.select(sa.literal_column("1")).add_cte(*ctes).compile(dialect=postgresql.dialect()))


def _add_counts(w: _Writes, table, keys: tuple[str, str], cols: tuple[str, ...], old: dict,
                new: dict):
    rows = []
    for key in sorted(old.keys() | new.keys()):  # one lock order for every writer
        a, b = old.get(key), new.get(key)
        delta = [(b[i] if b else 0) - (a[i] if a else 0) for i in range(len(cols))]
        if any(delta):
            rows.append({keys[0]: key[0], keys[1]: key[1], **dict(zip(cols, delta, strict=True))})
    if not rows:
        return
    w.upsert(table, keys, cols, "add", rows)
    if any(r["n"] < 0 for r in rows):  # only a row whose count fell can have reached 0
        days = sorted({r["day"] for r in rows})
        w.execute(table.delete().where(table.c.day.in_(days), table.c.n <= 0))


def _split(old: dict, new: dict) -> tuple[dict, set]:
    """Keys whose last value only moves forward (-> newest time), and keys to look up again."""
    forward, again = {}, set()
    for key in old.keys() | new.keys():
        before, after = old.get(key, set()), new.get(key, set())
        if before <= after:
            if after - before:
                forward[key] = after - before
        else:
            again.add(key)
    return forward, again


def _move_forward(w: _Writes, table, keys: tuple[str, str], forward: dict) -> None:
    if not forward:
        return
    rows = [{keys[0]: k[0], keys[1]: k[1], "last_at": max(at for _, at in v)}
            for k, v in sorted(forward.items())]
    w.upsert(table, keys, ("last_at",), "later", rows)


def _look_up_again(w: _Writes, table, keys: tuple[str, str], again: set,
                   source: Callable) -> dict:
    """Set the keys' last values from the records (delete those with none); returns them."""
    if not again:
        return {}
    found = source(w.conn, again)  # reads records only, never the queued fact rows
    for k in sorted(again):
        cond = sa.and_(table.c[keys[0]] == k[0], table.c[keys[1]] == k[1])
        if k in found:
            w.upsert(table, keys, ("last_at",), "set",
                     [{keys[0]: k[0], keys[1]: k[1], "last_at": found[k]}])
        else:
            w.execute(table.delete().where(cond))
    return found


def _officer_group_source(conn, keys: set) -> dict:
    users, groups = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
    q = (sa.select(_co.c.user_id, _cg.c.group_id, sa.func.max(_c.c.occurred_at))
         .select_from(_cg.join(_co, _co.c.contact_id == _cg.c.contact_id)
                      .join(_c, _c.c.id == _cg.c.contact_id))
         .where(_cg.c.group_id.in_(groups), _co.c.user_id.in_(users))
         .group_by(_co.c.user_id, _cg.c.group_id))
    return {(u, g): _dt(at) for u, g, at in conn.execute(q) if (u, g) in keys}


def _officer_beat_source(conn, keys: set) -> dict:
    users = sorted({k[0] for k in keys})
    beat = sa.func.coalesce(_c.c.beat_id, NO_BEAT)
    has_group = sa.exists().where(_cg.c.contact_id == _c.c.id)
    q = (sa.select(_co.c.user_id, beat, sa.func.max(_c.c.occurred_at))
         .select_from(_co.join(_c, _c.c.id == _co.c.contact_id))
         .where(_co.c.user_id.in_(users), has_group)
         .group_by(_co.c.user_id, beat))
    return {(u, b): _dt(at) for u, b, at in conn.execute(q) if (u, b) in keys}


def _apply_groups(w: _Writes, old: dict, new: dict) -> None:
    forward, again = _split(old, new)
    if forward:
        rows = []
        for gid, items in sorted(forward.items()):
            last = {kind: max((at for _, at, i in items if i == kind), default=None)
                    for kind in ("proactive", "requested")}
            rows.append({"group_id": gid, "last_at": max(at for _, at, _ in items),
                         "last_proactive_at": last["proactive"],
                         "last_requested_at": last["requested"]})
        w.upsert(_GL, ("group_id",), ("last_at", "last_proactive_at", "last_requested_at"),
                 "later", rows)
    if again:
        for chunk in _chunks(sorted(again)):
            w.execute(_GL.delete().where(_GL.c.group_id.in_(chunk)))
            w.execute(sa.insert(_GL).from_select(
                ["group_id", "last_at", "last_proactive_at", "last_requested_at"],
                _group_last_select().where(_cg.c.group_id.in_(chunk))))


def _officer_group_lasts(conn, keys: Iterable[tuple[int, int]]) -> dict:
    """(officer, group) -> last_at of its fact row, for the given keys that have one."""
    keys = set(keys)
    out = {}
    if not keys:
        return out
    for chunk in _chunks(sorted({k[0] for k in keys})):
        for u, g, at in conn.execute(
                sa.select(_OGL.c.user_id, _OGL.c.group_id, _OGL.c.last_at)
                .where(_OGL.c.user_id.in_(chunk),
                       _OGL.c.group_id.in_(sorted({k[1] for k in keys})))):
            if (u, g) in keys:
                out[(u, g)] = _dt(at)
    return out


def _later_of(a: datetime | None, b: datetime | None) -> datetime | None:
    """Python's twin of `_later` (what the "later" upsert leaves in the row)."""
    return b if a is None or (b is not None and b > a) else a


def apply_change(conn, old: Contribution, new: Contribution) -> None:
    """Move the facts from `old` to `new` (both contributions of the same contacts; `new`
    read just before, ideally `with_facts`, which saves reading the officer-group rows)."""
    w = _Writes(conn)
    _add_counts(w, _BD, ("day", "beat_id"), BEAT_COUNTS, old.beat_days, new.beat_days)
    og_forward, og_again = _split(old.officer_group, new.officer_group)
    og_keys = set(og_forward) | og_again
    # The day of each touched (officer, group) pair's last contact, before and after: the
    # rows read with `new`, the rest from the table; after = what the writes below set.
    known = new.officer_group_last if new.officer_group_last is not None else {}
    last_before = {k: known[k] for k in og_keys if k in known}
    # (Reads the officer-group rows before any officer-group write is queued.)
    last_before.update(_officer_group_lasts(conn, og_keys - set(known)))
    _move_forward(w, _OGL, ("user_id", "group_id"), og_forward)
    found = _look_up_again(w, _OGL, ("user_id", "group_id"), og_again, _officer_group_source)
    last_after = {k: _later_of(last_before.get(k), max(at for _, at in v))
                  for k, v in og_forward.items()}
    last_after.update({k: found.get(k) for k in og_again})
    days_before = {k: local_date(v) for k, v in last_before.items() if v is not None}
    days_after = {k: local_date(v) for k, v in last_after.items() if v is not None}
    # Groups reached per officer and day of the last contact: a window's reach is their SUM.
    old_days = {k: _six(v) for k, v in old.officer_days.items()}
    new_days = {k: _six(v) for k, v in new.officer_days.items()}
    for k in og_keys:
        before, after = days_before.get(k), days_after.get(k)
        if before != after:
            if before is not None:
                old_days.setdefault((before, k[0]), [0] * 6)[5] += 1
            if after is not None:
                new_days.setdefault((after, k[0]), [0] * 6)[5] += 1
    _add_counts(w, _OD, ("day", "user_id"), (*OFFICER_COUNTS, "n_groups_last"),
                old_days, new_days)
    forward, again = _split(old.officer_beat, new.officer_beat)
    _move_forward(w, _OBL, ("user_id", "beat_id"), forward)
    _look_up_again(w, _OBL, ("user_id", "beat_id"), again, _officer_beat_source)
    _apply_groups(w, old.group, new.group)
    w.send()


def _six(v: list[int]) -> list[int]:
    return list(v) + [0] * (6 - len(v))


class Tracker:
    """For bulk writers: `t = track(ids)`, change the contacts with Core, then `t.apply()`."""

    def __init__(self, contact_ids: Iterable[int]):
        self.ids = set(contact_ids)
        self.conn = db.session.connection()
        self.old = contribution(self.conn, self.ids)

    def apply(self, also: Iterable[int] = ()) -> None:
        self.ids.update(also)
        apply_change(self.conn, self.old, contribution(self.conn, self.ids, with_facts=True))


def track(contact_ids: Iterable[int]) -> Tracker:
    return Tracker(contact_ids)


def apply_new_contacts(contact_ids: Iterable[int]) -> None:
    """Contacts (with their links) inserted with Core: add what they contribute."""
    conn = db.session.connection()
    apply_change(conn, Contribution(), contribution(conn, contact_ids, with_facts=True))


def apply_group_change(group_ids: Iterable[int]) -> Tracker:
    """Before a bulk change of groups' stance (or deletion): returns a tracker to apply after."""
    return Tracker(contacts_of_groups(db.session.connection(), group_ids))


# ---------------------------------------------------------------- rebuild from the records

def _day(col, dialect: str):
    """The local calendar day of a stored time, in SQL (the day rows' key)."""
    return sql_local_date(col, dialect)


def _group_last_select() -> sa.Select:
    def last(kind=None):
        at = _cg.c.occurred_at if kind is None else sa.case(
            (_cg.c.initiated_by == kind, _cg.c.occurred_at))
        return sa.func.max(at)
    return (sa.select(_cg.c.group_id, last(), last("proactive"), last("requested"))
            .group_by(_cg.c.group_id))


def _pairs():
    return (_c.join(_co, _co.c.contact_id == _c.c.id).join(_cg, _cg.c.contact_id == _c.c.id)
            .join(_g, _g.c.id == _cg.c.group_id))


def _counts(*kinds: str):
    pro = _c.c.initiated_by == "proactive"
    rec = _g.c.stance == "receptive"
    conds = {"n": None, "n_proactive": pro, "n_receptive": rec,
             "n_wary_hostile": _g.c.stance.in_(WARY), "n_proactive_receptive": sa.and_(pro, rec)}
    return [sa.func.count() if conds[k] is None
            else sa.func.coalesce(sa.func.sum(sa.case((conds[k], 1), else_=0)), 0) for k in kinds]


def rebuild_selects(dialect: str, reuse: bool = False) -> dict[sa.Table, tuple[list[str], sa.Select]]:
    """Each fact table's full content as a SELECT over the records (its definition).
    With `reuse`, the officer days take the reach from the officer-group table (rebuilt
    just before) instead of recomputing it."""
    beat = sa.func.coalesce(_c.c.beat_id, NO_BEAT)
    day = _day(_c.c.occurred_at, dialect)
    last = (_OGL if reuse else sa.select(
        _co.c.user_id, _cg.c.group_id, sa.func.max(_c.c.occurred_at).label("last_at"))
        .select_from(_pairs()).group_by(_co.c.user_id, _cg.c.group_id).subquery())
    last_day = _day(last.c.last_at, dialect)
    reach = (sa.select(last_day.label("day"), last.c.user_id, sa.func.count().label("n"))
             .group_by(last_day, last.c.user_id).subquery())
    counts = (sa.select(day.label("day"), _co.c.user_id,
                        *(col.label(k) for k, col in zip(OFFICER_COUNTS, _counts(*OFFICER_COUNTS),
                                                         strict=True)))
              .select_from(_pairs()).group_by(day, _co.c.user_id).subquery())
    return {
        _GL: (["group_id", "last_at", "last_proactive_at", "last_requested_at"],
              _group_last_select()),
        _OGL: (["user_id", "group_id", "last_at"],
               sa.select(_co.c.user_id, _cg.c.group_id, sa.func.max(_c.c.occurred_at))
               .select_from(_pairs()).group_by(_co.c.user_id, _cg.c.group_id)),
        _OBL: (["user_id", "beat_id", "last_at"],
               sa.select(_co.c.user_id, beat, sa.func.max(_c.c.occurred_at))
               .select_from(_pairs()).group_by(_co.c.user_id, beat)),
        _BD: (["day", "beat_id", *BEAT_COUNTS],
              sa.select(day, beat, *_counts(*BEAT_COUNTS)).select_from(_pairs())
              .group_by(day, beat)),
        _OD: (["day", "user_id", *OFFICER_COUNTS, "n_groups_last"],
              sa.select(*counts.c, sa.func.coalesce(reach.c.n, 0)).select_from(counts.outerjoin(
                  reach, sa.and_(reach.c.day == counts.c.day,
                                 reach.c.user_id == counts.c.user_id)))),
    }


def rebuild(progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Recompute every fact table from the records, in the current transaction."""
    conn = db.session.connection()
    selects = rebuild_selects(conn.dialect.name, reuse=True)
    counts = {}
    for i, (table, (cols, select)) in enumerate(selects.items()):
        if progress:
            progress(table.name, i, len(selects))
        conn.execute(table.delete())
        conn.execute(sa.insert(table).from_select(cols, select))
        counts[table.name] = conn.scalar(sa.select(sa.func.count()).select_from(table))
    if progress:
        progress("done", len(selects), len(selects))
    return counts


def _norm(row) -> tuple:
    out = []
    for v in row:
        if isinstance(v, str) and len(v) >= 10 and v[4] == "-" and v[7] == "-":
            v = datetime.fromisoformat(v) if len(v) > 10 else date.fromisoformat(v)
        out.append(v)
    return tuple(out)


def differences(conn=None) -> dict[str, tuple[set, set]]:
    """Rows that differ between the fact tables and a rebuild: {table: (extra, missing)}."""
    conn = conn or db.session.connection()
    out = {}
    for table, (cols, select) in rebuild_selects(conn.dialect.name).items():
        want = {_norm(r) for r in conn.execute(select)}
        have = {_norm(r) for r in conn.execute(sa.select(*(table.c[c] for c in cols)))}
        if want != have:
            out[table.name] = (have - want, want - have)
    return out


# ---------------------------------------------------------------- reading

def window(as_of_dt: datetime, days: int) -> tuple[datetime, date, date]:
    """(start, first day, last day) of the `days` local days ending with the one `as_of_dt`
    (naive UTC) falls on: contacts with start < occurred_at <= the end of that local day."""
    last = local_date(as_of_dt)
    start, _ = window_utc(last, days)
    return start, last - timedelta(days=days - 1), last


def answers_as_of(as_of_dt: datetime) -> bool:
    """The "last" facts describe the records up to `as_of_dt` only if no contact is later:
    true for today's answers (bar a contact logged up to 15 minutes ahead near midnight).
    One seek on the contacts' time index."""
    return not db.session.scalar(sa.select(sa.literal(1)).where(_c.c.occurred_at > as_of_dt)
                                 .limit(1))


def group_last_rows(as_of_dt: datetime, beat_ids: list[int] | None = None) -> list[tuple] | None:
    """(group_id, last, last proactive, last requested) for every group (None: never), or None
    when the facts cannot answer for `as_of_dt` (it lies before some contact). Raw rows:
    on SQLite the times are ISO text, which compares like the time it holds."""
    from crm.models import group_beats

    q = (sa.select(_g.c.id, _GL.c.last_at, _GL.c.last_proactive_at, _GL.c.last_requested_at)
         .select_from(_g.outerjoin(_GL, _GL.c.group_id == _g.c.id)))
    if beat_ids is not None:
        q = q.where(_g.c.id.in_(sa.select(group_beats.c.group_id)
                                .where(group_beats.c.beat_id.in_(beat_ids))))
    if not answers_as_of(as_of_dt):
        return None
    return fetch_raw(db.session, q)



@dataclass
class CoverageTotals:
    """Window sums from the facts, the inputs of `crm.facts.coverage.coverage_from_totals`."""

    beats: dict[int | None, list[int]]  # beat -> [n, proactive, receptive, wary_hostile]
    officers: dict[int, list[int]]  # officer -> [n, proactive, receptive, wary_hostile, pro_rec]
    officer_groups: dict[int, int]  # officer -> groups reached
    reached: set[int]  # groups with a contact in the window
    officer_seen_beats: dict[int, set[int]]  # officer -> beats they logged contacts in


def coverage_totals(as_of_dt: datetime, days: int,
                    need_seen_beats: Callable[[dict], set[int]] | None = None
                    ) -> CoverageTotals | None:
    """Indexed reads over the facts for one window; None when they cannot answer for it.
    `need_seen_beats(officer totals)` names the officers whose logged-in beats are needed
    (those without assigned beats); by default all."""
    if as_of_dt != day_end_utc(local_date(as_of_dt)) or not answers_as_of(as_of_dt):
        return None  # day rows answer windows of whole local days only
    start, first, last = window(as_of_dt, days)
    beats: dict[int | None, list[int]] = {}
    for b, *vals in db.session.execute(
            sa.select(_BD.c.beat_id, *(sa.func.sum(_BD.c[c]) for c in BEAT_COUNTS))
            .where(_BD.c.day >= first, _BD.c.day <= last).group_by(_BD.c.beat_id)):
        beats[None if b == NO_BEAT else b] = [int(v) for v in vals]
    officers, officer_groups = {}, {}
    for u, *vals in db.session.execute(
            sa.select(_OD.c.user_id, *(sa.func.sum(_OD.c[c])
                                       for c in (*OFFICER_COUNTS, "n_groups_last")))
            .where(_OD.c.day >= first, _OD.c.day <= last).group_by(_OD.c.user_id)):
        officers[u] = [int(v) for v in vals[:-1]]
        officer_groups[u] = int(vals[-1])
    # Every contact has its officers (the one who logs it at least), so a group with a contact
    # in the window is a group some officer reached in it.
    reached = set(db.session.scalars(sa.select(_GL.c.group_id).where(_GL.c.last_at > start)))
    seen: dict[int, set[int]] = defaultdict(set)
    if need_seen_beats is None or need_seen_beats(officers):
        who = need_seen_beats(officers) if need_seen_beats else None
        q = sa.select(_OBL.c.user_id, _OBL.c.beat_id).where(_OBL.c.last_at > start,
                                                           _OBL.c.beat_id != NO_BEAT)
        if who is not None:
            q = q.where(_OBL.c.user_id.in_(sorted(who)))
        for u, b in db.session.execute(q):
            seen[u].add(b)
    return CoverageTotals(beats, officers, officer_groups, reached, dict(seen))


class _Group(NamedTuple):
    """What coverage needs of a group (a lighter GroupInfo)."""

    id: int
    stance: str
    beat_ids: tuple


def coverage_from_facts(as_of: date, as_of_dt: datetime, days: int,
                        officer_beats: dict[int, list[int]]):
    """`analytics.coverage`'s result from the facts, or None when they cannot answer."""
    from crm.facts.coverage import coverage_from_totals
    from crm.models import group_beats

    totals = coverage_totals(as_of_dt, days,
                             lambda officers: set(officers) - set(officer_beats or ()))
    if totals is None:
        return None
    beats: dict[int, list[int]] = defaultdict(list)
    for gid, bid in db.session.execute(sa.select(group_beats.c.group_id, group_beats.c.beat_id)):
        beats[gid].append(bid)
    groups = [_Group(gid, stance, tuple(sorted(beats.get(gid, ()))))
              for gid, stance in db.session.execute(sa.select(_g.c.id, _g.c.stance))]
    return coverage_from_totals(
        groups, totals.beats, totals.officers, totals.officer_groups, totals.reached,
        totals.officer_seen_beats, as_of=as_of, days=days, officer_beats=officer_beats)
