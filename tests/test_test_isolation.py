"""Does one test's cached analytics document leak into the next test? (tests/conftest.py
clears the caches around every test: they are keyed by data-version counters, which start
again from 0 in each test's fresh database.)"""

from __future__ import annotations

from datetime import date

import pytest

from crm.network import services as network
from tests.conftest import _LRU_WRAPPER, clear_analytics_caches

AS_OF = date(2026, 1, 15)


def _two_groups_sharing_a_member(make, names):
    beat = make.beat("0111")
    a, b = (make.group(n, beats=[beat]) for n in names)
    person = make.stakeholder("Shared Member")
    make.membership(person, a)
    make.membership(person, b)
    make.commit()


@pytest.mark.parametrize("names", [("Alpha Tenants", "Bravo Church"),
                                   ("Delta Youth", "Echo Block Club")])
def test_each_test_computes_its_own_overlap_document(make, names):
    """Both runs see the same data versions; a leaked document would name the other groups."""
    _two_groups_sharing_a_member(make, names)
    doc = network.compute("overlap", as_of=AS_OF)
    assert {doc["pairs"][0]["group_a"]["name"], doc["pairs"][0]["group_b"]["name"]} == set(names)


def test_clearing_empties_the_document_cache_and_the_page_caches(make):
    _two_groups_sharing_a_member(make, ("Alpha Tenants", "Bravo Church"))
    network.compute("overlap", as_of=AS_OF)
    assert network.cache._data
    from crm.network import pages  # the services behind the network pages hold their caches
    cached = [f for f in vars(pages).values() if type(f) is _LRU_WRAPPER]
    assert cached, "the network pages keep lru caches"
    pages._pictures.get_or_compute("k", lambda: "drawing")  # kept in another module
    clear_analytics_caches()
    assert not network.cache._data and not pages._pictures._data
    assert all(f.cache_info().currsize == 0 for f in cached)
