"""Issue 12 item 2: is a contact filed on the beat where it happened, not the officer's first?"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.contacts.services import pick_beat
from crm.csvio.services import import_csv
from crm.extensions import db
from crm.models import Contact
from tests.test_contacts import open_form
from tests.test_contacts_api import bearer


@pytest.fixture
def two_beats(make):
    """An officer whose first beat (1613) has no groups; the groups are on 1622 and 1623."""
    home, there, next_door = make.beat("1613"), make.beat("1622"), make.beat("1623")
    officer = make.user("jdoe", beats=[home, there, next_door])
    park = make.group("Park Neighbours", beats=[there])
    market = make.group("Market Traders", beats=[next_door])
    ana = make.stakeholder("Ana Lopez")
    make.membership(ana, park)
    make.commit()
    return dict(home=home, there=there, next_door=next_door, officer=officer, park=park,
                market=market, ana=ana)


def test_pick_beat_rule():
    assert pick_beat([1], [{2}]) == (2, [])                   # the group's beat, not mine
    assert pick_beat([1], [{2, 3}, {3}]) == (3, [])           # the beat they share
    assert pick_beat([3, 1], [{2, 3}]) == (3, [])             # shared beats: the one I work
    assert pick_beat([1], [set(), set()]) == (1, [])          # nothing on a beat: my first
    assert pick_beat([], []) == (None, [])
    assert pick_beat([1], [{2}, {3}]) == (None, [2, 3])       # they disagree: ask
    assert pick_beat([5], [{2, 3}]) == (None, [2, 3])         # two beats, none mine: ask


def test_a_visit_to_a_group_on_1622_is_filed_on_1622_not_my_first_beat(two_beats, auth, client):
    w = two_beats
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"group_ids": [str(w["park"].id)], "beat_id": ""})
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 303
    contact = db.session.scalar(sa.select(Contact))
    assert contact.beat_id == w["there"].id


def test_a_person_alone_brings_their_groups_beat(two_beats, auth, client):
    w = two_beats
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"stakeholder_ids": [str(w["ana"].id)]})
    assert client.post("/contacts/new", data=fields).status_code == 303
    assert db.session.scalar(sa.select(Contact.beat_id)) == w["there"].id


def test_groups_on_different_beats_make_the_form_ask_keeping_everything(two_beats, auth, client):
    w = two_beats
    auth.login("jdoe")
    html, fields = open_form(client)
    assert 'id="beat-preview"' in html and "/static/beat-preview.js" in html
    assert f'data-beats="{w["park"].beats[0].code}"' in html
    fields.update({"group_ids": [str(w["park"].id), str(w["market"].id)],
                   "note": "Talked about the market noise"})
    r = client.post("/contacts/new", data=fields)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "on beats 1622, 1623: choose the beat where the contact happened" in html
    assert '<details id="beat-choice" open>' in html
    assert "Talked about the market noise" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    fields["beat_id"] = str(w["next_door"].id)
    assert client.post("/contacts/new", data=fields).status_code == 303
    assert db.session.scalar(sa.select(Contact.beat_id)) == w["next_door"].id


def test_a_group_beat_outside_mine_may_be_chosen_but_not_a_stranger_beat(make, auth, client):
    mine, theirs, elsewhere = make.beat("0111"), make.beat("0112"), make.beat("0999")
    make.user("jdoe", beats=[mine])
    border = make.group("Border Block", beats=[mine, theirs])
    make.commit()
    auth.login("jdoe")
    _, fields = open_form(client)
    fields.update({"group_ids": [str(border.id)]})
    assert client.post("/contacts/new", data=dict(fields, beat_id=str(elsewhere.id))
                       ).status_code == 422
    assert client.post("/contacts/new", data=dict(fields, beat_id=str(theirs.id))
                       ).status_code == 303
    assert db.session.scalar(sa.select(Contact.beat_id)) == theirs.id


def test_the_api_follows_the_same_rule(two_beats, make, client):
    w = two_beats
    headers = bearer(make, w["officer"])
    body = {"channel": "visit", "initiated_by": "proactive", "group_ids": [w["park"].id]}
    r = client.post("/api/v1/contacts/", json=body, headers=headers)
    assert r.status_code == 201 and r.get_json()["beat"] == "1622"
    r = client.post("/api/v1/contacts/", json=dict(body, group_ids=[w["park"].id, w["market"].id]),
                    headers=headers)
    assert r.status_code == 422
    assert "choose the beat" in r.get_json()["errors"]["json"]["beat_id"][0]


def test_the_csv_import_files_contacts_on_their_groups_beat(two_beats):
    report = import_csv(None, "contacts", "occurred_at,officer,stakeholders,groups,initiated_by,"
                        "channel,note\n2024-05-02,jdoe,,Park Neighbours,proactive,visit,\n")
    assert report.errors == [] and report.created == 1
    assert db.session.scalar(sa.select(Contact.beat_id)) == two_beats["there"].id
