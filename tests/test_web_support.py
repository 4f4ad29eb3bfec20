"""The shared web layer (crm.web): conflicts, domain errors, pages, nav and headers.

Two officers editing one record at the same moment must never see a 500: the one who saves
second gets the 409 page (or answer) with what they typed kept, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html as htmllib
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import StringField

from crm.errors import ValidationError
from crm.extensions import db
from crm.models import CommunityGroup, Stakeholder, User
from tests.conftest import Auth, IsolatedClient


class _FormValues(HTMLParser):
    """The values a browser would send for the first POST form of a page."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea, self._done, self._in = {}, None, None, False, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "post" and "logout" not in (a.get("action") or ""):
            self._in = True
        if not self._in:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "checkbox", "radio"):
            self.data[a["name"]] = a.get("value") or ""
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.data[a["name"]] = a.get("value") or "y"
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.data):
            self.data[self._select] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.data[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in:
            self._in, self._done = False, True

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_values(page: str) -> dict:
    p = _FormValues()
    p.feed(page)
    return p.data


@contextmanager
def saved_meanwhile(model, ident: int):
    """Another officer's save lands between our version check and our UPDATE.

    On PostgreSQL a second connection commits the change, as a concurrent request would; the
    SQLite test database is one shared in-memory connection, so the change goes through it.
    """
    fired = []
    table = model.__table__

    def bump(session, flush_context, instances):
        if fired or not any(isinstance(o, model) and o.id == ident for o in session.dirty):
            return
        fired.append(True)
        stmt = (sa.update(table).where(table.c.id == ident)
                .values(version_id=table.c.version_id + 1))
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as other:
                other.execute(stmt)
        else:
            session.connection().execute(stmt)

    sa.event.listen(Session, "before_flush", bump)
    try:
        yield fired
    finally:
        sa.event.remove(Session, "before_flush", bump)


def second_client(app):
    app.test_client_class = IsolatedClient
    c = app.test_client()
    return c, Auth(c)


@pytest.fixture
def people(make):
    beat = make.beat("0111")
    make.user("jdoe", beats=[beat])
    make.user("asmith", beats=[beat])
    make.user("boss", role="admin")
    make.user("boss2", role="admin")
    group = make.group("Maple Tenants", beats=[beat], description="original")
    john = make.stakeholder("John Smith", phone="555 010 2030")
    make.membership(john, group)
    make.commit()
    return group, john


# ---- two edits of one record ------------------------------------------------------------

def test_two_admins_edit_one_group_the_second_gets_409_with_their_text(app, people, auth, client):
    group, _ = people
    other, other_auth = second_client(app)
    auth.login("boss")
    other_auth.login("boss2")
    mine = form_values(client.get(f"/groups/{group.id}/edit").get_data(as_text=True))
    theirs = form_values(other.get(f"/groups/{group.id}/edit").get_data(as_text=True))
    assert mine["version_id"] == theirs["version_id"]  # both opened the same version

    first = other.post(f"/groups/{group.id}/edit", data={**theirs, "description": "their text"})
    second = client.post(f"/groups/{group.id}/edit", data={**mine, "description": "my text"})

    assert first.status_code == 303 and second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Someone else saved this first" in page and "their text" in page
    assert "my text</textarea>" in page  # still in the form, nothing lost
    assert db.session.get(CommunityGroup, group.id).description == "their text"


def test_a_lost_race_on_the_group_page_is_a_409_not_a_500(people, auth, client):
    group, _ = people
    auth.login("boss")
    data = form_values(client.get(f"/groups/{group.id}/edit").get_data(as_text=True))
    with saved_meanwhile(CommunityGroup, group.id) as fired:
        r = client.post(f"/groups/{group.id}/edit", data={**data, "description": "my text"})
    assert fired and r.status_code == 409
    page = r.get_data(as_text=True)
    assert "Someone else saved this first" in page and "my text</textarea>" in page
    assert db.session.get(CommunityGroup, group.id).description == "original"


def test_a_lost_race_on_the_person_page_keeps_what_was_typed(people, auth, client):
    _, john = people
    auth.login("jdoe")
    data = form_values(client.get(f"/stakeholders/{john.id}/edit").get_data(as_text=True))
    with saved_meanwhile(Stakeholder, john.id) as fired:
        r = client.post(f"/stakeholders/{john.id}/edit", data={**data, "phone": "555 999 0000"})
    assert fired and r.status_code == 409, r.status_code
    page = r.get_data(as_text=True)
    assert "Someone else saved this first" in page
    assert 'value="555 999 0000"' in page  # the officer's typing is still in the form
    assert db.session.get(Stakeholder, john.id).phone == "555 010 2030"
    # The form now carries the saved version: sending it again is a deliberate overwrite.
    again = client.post(f"/stakeholders/{john.id}/edit", data=form_values(page))
    assert again.status_code == 303
    assert db.session.get(Stakeholder, john.id).phone == "555 999 0000"


def test_two_api_clients_patch_one_person_one_wins_one_gets_409(app, people, make, client):
    from crm.api.auth import issue_token
    _, john = people
    heads = []
    for name in ("jdoe", "asmith"):
        user = db.session.scalar(sa.select(User).where(User.username == name))
        heads.append({"Authorization": f"Bearer {issue_token(user, user, 't')[1]}"})
    make.commit()
    url = f"/api/v1/stakeholders/{john.id}"
    version = client.get(url, headers=heads[0]).get_json()["version_id"]
    with saved_meanwhile(Stakeholder, john.id) as fired:  # the other one's save lands first
        lost = client.patch(url, json={"version_id": version, "language": "fr"}, headers=heads[1])
    assert fired and lost.status_code == 409, lost.status_code
    assert lost.get_json()["status"] == "ConflictError"
    now = client.get(url, headers=heads[0]).get_json()["version_id"]
    ok = client.patch(url, json={"version_id": now, "language": "es"}, headers=heads[0])
    assert ok.status_code == 200 and db.session.get(Stakeholder, john.id).language == "es"


def test_a_race_lost_at_the_commit_turns_the_answer_into_409(app, people):
    """Work left unflushed by a view loses at the one commit: 409, never a 500 or a 303."""
    _, john = people
    hook = next(f for f in app.after_request_funcs[None]
                if f.__name__ == "commit_once_per_request")
    with app.test_request_context(f"/stakeholders/{john.id}/edit", method="POST"):
        db.session.get(Stakeholder, john.id).language = "fr"
        with saved_meanwhile(Stakeholder, john.id) as fired:
            r = hook(app.response_class("saved", status=303))
        assert fired and r.status_code == 409
        assert "changed by someone else" in r.get_data(as_text=True)
    assert db.session.get(Stakeholder, john.id).language is None


# ---- services raise, the web layer translates ---------------------------------------------

def test_a_service_not_found_is_a_404_page_and_a_json_404(make, auth, client):
    beat = make.beat("0111")
    make.user("jdoe", beats=[beat])
    make.commit()
    auth.login("jdoe")
    page = client.get("/wellbeing/987654")
    assert page.status_code == 404 and "No such check-in among yours." in page.get_data(as_text=True)
    api = client.get("/api/v1/wellbeing/987654")
    assert api.status_code == 404
    assert api.get_json()["message"] == "No such check-in among yours."


def test_apply_errors_puts_messages_on_fields_and_the_rest_on_the_form(app):
    from crm.web.forms import apply_errors

    class F(FlaskForm):
        class Meta:
            csrf = False
        name = StringField("Name")

    with app.test_request_context("/", method="POST"):
        form = F()
        loose = apply_errors(form, ValidationError({"name": "is taken", "beat_ids": ["unknown"]}))
        assert form.name.errors == ["is taken"]
        assert loose == form.form_errors == ["Beat ids: unknown"]


# ---- pages, nav, headers ----------------------------------------------------------------

def test_lists_page_with_one_pager_and_refuse_absurd_page_numbers(make, auth, client):
    beat = make.beat("0111")
    make.user("jdoe", beats=[beat])
    group = make.group("Big Club", beats=[beat])
    for i in range(51):
        make.membership(make.stakeholder(f"Person {i:02d}"), group)
    make.commit()
    auth.login("jdoe")
    first = client.get("/stakeholders/").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'href="/stakeholders/?page=2"' in first
    second = client.get("/stakeholders/?page=2").get_data(as_text=True)
    assert "Person 50" in second and "Person 00" not in second
    assert client.get("/stakeholders/?page=nope").status_code == 200
    huge = client.get(f"/groups/?page={10 ** 20}")
    assert huge.status_code == 400 and "page: must be a page number" in huge.get_data(as_text=True)
    assert client.get(f"/groups/{group.id}?timeline={10 ** 20}").status_code == 400


def test_the_nav_links_each_role_to_its_pages(make, auth, client):
    beat = make.beat("0111")
    make.user("jdoe", beats=[beat])
    make.commit()
    auth.login("jdoe")
    page = htmllib.unescape(client.get("/").get_data(as_text=True))
    nav = page[page.index('<nav class="nav">'):page.index("</nav>")]
    for href in ("/contacts/new", "/groups/", "/stakeholders/", "/analytics/my-beat", "/wellbeing/"):
        assert f'href="{href}"' in nav
    assert "/admin/audit/" not in nav and "/privacy/review" not in nav


def test_csp_forbids_base_and_foreign_form_targets(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "base-uri 'none'" in csp and "form-action 'self'" in csp
