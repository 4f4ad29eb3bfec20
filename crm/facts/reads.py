"""Coverage of some beats from the engagement facts, summed by the database.

A supervisor's coverage page shows one district (about a dozen beats of 274, a few hundred
groups of 5,000). `coverage_for_beats` asks the database for the sums of just those beats
and of the officers assigned to them (GROUP BY over the day rows and over the beats'
groups joined to their last contact), then finishes with `coverage_from_sums`; nothing
reads the whole city's groups. Raw DBAPI rows (`fetch_raw`): the parameters are numbers and
dates. The same answer as `coverage_from_facts` restricted to the beats
(tests/test_facts.py compares them with the answer counted from the records).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa

from analytics.engagement import CoverageResult
from crm.db import fetch_raw
from crm.extensions import db
from crm.facts import services as facts
from crm.facts.coverage import coverage_from_sums, officer_pool
from crm.facts.models import NO_BEAT
from crm.models import CommunityGroup, group_beats

_gb, _g = group_beats, CommunityGroup.__table__


def _sums(table, key, cols: tuple[str, ...], first: date, last: date, keys: list[int] | None):
    q = (sa.select(table.c[key], *(sa.func.sum(table.c[c]) for c in cols))
         .where(table.c.day >= first, table.c.day <= last).group_by(table.c[key]))
    if keys is not None:
        q = q.where(table.c[key].in_(keys))
    return {k: [int(v) for v in vals] for k, *vals in fetch_raw(db.session, q)}


def coverage_for_beats(as_of: date, as_of_dt: datetime, days: int, beat_ids: list[int] | None,
                       officer_beats: dict[int, list[int]]) -> CoverageResult | None:
    """Coverage of `beat_ids` (None: every beat and the no-beat row) and of the officers
    assigned to one of them (None: every officer with contacts), for the window of `days`
    whole days ending with `as_of` (`as_of_dt` the end of that day, as `compute` passes
    it). None when the facts cannot answer (a contact dated after `as_of_dt`)."""
    start, first, last = facts.window(as_of_dt, days)
    if last != as_of or not facts.answers_as_of(as_of_dt):
        return None
    wanted = None if beat_ids is None else sorted(set(beat_ids))
    if wanted == []:
        return coverage_from_sums({}, {}, {}, {}, {}, as_of=as_of, days=days)

    # Per beat: its groups and those with a contact in the window, wherever logged.
    reached = sa.case((facts._GL.c.last_at > start, 1), else_=0)
    q = (sa.select(_gb.c.beat_id, sa.func.count(), sa.func.sum(reached))
         .select_from(_gb.outerjoin(facts._GL, facts._GL.c.group_id == _gb.c.group_id))
         .group_by(_gb.c.beat_id))
    if wanted is not None:
        q = q.where(_gb.c.beat_id.in_(wanted))
    beat_groups = {b: (int(n), int(r or 0)) for b, n, r in fetch_raw(db.session, q)}
    beat_totals = {None if b == NO_BEAT else b: t for b, t in
                   _sums(facts._BD, "beat_id", facts.BEAT_COUNTS, first, last, wanted).items()}

    # Officers: on the page, those assigned to one of the beats; else all with contacts.
    who = None
    if wanted is not None:
        keep = set(wanted)
        who = sorted(o for o, bs in officer_beats.items() if keep.intersection(bs))
    officer_rows = (_sums(facts._OD, "user_id", (*facts.OFFICER_COUNTS, "n_groups_last"),
                          first, last, who) if who != [] else {})
    officer_rows = {o: t for o, t in officer_rows.items() if t[0]}
    officer_totals = {o: t[:-1] for o, t in officer_rows.items()}
    officer_groups = {o: t[-1] for o, t in officer_rows.items()}

    # The comfort-zone baseline: the groups of each officer's assigned beats, or of the
    # beats they logged contacts in during the window when they have none assigned.
    their: dict[int, list[int]] = {o: officer_beats[o] for o in officer_totals
                                   if officer_beats and o in officer_beats}
    unassigned = sorted(set(officer_totals) - set(their))
    if unassigned:
        seen: dict[int, list[int]] = defaultdict(list)
        for u, b in fetch_raw(db.session, sa.select(facts._OBL.c.user_id, facts._OBL.c.beat_id)
                              .where(facts._OBL.c.last_at > start,
                                     facts._OBL.c.beat_id != NO_BEAT,
                                     facts._OBL.c.user_id.in_(unassigned))):
            seen[u].append(b)
        their.update({o: seen.get(o, []) for o in unassigned})
    pool_beats = sorted(set().union(*their.values())) if their else []
    members: dict[int, set[int]] = defaultdict(set)
    stance: dict[int, str] = {}
    if pool_beats:
        for b, gid, st in fetch_raw(db.session, sa.select(_gb.c.beat_id, _gb.c.group_id, _g.c.stance)
                                    .select_from(_gb.join(_g, _g.c.id == _gb.c.group_id))
                                    .where(_gb.c.beat_id.in_(pool_beats))):
            members[b].add(gid)
            stance[gid] = st
    pools = {o: officer_pool(bs, members, stance) for o, bs in their.items()}
    return coverage_from_sums(beat_groups, beat_totals, officer_totals, officer_groups, pools,
                              as_of=as_of, days=days)
