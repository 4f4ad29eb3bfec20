"""What an API call writes (issue 10: the contact POST and the pages under load): an API
token's use is noted to the minute, so reading with a token is not a write each time."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.db import utcnow
from crm.extensions import db
from crm.users.models import ApiToken


def _updates_of_tokens(client, path, headers) -> int:
    seen = []

    def note(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get(path, headers=headers).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    return len(seen)


def test_a_tokens_use_is_noted_once_a_minute(make, client):
    officer = make.user("jdoe", beats=[make.beat("0111")])
    tok, plain = issue_token(officer, officer, "phone")
    make.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    path = "/api/v1/contacts/"
    assert _updates_of_tokens(client, path, headers) == 1  # first use: noted
    db.session.expire_all()
    first = db.session.get(ApiToken, tok.id).last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    assert _updates_of_tokens(client, path, headers) == 0  # again within the minute: no write
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == tok.id)
                       .values(last_used_at=utcnow() - timedelta(minutes=2)))
    make.commit()
    assert _updates_of_tokens(client, path, headers) == 1  # a minute later: noted again
    db.session.expire_all()
    assert utcnow() - db.session.get(ApiToken, tok.id).last_used_at < timedelta(minutes=1)


def test_a_contact_post_commits_once_with_its_counters(make, client):
    """The change counters move in the contact's own transaction (no second transaction
    after it): the POST commits once, and the counter has moved when it answers."""
    from crm.models import DataVersion

    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    group = make.group("Maple Tenants", beats=[beat])
    _, plain = issue_token(officer, officer, "phone")
    make.commit()

    def version():
        db.session.expire_all()
        return db.session.scalar(sa.select(DataVersion.version)
                                 .where(DataVersion.name == "contacts")) or 0

    before = version()
    commits = []
    listener = (db.engine, "commit", lambda conn: commits.append(1))
    sa.event.listen(*listener)
    try:
        r = client.post("/api/v1/contacts/", headers={"Authorization": f"Bearer {plain}"},
                        json={"channel": "visit", "initiated_by": "proactive",
                              "beat_id": beat.id, "group_ids": [group.id]})
    finally:
        sa.event.remove(*listener)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert len(commits) == 1
    assert version() == before + 1
