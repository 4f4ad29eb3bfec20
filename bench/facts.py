"""Bench phase: the engagement facts (issue 10, items 1 and 6).

On the database of the run it measures, each as a median of several runs:

- the incremental facts update of one contact (reading what it contributes and the upserts,
  `crm.facts.services.apply_new_contacts`), for a contact inserted with its links while the
  session events are off, rolled back after each run; beside it the whole `log_contact`
  service call with the events on and off (what the officer's POST pays for the facts);
- coverage and hard-to-engage answered from the facts (`compute`, as the pages call it),
  beside the same documents counted from the records (the path before the facts);

each against a lower bound measured in the same run: a bare indexed SELECT of one fact row
for the update, and the bare window reads (the facts SELECTs alone, through the DBAPI
cursor) for the answers.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime
from unittest import mock

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

RUNS = 15


def _median(fn, runs: int = RUNS, before=None, after=None) -> float:
    times = []
    for _ in range(runs):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if after:
            after()
    return statistics.median(times)


class _EventsOff:
    def __enter__(self):
        from crm.facts import listeners
        self.pairs = (("before_flush", listeners.before_flush), ("after_flush", listeners.after_flush))
        for name, fn in self.pairs:
            event.remove(Session, name, fn)

    def __exit__(self, *exc):
        for name, fn in self.pairs:
            event.listen(Session, name, fn)


def _row(label, kind, median, bound=None, target=None, **extra) -> dict:
    return {"analytic": label, "database": kind, "median_s": round(median, 5),
            "lower_bound_s": round(bound, 5) if bound else None,
            "ratio": round(median / bound, 1) if bound else None, "peak_mb": None,
            **({"target_s": target} if target else {}), **extra}


def bench_facts(app, kind: str) -> list[dict]:
    from crm.contacts.services import log_contact
    from crm.db import fetch_raw
    from crm.extensions import db
    from crm.facts import services as facts
    from crm.models import BeatAssignment, Contact, ContactGroup, ContactOfficer, User, group_beats
    from crm.network.services import compute

    rows = []
    with app.app_context():
        # An officer on a beat and a group of that beat: the everyday contact.
        officer_id, beat_id = db.session.execute(
            sa.select(BeatAssignment.user_id, BeatAssignment.beat_id)
            .join(User, User.id == BeatAssignment.user_id).where(User.role == "officer")
            .where(BeatAssignment.beat_id.in_(sa.select(group_beats.c.beat_id)))
            .order_by(BeatAssignment.user_id).limit(1)).one()
        group_id = db.session.scalar(sa.select(group_beats.c.group_id)
                                     .where(group_beats.c.beat_id == beat_id).limit(1))
        now = datetime.utcnow().replace(microsecond=0)
        data = {"beat_id": beat_id, "group_ids": [group_id], "channel": "visit",
                "initiated_by": "proactive", "note": "bench", "occurred_at": now}
        db.session.rollback()

        state = {}

        def insert_plain():
            with _EventsOff():
                c = Contact(occurred_at=now, beat_id=beat_id, channel="visit",
                            initiated_by="proactive", logged_by_id=officer_id)
                c.officer_links = [ContactOfficer(user_id=officer_id, occurred_at=now)]
                c.group_links = [ContactGroup(group_id=group_id, occurred_at=now,
                                              initiated_by="proactive")]
                db.session.add(c)
                db.session.flush()
            state["id"] = c.id

        update = _median(lambda: facts.apply_new_contacts([state["id"]]),
                         before=insert_plain, after=db.session.rollback)
        day = now.date()
        bound = _median(lambda: db.session.execute(
            sa.text("SELECT n FROM fact_beat_days WHERE day = :d AND beat_id = :b"),
            {"d": day if kind == "postgresql" else day.isoformat(), "b": beat_id}).all())
        rows.append(_row("facts: update for one contact", kind, update, bound, target=0.05))
        db.session.rollback()

        def log():
            log_contact(db.session.get(User, officer_id), dict(data))
        with_events = _median(log, after=db.session.rollback)
        with _EventsOff():
            without = _median(log, after=db.session.rollback)
        rows.append(_row("facts: log_contact with the facts", kind, with_events, without,
                         note="bound: the same call with the session events off"))

        # Answers from the facts, as the pages ask, and from the records as before. The
        # bounds: the bare facts reads each answer needs, through the DBAPI cursor.
        as_of_dt = datetime.combine(date.today(), datetime.max.time())
        start, first, last = facts.window(as_of_dt, 90)
        group_last = (sa.select(facts._g.c.id, facts._GL.c.last_at, facts._GL.c.last_proactive_at,
                                facts._GL.c.last_requested_at)
                      .select_from(facts._g.outerjoin(facts._GL,
                                                      facts._GL.c.group_id == facts._g.c.id)))

        def window_sums(table, key, cols):
            return (sa.select(table.c[key], *(sa.func.sum(table.c[c]) for c in cols))
                    .where(table.c.day >= first, table.c.day <= last).group_by(table.c[key]))

        coverage_reads = [
            window_sums(facts._BD, "beat_id", facts.BEAT_COUNTS),
            window_sums(facts._OD, "user_id", (*facts.OFFICER_COUNTS, "n_groups_last")),
            sa.select(facts._GL.c.group_id).where(facts._GL.c.last_at > start),
        ]
        for name, reads in (("hard-to-engage", [group_last]), ("coverage", coverage_reads)):
            live = _median(lambda n=name: compute(n), runs=7)
            bare = _median(lambda r=reads: [fetch_raw(db.session, q) for q in r], runs=7)
            with mock.patch("crm.facts.services.answers_as_of", return_value=False):
                old = _median(lambda n=name: compute(n), runs=3)
            rows.append(_row(f"facts: {name} answer", kind, live, bare, target=0.1,
                             from_records_s=round(old, 4), speedup=round(old / live, 1)))
        db.session.rollback()
    return rows
