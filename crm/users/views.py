"""Sign-in (password, then a TOTP code where set or required), sign-out and the account page."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user

from crm.api.auth import issue_token, revoke_token
from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db, limiter
from crm.models import ApiToken, User
from crm.users.forms import LoginForm, PasswordChangeForm, TokenForm, TotpForm
from crm.users.services import (GENERIC_FAILURE, authenticate, change_password, load_user,
                                password_ok, revoke_sessions)
from crm.users.sessions import start_session

bp = Blueprint("auth", __name__)
PENDING_TTL = timedelta(minutes=5)


def client_ip() -> str:
    return request.remote_addr or ""


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login is a phishing aid.
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


def _needs_second_factor(user: User) -> bool:
    return bool(user.totp_secret) or user.role in current_app.config["TOTP_REQUIRED_ROLES"]


def _complete_login(user: User, next_url: str | None):
    session.clear()  # a fresh session at sign-in: no fixation
    login_user(user, remember=False)
    session.permanent = True
    start_session()
    return redirect(_safe_next(next_url))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = authenticate(form.username.data, form.password.data, ip=client_ip())
        if result.user and _needs_second_factor(result.user):
            session.clear()
            session["pending_user"] = result.user.get_id()
            session["pending_at"] = utcnow().isoformat()
            session["pending_next"] = request.args.get("next")
            return redirect(url_for("auth.second_factor"))
        if result.user:
            return _complete_login(result.user, request.args.get("next"))
        error = result.error
    return render_template("auth/login.html", form=form, error=error)


def _pending_user() -> User | None:
    try:
        started = datetime.fromisoformat(session["pending_at"])
    except (KeyError, ValueError):
        return None
    if utcnow() - started > PENDING_TTL:
        return None
    return load_user(session.get("pending_user", ""))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def second_factor():
    user = _pending_user()
    if user is None:
        session.clear()
        flash("Please sign in again.", "info")
        return redirect(url_for("auth.login"))
    enrolling = not user.totp_secret
    if enrolling:
        session.setdefault("enrol_secret", pyotp.random_base32())
    secret = user.totp_secret or session["enrol_secret"]
    form, error = TotpForm(), None
    if form.validate_on_submit():
        if pyotp.TOTP(secret).verify(form.code.data.strip(), valid_window=1):
            if enrolling:
                user.totp_secret = secret
                record_event(user, "auth.totp_enrol", user, ip=client_ip())
            record_event(user, "auth.second_factor", user, ip=client_ip())
            return _complete_login(user, session.get("pending_next"))
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = utcnow() + current_app.config["LOGIN_LOCKOUT"]
            user.failed_logins = 0
            record_event(user, "auth.lockout", user, outcome="denied", ip=client_ip())
            session.clear()
        record_event(user, "auth.second_factor", user, outcome="failure", ip=client_ip())
        error = GENERIC_FAILURE if user.locked_until else "That code is not valid. Try the current one."
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Alliance CRM") \
        if enrolling else None
    return render_template("auth/second_factor.html", form=form, error=error,
                           enrolling=enrolling, secret=secret if enrolling else None, uri=uri)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    me = current_user._get_current_object()
    revoke_sessions(me, me, reason="logout", ip=client_ip())
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Profile: change password, manage personal API tokens."""
    me = current_user._get_current_object()
    pw_form, token_form = PasswordChangeForm(prefix="pw"), TokenForm(prefix="tok")
    new_token, status, errors = None, 200, {}
    action = request.form.get("action")
    if action == "password" and pw_form.validate_on_submit():
        if not password_ok(me, pw_form.current_password.data):
            errors["current_password"] = ["is not correct"]
        else:
            try:
                change_password(me, me, pw_form.new_password.data, ip=client_ip())
            except ValidationError as e:
                errors = {"new_password": e.errors["password"]}
            else:
                logout_user()
                session.clear()
                flash("Password changed. Every session was signed out; sign in with the new password.",
                      "info")
                return redirect(url_for("auth.login"))
        status = 422
    elif action == "token" and token_form.validate_on_submit():
        _, new_token = issue_token(me, me, token_form.name.data)
    elif action == "revoke":
        tok = db.session.get(ApiToken, request.form.get("token_id", type=int) or 0)
        if tok is None or tok.user_id != me.id:
            abort(404)
        revoke_token(me, tok)
        flash(f"Token “{tok.name}” revoked.", "info")
        return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 422
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == me.id)
                                .order_by(ApiToken.created_at.desc())).all()
    return render_template("auth/account.html", pw_form=pw_form, token_form=token_form,
                           tokens=tokens, new_token=new_token, errors=errors), status
