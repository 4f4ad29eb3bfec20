"""Network analytics off the request path: do pages answer at once, say how fresh they are,
compute each version once, and survive a failing job without losing a write?

The tests run the queue in "memory" mode: jobs wait in the process until `run_pending()`,
so a test can look at a page while its job is still queued (the rest of the suite runs
them inline, in "immediate" mode).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import GroupRelation, Membership
from crm.network import jobs, results, services
from crm.network.models import AnalyticsResult


@pytest.fixture
def world(make):
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    make.user("unit1", role="unit")
    a = make.group("Alpha Tenants", beats=[beat])
    b = make.group("Bravo Bar Owners", beats=[beat])
    c = make.group("Charlie Youth", beats=[beat])
    people = [make.stakeholder(f"P{i}") for i in range(4)]
    for p in people[:3]:
        make.membership(p, a)
    for p in people[1:3]:
        make.membership(p, b)
    db.session.add(GroupRelation(group_a_id=a.id, group_b_id=b.id, type="competing"))
    make.commit()
    return {"beat": beat, "officer": officer, "a": a, "b": b, "c": c, "people": people}


def _status(html: str) -> str:
    marker = 'data-analytics-status="'
    i = html.index(marker) + len(marker)
    return html[i:html.index('"', i)]


def _overlaps(html: str) -> int:
    """Overlap edges drawn (the legend's sample line has no data-a)."""
    return len(re.findall(r'class="edge edge-overlap"[^>]*data-a=', html))


def _rows(name: str) -> list[AnalyticsResult]:
    return list(db.session.scalars(sa.select(AnalyticsResult).where(AnalyticsResult.analytic == name)))


def test_the_network_page_answers_at_once_and_refreshes_in_the_background(queued, world, make,
                                                                           auth, client):
    auth.login("unit1")
    first = client.get("/analytics/network?min_shared=1")
    assert first.status_code == 200
    assert _status(first.get_data(as_text=True)) == "computing"  # nothing waited on a layout
    assert jobs.run_pending() == 2  # the layout and the factions

    fresh = client.get("/analytics/network?min_shared=1").get_data(as_text=True)
    assert _status(fresh) == "fresh" and "Computed " in fresh
    assert _overlaps(fresh) == 1  # A and B share members

    # Charlie gets a member of A: a new overlap, not drawn until the job has run.
    make.membership(world["people"][0], world["c"])
    make.commit()
    stale = client.get("/analytics/network?min_shared=1").get_data(as_text=True)
    assert _status(stale) == "refreshing"
    assert _overlaps(stale) == 1  # the last result, at once
    jobs.run_pending()
    new = client.get("/analytics/network?min_shared=1").get_data(as_text=True)
    assert _status(new) == "fresh" and _overlaps(new) == 2


def test_the_api_says_computing_then_when_and_from_which_data(queued, world, auth, client):
    auth.login("unit1")
    r = client.get("/api/v1/analytics/overlap")
    assert r.status_code == 202 and r.headers["Retry-After"]
    assert r.get_json()["computed"]["status"] == "computing"
    jobs.run_pending()
    doc = client.get("/api/v1/analytics/overlap").get_json()
    assert doc["pair_count"] == 1
    assert doc["computed"]["status"] == "fresh" and doc["computed"]["at"]
    assert doc["computed"]["data_versions"] == doc["computed"]["current_versions"]


def test_many_requests_compute_each_version_once(queued, world, auth, client):
    auth.login("unit1")
    for _ in range(5):
        client.get("/api/v1/analytics/brokers")
    jobs.run_pending()
    (row,) = _rows("brokers")
    assert row.status == "done" and row.attempts == 1
    # A job asked for again (another server, a duplicate in the queue) finds it done.
    assert results.run_job("brokers", row.params) == "skipped"
    assert len(_rows("brokers")) == 1


def test_a_dead_workers_job_is_taken_over_but_a_running_one_is_not(world):
    params = results.normalise("overlap")
    assert results.run_job("overlap", params) == "done"
    (row,) = _rows("overlap")
    db.session.execute(sa.update(AnalyticsResult).values(status="running",
                                                         started_at=datetime.utcnow()))
    db.session.commit()
    assert results.run_job("overlap", params) == "skipped"  # someone is on it
    db.session.execute(sa.update(AnalyticsResult).values(started_at=datetime(2000, 1, 1)))
    db.session.commit()
    assert results.run_job("overlap", params) == "done"  # that worker died long ago


def test_a_failing_job_is_logged_and_retried_and_never_blocks_a_write(queued, world, make, auth,
                                                                       client, monkeypatch,
                                                                       caplog):
    def broken(name, params):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(results, "_compute", broken)
    auth.login("unit1")
    assert client.get("/api/v1/analytics/factions").status_code == 202
    with caplog.at_level(logging.ERROR):
        jobs.run_pending()
    assert "failed; it will be retried" in caplog.text
    (row,) = _rows("factions")
    assert row.status == "failed" and "disk on fire" in row.error
    huey = queued.extensions["crm_queue"]["huey"]
    assert len(huey.scheduled()) == 1  # Huey retries it after a delay

    # Writes go on: a contact is logged and a membership changed while the job is broken.
    make.contact(world["officer"], groups=[world["c"]])
    db.session.add(Membership(stakeholder_id=world["people"][3].id, group_id=world["c"].id))
    make.commit()

    monkeypatch.undo()
    for task in huey.scheduled():  # the retry, as the consumer runs it once its time comes
        huey.execute(task, timestamp=datetime(2999, 1, 1))
    doc = client.get("/api/v1/analytics/factions").get_json()
    assert doc["computed"]["status"] in ("fresh", "refreshing") and doc["factions"]


def test_a_contact_does_not_retire_the_network_results(world, make):
    """Contacts bump their own counter, not memberships/relations/groups: overlap, factions
    and brokers stay fresh while a city logs all day."""
    def fine():
        return results._versions("factions")

    before = fine()
    make.contact(world["officer"], groups=[world["a"]], stakeholders=[world["people"][1]],
                 stage_after="rapport")
    make.commit()
    assert fine() == before
    make.membership(world["people"][3], world["b"])
    make.commit()
    assert fine()["memberships"] == before["memberships"] + 1


def test_the_cli_still_computes_at_once(world, runner):
    result = runner.invoke(args=["crm", "analytics", "overlap", "--json"])
    assert result.exit_code == 0 and '"pair_count": 1' in result.output
    assert not _rows("overlap")  # the CLI does not go through the queue


def test_worker_command_refuses_the_inline_queue(runner):
    result = runner.invoke(args=["crm", "worker"])
    assert result.exit_code != 0 and "immediate" in result.output


def test_a_new_day_is_a_new_version_but_yesterdays_document_shows_meanwhile(queued, world,
                                                                            auth, client):
    """Memberships are "current on" a day, so each day is computed anew; until it is, the
    page shows the last day's document as refreshing rather than nothing."""
    yesterday = results.normalise("overlap", as_of=date.today() - timedelta(days=1))
    assert results.run_job("overlap", yesterday) == "done"
    auth.login("unit1")
    r = client.get("/api/v1/analytics/overlap")
    assert r.status_code == 200 and r.get_json()["computed"]["status"] == "refreshing"
    assert jobs.run_pending() == 1
    assert client.get("/api/v1/analytics/overlap").get_json()["computed"]["status"] == "fresh"
    assert results.normalise("brokers", beat_ids=[3]) == results.normalise("brokers", beat_ids=[4])
    assert services.FINE_DEPENDS["introductions"] == ("memberships", "groups", "links")


def test_my_beat_lists_flags_at_once_and_introductions_when_computed(queued, make, auth, client):
    """The hard-to-engage list is read on request; the introductions follow from the queue."""
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    s = make.stakeholder("Sam Bridge", stage="working_relationship")
    p = make.stakeholder("Pat Link")
    a = make.group("Allotment Society", beats=[make.beat("0999")])
    target = make.group("Quiet Mosque", beats=[beat], stance="wary")
    make.membership(s, a)
    make.membership(p, a)
    make.membership(p, target)  # officer -> Sam -> Allotment Society -> Pat -> Quiet Mosque
    make.contact(officer, stakeholders=[s])
    make.commit()
    auth.login("jdoe")
    html = client.get("/analytics/my-beat").get_data(as_text=True)
    assert "Quiet Mosque" in html and _status(html) == "refreshing"
    assert "Sam Bridge" not in html  # no chain yet
    assert jobs.run_pending() >= 1
    html = client.get("/analytics/my-beat").get_data(as_text=True)
    assert "Sam Bridge" in html and 'data-analytics-status' not in html


def _fine_versions() -> dict:
    return dict(zip(("memberships", "relations", "groups", "links"),
                    services.current_versions(("memberships", "relations", "groups", "links")),
                    strict=True))


@pytest.mark.parametrize("change, moves", [
    ("end a membership", {"memberships"}),
    ("erase a member", {"memberships", "links"}),
    ("merge a member away", {"memberships", "links"}),
    ("rename a group", {"groups"}),
    ("move a group to another beat", {"groups"}),
    ("declare a relation", {"relations"}),
    ("a member reaches a working relationship", {"links"}),
    ("a contact with someone in a working relationship", {"links"}),
    ("a group's stance changes", set()),
    ("a member's phone changes", set()),
    ("a contact with a group only", set()),
])
def test_each_change_retires_exactly_the_results_that_read_it(world, make, change, moves):
    """Never stale: a change that a network analytic reads bumps its counter; and never
    wasteful: the changes a city makes all day (contacts, stances, phones) bump none."""
    from crm.models import Stakeholder

    p0, p1 = world["people"][0], world["people"][1]
    p1.stage = "working_relationship" if change.startswith("a contact with someone") else p1.stage
    make.commit()
    before = _fine_versions()
    if change == "end a membership":
        m = db.session.scalar(sa.select(Membership).where(Membership.stakeholder_id == p0.id))
        m.ends_on = date.today() - timedelta(days=1)
    elif change == "erase a member":
        p0.erased_at = datetime.utcnow()
    elif change == "merge a member away":
        p0.merged_into_id = p1.id
    elif change == "rename a group":
        world["a"].name = "Alpha Tenants Union"
    elif change == "move a group to another beat":
        world["c"].beats = [make.beat("0222")]
    elif change == "declare a relation":
        db.session.add(GroupRelation(group_a_id=world["a"].id, group_b_id=world["c"].id,
                                     type="allied"))
    elif change == "a member reaches a working relationship":
        db.session.get(Stakeholder, p0.id).stage = "working_relationship"
    elif change == "a contact with someone in a working relationship":
        make.contact(world["officer"], stakeholders=[p1])
    elif change == "a group's stance changes":
        world["b"].stance = "hostile"
    elif change == "a member's phone changes":
        p0.phone = "555-0100"
    else:
        make.contact(world["officer"], groups=[world["c"]])
    make.commit()
    after = _fine_versions()
    assert {k for k in after if after[k] != before[k]} == moves


def test_the_drawn_network_is_kept_per_stored_layout_and_per_kind_of_viewer(world, make, auth,
                                                                             client):
    """The drawing is rendered once per stored layout (crm.network.pages.drawn_network):
    an analyst after a unit member still gets no links, and a new layout is drawn anew."""
    make.user("eva", role="analyst")
    make.commit()
    auth.login("unit1")
    linked = client.get("/analytics/network?min_shared=1").get_data(as_text=True)
    assert f'/groups/{world["a"].id}' in linked and _overlaps(linked) == 1
    auth.logout()
    auth.login("eva")
    plain = client.get("/analytics/network?min_shared=1").get_data(as_text=True)
    assert f'data-id="{world["a"].id}"' in plain and "/groups/" not in plain
    make.membership(world["people"][0], world["c"])
    make.commit()
    assert _overlaps(client.get("/analytics/network?min_shared=1").get_data(as_text=True)) == 2
