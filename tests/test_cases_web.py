"""Case pages and the cases API: who sees what, forms, stale edits, refused moves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm.cases import services as svc
from crm.extensions import db
from crm.models import GroupAssignment, GroupRelation, ProblemCase
from tests.conftest import csrf_token_from


@pytest.fixture
def setup(make):
    beat, other = make.beat("0111"), make.beat("0999")
    unit = make.user("unit1", role="unit")
    officer = make.user("jdoe", beats=[beat])
    outsider = make.user("far", beats=[other])
    club = make.group("Block Club", beats=[beat])
    bars = make.group("Bar Owners", beats=[beat])
    # The unit member looks after the beat's groups: the case's beat and groups are theirs.
    db.session.add_all([GroupAssignment(user_id=unit.id, group_id=g.id) for g in (club, bars)])
    db.session.flush()
    case = svc.create_case(unit, title="Noise on Elm St", beat_ids=[beat.id])
    make.commit()
    return type("S", (), dict(beat=beat, unit=unit, officer=officer, outsider=outsider,
                              club=club, bars=bars, case_id=case.id))


def _token(client, path):
    return csrf_token_from(client.get(path).get_data(as_text=True))


# ---- pages -------------------------------------------------------------------------------

def test_unit_member_opens_a_case_from_the_form(setup, auth, client):
    auth.login("unit1")
    page = client.get("/cases/new")
    assert page.status_code == 200
    r = client.post("/cases/new", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                        "title": "Graffiti on Oak", "beat_ids": [setup.beat.id]})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Graffiti on Oak" in html and "Timeline" in html


def test_new_case_without_beats_is_refused_with_a_field_message(setup, auth, client):
    auth.login("unit1")
    token = _token(client, "/cases/new")
    r = client.post("/cases/new", data={"csrf_token": token, "title": "No beat"})
    assert r.status_code == 422
    assert 'class="field-error">Beats:' in r.get_data(as_text=True)


def test_officer_sees_cases_of_their_beat_but_cannot_open_one(setup, auth, client):
    auth.login("jdoe")
    assert "Noise on Elm St" in client.get("/cases/").get_data(as_text=True)
    assert client.get(f"/cases/{setup.case_id}").status_code == 200
    assert client.get("/cases/new").status_code == 403


def test_officer_outside_the_cases_beats_gets_404(setup, auth, client):
    auth.login("far")
    assert client.get(f"/cases/{setup.case_id}").status_code == 404
    assert "Noise on Elm St" not in client.get("/cases/").get_data(as_text=True)
    assert client.get(f"/api/v1/cases/{setup.case_id}").status_code == 404


def test_analysts_have_no_case_pages(setup, make, auth, client):
    make.user("eva", role="analyst")
    make.commit()
    auth.login("eva")
    assert client.get("/cases/").status_code == 403
    assert client.get("/api/v1/cases/").status_code == 403


def test_a_refused_move_shows_what_is_missing(setup, auth, client):
    auth.login("unit1")
    case = db.session.get(ProblemCase, setup.case_id)
    svc.move_case(setup.unit, case, "analysis", version_id=case.version_id)
    db.session.commit()
    token = _token(client, f"/cases/{setup.case_id}")
    r = client.post(f"/cases/{setup.case_id}/move", data={
        "csrf_token": token, "move-to": "response", "move-version_id": case.version_id})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "cannot move to response" in html
    assert "Analysis:" in html and "Place:" in html and "Offender:" in html


def test_a_stale_edit_shows_both_versions_and_saves_nothing(setup, auth, client):
    auth.login("unit1")
    page = client.get(f"/cases/{setup.case_id}/edit/details").get_data(as_text=True)
    token = csrf_token_from(page)
    case = db.session.get(ProblemCase, setup.case_id)
    old = case.version_id
    svc.update_case(setup.unit, case, {"title": "Noise on Elm Street (saved)"}, version_id=old)
    db.session.commit()
    r = client.post(f"/cases/{setup.case_id}/edit/details", data={
        "csrf_token": token, "version_id": old, "title": "My typed title",
        "beat_ids": [setup.beat.id], "problem_statement": ""})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "My typed title" in html and "Noise on Elm Street (saved)" in html
    db.session.expire_all()
    assert db.session.get(ProblemCase, setup.case_id).title == "Noise on Elm Street (saved)"


def test_a_stale_idea_decision_shows_both_versions_on_the_case_page(setup, auth, client):
    case = db.session.get(ProblemCase, setup.case_id)
    idea = svc.add_idea(setup.unit, case, text="More lights", proposed_by_group_id=setup.club.id)
    db.session.commit()
    auth.login("unit1")
    token = _token(client, f"/cases/{setup.case_id}")
    old = idea.version_id
    svc.update_idea(setup.unit, idea, version_id=old, status="adopted")
    db.session.commit()
    r = client.post(f"/cases/{setup.case_id}/ideas/{idea.id}", data={
        "csrf_token": token, f"d{idea.id}-version_id": old, f"d{idea.id}-status": "declined",
        f"d{idea.id}-decline_reason": "Too costly"})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert 'id="conflict"' in html and "Too costly" in html and "Adopted" in html
    db.session.expire_all()
    assert db.session.get(type(idea), idea.id).status == "adopted"


def test_case_page_shows_the_competing_group_warning_and_a_chart(setup, auth, client):
    case = db.session.get(ProblemCase, setup.case_id)
    db.session.add(GroupRelation(group_a_id=setup.club.id, group_b_id=setup.bars.id,
                                 type="competing", issue="late-night noise"))
    svc.add_participant(setup.unit, case, kind="group", role="co_producer", group_id=setup.club.id)
    svc.add_participant(setup.unit, case, kind="group", role="affected_party",
                        group_id=setup.bars.id)
    m = svc.add_measure(setup.unit, case, name="Noise calls", baseline_value=20,
                        baseline_on=date.today() - timedelta(days=30))
    svc.add_measure_value(setup.unit, m, measured_on=date.today(), value=8)
    db.session.commit()
    auth.login("unit1")
    r = client.get(f"/cases/{setup.case_id}")
    html = r.get_data(as_text=True)
    assert "Competing groups" in html and "late-night noise" in html
    assert "<svg" in html and "<polyline" in html and 'class="baseline"' in html
    assert "style=" not in html and "<script>" not in html
    assert "Content-Security-Policy" in r.headers


def test_adding_an_idea_from_the_page(setup, auth, client):
    auth.login("unit1")
    token = _token(client, f"/cases/{setup.case_id}")
    case = db.session.get(ProblemCase, setup.case_id)
    r = client.post(f"/cases/{setup.case_id}/ideas", data={
        "csrf_token": token, "idea-text": "Better lights", "idea-proposed_by_group_id": setup.club.id})
    assert r.status_code == 303
    db.session.expire_all()
    assert [i.text for i in db.session.get(ProblemCase, case.id).ideas] == ["Better lights"]
    r = client.post(f"/cases/{setup.case_id}/ideas", data={"csrf_token": token,
                                                           "idea-text": "Nobody's idea"})
    assert r.status_code == 422 and "Proposed by:" in r.get_data(as_text=True)


def test_overdue_action_shows_on_the_owner_officers_home(setup, auth, client):
    case = db.session.get(ProblemCase, setup.case_id)
    svc.add_action(setup.unit, case, description="Check the streetlights", owner_kind="officer",
                   owner_user_id=setup.officer.id, due_on=date.today() - timedelta(days=3))
    svc.add_action(setup.unit, case, description="Not yet due", owner_kind="officer",
                   owner_user_id=setup.officer.id, due_on=date.today() + timedelta(days=3))
    db.session.commit()
    auth.login("jdoe")
    html = client.get("/").get_data(as_text=True)
    section = html[html.index("Overdue case actions"):]
    assert "Check the streetlights" in section and "Noise on Elm St" in section
    assert "Not yet due" not in html
    # ... and on the unit's home page and the case list filter.
    client.delete_cookie("session")
    auth.login("unit1")
    assert "Check the streetlights" in client.get("/").get_data(as_text=True)
    assert "Noise on Elm St" in client.get("/cases/?overdue=1").get_data(as_text=True)


def test_figures_page_loads(setup, auth, client):
    auth.login("unit1")
    r = client.get("/cases/figures")
    assert r.status_code == 200 and "Co-production figures" in r.get_data(as_text=True)


# ---- API -----------------------------------------------------------------------------

def _api(client):
    token = _token(client, "/")
    return {"X-CSRFToken": token}


def test_api_creates_reads_and_lists_cases(setup, auth, client):
    auth.login("unit1")
    h = _api(client)
    r = client.post("/api/v1/cases/", json={"title": "Litter", "beat_ids": [setup.beat.id]},
                    headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["stage"] == "scanning" and body["warnings"] == [] and "figures" in body
    r = client.get("/api/v1/cases/?stage=scanning")
    assert r.status_code == 200 and {c["title"] for c in r.get_json()} == {"Litter", "Noise on Elm St"}
    assert "X-Pagination" in r.headers


def test_api_invalid_transition_is_422_with_the_reason(setup, auth, client):
    auth.login("unit1")
    h = _api(client)
    case = client.get(f"/api/v1/cases/{setup.case_id}").get_json()
    r = client.post(f"/api/v1/cases/{setup.case_id}/transitions",
                    json={"to": "response", "version_id": case["version_id"]}, headers=h)
    assert r.status_code == 422
    assert "to" in r.get_json()["errors"]["json"]
    r = client.post(f"/api/v1/cases/{setup.case_id}/transitions",
                    json={"to": "analysis", "version_id": case["version_id"]}, headers=h)
    assert r.status_code == 200 and r.get_json()["stage"] == "analysis"
    r = client.post(f"/api/v1/cases/{setup.case_id}/transitions",
                    json={"to": "response", "version_id": r.get_json()["version_id"]}, headers=h)
    assert r.status_code == 422
    errors = r.get_json()["errors"]["json"]
    assert {"analysis", "place", "victim_target", "offender"} <= set(errors)


def test_api_stale_update_is_409_with_the_current_record(setup, auth, client):
    auth.login("unit1")
    h = _api(client)
    v = client.get(f"/api/v1/cases/{setup.case_id}").get_json()["version_id"]
    assert client.patch(f"/api/v1/cases/{setup.case_id}", json={"version_id": v, "place": "Elm"},
                        headers=h).status_code == 200
    r = client.patch(f"/api/v1/cases/{setup.case_id}", json={"version_id": v, "place": "Oak"},
                     headers=h)
    assert r.status_code == 409 and r.get_json()["current"]["place"] == "Elm"


def test_api_nested_parts_and_warnings(setup, auth, client):
    db.session.add(GroupRelation(group_a_id=setup.club.id, group_b_id=setup.bars.id,
                                 type="competing", issue="parking"))
    db.session.commit()
    auth.login("unit1")
    h = _api(client)
    base = f"/api/v1/cases/{setup.case_id}"
    assert client.post(f"{base}/participants", json={"kind": "group", "role": "co_producer",
                                                     "group_id": setup.club.id},
                       headers=h).status_code == 201
    r = client.post(f"{base}/actions", json={"description": "Agree a parking plan",
                                             "owner_kind": "group", "owner_group_id": setup.bars.id,
                                             "due_on": "2020-01-01"}, headers=h)
    assert r.status_code == 201 and r.get_json()["overdue"] is True
    action = r.get_json()
    r = client.patch(f"{base}/actions/{action['id']}",
                     json={"version_id": action["version_id"], "status": "in_progress"}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "in_progress"
    r = client.post(f"{base}/ideas", json={"text": "Shared parking", "proposed_by_group_id":
                                           setup.club.id}, headers=h)
    assert r.status_code == 201
    idea = r.get_json()
    r = client.patch(f"{base}/ideas/{idea['id']}", json={"version_id": idea["version_id"],
                                                          "status": "declined"}, headers=h)
    assert r.status_code == 422 and "decline_reason" in r.get_json()["errors"]["json"]
    r = client.patch(f"{base}/ideas/{idea['id']}", json={
        "version_id": idea["version_id"], "status": "declined", "decline_reason": "Too costly"},
        headers=h)
    assert r.status_code == 200 and r.get_json()["proposer_to_be_told"] is True
    r = client.post(f"{base}/measures", json={"name": "Complaints", "baseline_value": 12,
                                              "baseline_on": "2024-01-01"}, headers=h)
    assert r.status_code == 201
    r = client.post(f"{base}/measures/{r.get_json()['id']}/values",
                    json={"measured_on": date.today().isoformat(), "value": 4}, headers=h)
    assert r.status_code == 201
    body = client.get(base).get_json()
    assert [w["group"] for w in body["warnings"]] == ["Bar Owners"]
    assert body["warnings"][0]["co_producer_group"] == "Block Club"
    assert body["warnings"][0]["issue"] == "parking"
    assert body["measures"][0]["values"][0]["value"] == 4
    assert body["figures"]["community_action_share"] == 1.0
    assert len(body["participants"]) == 1 and len(body["ideas"]) == 1
    assert client.get(f"{base}/actions/999999").status_code in (404, 405)
    assert client.get("/api/v1/cases/?overdue=true").get_json()[0]["id"] == setup.case_id


def test_api_unknown_owner_is_422_not_500(setup, auth, client):
    auth.login("unit1")
    r = client.post(f"/api/v1/cases/{setup.case_id}/actions",
                    json={"description": "x", "owner_kind": "group", "owner_group_id": 999999},
                    headers=_api(client))
    assert r.status_code == 422 and "owner_group_id" in r.get_json()["errors"]["json"]


def test_officers_cannot_create_cases_over_the_api(setup, auth, client):
    auth.login("jdoe")
    r = client.post("/api/v1/cases/", json={"title": "x", "beat_ids": [setup.beat.id]},
                    headers=_api(client))
    assert r.status_code == 403


def test_openapi_documents_the_cases_endpoints(openapi_doc):
    paths = openapi_doc["paths"]
    for p in ("/api/v1/cases/", "/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}/transitions",
              "/api/v1/cases/{case_id}/participants", "/api/v1/cases/{case_id}/ideas",
              "/api/v1/cases/{case_id}/ideas/{idea_id}", "/api/v1/cases/{case_id}/actions",
              "/api/v1/cases/{case_id}/actions/{action_id}", "/api/v1/cases/{case_id}/measures",
              "/api/v1/cases/{case_id}/measures/{measure_id}/values", "/api/v1/cases/figures"):
        assert p in paths, p
    assert "422" in paths["/api/v1/cases/{case_id}/transitions"]["post"]["responses"]


def test_every_edit_page_renders_with_the_version_it_started_from(setup, auth, client):
    auth.login("unit1")
    for section in ("details", "analysis", "response", "assessment"):
        r = client.get(f"/cases/{setup.case_id}/edit/{section}")
        assert r.status_code == 200, section
        assert 'name="version_id"' in r.get_data(as_text=True)
    assert client.get(f"/cases/{setup.case_id}/edit/nonsense").status_code == 404


def test_the_owner_officer_updates_an_overdue_action_from_the_edit_page(setup, auth, client):
    case = db.session.get(ProblemCase, setup.case_id)
    a = svc.add_action(setup.unit, case, description="Check the streetlights", owner_kind="officer",
                       owner_user_id=setup.officer.id, due_on=date.today() - timedelta(days=3))
    db.session.commit()
    action_id, version = a.id, a.version_id
    auth.login("jdoe")
    url = f"/cases/{setup.case_id}/actions/{action_id}/edit"
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    r = client.post(url, data={"csrf_token": token, "version_id": version,
                               "description": "Check the streetlights", "status": "done",
                               "outcome": "Two lamps fixed",
                               "due_on": (date.today() - timedelta(days=3)).isoformat()})
    assert r.status_code == 303
    # The same stale form again: 409 with both versions, nothing overwritten.
    r = client.post(url, data={"csrf_token": token, "version_id": version,
                               "description": "Check the streetlights", "status": "dropped",
                               "outcome": "", "due_on": ""})
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Saved now" in html and "dropped" in html and "done" in html
    assert "Check the streetlights" not in client.get("/").get_data(as_text=True).split(
        "Overdue case actions")[1].split("</section>")[0]


def test_api_names_only_the_people_the_caller_may_see(setup, make, auth, client):
    """The officer of the case's beat reads the case, but a person known only to the unit
    member shows without a name (null) in participants, ideas and actions; the unit sees it."""
    far = make.group("Far Club", beats=[make.beat("0998")])
    vera = make.stakeholder("Vera Quiet")
    make.membership(vera, far)
    unit = db.session.get(type(setup.unit), setup.unit.id)
    db.session.add(GroupAssignment(user_id=unit.id, group_id=far.id))
    case = db.session.get(ProblemCase, setup.case_id)
    svc.add_participant(unit, case, kind="stakeholder", role="co_producer",
                        stakeholder_id=vera.id)
    svc.add_idea(unit, case, text="Benches", proposed_by_stakeholder_id=vera.id)
    svc.add_action(unit, case, description="Ask the landlord", owner_kind="stakeholder",
                   owner_stakeholder_id=vera.id)
    make.commit()

    def names(body):
        return ([p["name"] for p in body["participants"]]
                + [i["proposed_by_name"] for i in body["ideas"]]
                + [a["owner_name"] for a in body["actions"]])

    auth.login("jdoe")
    body = client.get(f"/api/v1/cases/{setup.case_id}").get_json()
    assert names(body) == [None, None, None]
    assert "Vera Quiet" not in client.get(f"/cases/{setup.case_id}").get_data(as_text=True)
    auth.logout()
    auth.login("unit1")
    assert names(client.get(f"/api/v1/cases/{setup.case_id}").get_json()) == ["Vera Quiet"] * 3
    h = _api(client)
    r = client.post(f"/api/v1/cases/{setup.case_id}/ideas",
                    json={"text": "Lights", "proposed_by_stakeholder_id": vera.id}, headers=h)
    assert r.status_code == 201 and r.get_json()["proposed_by_name"] == "Vera Quiet"
