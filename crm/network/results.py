"""Network analytics computed off the request path, stored where every server reads them.

Overlap, factions, brokers, introductions (per target group) and the network page's layout
are computed by background jobs (`crm.network.jobs`) and kept in `analytics_results`, one
row per analytic, parameters and input versions (the `DataVersion` counters of the finer
families in `services.FINE_DEPENDS`). A web request only reads:

- `latest(name, **params)` returns at once the newest stored document (with when it was
  computed and from which data) and, when the inputs have moved on since, enqueues a
  refresh and says "refreshing"; with nothing stored yet it says "computing" and enqueues.
- `run_job(name, params)` is the job: it reads the current versions, claims the row for
  them (the row's unique key and an UPDATE on its status are the single-flight guard, so
  each version is computed once however many workers and servers ask), computes, stores.

A failing job marks its row failed and raises, so the queue logs and retries it; nothing
that writes records ever waits on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from crm.db import utcnow
from crm.extensions import db
from crm.network import services
from crm.network.models import AnalyticsResult

log = logging.getLogger(__name__)

JOBS = tuple(services.FINE_DEPENDS)
# Background analytics of other parts of the app (the trial analysis, `crm.evaluation.jobs`):
# name -> the change counters its documents depend on, and what computes one from its
# parameters. They share the table, the queue and the single-flight claim with the above.
REGISTERED: dict[str, tuple[tuple[str, ...], Callable[[dict], dict]]] = {}
# A row left "running" this long belongs to a worker that died: another may take it over.
STALE_RUNNING = timedelta(minutes=10)
# One process asks the queue for the same version at most this often (the rest is deduplicated
# by the database claim; this only keeps the queue short when many pages ask at once).
REENQUEUE_SECONDS = 30.0
KEEP_UNUSED = timedelta(days=7)


@dataclass(frozen=True)
class Result:
    """What a page or the API shows: the document (or None) and how fresh it is."""

    analytic: str
    status: str  # "fresh" | "refreshing" | "computing"
    document: dict | None
    computed_at: datetime | None
    versions: dict | None  # the input versions the document was computed from
    current: dict  # the input versions now
    result_id: int | None = None  # the stored row (a done row never changes)

    @property
    def refreshing(self) -> bool:
        return self.status != "fresh"

    def meta(self) -> dict:
        """The `computed` block of an API answer."""
        return {"at": self.computed_at.isoformat() + "Z" if self.computed_at else None,
                "data_versions": self.versions, "current_versions": self.current,
                "status": self.status}


def normalise(name: str, *, as_of: date | None = None, beat_ids=None, group_id: int | None = None,
              officer_id: int | None = None, limit: int | None = None,
              min_shared: int = 2) -> dict:
    """The parameters that change analytic `name`'s document, as plain JSON values.

    Only those the analytic reads, so that pages asking with different filters share a
    result wherever the document is the same. The day is part of every key: memberships
    and relations are "current on" a date.
    """
    if name not in JOBS:
        raise ValueError(f"{name!r} is not computed in the background")
    p: dict = {"on": (as_of or services._today()).isoformat()}
    if name in ("overlap", "factions", "network-layout"):
        p["beat_ids"] = sorted(beat_ids) if beat_ids is not None else None
    if name in ("overlap", "brokers", "introductions"):
        p["limit"] = limit
    if name == "introductions":
        if group_id is None:
            raise ValueError("introductions needs a target group (--group ID / ?group=ID)")
        p["group_id"], p["officer_id"] = group_id, officer_id
    if name == "network-layout":
        p["min_shared"] = min_shared
    return p


def register(name: str, depends: tuple[str, ...], compute: Callable[[dict], dict]) -> None:
    """Run analytic `name` as a background job too: `compute(params)` makes its document,
    which is current as long as the counters in `depends` have not moved."""
    if name in services.FINE_DEPENDS:
        raise ValueError(f"{name!r} is a network analytic")
    REGISTERED[name] = (tuple(depends), compute)


def _hash(params: dict) -> str:
    """The parameters' key without the day: at midnight a page still shows yesterday's
    document (refreshing) instead of nothing; the day is part of the versions key instead."""
    rest = {k: v for k, v in params.items() if k != "on"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def _versions(name: str, conn=None) -> dict:
    names = REGISTERED[name][0] if name in REGISTERED else services.FINE_DEPENDS[name]
    q = sa.select(services.DataVersion.name, services.DataVersion.version).where(
        services.DataVersion.name.in_(names))
    rows = dict((conn or db.session).execute(q).all())
    return {n: rows.get(n, 0) for n in names}


def _versions_key(versions: dict, on: str | None) -> str:
    day = [f"on={on}"] if on is not None else []  # a registered analytic may not depend on the day
    return ";".join([*day, *(f"{k}={versions[k]}" for k in sorted(versions))])


def _compute(name: str, params: dict) -> dict:
    if name in REGISTERED:
        return REGISTERED[name][1](params)
    return services.compute(name, as_of=date.fromisoformat(params["on"]),
                            beat_ids=params.get("beat_ids"), group_id=params.get("group_id"),
                            officer_id=params.get("officer_id"), limit=params.get("limit"),
                            min_shared=params.get("min_shared", 2), use_cache=False)


# ---------------------------------------------------------------- read side (web requests)

class _Recent:
    """Keys this process enqueued lately (cleared between tests like the other caches)."""

    def __init__(self):
        self._data: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def first_in(self, key: tuple, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._data.get(key, -1e18) < seconds:
                return False
            self._data[key] = now
            if len(self._data) > 4096:
                self._data = {k: v for k, v in self._data.items() if now - v < seconds}
            return True

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


recent = _Recent()


def _newest_done(name: str, phash: str) -> AnalyticsResult | None:
    return db.session.scalar(
        sa.select(AnalyticsResult).options(defer(AnalyticsResult.document))
        .where(AnalyticsResult.analytic == name, AnalyticsResult.params_hash == phash,
               AnalyticsResult.status == "done")
        .order_by(AnalyticsResult.id.desc()).limit(1))


def _row_for(name: str, phash: str, key: str) -> AnalyticsResult | None:
    return db.session.scalar(sa.select(AnalyticsResult).options(
        defer(AnalyticsResult.document)).where(
        AnalyticsResult.analytic == name, AnalyticsResult.params_hash == phash,
        AnalyticsResult.versions_key == key))


def _needs_job(row: AnalyticsResult | None) -> bool:
    """No row for the current version yet, or one whose job was lost (failed, or died)."""
    if row is None:
        return True
    if row.status == "failed":
        return True
    return row.status == "running" and row.started_at < utcnow() - STALE_RUNNING


def latest(name: str, **kw) -> Result:
    """The newest stored document of analytic `name` for these parameters; never computes.

    Enqueues a refresh when the stored one is older than the current inputs (or missing).
    """
    return latest_for(name, normalise(name, **kw))


def latest_for(name: str, params: dict) -> Result:
    """`latest` with the parameters already normalised (a registered analytic's own)."""
    from crm.network import jobs

    phash = _hash(params)
    current = _versions(name)
    key = _versions_key(current, params.get("on"))
    row = _row_for(name, phash, key)
    if (row is None or row.status != "done") and _needs_job(row):
        if jobs.is_immediate() or recent.first_in((name, phash, key), REENQUEUE_SECONDS):
            jobs.enqueue(name, params)
            if jobs.is_immediate():  # tests: the job ran inline, in its own session
                db.session.expire_all()
                row = _row_for(name, phash, key)
    if row is not None and row.status == "done":
        return Result(name, "fresh", _document(row.id, row.computed_at), row.computed_at,
                      row.versions, current, row.id)
    done = _newest_done(name, phash)
    if done is None:
        return Result(name, "computing", None, None, None, current)
    return Result(name, "refreshing", _document(done.id, done.computed_at), done.computed_at,
                  done.versions, current, done.id)


@lru_cache(maxsize=64)
def _document(result_id: int, computed_at: datetime) -> dict:
    """A stored document, parsed once per process: a done row never changes (the key has its
    time too, in case an id is ever reused). Callers copy before they change anything."""
    return db.session.scalar(sa.select(AnalyticsResult.document)
                             .where(AnalyticsResult.id == result_id))


# ---------------------------------------------------------------- the job

def _claim(name: str, params: dict, phash: str, versions: dict) -> int | None:
    """Insert or take over the row of this version; its id if this worker is to compute it."""
    key, now = _versions_key(versions, params.get("on")), utcnow()
    try:
        with db.session.begin_nested():
            row = AnalyticsResult(analytic=name, params_hash=phash, params=params,
                                  versions_key=key, versions=versions, status="running",
                                  attempts=1, requested_at=now, started_at=now)
            db.session.add(row)
        db.session.commit()
        return row.id
    except IntegrityError:
        pass  # another worker requested this version first
    took = db.session.execute(
        sa.update(AnalyticsResult)
        .where(AnalyticsResult.analytic == name, AnalyticsResult.params_hash == phash,
               AnalyticsResult.versions_key == key,
               sa.or_(AnalyticsResult.status.in_(("pending", "failed")),
                      sa.and_(AnalyticsResult.status == "running",
                              AnalyticsResult.started_at < now - STALE_RUNNING)))
        .values(status="running", started_at=now, attempts=AnalyticsResult.attempts + 1)
        .returning(AnalyticsResult.id)).scalar()
    db.session.commit()
    return took


def run_job(name: str, params: dict) -> str:
    """Compute analytic `name` for `params` at the current input versions, once.

    Returns "done", or "skipped" when another worker holds or finished this version.
    Raises (after marking the row failed) when the computation fails, so the queue retries.
    """
    phash = _hash(params)
    versions = _versions(name)
    result_id = _claim(name, params, phash, versions)
    if result_id is None:
        return "skipped"
    started = time.perf_counter()
    try:
        doc = _compute(name, params)
    except Exception as e:
        db.session.rollback()
        db.session.execute(sa.update(AnalyticsResult).where(AnalyticsResult.id == result_id)
                           .values(status="failed", error=f"{type(e).__name__}: {e}"[:500]))
        db.session.commit()
        log.exception("analytics job %s %s failed; it will be retried", name, params)
        raise
    db.session.execute(sa.update(AnalyticsResult).where(AnalyticsResult.id == result_id).values(
        status="done", document=doc, computed_at=utcnow(), error=None,
        seconds=round(time.perf_counter() - started, 3)))
    # Keep the newest document per parameters; older versions only take space, and so do
    # results nobody asked for again in a week (yesterday's date, a beat filter used once).
    db.session.execute(sa.delete(AnalyticsResult).where(
        AnalyticsResult.analytic == name, AnalyticsResult.params_hash == phash,
        AnalyticsResult.id < result_id, AnalyticsResult.status.in_(("done", "failed"))))
    db.session.execute(sa.delete(AnalyticsResult).where(
        AnalyticsResult.requested_at < utcnow() - KEEP_UNUSED))
    db.session.commit()
    log.info("analytics job %s %s done in %.2fs", name, params, time.perf_counter() - started)
    return "done"
