"""The outcomes export carries the hand-over figures (issue 15 item 4): per beat that changed
hands, relationships handed over and how many were re-established within 30/60/90 days."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from crm.extensions import db
from crm.handovers import services as hs
from tests.test_handover import build_world


@pytest.fixture
def world(make, today):
    return build_world(make, today)


def test_the_analyst_downloads_the_re_established_figures_with_no_names(world, make, auth, client, today):
    w = world
    make.user("eva", role="analyst")
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today)
    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    h.transferred_at = datetime.utcnow() - timedelta(days=50)
    db.session.flush()
    # The successor meets Ada on day 5 and Bo on day 40: 1 within 30 days, 2 within 60 and 90.
    make.contact(w.succ, stakeholders=[w.p1], occurred_at=h.transferred_at + timedelta(days=5))
    make.contact(w.succ, stakeholders=[w.p2], occurred_at=h.transferred_at + timedelta(days=40))
    make.commit()
    auth.login("eva")
    r = client.get("/analytics/outcomes.csv?table=handovers")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row == {"month": h.transferred_at.strftime("%Y-%m"), "beat": w.beat.code,
                   "handed_over_on": h.transferred_at.date().isoformat(), "relationships": "2",
                   "reestablished_30d": "1", "reestablished_60d": "2", "reestablished_90d": "2"}
    for secret in ("Ada", "Bo Working", "leaver", "succ"):
        assert secret not in text
    # The same figure as the coverage page and the analytics API.
    [same] = hs.retention(None, today - timedelta(days=90), today)
    assert same.retention.within == {30: 1, 60: 2, 90: 2}
    # The window filter and a table that does not exist.
    later = client.get(f"/analytics/outcomes.csv?table=handovers&from={today.isoformat()}")
    assert len(later.get_data(as_text=True).splitlines()) == 1
    assert client.get("/analytics/outcomes.csv?table=nope").status_code == 404
    assert client.get("/analytics/outcomes.csv").status_code == 200


def test_officers_do_not_get_the_hand_over_figures(world, auth, client):
    db.session.commit()
    auth.login("succ")
    assert client.get("/analytics/outcomes.csv?table=handovers").status_code == 403
