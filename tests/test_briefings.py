"""Printable briefings (issue 12 item 10, issue 15 item 3): the beat briefing and the case
summary, what they show, who may open them, and that they print without the navigation."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.handovers import services as hs
from crm.models import AuditEvent, ProblemCase
from tests.test_handover import build_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(make, today):
    w = build_world(make, today)
    w.case = db.session.scalar(sa.select(ProblemCase).where(ProblemCase.title == "Stairwell lighting"))
    w.outsider = make.user("outsider", beats=[make.beat()])
    make.user("analyst1", role="analyst")
    return w


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_officer_briefing_lists_groups_follow_ups_hard_to_engage_and_cases(world, auth, client):
    """Can the beat officer print their beat: groups with stance and last contact, the
    follow-up due, the groups nobody reaches and the open case?"""
    w = world
    db.session.commit()
    auth.login("leaver")
    r = client.get(f"/beats/{w.beat.code}/briefing")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    text = _text(html)
    assert f"Beat {w.beat.code} briefing" in text
    for name in ("Tenants", "Corner youth", "Bowls club"):
        assert name in text
    assert "Wary" in text and "Receptive" in text  # stance of each group
    assert (w.fu.follow_up_on.isoformat() in text) and "Bring the flyer" in text
    assert "Stairwell lighting" in text and "Open problem-solving cases" in text
    assert "Hard to engage" in text
    # printable: its own print stylesheet, no hand-over section when none is planned
    assert "static/print.css" in html and 'id="handover"' not in html
    # the same page by the beat's id
    assert client.get(f"/beats/{w.beat.id}/briefing").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "briefing.read")) == 2


def test_briefing_refuses_beats_outside_the_users_scope(world, auth, client):
    """An officer of another beat gets a 404; an analyst (no names) a 403; an unknown beat 404."""
    w = world
    db.session.commit()
    auth.login("outsider")
    assert client.get(f"/beats/{w.beat.code}/briefing").status_code == 404
    assert client.get("/beats/no-such-beat/briefing").status_code == 404
    assert client.get(f"/cases/{w.case.id}/summary").status_code == 404
    auth.logout()
    auth.login("analyst1")
    assert client.get(f"/beats/{w.beat.code}/briefing").status_code == 403
    assert client.get(f"/cases/{w.case.id}/summary").status_code == 403
    auth.logout()
    auth.login("sup")  # the district's supervisor
    assert client.get(f"/beats/{w.beat.code}/briefing").status_code == 200


def test_successor_briefing_carries_the_hand_over_with_the_leavers_notes(world, auth, client, today):
    """Issue 15 item 3: the beat in hand-over shows the plan; after the transfer the successor's
    briefing of that beat lists the people handed over with the leaving officer's note."""
    w = world
    h = hs.draft_handover(w.sup, w.leaver, w.beat, leaves_on=today + timedelta(days=7))
    person = next(i for i in h.items if i.stakeholder_id == w.p1.id)
    hs.set_note(w.leaver, person, "Prefers a call after 6pm; met at the tenants' AGM")
    db.session.commit()
    auth.login("sup")
    text = _text(client.get(f"/beats/{w.beat.code}/briefing").get_data(as_text=True))
    assert "in hand-over" in text and f"leaves it on {(today + timedelta(days=7)).isoformat()}" in text
    assert "Engagement record, not intelligence" in text
    auth.logout()

    auth.login("succ")  # not on this beat and nothing handed over yet
    assert client.get(f"/beats/{w.beat.code}/briefing").status_code == 404
    auth.logout()

    hs.assign_successor(w.sup, h, w.succ)
    hs.transfer(w.sup, h)
    db.session.commit()
    auth.login("succ")
    r = client.get(f"/beats/{w.beat.code}/briefing")
    assert r.status_code == 200
    text = _text(r.get_data(as_text=True))
    assert "Hand-over from" in text and "Ada Rapport" in text
    assert "Prefers a call after 6pm" in text
    assert "Engagement record, not intelligence" in text
    assert "Introduce yourself to Ada Rapport" in text or "Meet Ada Rapport" in text


def test_case_summary_prints_the_case_for_those_who_may_see_it(world, auth, client):
    w = world
    w.case.problem_statement = "Dark stairwells at 12 Elm Court"
    db.session.commit()
    auth.login("leaver")  # the case is on the leaver's beat
    r = client.get(f"/cases/{w.case.id}/summary")
    assert r.status_code == 200
    text = _text(r.get_data(as_text=True))
    assert "Stairwell lighting" in text and "case summary" in text
    assert "Dark stairwells at 12 Elm Court" in text
    assert "Ask the landlord" in text  # the open action
    assert "static/print.css" in r.get_data(as_text=True)


def test_print_stylesheet_hides_the_navigation_and_keeps_tables():
    css = (ROOT / "static" / "print.css").read_text()
    media = css[css.index("@media print"):]
    assert ".topbar" in media and ".nav" in media and ".no-print" in media
    assert "display:none" in media.replace(" ", "")
    assert "@page" in css
