"""`coverage_from_totals` (coverage from the facts' window sums) and `coverage_from_sums`
(from per-beat and per-officer sums made in SQL) give exactly what `analytics.coverage` gives
from the per-(officer, beat, group, initiated_by) counts."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

import analytics
from crm.facts.coverage import (
    coverage_from_sums,
    coverage_from_totals,
    sums_from_counts,
    totals_from_counts,
)
from crm.vocab import INITIATED_BY, STANCES

BEATS = [1, 2, 3, 4]


@st.composite
def worlds(draw):
    n = draw(st.integers(1, 8))
    groups = [analytics.GroupInfo(id=i + 1, name=f"G{i}", stance=draw(st.sampled_from(STANCES)),
                                  beat_ids=tuple(sorted(draw(st.sets(st.sampled_from(BEATS),
                                                                     max_size=2)))))
              for i in range(n)]
    counts = draw(st.lists(st.builds(
        analytics.OfficerContactCount, st.integers(1, 5), st.sampled_from([None, *BEATS]),
        st.integers(1, n), st.sampled_from(INITIATED_BY), st.integers(0, 7)), max_size=25))
    # Each (officer, beat, group, initiated_by) once, as the loader's GROUP BY gives them.
    counts = list({(c.officer_id, c.beat_id, c.group_id, c.initiated_by): c for c in counts}.values())
    officer_beats = draw(st.one_of(st.none(), st.dictionaries(
        st.integers(1, 5), st.lists(st.sampled_from(BEATS), max_size=2), max_size=3)))
    return groups, counts, officer_beats, draw(st.integers(0, 6))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(worlds())
def test_same_result_as_analytics_coverage(world):
    groups, counts, officer_beats, min_proactive = world
    as_of = date(2026, 12, 5)
    expected = analytics.coverage(groups, counts, as_of=as_of, days=90,
                                  officer_beats=officer_beats, min_proactive=min_proactive)
    stance = {g.id: g.stance for g in groups}
    got = coverage_from_totals(groups, *totals_from_counts(counts, stance), as_of=as_of, days=90,
                               officer_beats=officer_beats, min_proactive=min_proactive)
    assert got == expected


@settings(max_examples=150, deadline=None, derandomize=True)
@given(worlds())
def test_sums_give_the_same_result_as_analytics_coverage(world):
    groups, counts, officer_beats, min_proactive = world
    as_of = date(2026, 12, 5)
    expected = analytics.coverage(groups, counts, as_of=as_of, days=90,
                                  officer_beats=officer_beats, min_proactive=min_proactive)
    got = coverage_from_sums(*sums_from_counts(groups, counts, officer_beats), as_of=as_of,
                             days=90, min_proactive=min_proactive)
    assert got == expected
