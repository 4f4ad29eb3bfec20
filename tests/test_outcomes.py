"""Can an evaluator study outcomes without seeing who anyone is?"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent


def test_analyst_downloads_pseudonymised_outcomes(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    make.user("eva", role="analyst")
    g = make.group("Maple Street Block Club", beats=[beat])
    p = make.stakeholder("Maria Lopez", phone="555-0111")
    at = datetime(2026, 3, 10, 12, 0)
    make.contact(officer, groups=[g], stakeholders=[p], occurred_at=at, note="met Maria")
    make.contact(officer, groups=[g], occurred_at=at + timedelta(days=2), initiated_by="reactive",
                 enforcement="warning", stage_after="working_relationship")
    make.commit()
    auth.login("eva")
    r = client.get("/analytics/outcomes.csv")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["month"] == "2026-03" and row["contacts"] == "2"
    assert (row["proactive"], row["reactive"], row["with_enforcement"],
            row["working_relationship_or_better"]) == ("1", "1", "1", "1")
    # Nobody can be recognised: no names, no usernames, no ids in the clear. (The phone as
    # written: its bare digits "555" turn up by chance inside a salted hex pseudonym.)
    for secret in ("Maria", "555-0111", "jdoe", "Maple", "met Maria"):
        assert secret not in text
    assert row["officer"].startswith("O-") and row["group"].startswith("G-")
    # Pseudonyms are salted per export: the next export cannot be joined to this one.
    again = list(csv.DictReader(io.StringIO(client.get("/analytics/outcomes.csv").get_data(as_text=True))))
    assert again[0]["officer"] != row["officer"] and again[0]["group"] != row["group"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "analytics.outcomes_export")) == 2


def test_only_analysts_and_admins_get_the_outcomes_export(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    assert client.get("/analytics/outcomes.csv").status_code == 403


def test_one_export_follows_an_officer_across_months_and_groups(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    other = make.user("asmith", beats=[beat])
    make.user("eva", role="analyst")
    g1, g2 = make.group("Maple Street Block Club", beats=[beat]), make.group("Oak Tenants", beats=[beat])
    make.contact(officer, groups=[g1], occurred_at=datetime(2026, 3, 10, 12, 0))
    make.contact(officer, groups=[g2], occurred_at=datetime(2026, 4, 10, 12, 0))
    make.contact(other, groups=[g1], occurred_at=datetime(2026, 4, 11, 12, 0))
    make.commit()
    auth.login("eva")
    rows = list(csv.DictReader(io.StringIO(client.get("/analytics/outcomes.csv").get_data(as_text=True))))
    by_month = {(r["month"], r["group"]): r["officer"] for r in rows}
    march_g1 = next(r for r in rows if r["month"] == "2026-03")
    april = [r for r in rows if r["month"] == "2026-04"]
    assert len(rows) == 3 and len(set(by_month.values())) == 2
    # The officer of March is one of April's two, under the same code within this export.
    assert march_g1["officer"] in {r["officer"] for r in april}
    assert {r["group"] for r in rows} == {march_g1["group"], *(r["group"] for r in april)}


def _coverage_world(make):
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    officer.display_name = "Jane Doe"
    make.user("eva", role="analyst")
    g = make.group("Maple Street Block Club", beats=[beat])
    p = make.stakeholder("Maria Lopez")
    make.membership(p, g)
    now = datetime.utcnow()
    for i in range(7):
        make.contact(officer, groups=[g], stakeholders=[p], occurred_at=now - timedelta(days=i + 1))
    make.commit()
    return officer


def test_analysts_get_no_officer_names_or_ids_from_the_coverage_api(make, auth, client):
    """Before: the coverage API gave analysts each officer's name, id and exact counts, which
    matched the outcomes export row for row and so named every pseudonym."""
    _coverage_world(make)
    auth.login("eva")
    r = client.get("/api/v1/analytics/coverage?days=90")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "Jane" not in text and "jdoe" not in text
    (row,) = r.get_json()["officers"]
    assert row["officer"]["id"] is None and row["officer"]["name"] is None
    assert row["officer"]["pseudonym"].startswith("O-")
    assert row["contacts"] == 5  # 7 contacts, coarsened to a multiple of 5
    again = client.get("/api/v1/analytics/coverage?days=90").get_json()["officers"][0]
    assert again["officer"]["pseudonym"] != row["officer"]["pseudonym"]


def test_supervisors_still_see_their_officers_by_name(make, auth, client):
    officer = _coverage_world(make)
    make.user("sarge", role="supervisor")
    make.commit()
    auth.login("sarge")
    (row,) = client.get("/api/v1/analytics/coverage?days=90").get_json()["officers"]
    assert row["officer"] == {"id": officer.id, "name": "Jane Doe"} and row["contacts"] == 7


def test_analysts_get_no_stakeholder_ids_from_factions_or_brokers(make, auth, client):
    from crm.models import GroupRelation

    beat = make.beat("0111")
    make.user("eva", role="analyst")
    a, b = make.group("Alpha", beats=[beat]), make.group("Bravo", beats=[beat])
    people = [make.stakeholder(f"Person {i}") for i in range(3)]
    for p in people:
        make.membership(p, a)
    make.membership(people[0], b)
    db.session.add(GroupRelation(group_a_id=a.id, group_b_id=b.id, type="competing"))
    make.commit()
    auth.login("eva")
    factions = client.get("/api/v1/analytics/factions").get_json()
    assert factions["mediators"], "the walk needs a mediator to hide"
    for m in factions["mediators"]:
        assert m["stakeholder"]["id"] is None and m["stakeholder"]["pseudonym"].startswith("S-")
    brokers = client.get("/api/v1/analytics/brokers").get_json()["brokers"]
    people_ids = {p.id for p in people}
    for item in brokers:
        if item["kind"] == "stakeholder":
            assert item["id"] is None and item["name"].startswith("S-")
        else:
            assert item["id"] not in people_ids or item["kind"] == "group"
