"""Need-to-know, proven by walking every route in the URL map.

Two worlds: district 1 (beat 0111) and district 2 (beat 0211), each with a group, a member,
a contact, a relation, a case with an action, idea, measure and participant, and a well-being
check-in. Users of world 1 ask for world 2's records by id, through every page and API route,
and must get a refusal (403/404) that shows none of world 2's personal data. Anonymous callers
are refused everywhere.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest

from crm.assignments.models import Assignment
from crm.csvio.models import ImportJob
from crm.extensions import db
from crm.handovers.models import Handover, HandoverItem
from crm.models import (
    CaseAction,
    CaseIdea,
    CaseMeasure,
    CaseParticipant,
    GroupAssignment,
    GroupRelation,
    ProblemCase,
    WellbeingCheckin,
)
from tests.conftest import csrf_token_from

PUBLIC = {"static", "auth.login", "auth.second_factor", "api_docs.asset",
          "survey_public.answer",  # the anonymous survey link (tests/test_evaluation_web.py)
          # offline mode: the service worker, the manifest, what a phone keeps (no records)
          "offline.service_worker", "offline.manifest", "offline.about",
          "help.favicon"}  # a redirect to the icon
SECRET_MARKERS = ("Zed Hidden", "555-0299", "zed@hidden.example", "secret meeting note",
                  "private coping words")


def _world(make, n: int, secret: bool):
    d = make.district(f"0{n}")
    beat = make.beat(f"0{n}11", d)
    officer = make.user(f"officer{n}", beats=[beat])
    g1 = make.group(f"World {n} Tenants", beats=[beat])
    g2 = make.group(f"World {n} Bar Owners", beats=[beat])
    person = make.stakeholder("Zed Hidden" if secret else f"Person {n}",
                              phone="555-0299" if secret else None,
                              email="zed@hidden.example" if secret else None)
    membership = make.membership(person, g1)
    contact = make.contact(officer, groups=[g1], stakeholders=[person], beat=beat,
                           note="secret meeting note" if secret else "fine",
                           follow_up_on=date.today())
    relation = GroupRelation(group_a_id=g1.id, group_b_id=g2.id, type="competing", issue="noise")
    case = ProblemCase(title=f"World {n} case", lead_id=officer.id)
    case.beats = [beat]
    db.session.add_all([relation, case])
    db.session.flush()
    participant = CaseParticipant(case_id=case.id, kind="group", role="co_producer", group_id=g1.id)
    action = CaseAction(case_id=case.id, description="Fix the light", owner_kind="officer",
                        owner_user_id=officer.id, due_on=date.today() + timedelta(days=3))
    idea = CaseIdea(case_id=case.id, text="More lights", proposed_by_group_id=g1.id)
    measure = CaseMeasure(case_id=case.id, name="Calls for service", baseline_value=10)
    checkin = WellbeingCheckin(officer_id=officer.id, occurred_at=datetime.utcnow(),
                               stress_level=4, coping="private coping words" if secret else "")
    job = ImportJob(user_id=officer.id, kind="groups", status="done", errors=[])
    db.session.add_all([participant, action, idea, measure, checkin, job])
    handover = Handover(beat_id=beat.id, leaving_officer_id=officer.id, leaves_on=date.today(),
                        items=[HandoverItem(kind="stakeholder", stakeholder_id=person.id, stage="rapport",
                                            note="secret meeting note" if secret else "")])
    assignment = Assignment(group_id=g1.id, officer_id=officer.id, assigned_by_id=officer.id,
                            due_on=date.today() + timedelta(days=7),
                            note="secret meeting note" if secret else "")
    db.session.add_all([handover, assignment])
    db.session.flush()
    return {"assignment": assignment, "job": job, "district": d, "beat": beat, "officer": officer, "group": g1, "stakeholder": person,
            "membership": membership, "contact": contact, "relation": relation, "case": case,
            "participant": participant, "action": action, "idea": idea, "measure": measure,
            "checkin": checkin, "handover": handover}


@pytest.fixture
def worlds(make):
    w1 = _world(make, 1, secret=False)
    w2 = _world(make, 2, secret=True)
    make.user("sarge1", role="supervisor", district=w1["district"])
    unit = make.user("unit1", role="unit")
    db.session.add(GroupAssignment(user_id=unit.id, group_id=w1["group"].id))
    make.user("analyst1", role="analyst")
    make.user("admin1", role="admin")
    make.commit()
    return w1, w2


def _values(world) -> dict:
    return {"case_id": world["case"].id, "contact_id": world["contact"].id,
            "stakeholder_id": world["stakeholder"].id, "group_id": world["group"].id,
            "relation_id": world["relation"].id, "membership_id": world["membership"].id,
            "checkin_id": world["checkin"].id, "action_id": world["action"].id,
            "idea_id": world["idea"].id, "measure_id": world["measure"].id,
            "participant_id": world["participant"].id, "beat_id": world["beat"].id,
            "user_id": world["officer"].id, "job_id": world["job"].id,
            "trial_id": 1, "campaign_id": 1,  # evaluation: none exist in the walk (404)
            "section": "details", "kind": "stakeholders",
            "filename": "swagger-ui.css",
            "assignment_id": world["assignment"].id,
            "handover_id": world["handover"].id, "item_id": world["handover"].items[0].id,
            "beat": world["beat"].code}


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule, values) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = path.replace(f"<id:{arg}>", str(values[arg])).replace(f"<{arg}>", str(values[arg]))
        path = path.replace(f"<path:{arg}>", str(values[arg]))
    return path


def test_every_route_refuses_anonymous_callers(app, worlds, client):
    values = _values(worlds[0])
    checked = 0
    for rule, method in _routes(app):
        r = client.open(_url(rule, values), method=method)
        refused = r.status_code in (401, 400, 405) or (
            r.status_code in (302, 303) and "/login" in r.headers.get("Location", ""))
        assert refused, f"{method} {rule.rule} answered {r.status_code} to an anonymous caller"
        checked += 1
    assert checked > 100, "the walk should cover the whole application"


# (user, whether the user has any business with world 1 at all)
ROLES = ["officer1", "sarge1", "unit1", "analyst1"]


@pytest.mark.parametrize("username", ROLES)
def test_no_role_reaches_a_record_outside_its_scope(app, worlds, auth, client, username):
    """World-1 users ask for world-2 ids on every route: 403 or 404, and no personal data."""
    auth.login(username)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    values = _values(worlds[1])
    leaks = []
    for rule, method in _routes(app):
        if not rule.arguments - {"section", "kind", "filename"}:
            continue  # lists are checked below
        if rule.endpoint.startswith("admin_users.") or "beat_id" in rule.arguments:
            continue  # admin-only (403 for these roles, checked elsewhere) / beats are public
        def call(url, method=method):
            if method == "GET":
                return client.get(url)
            return client.open(url, method=method, data={"csrf_token": token},
                               headers={"X-CSRFToken": token})

        r = call(_url(rule, values))
        body = r.get_data(as_text=True)
        if any(m in body for m in SECRET_MARKERS):
            leaks.append(f"{method} {rule.rule} -> {r.status_code} showing personal data")
        elif r.status_code not in (403, 404):
            # An answer that does not depend on the record (an API body rejected by its
            # schema before any lookup) tells nothing: it must equal the answer for an id
            # that does not exist at all.
            ghost = call(_url(rule, {**values, **{k: 987654321 for k in rule.arguments
                                                  if k.endswith("_id")}}))
            if (ghost.status_code, ghost.get_json(silent=True)) != (r.status_code,
                                                                     r.get_json(silent=True)):
                leaks.append(f"{method} {rule.rule} -> {r.status_code}")
    assert not leaks, f"{username} reached world-2 records:\n" + "\n".join(leaks)


@pytest.mark.parametrize("username", ROLES + ["admin1"])
def test_lists_and_searches_show_nothing_outside_scope(app, worlds, auth, client, username):
    """Every list, search and export a role can open, with no id in it, shows no world-2
    personal data (the admin may see people, but never someone else's well-being check-in)."""
    auth.login(username)
    markers = SECRET_MARKERS if username != "admin1" else ("private coping words",)
    leaks = []
    for rule, method in _routes(app):
        if method != "GET" or rule.arguments - {"kind"}:
            continue
        url = _url(rule, {"kind": "stakeholders"})
        # Queries that would find world 2's person, without echoing a whole marker back.
        for query in ("", "?q=Zed", "?q=Hidd&beat=0211", "?q=555-0299"[:7]):
            body = client.get(url + query).get_data(as_text=True)
            found = [m for m in markers if m in body]
            if found:
                leaks.append(f"GET {url}{query}: {found}")
    assert not leaks, "\n".join(leaks)


def test_admin_reads_records_everywhere_but_no_check_ins(app, worlds, auth, client):
    auth.login("admin1")
    w2 = worlds[1]
    assert client.get(f"/stakeholders/{w2['stakeholder'].id}").status_code == 200
    assert client.get(f"/contacts/{w2['contact'].id}").status_code == 200
    assert client.get(f"/wellbeing/{w2['checkin'].id}").status_code == 404
    assert client.get(f"/api/v1/wellbeing/{w2['checkin'].id}").status_code == 404


def test_each_role_reaches_its_own_world(app, worlds, auth, client):
    """The walk above is not vacuous: the same pages open for the people entitled to them."""
    w1 = worlds[0]
    auth.login("officer1")
    assert client.get(f"/stakeholders/{w1['stakeholder'].id}").status_code == 200
    assert client.get(f"/groups/{w1['group'].id}").status_code == 200
    assert client.get(f"/contacts/{w1['contact'].id}").status_code == 200
    assert client.get(f"/cases/{w1['case'].id}").status_code == 200
    assert client.get(f"/wellbeing/{w1['checkin'].id}").status_code == 200


# ---- analytics scope (issue 11, items 3 and 4) ------------------------------------------

ANALYST_MARKERS = ("officer1", "officer2", "Person 1", "Zed Hidden", "555-0299")


def test_analysts_see_no_officer_or_community_member_anywhere(app, worlds, auth, client):
    """Every page, API answer and export an analyst can open, with world 1's ids and with
    query strings that would reach people, names no officer and no community member."""
    for w in worlds:  # officers with names worth hiding
        w["officer"].display_name = w["officer"].username
    db.session.commit()
    auth.login("analyst1")
    values = _values(worlds[0])
    leaks, opened = [], 0
    for rule, method in _routes(app):
        if method != "GET":
            continue
        for query in ("", "?days=90", f"?group={worlds[0]['group'].id}", "?q=Zed", "?table=officers"):
            r = client.get(_url(rule, values) + query)
            if r.status_code == 200:
                opened += 1
            body = r.get_data(as_text=True)
            found = [m for m in ANALYST_MARKERS if m in body]
            if found:
                leaks.append(f"GET {rule.rule}{query} -> {r.status_code}: {found}")
    assert opened > 10, "the analyst must reach some pages for the walk to mean anything"
    assert not leaks, "analysts saw names:\n" + "\n".join(leaks)


def test_an_officer_reads_hard_to_engage_only_for_their_own_beats(app, worlds, auth, client):
    auth.login("officer1")
    own = client.get("/api/v1/analytics/hard-to-engage").get_json()
    names = {f["group"]["name"] for f in own["groups"]}
    assert names and all(n.startswith("World 1") for n in names)
    assert client.get("/api/v1/analytics/hard-to-engage?district=02").status_code == 404
    assert client.get("/api/v1/analytics/hard-to-engage?beat=0211").status_code == 404
    # Hidden and unknown answer alike.
    assert client.get("/api/v1/analytics/hard-to-engage?beat=0211").get_json()["message"] == \
        client.get("/api/v1/analytics/hard-to-engage?beat=0111&beat=0211").get_json()["message"]


@pytest.mark.parametrize("username", ["officer1", "sarge1"])
def test_introductions_only_to_groups_in_scope(app, worlds, auth, client, username):
    auth.login(username)
    mine, theirs = worlds[0]["group"].id, worlds[1]["group"].id
    assert client.get(f"/api/v1/analytics/introductions?group={mine}").status_code == 200
    hidden = client.get(f"/api/v1/analytics/introductions?group={theirs}")
    unknown = client.get("/api/v1/analytics/introductions?group=987654321")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_json()["message"].replace(str(theirs), "N") == \
        unknown.get_json()["message"].replace("987654321", "N")


def test_the_units_relations_export_holds_only_relations_it_may_see(app, worlds, auth, client):
    auth.login("unit1")
    r = client.get("/data/export/relations")
    assert r.status_code == 200 and "World 2" not in r.get_data(as_text=True)


# ---- issue 11 item 1: attaching never widens one's own scope --------------------------------

class _Forms(HTMLParser):
    """The POST forms of a page: (action, {field name: value or None})."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.forms.append((a.get("action") or "", {}))
        elif tag in ("input", "select", "textarea") and self.forms and a.get("name"):
            self.forms[-1][1].setdefault(a["name"], a.get("value"))


def _filled(names, kind: str, values: dict) -> dict:
    """Values for the fields among `names` (page fields carry a "prefix-")."""
    data = {}
    for name in names:
        key = name.split("-", 1)[-1]
        if key in ("kind", "owner_kind"):
            data[name] = kind
        elif key in values:
            data[name] = values[key]
    return data


def _body_properties(doc: dict, op: dict) -> dict:
    schema = op.get("requestBody", {}).get("content", {}).get(
        "application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("properties", {})


def _walk_case_api(client, case_id: int, values: dict) -> list:
    """Every case operation with a body (one case id in the path), properties filled by name."""
    doc = client.get("/api/v1/openapi.json").get_json()
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    answers = []
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/v1/cases") or path.count("{") > 1:
            continue
        for method, op in ops.items():
            if method not in ("post", "patch", "put"):
                continue
            props = _body_properties(doc, op)
            url = path.replace("{case_id}", str(case_id))
            for kind in ("group", "stakeholder"):
                data = _filled(props, kind, values)
                if "version_id" in props:
                    current = client.get(f"/api/v1/cases/{case_id}").get_json()
                    data["version_id"] = current["version_id"]
                r = client.open(url, method=method.upper(), json=data,
                                headers={"X-CSRFToken": token})
                answers.append((f"{method.upper()} {url}", r.status_code))
    return answers


def _walk_case_forms(client, pages, values: dict) -> list:
    """Every case form on `pages`, sent as the page would with the fields filled by name."""
    answers = []
    for page in pages:
        parser = _Forms()
        parser.feed(client.get(page).get_data(as_text=True))
        for action, fields in parser.forms:
            if action and not action.startswith("/cases"):
                continue  # the nav's sign-out
            for kind in ("group", "stakeholder"):
                data = {k: v for k, v in fields.items() if v is not None}
                data.update(_filled(fields, kind, values))
                r = client.post(action or page, data=data)
                answers.append((f"POST {action or page}", r.status_code))
    return answers


@pytest.mark.parametrize("username", ["unit1", "sarge1"])
def test_no_case_route_attaches_what_the_user_cannot_see(app, worlds, auth, client, username):
    """A world-1 user sends world 2's beat, group, person and contact to every case route and
    form that attaches something (their own case, pages and API); world 2 stays 404 to them."""
    from crm.cases import services as svc
    from crm.models import User
    w1, w2 = worlds
    user = db.session.scalar(db.select(User).where(User.username == username))
    own = svc.create_case(user, title="Walk case", beat_ids=[w1["beat"].id])
    db.session.commit()
    ids = {"group_id": w2["group"].id, "stakeholder_id": w2["stakeholder"].id,
           "contact_id": w2["contact"].id, "beat_ids": [w2["beat"].id]}
    values = {**ids, "proposed_by_group_id": ids["group_id"], "owner_group_id": ids["group_id"],
              "proposed_by_stakeholder_id": ids["stakeholder_id"],
              "owner_stakeholder_id": ids["stakeholder_id"], "role": "co_producer",
              "title": "Walk", "text": "Walk", "description": "Walk", "agency": "",
              "owner_agency": ""}
    auth.login(username)
    answers = _walk_case_api(client, own.id, values) + _walk_case_forms(
        client, ("/cases/new", f"/cases/{own.id}", f"/cases/{own.id}/edit/details"), values)

    assert not [a for a in answers if a[1] >= 500], answers
    # Not vacuous: the walk reached the services, which refused by field.
    assert sum(1 for _, code in answers if code == 422) >= 10, answers
    for url in (f"/groups/{ids['group_id']}", f"/stakeholders/{ids['stakeholder_id']}",
                f"/contacts/{ids['contact_id']}", f"/api/v1/groups/{ids['group_id']}",
                f"/api/v1/stakeholders/{ids['stakeholder_id']}"):
        r = client.get(url)
        assert r.status_code == 404, f"{username} reached {url} after the walk: {answers}"
        assert not any(m in r.get_data(as_text=True) for m in SECRET_MARKERS)
    assert [b.code for b in svc.get_case(user, own.id).beats] == ["0111"]


def test_an_analysts_pseudonyms_hold_within_one_export_only(app, worlds, make, auth, client):
    """The analyst's outcomes export names each officer by one code throughout the file (one
    row per month and group), and by other codes in the next export, so two exports cannot be
    joined to each other or to the coverage API."""
    import csv
    import io

    for w in worlds:  # a contact 40 days earlier: a second month, a second row per officer
        make.contact(w["officer"], groups=[w["group"]], beat=w["beat"],
                     occurred_at=w["contact"].occurred_at - timedelta(days=40))
    make.commit()
    auth.login("analyst1")

    def export():
        r = client.get("/analytics/outcomes.csv")
        assert r.status_code == 200
        return list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))

    first, second = export(), export()
    assert len(first) == 4 and len({r["officer"] for r in first}) == 2  # 2 rows per officer
    assert len({(r["officer"], r["group"]) for r in first}) == 2  # same codes across months
    assert not {r["officer"] for r in first} & {r["officer"] for r in second}
    assert not {r["group"] for r in first} & {r["group"] for r in second}
