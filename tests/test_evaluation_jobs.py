"""The trial analysis off the request path (issue 14): the trial page and the analysis API
answer at once from the stored result, say "computing" before the first one, and show the
estimate once the background job ran; each version is computed once; a new contact shows
the last result as refreshing; `make run`'s embedded queue runs the jobs by itself.

Like tests/test_network_jobs.py, the queue runs in "memory" mode here: jobs wait in the
process until `run_pending()`, so a test sees a page while its job is still queued.
"""

from __future__ import annotations

import time
from datetime import date, datetime

import sqlalchemy as sa

from crm.evaluation import jobs as trial_jobs
from crm.evaluation import services as svc
from crm.extensions import db
from crm.models import Beat, User
from crm.network import jobs, results
from crm.network.models import AnalyticsResult

BASE = (date(2026, 1, 1), date(2026, 3, 31))
FOLLOW = (date(2026, 4, 1), date(2026, 6, 30))


def _trial(make, outcomes=("proactive_share", "groups_reached")):
    """Six beats; every beat's proactive share rises by a beat-specific amount."""
    admin = make.user("adm", role="admin")
    officer = make.user("ofc")
    beats = [make.beat(f"0{i}11") for i in range(1, 7)]
    for i, b in enumerate(beats):
        for k in range(4):
            make.contact(officer, beat=b, occurred_at=datetime(2026, 2, 1 + k),
                         initiated_by="proactive" if k < 1 + i % 3 else "reactive")
            make.contact(officer, beat=b, occurred_at=datetime(2026, 5, 1 + k),
                         initiated_by="proactive" if k < 2 + i % 2 else "reactive")
    t = svc.create_trial(admin, name="Queued trial", unit="beat", baseline=BASE, follow_up=FOLLOW,
                         outcomes=list(outcomes), seed=11)
    svc.allocate_trial(admin, t)
    make.commit()
    return t


def _status(html: str) -> str:
    marker = 'data-analytics-status="'
    i = html.index(marker) + len(marker)
    return html[i:html.index('"', i)]


def _stored(outcome=None) -> list[AnalyticsResult]:
    rows = db.session.scalars(sa.select(AnalyticsResult).where(
        AnalyticsResult.analytic == trial_jobs.ANALYTIC)).all()
    return [r for r in rows if outcome is None or r.params["outcome"] == outcome]


def test_the_trial_page_says_computing_then_shows_the_estimate(queued, make, auth, client):
    t = _trial(make)
    expected = svc.analyse_trial(None, t, "proactive_share")
    assert expected["estimate"] is not None
    auth.login("adm")
    started = time.perf_counter()
    first = client.get(f"/evaluation/trials/{t.id}")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert _status(html) == "computing" and "reloads itself" in html
    assert '<meta http-equiv="refresh"' in html
    assert f"{expected['estimate']:.3f}" not in html and "Standardised difference" in html
    assert not _stored(), "nothing was computed inside the request"
    assert time.perf_counter() - started < 5

    assert jobs.run_pending() == 2  # one job per pre-registered outcome
    page = client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)
    assert _status(page) == "fresh" and "Computed " in page and "computing…" not in page
    assert '<meta http-equiv="refresh"' not in page
    assert f"{expected['estimate']:.3f}" in page and 'id="means-proactive_share"' in page
    assert "<polyline" in page


def test_the_api_answers_202_then_the_stored_estimate_with_its_time(queued, make, auth, client):
    t = _trial(make)
    make.user("ana", role="analyst")
    make.commit()
    auth.login("ana")
    url = f"/api/v1/trials/{t.id}/analysis?outcome=proactive_share"
    first = client.get(url)
    assert first.status_code == 202 and first.headers["Retry-After"]
    assert first.get_json()["status"] == "computing" and first.get_json()["computed"]["at"] is None
    jobs.run_pending()
    doc = client.get(url).get_json()
    assert doc["computed"]["status"] == "fresh" and doc["computed"]["at"].endswith("Z")
    sync = svc.analyse_trial(None, t, "proactive_share")
    assert {k: doc[k] for k in ("estimate", "ci_low", "ci_high", "se", "n_units")} == \
        {k: sync[k] for k in ("estimate", "ci_low", "ci_high", "se", "n_units")}
    assert client.get(f"/api/v1/trials/{t.id}/analysis?outcome=bogus").status_code == 422


