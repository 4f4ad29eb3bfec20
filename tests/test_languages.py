"""Languages as a user meets them: names instead of codes, an "interpreter needed" flag, and
lists of people and groups filtered by language, on the pages, the API and in CSV files
(issue 12 item 13)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.api.auth import issue_token
from crm.csvio.services import export_csv, import_csv
from crm.extensions import db
from crm.models import Stakeholder
from crm.stakeholders.languages import language_code, language_name, language_names
from tests.conftest import csrf_token_from


def bearer(make, user):
    _, token = issue_token(user, user, "t")
    make.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(make):
    beat = make.beat("0111")
    officer = make.user("jdoe", beats=[beat])
    tenants = make.group("Maple Tenants", beats=[beat], languages=["es", "en"])
    church = make.group("San Jose Parish", beats=[beat], languages=["Spanish"])
    bakers = make.group("Polish Bakers", beats=[beat], languages=["pl"])
    ana = make.stakeholder("Ana Ruiz", language="es", interpreter_needed=True)
    luis = make.stakeholder("Luis Ortega", language="spanish")  # typed by hand, long ago
    jan = make.stakeholder("Jan Nowak", language="pl")
    kim = make.stakeholder("Kim Lee")
    for person, group in ((ana, tenants), (luis, church), (jan, bakers), (kim, tenants)):
        make.membership(person, group)
    make.commit()
    return {"officer": officer, "tenants": tenants, "church": church, "bakers": bakers,
            "ana": ana, "luis": luis, "jan": jan, "kim": kim}


def _names_in(html: str, table_id: str | None = None) -> list[str]:
    if table_id:
        html = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td data-label="(?:Name|Group)"><a [^>]*>([^<]+)</a>', html)


def test_codes_and_names_mean_the_same_language():
    assert language_name("es") == "Spanish" and language_name("ES") == "Spanish"
    assert language_name("Spanish") == "Spanish" and language_name("yue") == "Cantonese"
    assert language_name("Klingon") == "Klingon"  # unknown: shown as typed
    assert language_name(None) == ""
    assert language_code("Farsi") == "fa" and language_code("polish") == "pl"
    assert language_code("Klingon") is None
    assert language_names(["es", "en", "Somali"]) == "Spanish, English, Somali"
    assert language_name("es, en") == "Spanish, English"  # a list in one cell


def test_a_persons_page_shows_the_language_by_name_and_the_interpreter(world, auth, client):
    auth.login("jdoe")
    html = client.get(f"/stakeholders/{world['ana'].id}").get_data(as_text=True)
    assert "<dd>Spanish <span class=\"pill status-due\">interpreter needed</span></dd>" in html
    html = client.get(f"/stakeholders/{world['jan'].id}").get_data(as_text=True)
    assert "<dd>Polish</dd>" in html and "interpreter needed" not in html


def test_the_edit_form_takes_a_name_stores_the_code_and_sets_the_flag(world, auth, client):
    auth.login("jdoe")
    jan = world["jan"]
    page = client.get(f"/stakeholders/{jan.id}/edit").get_data(as_text=True)
    assert 'value="Polish"' in page  # the form shows the name, not "pl"
    assert '<option value="Ukrainian">' in page  # names to pick from
    r = client.post(f"/stakeholders/{jan.id}/edit", data={
        "csrf_token": csrf_token_from(page), "version_id": jan.version_id, "name": "Jan Nowak",
        "language": "Ukrainian", "interpreter_needed": "y",
        "data_subject_category": "community_member", "consent_status": "not_asked",
        "stage": "none"})
    assert r.status_code == 303
    jan = db.session.get(Stakeholder, jan.id)
    assert (jan.language, jan.interpreter_needed) == ("uk", True)


def test_the_people_list_filters_by_language_however_it_was_written(world, auth, client):
    auth.login("jdoe")
    html = client.get("/stakeholders/?language=es").get_data(as_text=True)
    assert _names_in(html, "people") == ["Ana Ruiz", "Luis Ortega"]
    assert '<option value="es" selected>Spanish</option>' in html
    assert "Spanish <span class=\"pill status-due\">interpreter</span>" in html
    html = client.get("/stakeholders/?language=Polish").get_data(as_text=True)
    assert _names_in(html, "people") == ["Jan Nowak"]
    # With a name search too.
    html = client.get("/stakeholders/?q=Luis&language=es").get_data(as_text=True)
    assert _names_in(html, "people") == ["Luis Ortega"]
    html = client.get("/stakeholders/?q=Luis&language=pl").get_data(as_text=True)
    assert "Nobody found." in html and "Luis Ortega" not in html


def test_the_people_api_filters_by_language_and_carries_the_flag(world, make, client):
    h = bearer(make, world["officer"])
    r = client.get("/api/v1/stakeholders/?language=Spanish", headers=h)
    assert [p["name"] for p in r.get_json()] == ["Ana Ruiz", "Luis Ortega"]
    r = client.get("/api/v1/stakeholders/?language=pl&q=Nowak", headers=h)
    assert [p["name"] for p in r.get_json()] == ["Jan Nowak"]
    one = client.get(f"/api/v1/stakeholders/{world['ana'].id}", headers=h).get_json()
    assert one["language"] == "es" and one["language_name"] == "Spanish"
    assert one["interpreter_needed"] is True
    kim = world["kim"]
    r = client.patch(f"/api/v1/stakeholders/{kim.id}", headers=h,
                     json={"version_id": kim.version_id, "language": "Korean",
                           "interpreter_needed": True})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["language"], r.get_json()["interpreter_needed"]) == ("ko", True)
    bad = client.patch(f"/api/v1/stakeholders/{kim.id}", headers=h,
                       json={"version_id": r.get_json()["version_id"],
                             "interpreter_needed": "maybe"})
    assert bad.status_code == 422 and "interpreter_needed" in str(bad.get_json())


def test_the_groups_list_filters_by_language_on_the_page_and_the_api(world, make, auth, client):
    auth.login("jdoe")
    html = client.get("/groups/?language=es").get_data(as_text=True)
    assert sorted(_names_in(html)) == ["Maple Tenants", "San Jose Parish"]
    assert '<td data-label="Languages">Spanish, English</td>' in html
    html = client.get("/groups/?language=pl").get_data(as_text=True)
    assert _names_in(html) == ["Polish Bakers"]
    h = bearer(make, world["officer"])
    body = client.get("/api/v1/groups/?language=Spanish", headers=h).get_json()
    assert sorted(g["name"] for g in body) == ["Maple Tenants", "San Jose Parish"]
    tenants = next(g for g in body if g["name"] == "Maple Tenants")
    assert tenants["language_names"] == ["Spanish", "English"]
    assert client.get("/api/v1/groups/?language=xx", headers=h).get_json() == []


def test_csv_carries_the_interpreter_column_both_ways(world):
    text = export_csv(None, "stakeholders")
    lines = text.splitlines()
    assert lines[0] == "external_id,name,phone,email,language,consent,interpreter"
    assert ",Ana Ruiz,,,es,not_asked,yes" in text and ",Jan Nowak,,,pl,not_asked,no" in text

    data = ("external_id,name,phone,email,language,consent,interpreter\n"
            "P-1,Olga Petrenko,,,Ukrainian,given,yes\n"
            "P-2,Omar Haddad,,,ar,given,\n"
            "P-3,Bad Flag,,,ar,given,perhaps\n")
    report = import_csv(None, "stakeholders", data.encode())
    assert [(e.line, e.column) for e in report.errors] == [(4, "interpreter")]
    assert "yes or no" in report.errors[0].reason

    report = import_csv(None, "stakeholders", "\n".join(data.splitlines()[:3]).encode())
    assert report.errors == [] and report.created == 2
    olga = db.session.scalar(sa.select(Stakeholder).where(Stakeholder.external_id == "P-1"))
    omar = db.session.scalar(sa.select(Stakeholder).where(Stakeholder.external_id == "P-2"))
    assert (olga.language, olga.interpreter_needed) == ("uk", True)
    assert omar.interpreter_needed is False

    # A file without the column leaves the flag alone.
    report = import_csv(None, "stakeholders",
                        b"external_id,name,phone,email,language,consent\n"
                        b"P-1,Olga Petrenko,,,uk,given\n")
    assert report.errors == [] and report.unchanged == 1
    db.session.expire_all()
    assert db.session.get(Stakeholder, olga.id).interpreter_needed is True
