"""`analytics/` imports nothing from `crm`, so it keeps its own copy of the vocabularies it
needs; these tests keep the copies in step with `crm/vocab.py` (order matters: stages rank)."""

from __future__ import annotations

import pytest

import analytics.engagement
import analytics.types
import crm.network.services
from crm import vocab


@pytest.mark.parametrize("name", ["STANCES", "STAGES", "INITIATED_BY", "RELATION_TYPES"])
def test_analytics_vocabularies_match_the_crm_ones_in_order(name):
    assert getattr(analytics.types, name) == getattr(vocab, name)


def test_engagement_counts_the_same_initiators_everywhere():
    assert set(analytics.types.ENGAGING) <= set(vocab.INITIATED_BY)
    assert set(crm.network.services.ENGAGING) == set(analytics.types.ENGAGING)
    assert set(crm.network.services.STRONG_STAGES) <= set(vocab.STAGES)


def test_every_stance_has_a_weight_in_the_hard_to_engage_score():
    assert set(analytics.engagement.STANCE_WEIGHT) == set(vocab.STANCES)
