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
