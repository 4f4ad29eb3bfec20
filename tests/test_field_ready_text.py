"""Issue 12 item 3: is a too-long text refused with the field's message, never cut?"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.errors import ValidationError
from crm.extensions import db
from crm.models import Contact
from crm.users.services import issue_token
from tests.test_contacts import beat_world, open_form  # noqa: F401  (fixture)
from tests.test_contacts_api import bearer


def test_a_pasted_5000_character_note_is_refused_and_kept_whole(beat_world, auth, client):  # noqa: F811
    _, _, group, _ = beat_world
    auth.login("jdoe")
    html, fields = open_form(client)
    # No maxlength for the browser to cut a paste to; the limit rides along for the counter.
    note_tag = re.search(r"<textarea[^>]*name=\"note\"[^>]*>", html).group(0)
    assert "maxlength=" not in note_tag.replace("data-maxlength=", "")
    assert 'data-maxlength="2000"' in note_tag
    assert "/static/char-counter.js" in html
    pasted = "word " * 1000
    fields.update({"group_ids": [str(group.id)], "note": pasted})
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "must be at most 2000 characters (now 5000)" in page
    assert pasted.strip() in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_a_newline_counts_once_as_the_counter_shows(beat_world, auth, client):  # noqa: F811
    _, _, group, _ = beat_world
    auth.login("jdoe")
    _, fields = open_form(client)
    note = "\r\n".join(["x" * 199] * 10) + "x"   # 2,000 characters on screen (9 newlines)
    fields.update({"group_ids": [str(group.id)], "note": note})
    assert client.post("/contacts/new", data=fields).status_code == 303
    assert len(db.session.scalar(sa.select(Contact.note))) == 2000


def test_every_limited_contact_field_refuses_over_long_text(beat_world, auth, client):  # noqa: F811
    _, _, group, _ = beat_world
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"group_ids": [str(group.id)], "place": "p" * 201, "purpose": "q" * 201,
                   "follow_up_on": "2099-01-01", "follow_up_note": "f" * 301})
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    for n, limit in ((201, 200), (301, 300)):
        assert f"must be at most {limit} characters (now {n})" in page
    assert "p" * 201 in page and "f" * 301 in page


def test_the_edit_form_refuses_too_long_text_too(beat_world, make, auth, client):  # noqa: F811
    _, officer, group, _ = beat_world
    c = make.contact(officer, groups=[group])
    make.commit()
    auth.login("jdoe")
    page = client.get(f"/contacts/{c.id}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = client.post(f"/contacts/{c.id}/edit", data={"csrf_token": token, "version_id": c.version_id,
                                                    "note": "n" * 2500})
    assert r.status_code == 422
    assert "must be at most 2000 characters (now 2500)" in r.get_data(as_text=True)


def test_the_api_refuses_an_over_long_note_naming_the_field(beat_world, make, client):  # noqa: F811
    _, officer, group, _ = beat_world
    r = client.post("/api/v1/contacts/", headers=bearer(make, officer), json={
        "channel": "visit", "initiated_by": "proactive", "group_ids": [group.id], "note": "n" * 5000})
    assert r.status_code == 422
    assert "note" in r.get_json()["errors"]["json"]


def test_a_token_label_is_refused_not_cut(make):
    user = make.user("jdoe")
    with pytest.raises(ValidationError) as e:
        issue_token(user, user, "x" * 81)
    assert "at most 80" in e.value.errors["name"][0]
