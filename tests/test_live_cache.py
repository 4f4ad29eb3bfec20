"""The pages keep coverage and hard-to-engage per process by their change counters
(`compute(live_cache=True)`), and every write they depend on shows on the next load: a
contact, a stance, a beat assignment, an officer's new name, a rebuild of the facts."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.extensions import db
from crm.models import DataVersion
from crm.network import services


@pytest.fixture
def town(make):
    d1, d2 = make.district("D1"), make.district("D2")
    a, b, c = make.beat("A01", d1), make.beat("B01", d1), make.beat("C01", d2)
    oa, ob = make.user("oa", beats=[a]), make.user("ob", beats=[b])
    make.user("sarge", role="supervisor", district=d1)
    admin = make.user("root", role="admin")
    shy = make.group("Shy Tenants", beats=[a], stance="wary")
    open_ = make.group("Open Bowls Club", beats=[b], stance="receptive")
    make.contact(oa, groups=[open_], beat=b)
    make.contact(ob, groups=[open_], beat=b)
    make.commit()
    return {"A": a, "B": b, "C": c, "oa": oa, "ob": ob, "admin": admin, "shy": shy,
            "open": open_}


@pytest.fixture
def computed(monkeypatch):
    """How many times each live document was computed."""
    calls: Counter = Counter()
    for name in services.LIVE:
        fn = services._COMPUTE[name]

        def counted(p, _fn=fn, _name=name):
            calls[_name] += 1
            return _fn(p)
        monkeypatch.setitem(services._COMPUTE, name, counted)
    return calls


def _hard_list(html: str) -> str:
    return html[html.index('id="hard-h"'):html.index('id="overdue-assignments-h"')]


def test_the_page_is_kept_until_a_contact_and_the_next_load_is_fresh(town, computed, auth,
                                                                     client, app):
    _, token = issue_token(town["oa"], town["oa"], "phone")
    db.session.commit()
    auth.login("sarge")
    first = client.get("/analytics/coverage").get_data(as_text=True)
    assert "Shy Tenants" in _hard_list(first)
    assert client.get("/analytics/coverage").status_code == 200
    assert computed == {"coverage": 1, "hard-to-engage": 1}  # the second load was kept

    phone = app.test_client()  # the officer's phone, no session cookie
    r = phone.post("/api/v1/contacts/", headers={"Authorization": f"Bearer {token}"},
                    json={"channel": "visit", "initiated_by": "proactive",
                          "beat_id": town["A"].id, "group_ids": [town["shy"].id]})
    assert r.status_code == 201, r.get_data(as_text=True)
    after = client.get("/analytics/coverage").get_data(as_text=True)
    assert "Shy Tenants" not in _hard_list(after)
    assert computed == {"coverage": 2, "hard-to-engage": 2}
    # The officers' bars (kept as markup per document, like the map) moved with it.
    assert "1 contact " in _officer(first, "oa")
    assert "2 contacts" in _officer(after, "oa")


def _officer(html: str, name: str) -> str:
    part = html[html.index('id="officers-h"'):]
    start = part.index(f">{name}<")
    return part[start:part.index("</li>", start)]


def test_the_api_answer_is_kept_until_a_contact_and_the_next_one_is_fresh(town, computed,
                                                                         client, app):
    """The hard-to-engage API writes a kept document's JSON once; a contact shows at once."""
    _, token = issue_token(town["oa"], town["oa"], "phone")
    _, sup_token = issue_token(town["admin"], db.session.scalar(
        sa.select(services.User).where(services.User.username == "sarge")), "laptop")
    db.session.commit()
    headers = {"Authorization": f"Bearer {sup_token}"}
    path = "/api/v1/analytics/hard-to-engage?district=D1"
    first = client.get(path, headers=headers)
    second = client.get(path, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert [f["group"]["name"] for f in first.get_json()["groups"]] == ["Shy Tenants"]
    assert computed["hard-to-engage"] == 1

    r = app.test_client().post("/api/v1/contacts/", headers={"Authorization": f"Bearer {token}"},
                               json={"channel": "visit", "initiated_by": "proactive",
                                     "beat_id": town["A"].id, "group_ids": [town["shy"].id]})
    assert r.status_code == 201, r.get_data(as_text=True)
    after = client.get(path, headers=headers)
    assert after.status_code == 200 and after.get_json()["groups"] == []
    assert computed["hard-to-engage"] == 2


def test_a_stance_a_rename_and_a_beat_move_show_on_the_next_load(town, auth, client):
    from crm.groups.services import update_group
    from crm.users.services import UserChanges, update_user

    auth.login("sarge")
    page = client.get("/analytics/coverage").get_data(as_text=True)
    assert "Open Bowls Club" not in _hard_list(page) and ">ob<" in page
    mix = 'data-label="Receptive / other / wary–hostile">{}</td>'
    assert mix.format("2 / 0 / 0") in page  # beat B: two contacts with a receptive group

    update_group(town["admin"], town["open"], {"stance": "hostile"}, version_id=None)
    db.session.commit()
    # Still visited in the window, so not flagged; its contacts now count as hostile ones.
    page = client.get("/analytics/coverage").get_data(as_text=True)
    assert mix.format("0 / 0 / 2") in page

    ob = town["ob"]
    update_user(town["admin"], ob, UserChanges(role="officer", display_name="Officer Bea",
                                               beat_ids={town["B"].id}), version_id=ob.version_id)
    db.session.commit()
    page = client.get("/analytics/coverage").get_data(as_text=True)
    assert ">Officer Bea<" in page

    update_user(town["admin"], ob, UserChanges(role="officer", beat_ids={town["C"].id}),
                version_id=ob.version_id)
    db.session.commit()
    page = client.get("/analytics/coverage").get_data(as_text=True)
    assert ">Officer Bea<" not in page  # now on beat C, another district


def test_rebuilding_the_facts_retires_the_kept_answers(town, runner):
    def version():
        return db.session.scalar(sa.select(DataVersion.version)
                                 .where(DataVersion.name == "contacts")) or 0

    before = version()
    assert runner.invoke(args=["crm", "facts", "rebuild"]).exit_code == 0
    db.session.expire_all()
    assert version() == before + 1


def test_other_processes_read_the_answer_one_computed(town, computed, auth, client, app,
                                                      monkeypatch, tmp_path):
    """After a contact, the first worker of the machine computes coverage and hard-to-engage;
    the others (here: this process with its own kept answers forgotten) read its answer."""
    from crm.network.live_share import SharedAnswers

    monkeypatch.setitem(app.extensions, "crm_live_share", SharedAnswers(tmp_path))
    auth.login("sarge")
    first = client.get("/analytics/coverage").get_data(as_text=True)
    assert computed == {"coverage": 1, "hard-to-engage": 1}
    assert len(list(tmp_path.glob("*.pickle"))) == 2

    services.cache.clear()  # another worker process: nothing kept in its memory
    assert client.get("/analytics/coverage").get_data(as_text=True) == first
    assert computed == {"coverage": 1, "hard-to-engage": 1}  # read, not computed again

    _, token = issue_token(town["oa"], town["oa"], "phone")
    db.session.commit()
    r = app.test_client().post("/api/v1/contacts/", headers={"Authorization": f"Bearer {token}"},
                               json={"channel": "visit", "initiated_by": "proactive",
                                     "beat_id": town["A"].id, "group_ids": [town["shy"].id]})
    assert r.status_code == 201, r.get_data(as_text=True)
    services.cache.clear()
    after = client.get("/analytics/coverage").get_data(as_text=True)
    assert "Shy Tenants" not in _hard_list(after)  # the old file is not the new answer
    assert computed == {"coverage": 2, "hard-to-engage": 2}


def test_an_app_process_starts_without_answers_left_from_before(tmp_path):
    """After a restart (a restore among them) no answer kept under the old counters is read."""
    from crm import create_app
    from tests.conftest import make_config

    kept = tmp_path / "live-answers"
    kept.mkdir()
    (kept / "0123abcd.pickle").write_bytes(b"left from before the restart")
    app = create_app(make_config("sqlite", LIVE_SHARED_ANSWERS=True, INSTANCE_DIR=tmp_path))
    assert "crm_live_share" in app.extensions
    assert list(kept.iterdir()) == []


def test_an_analytics_read_is_audited_once_a_minute_per_user(town, client, monkeypatch):
    """Reloading an aggregate answer is one reading for the audit trail, not a write on every
    load; a minute later, or another user, is audited again."""
    from crm.audit.models import AuditEvent

    def reads(username):
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "analytics.read", AuditEvent.actor_username == username))

    sarge = db.session.scalar(sa.select(services.User).where(services.User.username == "sarge"))
    _, sup_token = issue_token(town["admin"], sarge, "laptop")
    _, admin_token = issue_token(town["admin"], town["admin"], "desk")
    db.session.commit()
    path = "/api/v1/analytics/hard-to-engage?district=D1"
    for _ in range(3):
        assert client.get(path, headers={"Authorization": f"Bearer {sup_token}"}).status_code == 200
    assert reads("sarge") == 1
    assert client.get(path, headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
    assert reads("root") == 1

    monkeypatch.setattr("crm.audit.reads.READ_NOTED_EVERY", 0)  # the minute has passed
    assert client.get(path, headers={"Authorization": f"Bearer {sup_token}"}).status_code == 200
    assert reads("sarge") == 2


def test_the_analytics_pages_and_an_officers_page_are_audited_once_a_minute(town, auth, client,
                                                                            monkeypatch):
    """The same answers on the web pages are readings too: the coverage page (coverage and
    hard-to-engage), the network page, and another officer's engagement page."""
    from crm.audit.models import AuditEvent

    def reads(action, object_id):
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.actor_username == "sarge",
            AuditEvent.object_id == str(object_id)))

    auth.login("sarge")
    pages = ("/analytics/coverage", "/analytics/network", f"/officers/{town['oa'].id}")
    for _ in range(3):
        for page in pages:
            assert client.get(page).status_code == 200, page
    assert [reads("analytics.read", n) for n in ("coverage", "hard-to-engage", "network")] == [1, 1, 1]
    assert reads("officer.read", town["oa"].id) == 1
    monkeypatch.setattr("crm.audit.reads.READ_NOTED_EVERY", 0)  # the minute has passed
    assert client.get("/analytics/coverage").status_code == 200
    assert reads("analytics.read", "coverage") == 2
