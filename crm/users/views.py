"""Sign-in (password, then a TOTP code where set or required), sign-out and the account page.

The rules (throttles, locks, once-only codes) are in `crm.users.signin`; these views only
move the pending sign-in between the two steps and start the session.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from crm.errors import ValidationError
from crm.extensions import limiter
from crm.users import second_factor as factor
from crm.users import signin
from crm.users.forms import (
    LoginForm,
    NewRecoveryCodesForm,
    PasswordChangeForm,
    RecoveryCodeForm,
    TokenForm,
    TotpForm,
)
from crm.users.services import (
    change_password,
    issue_token,
    own_token,
    password_ok,
    revoke_sessions,
    revoke_token,
    tokens_of,
)
from crm.users.sessions import start_session
from crm.web.forms import apply_errors, client_ip, current_actor

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login is a phishing aid.
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


def _complete_login(user, next_url: str | None):
    session.clear()  # a fresh session at sign-in: no fixation
    login_user(user, remember=False)
    session.permanent = True
    start_session()
    return redirect(_safe_next(next_url))


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = signin.authenticate(form.username.data, form.password.data, source=client_ip())
        if result.user and result.needs_second_factor:
            session.clear()
            session["pending"] = signin.start_pending(result.user, source=client_ip())
            session["pending_next"] = request.args.get("next")
            return redirect(url_for("auth.second_factor"))
        if result.user:
            return _complete_login(result.user, request.args.get("next"))
        error = result.error
    return render_template("auth/login.html", form=form, error=error)


def _start_again(message: str = "Please sign in again."):
    session.clear()
    flash(message, "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def second_factor():
    user = signin.pending_user(session.get("pending"), source=client_ip())
    if user is None:
        return _start_again()
    enrolling = not user.totp_secret
    if enrolling:
        session.setdefault("enrol_secret", factor.new_secret())
    secret = user.totp_secret or session["enrol_secret"]
    form, recovery_form, error = TotpForm(), RecoveryCodeForm(), None
    using_recovery = not enrolling and request.form.get("action") == "recovery"
    if using_recovery and recovery_form.validate_on_submit():
        result = signin.verify_recovery_code(user, recovery_form.recovery_code.data,
                                             source=client_ip())
    elif not using_recovery and form.validate_on_submit():
        result = signin.verify_second_factor(user, form.code.data, secret=secret,
                                             enrolling=enrolling, source=client_ip())
    else:
        result = None
    if result is not None:
        if result.user:
            next_url = session.get("pending_next")
            response = _complete_login(result.user, next_url)
            if result.recovery_codes:
                # Shown once, on the next page; the session forgets them there.
                session["new_recovery_codes"] = result.recovery_codes
                return redirect(url_for("auth.recovery_codes", next=next_url))
            return response
        if result.ended:
            return _start_again(result.error)
        error = result.error
    uri = factor.provisioning_uri(user, secret) if enrolling else None
    return render_template("auth/second_factor.html", form=form, recovery_form=recovery_form,
                           error=error, enrolling=enrolling, using_recovery=using_recovery,
                           secret=secret if enrolling else None, uri=uri,
                           qr=factor.qr_svg(uri) if uri else None)


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    """The recovery codes just issued (shown once), or a form to replace them."""
    me = current_actor()
    form = NewRecoveryCodesForm()
    codes, status = session.pop("new_recovery_codes", None), 200
    if request.method == "POST":
        status = 422
        if not me.totp_secret:
            flash("Set up two-factor sign-in first; recovery codes come with it.", "error")
        elif form.validate_on_submit():
            if password_ok(me, form.password.data):
                codes, status = factor.issue_recovery_codes(me, me, ip=client_ip()), 200
            else:
                form.password.errors.append("is not correct")
    return render_template("auth/recovery_codes.html", codes=codes, form=form,
                           left=factor.recovery_codes_left(me),
                           next_url=_safe_next(request.args.get("next"))), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def enrol():
    """Turn on two-factor sign-in from the account page (any role may)."""
    me = current_actor()
    if me.totp_secret:
        return redirect(url_for("auth.account"))
    session.setdefault("enrol_secret", factor.new_secret())
    secret = session["enrol_secret"]
    form, status = TotpForm(), 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                codes = factor.enrol_totp(me, secret, form.code.data, ip=client_ip())
            except ValidationError as e:
                apply_errors(form, e)
            else:
                session.pop("enrol_secret", None)
                flash("Two-factor sign-in is on. From now on you need a code to sign in.", "info")
                return render_template("auth/recovery_codes.html", codes=codes,
                                       form=NewRecoveryCodesForm(formdata=None),
                                       left=len(codes), next_url=url_for("auth.account"))
    uri = factor.provisioning_uri(me, secret)
    return render_template("auth/enrol.html", form=form, secret=secret, uri=uri,
                           qr=factor.qr_svg(uri)), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    me = current_actor()
    revoke_sessions(me, me, reason="logout", ip=client_ip())
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Profile: change password, manage personal API tokens."""
    me = current_actor()
    pw_form, token_form = PasswordChangeForm(prefix="pw"), TokenForm(prefix="tok")
    new_token, status = None, 200
    action = request.form.get("action")
    if action == "password" and pw_form.validate_on_submit():
        if not password_ok(me, pw_form.current_password.data):
            pw_form.current_password.errors.append("is not correct")
        else:
            try:
                change_password(me, me, pw_form.new_password.data, ip=client_ip())
            except ValidationError as e:
                apply_errors(pw_form, {"new_password": e.errors["password"]})
            else:
                logout_user()
                session.clear()
                flash("Password changed. Every session and API token was signed out; sign in "
                      "with the new password.", "info")
                return redirect(url_for("auth.login"))
        status = 422
    elif action == "token" and token_form.validate_on_submit():
        _, new_token = issue_token(me, me, token_form.name.data, ip=client_ip())
    elif action == "revoke":
        tok = own_token(me, request.form.get("token_id", type=int))
        if tok is None:
            abort(404)
        revoke_token(me, tok, ip=client_ip())
        flash(f"Token “{tok.name}” revoked.", "info")
        return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/account.html", pw_form=pw_form, token_form=token_form,
                           tokens=tokens_of(me), new_token=new_token,
                           recovery_left=factor.recovery_codes_left(me)), status
