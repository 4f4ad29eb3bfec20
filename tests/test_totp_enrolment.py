"""Setting up the second factor as a user does it: a QR code beside the key, recovery codes
shown once and usable once, and an admin who resets a lost phone (issue 12 item 11)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import segno
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, RecoveryCode, User
from tests.conftest import PASSWORD, csrf_token_from

CODE_RE = re.compile(r'<code class="recovery-code">([a-z0-9-]+)</code>')


def _user(username):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def _password_step(client, username):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token})


def _qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of segno's inline SVG: one path of horizontal runs ("h"), moved by "m"."""
    d = re.search(r'<path class="qrline"[^>]* d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", d):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark |= {(int(x) + i, int(y)) for i in range(int(float(a)))}
            x += float(a)
    return dark


def _enrol_at_sign_in(client, username):
    """Password, then the set-up page: returns (page html, key shown on it)."""
    _password_step(client, username)
    html = client.get("/login/second-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]{16,})</code>', html).group(1)
    return html, secret


def _send_code(client, code, *, recovery=False):
    page = client.get("/login/second-factor").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page)}
    data.update({"action": "recovery", "recovery_code": code} if recovery else {"code": code})
    return client.post("/login/second-factor", data=data)


def test_the_set_up_page_shows_a_qr_code_of_the_key_drawn_on_the_server(make, client):
    make.user("boss", role="admin")
    make.commit()
    html, secret = _enrol_at_sign_in(client, "boss")
    assert "<svg" in html and 'class="qr"' in html
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert not re.search(r'<img[^>]+src="https?://', html)  # no outside QR service
    uri = re.search(r'<code class="secret-uri">([^<]+)</code>', html).group(1).replace("&amp;", "&")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Alliance CRM:boss"
    assert parse_qs(parts.query)["secret"] == [secret]
    # The picture is the QR code of that link (the key an app scans is the key typed out).
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    expected = segno.make(uri, error="m")
    want = {(x + 2, y + 2) for y, row in enumerate(expected.matrix)
            for x, dark in enumerate(row) if dark}
    assert _qr_modules(svg) == want


