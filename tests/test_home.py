"""What does each role see first when they sign in?"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.conftest import PASSWORD


def _ago(days):
    return datetime.utcnow() - timedelta(days=days)


def test_officer_home_lists_beat_groups_longest_without_contact_first(make, auth, client):
    beat, other_beat = make.beat("0111"), make.beat("0999")
    officer = make.user("jdoe", beats=[beat])
    recent = make.group("Recent Tenants", beats=[beat])
    stale = make.group("Stale Church", beats=[beat])
    never = make.group("Never Youth", beats=[beat])
    make.group("Other Beat Shop", beats=[other_beat])
    make.contact(officer, groups=[recent], occurred_at=_ago(2))
    make.contact(officer, groups=[stale], occurred_at=_ago(40))
    make.commit()
    auth.login("jdoe")
    html = client.get("/").get_data(as_text=True)
    assert "Other Beat Shop" not in html
    order = [html.index(n) for n in ("Never Youth", "Stale Church", "Recent Tenants")]
    assert order == sorted(order)
    assert "never" in html and "40 days ago" in html and "2 days ago" in html
    del never


def test_stay_in_touch_status_follows_the_groups_interval(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    g = make.group("Weekly Seniors", beats=[beat], contact_interval_days=7)
    make.contact(officer, groups=[g], occurred_at=_ago(10))
    make.commit()
    auth.login("jdoe")
    html = client.get("/").get_data(as_text=True)
    row = html[html.index("Weekly Seniors"):]
    assert "overdue" in row[:600]


def test_officer_home_shows_follow_ups_due_including_overdue(make, auth, client):
    beat = make.beat()
    officer = make.user("jdoe", beats=[beat])
    colleague = make.user("other", beats=[beat])
    g = make.group("Block Club", beats=[beat])
    make.contact(officer, groups=[g], follow_up_on=date.today() - timedelta(days=1),
                 follow_up_note="Call back about the streetlight")
    make.contact(officer, groups=[g], follow_up_on=date.today() + timedelta(days=30),
                 follow_up_note="Far future visit")
    make.contact(colleague, groups=[g], follow_up_on=date.today(), follow_up_note="Not mine")
    make.contact(officer, groups=[g], follow_up_on=date.today(), follow_up_note="Done already",
                 follow_up_done_at=datetime.utcnow())
    make.commit()
    auth.login("jdoe")
    html = client.get("/").get_data(as_text=True)
    assert "Call back about the streetlight" in html and "overdue" in html
    for absent in ("Far future visit", "Not mine", "Done already"):
        assert absent not in html


def test_supervisor_home_covers_every_beat_of_the_district(make, auth, client):
    d1, d2 = make.district("01"), make.district("02")
    b1, b2, b3 = make.beat("0111", d1), make.beat("0112", d1), make.beat("0211", d2)
    make.user("sarge", role="supervisor", district=d1)
    officer = make.user("jdoe", beats=[b1])
    make.group("North Tenants", beats=[b1])
    make.group("South Church", beats=[b2])
    make.group("Far Away Club", beats=[b3])
    make.contact(officer, groups=[], beat=b2, follow_up_on=date.today(),
                 follow_up_note="District follow-up")
    make.commit()
    auth.login("sarge")
    html = client.get("/").get_data(as_text=True)
    assert "North Tenants" in html and "South Church" in html
    assert "Far Away Club" not in html
    assert "District follow-up" in html


def test_every_role_has_a_real_home_page(make, auth, client):
    for role in ("unit", "admin", "analyst"):
        make.user(f"u_{role}", role=role)
    make.commit()
    for role in ("unit", "admin", "analyst"):
        client.delete_cookie("session")
        assert auth.login(f"u_{role}", PASSWORD).status_code == 302
        r = client.get("/")
        assert r.status_code == 200, role
        assert b"Sign out" in r.data


def test_layout_is_built_for_phones(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    css = client.get("/static/app.css").get_data(as_text=True)
    assert "@media (max-width: 640px)" in css
