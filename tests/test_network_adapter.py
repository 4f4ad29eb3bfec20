"""Do the CLI and the API give the same analytics documents, from the database, fresh after changes?"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from crm.extensions import db
from crm.models import GroupRelation
from crm.network.results import JOBS
from crm.network.services import NAMES, cache, compute


@pytest.fixture
def community(make):
    """Three groups in one beat; A and B share two members and compete; C was never contacted."""
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    make.user("sarge", role="supervisor", district=beat.district)
    make.user("ana", role="analyst")
    a = make.group("Alpha Tenants", beats=[beat], stance="receptive", size_estimate=40)
    b = make.group("Bravo Bar Owners", beats=[beat], stance="wary", size_estimate=12)
    c = make.group("Charlie Youth", beats=[beat], stance="hostile", size_estimate=30)
    people = [make.stakeholder(f"P{i}") for i in range(4)]
    for p in people[:3]:
        make.membership(p, a)
    for p in people[1:3]:
        make.membership(p, b)
    make.membership(people[3], c)
    people[1].stage = "working_relationship"
    db.session.add(GroupRelation(group_a_id=a.id, group_b_id=b.id, type="competing",
                                 issue="late-night noise"))
    now = datetime.utcnow()
    make.contact(officer, groups=[a], stakeholders=[people[1]], occurred_at=now - timedelta(days=3))
    make.contact(officer, groups=[b], initiated_by="reactive", occurred_at=now - timedelta(days=5))
    make.commit()
    cache.clear()
    return {"a": a, "b": b, "c": c, "officer": officer, "people": people, "beat": beat}


def test_overlap_document_counts_shared_members(community):
    doc = compute("overlap")
    assert doc["pair_count"] == 1
    pair = doc["pairs"][0]
    assert {pair["group_a"]["name"], pair["group_b"]["name"]} == {"Alpha Tenants", "Bravo Bar Owners"}
    assert pair["shared"] == 2 and pair["jaccard"] == pytest.approx(2 / 3)


def test_hard_to_engage_flags_never_contacted_and_reactive_only(community):
    doc = compute("hard-to-engage")
    flags = {f["group"]["name"]: f for f in doc["groups"]}
    assert "Alpha Tenants" not in flags  # proactive contact 3 days ago
    assert flags["Charlie Youth"]["days_since_contact"] is None
    assert "never contacted" in flags["Charlie Youth"]["reasons"]
    assert flags["Bravo Bar Owners"]["days_since_contact"] == 5
    assert "only reactive contacts in the window" in flags["Bravo Bar Owners"]["reasons"]


def test_factions_split_the_competing_groups_and_name_mediators(community):
    doc = compute("factions")
    assert doc["frustration"] == 0
    assert len(doc["factions"]) == 2
    mediators = {m["stakeholder"]["id"] for m in doc["mediators"]}
    assert mediators == {community["people"][1].id, community["people"][2].id}


def test_introductions_reach_a_group_through_a_known_stakeholder(community):
    doc = compute("introductions", group_id=community["b"].id)
    chain = doc["chains"][0]
    assert chain["officer"]["id"] == community["officer"].id
    assert [s["kind"] for s in chain["steps"]] == ["officer", "stakeholder", "group"]
    assert chain["steps"][-1]["name"] == "Bravo Bar Owners"


def test_cache_is_refreshed_when_the_data_changes(community, make):
    before = compute("hard-to-engage")
    assert "Charlie Youth" in {f["group"]["name"] for f in before["groups"]}
    make.contact(community["officer"], groups=[community["c"]], occurred_at=datetime.utcnow())
    make.commit()
    after = compute("hard-to-engage")
    assert "Charlie Youth" not in {f["group"]["name"] for f in after["groups"]}


@pytest.mark.parametrize("name", NAMES)
def test_cli_and_api_return_identical_documents(name, community, runner, auth, client):
    extra_cli = ["--group", str(community["b"].id)] if name == "introductions" else []
    extra_api = f"&group={community['b'].id}" if name == "introductions" else ""
    result = runner.invoke(args=["crm", "analytics", name, "--json", *extra_cli])
    assert result.exit_code == 0, result.output
    auth.login("sarge")
    r = client.get(f"/api/v1/analytics/{name}?days=90{extra_api}")
    assert r.status_code == 200, r.get_data(as_text=True)
    answer = r.get_json()
    if name in JOBS:  # background results say when and from which data they were computed
        computed = answer.pop("computed")
        assert computed["status"] == "fresh" and computed["at"]
        assert computed["data_versions"] == computed["current_versions"]
    assert json.loads(result.output) == answer


def test_analyst_cannot_ask_for_introductions(community, auth, client):
    auth.login("ana")
    assert client.get(f"/api/v1/analytics/introductions?group={community['b'].id}").status_code == 403


def test_bad_analytics_parameters_are_422_or_404(community, auth, client):
    auth.login("sarge")
    assert client.get("/api/v1/analytics/coverage?days=0").status_code == 422
    assert client.get("/api/v1/analytics/introductions").status_code == 422
    assert client.get("/api/v1/analytics/introductions?group=99999").status_code == 404
    assert client.get("/api/v1/analytics/coverage?beat=NOPE").status_code == 404