def test_the_panel_downloads_from_the_stored_analysis(queued, make, auth, client):
    t = _trial(make)
    auth.login("adm")
    url = f"/evaluation/trials/{t.id}/panel.csv"
    first = client.get(url)
    assert first.status_code == 303 and first.headers["Location"].endswith(f"/evaluation/trials/{t.id}")
    assert "being computed" in client.get(first.headers["Location"]).get_data(as_text=True)
    api = f"/api/v1/trials/{t.id}/panel?format=csv&outcome=groups_reached"
    assert client.get(api).status_code == 202
    jobs.run_pending()
    csv_text = client.get(url).get_data(as_text=True)
    assert csv_text == svc.export_panel(None, t), "the stored panel is the one computed now"
    db.session.commit()  # the export's audit event: the next request writes one too
    assert csv_text.splitlines()[0].endswith("contacts,proactive_share,groups_reached")
    assert len(csv_text.splitlines()) == 1 + 2 * len(t.units)
    r = client.get(api)
    assert r.status_code == 200 and r.get_data(as_text=True).splitlines()[0].endswith(",groups_reached")


def test_an_unallocated_trial_asks_for_no_analysis(queued, make, auth, client):
    admin = make.user("adm", role="admin")
    officer = make.user("ofc")
    beats = [make.beat("0111"), make.beat("0112")]
    for b in beats:
        make.contact(officer, beat=b, occurred_at=datetime(2026, 2, 1))
    t = svc.create_trial(admin, name="Not yet", unit="beat", baseline=BASE, follow_up=FOLLOW,
                         outcomes=["proactive_share"], seed=1)
    make.commit()
    auth.login("adm")
    assert client.get(f"/evaluation/trials/{t.id}").status_code == 200
    assert client.get(f"/api/v1/trials/{t.id}/analysis?outcome=proactive_share").status_code == 422
    assert jobs.run_pending() == 0


def test_many_requests_compute_each_outcome_once(queued, make, auth, client):
    t = _trial(make, outcomes=("proactive_share",))
    auth.login("adm")
    for _ in range(3):
        client.get(f"/evaluation/trials/{t.id}")
        results.recent.clear()  # as if each request came from another process
    assert jobs.run_pending() == 3
    assert [r.status for r in _stored()] == ["done"], "the claim let one job compute it"


def test_a_new_contact_shows_the_last_result_as_refreshing(queued, make, auth, client):
    t = _trial(make, outcomes=("proactive_share",))
    auth.login("adm")
    client.get(f"/evaluation/trials/{t.id}")
    jobs.run_pending()
    before = _stored()[0].document["analysis"]["means"]["treatment"]["follow_up"]
    treated = next(u.unit_key for u in t.units if u.arm == "treatment")
    beat = db.session.scalar(sa.select(Beat).where(Beat.code == treated))
    for k in range(4):
        make.contact(make.user(f"extra{k}"), beat=beat, occurred_at=datetime(2026, 6, 1 + k))
    make.commit()
    page = client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)
    assert _status(page) == "refreshing" and "Refreshing" in page
    assert jobs.run_pending() == 1
    assert _status(client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)) == "fresh"
    after = _stored()[0].document["analysis"]["means"]["treatment"]["follow_up"]
    assert after > before, "four more proactive contacts on a treated beat raise its mean"
    assert len(_stored()) == 1, "the older document is gone once the newer one is stored"


def test_an_edit_of_the_periods_starts_a_new_result(queued, make, auth, client):
    t = _trial(make, outcomes=("proactive_share",))
    auth.login("adm")
    client.get(f"/evaluation/trials/{t.id}")
    jobs.run_pending()
    svc.edit_trial(None, t, follow_up_end=date(2026, 5, 2))
    make.commit()
    html = client.get(f"/evaluation/trials/{t.id}").get_data(as_text=True)
    assert _status(html) == "computing", "a result of other periods is not shown as this one"


def test_the_embedded_queue_runs_the_analysis_without_a_worker(tmp_path):
    """`make run`: no Redis, the queue is a SQLite file and the app process runs the jobs."""
    from crm import create_app
    from tests.conftest import make_config
    app = create_app(make_config("sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/crm.sqlite",
                                 SQLALCHEMY_ENGINE_OPTIONS={}, ANALYTICS_QUEUE=None, REDIS_URL=None,
                                 INSTANCE_DIR=tmp_path))
    assert app.extensions["crm_queue"]["mode"] == "sqlite"
    try:
        with app.app_context():
            db.create_all()
            from tests.conftest import Factory
            factory = Factory()
            factory.commit = db.session.commit
            t = _trial(factory)
            tid = t.id
            from crm.users.services import issue_token
            token = issue_token(None, db.session.scalar(sa.select(User).where(User.username == "adm")),
                                "test")[1]
            db.session.commit()
        client = app.test_client()
        h = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/trials/{tid}/analysis?outcome=proactive_share"
        assert client.get(url, headers=h).status_code == 202
        deadline = time.monotonic() + 60
        while (r := client.get(url, headers=h)).status_code == 202 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert r.status_code == 200 and r.get_json()["estimate"] is not None
    finally:
        consumer = app.extensions["crm_queue"]["thread"]
        if consumer is not None:
            consumer.stop(graceful=True)
