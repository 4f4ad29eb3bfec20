"""API authentication: a personal bearer token, or the browser session with a CSRF header.

Tokens are issued and revoked by `crm.users.services`; `issue_token` and `revoke_token` are
re-exported here only for the callers (tests, scripts) that still import them from the API.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from crm.extensions import csrf
from crm.users.services import issue_token, revoke_token, user_for_token  # noqa: F401

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def load_user_from_bearer(req):
    """Flask-Login request loader (registered in `crm.create_app`): bearer tokens
    authenticate API calls only, never pages."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    user = user_for_token(header[7:].strip())
    if user is not None:
        request.environ["crm.auth"] = "token"
    return user


def require_api_user():
    if not current_user.is_authenticated:
        abort(401, description="Authentication required: send a bearer token or sign in.")
    if request.environ.get("crm.auth") != "token" and request.method not in SAFE_METHODS:
        csrf.protect()  # the browser session needs the X-CSRFToken header
