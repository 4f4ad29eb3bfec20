"""Analytics reads take turns and writes never wait for them (crm.web.read_slots, issue 10).

The mechanism is the same on every database, so these run on a SQLite file of their own
(a page and a POST in two threads need two connections)."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from crm import create_app
from crm.extensions import db
from crm.users.services import issue_token
from crm.web.read_slots import ReadSlots
from tests.conftest import PASSWORD, Factory, csrf_token_from, make_config


@pytest.fixture
def slotted(tmp_path):
    """An app with one analytics read slot, a supervisor signed in, an officer's token."""
    app = create_app(make_config("sqlite", ANALYTICS_READ_SLOTS=1, INSTANCE_DIR=tmp_path,
                                 SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'crm.db'}",
                                 SQLALCHEMY_ENGINE_OPTIONS={}))
    with app.app_context():
        db.create_all()
        make = Factory()
        district = make.district("011")
        beat = make.beat("0111", district=district)
        make.user("sarge", role="supervisor", district=district)
        officer = make.user("jdoe", beats=[beat])
        group = make.group("Maple Tenants", beats=[beat])
        _, token = issue_token(officer, officer, "phone")
        db.session.commit()
        ids = {"beat": beat.id, "group": group.id}
    sup = app.test_client()
    page = sup.get("/login").get_data(as_text=True)
    assert sup.post("/login", data={"username": "sarge", "password": PASSWORD,
                                    "csrf_token": csrf_token_from(page)}).status_code == 302
    yield app, sup, app.test_client(), token, ids
    with app.app_context():
        db.engine.dispose()


def test_a_coverage_page_waits_for_a_slot_while_a_contact_post_goes_through(slotted):
    app, sup, officer, token, ids = slotted
    slots = app.extensions["crm_read_slots"]
    held = slots.acquire()  # another supervisor's page is being computed
    answers = {}

    def load_coverage():
        answers["page"] = sup.get("/analytics/coverage").status_code
        answers["page_at"] = time.monotonic()

    reader = threading.Thread(target=load_coverage)
    reader.start()
    try:
        time.sleep(0.3)
        assert reader.is_alive() and "page" not in answers  # waiting for the slot

        r = officer.post("/api/v1/contacts/", headers={"Authorization": f"Bearer {token}"},
                         json={"beat_id": ids["beat"], "group_ids": [ids["group"]],
                               "channel": "visit", "initiated_by": "proactive"})
        posted_at = time.monotonic()
        assert r.status_code == 201, r.get_data(as_text=True)
        # Any page outside the analytics does not wait either.
        assert officer.get("/manifest.webmanifest").status_code == 200
        assert reader.is_alive()
    finally:
        slots.release(held)
        reader.join(10)
    assert answers["page"] == 200 and answers["page_at"] > posted_at
    # The page gave its slot back: the next one is served at once.
    assert sup.get("/analytics/coverage").status_code == 200


def test_the_analytics_api_takes_a_slot_too(slotted):
    app, sup, _, _, _ = slotted
    slots = app.extensions["crm_read_slots"]
    held = slots.acquire()
    done = threading.Event()
    reader = threading.Thread(target=lambda: (sup.get(
        "/api/v1/analytics/hard-to-engage?district=011"), done.set()))
    reader.start()
    try:
        assert not done.wait(0.3)
    finally:
        slots.release(held)
        reader.join(10)
    assert done.is_set()


def _hold(directory, ready, release):
    slots = ReadSlots(directory, 1)
    slots.acquire()
    ready.set()
    release.wait(10)


def test_a_slot_holds_across_processes(tmp_path):
    """gunicorn's workers are processes: a slot one holds is taken for every other."""
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    other.start()
    try:
        assert ready.wait(10)
        slots = ReadSlots(tmp_path, 1)
        got = threading.Event()
        waiter = threading.Thread(target=lambda: (slots.acquire(), got.set()))
        waiter.start()
        assert not got.wait(0.3)  # the other process has it
        release.set()
        other.join(10)
        assert got.wait(10)  # given back when that worker let go (or died)
        waiter.join(10)
    finally:
        release.set()
        other.join(10)


def test_a_page_in_a_slot_runs_niced_and_its_thread_gets_its_niceness_back(slotted, monkeypatch):
    """While a thread holds a slot it yields the CPU to writes (ANALYTICS_READ_NICE); the
    thread serves whatever comes next at the niceness it had."""
    import os

    from crm.network import views
    from crm.web import read_slots

    app, sup, officer, token, ids = slotted
    if not app.extensions["crm_read_slots"].nice:
        assert not read_slots.can_renice(10)  # off only where it could not be undone
        pytest.skip("this process may not lower a thread's niceness again")
    me = threading.get_native_id()
    base = os.getpriority(os.PRIO_PROCESS, me)
    seen = []
    real = views._coverage_docs
    monkeypatch.setattr(views, "_coverage_docs",
                        lambda scope: seen.append(os.getpriority(os.PRIO_PROCESS, me)) or real(scope))
    assert sup.get("/analytics/coverage").status_code == 200
    assert seen == [min(19, base + 10)]
    assert os.getpriority(os.PRIO_PROCESS, me) == base
    r = officer.post("/api/v1/contacts/", headers={"Authorization": f"Bearer {token}"},
                     json={"channel": "visit", "initiated_by": "proactive",
                           "beat_id": ids["beat"], "group_ids": [ids["group"]]})
    assert r.status_code == 201 and os.getpriority(os.PRIO_PROCESS, me) == base
