"""The demo includes one beat in hand-over (issue 15): a plan drafted, a successor named for
the relationships, the rest still waiting, and who introduced someone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.demo.services import DEMO_PASSWORD, seed_demo
from crm.extensions import db
from crm.handovers import services as hs
from crm.handovers.models import Handover
from crm.models import User


@pytest.fixture
def demo(app):
    report = seed_demo("small", "chicago", seed=1)
    db.session.commit()
    return report


def test_one_beat_is_in_hand_over_with_a_successor_named_and_items_pending(demo, auth, client):
    [h] = db.session.scalars(sa.select(Handover)).all()
    assert h.status == "draft" and h.reason == "planned"
    people = [i for i in h.items if i.kind == "stakeholder"]
    assert people and all(i.stage in hs.RAPPORT_OR_BETTER for i in people)
    named = {i.successor_id for i in h.items if i.kind in ("stakeholder", "group")}
    assert len(named) == 1 and None not in named
    successor = db.session.get(User, named.pop())
    assert successor.role == "officer" and successor.id != h.leaving_officer_id
    pending = [i for i in h.items if i.successor_id is None]
    assert all(i.kind in ("follow_up", "case_action") for i in pending)
    assert any(i.introduced_by_id for i in h.items), "the plan says who introduced someone"
    assert hs.beats_in_handover() == {h.beat_id}
    assert demo.counts["handovers"] == 1
    supervisor = db.session.scalar(sa.select(User).where(User.role == "supervisor",
                                                         User.district_id == h.beat.district_id))
    auth.login(supervisor.username, DEMO_PASSWORD)
    assert "in hand-over" in client.get("/analytics/coverage").get_data(as_text=True)
    page = client.get(f"/handovers/{h.id}").get_data(as_text=True)
    assert "Introduced by " in page and successor.display_name in page