def test_enrolment_issues_ten_recovery_codes_shown_once_and_stored_hashed(make, client):
    make.user("boss", role="admin")
    make.commit()
    _, secret = _enrol_at_sign_in(client, "boss")
    r = _send_code(client, pyotp.TOTP(secret).now())
    assert r.status_code == 302 and "/account/recovery-codes" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    codes = CODE_RE.findall(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown once" in page
    again = client.get("/account/recovery-codes").get_data(as_text=True)
    assert CODE_RE.findall(again) == [] and "10</strong> unused recovery codes" in again
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert all(h.startswith("$argon2") for h in stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    assert [e.detail["count"] for e in _events("auth.recovery_codes_issue")] == [10]


def test_a_recovery_code_signs_in_once(make, client, auth):
    make.user("boss", role="admin")
    make.commit()
    _, secret = _enrol_at_sign_in(client, "boss")
    r = _send_code(client, pyotp.TOTP(secret).now())
    codes = CODE_RE.findall(client.get(r.headers["Location"]).get_data(as_text=True))
    auth.logout()

    _password_step(client, "boss")
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert "Use a recovery code" in page
    r = _send_code(client, codes[3].upper().replace("-", " "), recovery=True)  # as typed
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    assert _events("auth.recovery_code_use")[-1].detail == {"left": 9}
    auth.logout()

    _password_step(client, "boss")
    r = _send_code(client, codes[3], recovery=True)
    assert r.status_code == 200 and "not valid, or it was used already" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not signed in
    assert _events("auth.second_factor")[-1].detail["reason"] == "bad recovery code"
    r = _send_code(client, codes[4], recovery=True)
    assert r.status_code == 302
    assert _user("boss").failed_logins == 0


def test_new_codes_need_the_password_and_replace_the_old_ones(make, client, auth):
    make.user("boss", role="admin")
    make.commit()
    _, secret = _enrol_at_sign_in(client, "boss")
    r = _send_code(client, pyotp.TOTP(secret).now())
    old = CODE_RE.findall(client.get(r.headers["Location"]).get_data(as_text=True))

    page = client.get("/account/recovery-codes").get_data(as_text=True)
    r = client.post("/account/recovery-codes", data={"csrf_token": csrf_token_from(page),
                                                     "password": "wrong password here"})
    assert r.status_code == 422 and "Your password: is not correct" in r.get_data(as_text=True)
    r = client.post("/account/recovery-codes", data={"csrf_token": csrf_token_from(page),
                                                     "password": PASSWORD})
    new = CODE_RE.findall(r.get_data(as_text=True))
    assert r.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    auth.logout()

    _password_step(client, "boss")
    assert _send_code(client, old[0], recovery=True).status_code == 200
    assert _send_code(client, new[0], recovery=True).status_code == 302


def test_an_officer_turns_on_the_second_factor_from_the_account_page(make, client, auth):
    make.user("jdoe")
    make.commit()
    auth.login("jdoe")
    account = client.get("/account").get_data(as_text=True)
    assert "Off: a password alone signs you in." in account
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'class="qr"' in page
    secret = re.search(r'<code class="secret">([A-Z2-7]{16,})</code>', page).group(1)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1000000:06d}"
    r = client.post("/account/two-factor", data={"csrf_token": csrf_token_from(page),
                                                 "code": wrong})
    assert r.status_code == 422 and "is not the current code" in r.get_data(as_text=True)
    assert _user("jdoe").totp_secret is None
    r = client.post("/account/two-factor", data={"csrf_token": csrf_token_from(page),
                                                 "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200 and len(CODE_RE.findall(r.get_data(as_text=True))) == 10
    assert _user("jdoe").totp_secret == secret
    assert len(_events("auth.totp_enrol")) == 1
    auth.logout()
    r = _password_step(client, "jdoe")
    assert r.headers["Location"].endswith("/login/second-factor")


def test_an_admin_resets_a_lost_phone_and_it_is_audited(make, client, auth, app):
    make.user("root", role="admin")
    make.user("boss", role="admin")
    make.commit()
    _, secret = _enrol_at_sign_in(client, "boss")
    _send_code(client, pyotp.TOTP(secret).now())
    boss = _user("boss")
    assert boss.totp_secret and db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 10

    # The boss's own browser session ends with the reset.
    other = app.test_client()
    other_auth = type(auth)(other)
    other_auth.login("root")
    listing = other.get("/admin/users/").get_data(as_text=True)
    assert listing.count("two-factor on") == 2  # root and boss
    edit = other.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert "10 unused recovery codes" in edit and "Reset second factor" in edit
    r = other.post(f"/admin/users/{boss.id}/reset-second-factor",
                   data={"csrf_token": csrf_token_from(edit)})
    assert r.status_code == 302
    boss = _user("boss")
    assert boss.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))
                             .where(RecoveryCode.user_id == boss.id)) == 0
    event = _events("user.second_factor_reset")[-1]
    assert event.actor_username == "root" and event.object_id == str(boss.id)
    assert event.detail == {"had_authenticator": True, "recovery_codes_dropped": 10}
    assert client.get("/").status_code == 302  # signed out
    # Admins must have one: the next sign-in sets up a new key.
    _password_step(client, "boss")
    assert "Set up two-factor sign-in" in client.get("/login/second-factor").get_data(as_text=True)


def test_only_admins_may_reset_a_second_factor(make, client, auth):
    target = make.user("jdoe")
    make.user("sarge", role="supervisor")
    make.commit()
    auth.login("sarge")
    page = client.get("/account").get_data(as_text=True)
    r = client.post(f"/admin/users/{target.id}/reset-second-factor",
                    data={"csrf_token": csrf_token_from(page)})
    assert r.status_code == 403
    assert _events("user.second_factor_reset") == []
