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
    # Nobody can be recognised: no names, no usernames, no ids in the clear.
    for secret in ("Maria", "555", "jdoe", "Maple", "met Maria"):
        assert secret not in text
    assert row["officer"].startswith("O-") and row["group"].startswith("G-")
    # Stable pseudonyms: the same officer gets the same code next time.
    again = list(csv.DictReader(io.StringIO(client.get("/analytics/outcomes.csv").get_data(as_text=True))))
    assert again[0]["officer"] == row["officer"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "analytics.outcomes_export")) == 2


def test_only_analysts_and_admins_get_the_outcomes_export(make, auth, client):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    assert client.get("/analytics/outcomes.csv").status_code == 403
