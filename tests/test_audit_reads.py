"""Is every look at a community member's data on the record?"""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent


def _events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_opening_a_person_lists_and_searches_are_audited(make, auth, client):
    beat = make.beat()
    make.user("jdoe", beats=[beat])
    g = make.group("Block Club", beats=[beat])
    p = make.stakeholder("Maria Lopez", phone="555-0111")
    make.membership(p, g)
    make.commit()
    auth.login("jdoe")
    assert client.get(f"/stakeholders/{p.id}").status_code == 200
    assert client.get("/stakeholders/").status_code == 200
    assert client.get("/stakeholders/search?q=Mari").status_code == 200
    reads = _events("stakeholder.read")
    assert [(e.actor_username, e.object_id) for e in reads] == [("jdoe", str(p.id))]
    lists = _events("stakeholder.list")
    assert len(lists) == 2 and all(e.detail["ids"] == [p.id] for e in lists)
    # The trail says who looked at whom, never what the record says.
    assert not any("Maria" in str(e.detail) or "555" in str(e.detail)
                   for e in db.session.scalars(sa.select(AuditEvent)))
