"""API authentication: a personal bearer token, or the browser session with a CSRF header."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from crm.audit.services import record_event
from crm.db import utcnow
from crm.extensions import csrf, db, login_manager
from crm.models import ApiToken, User

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; the plain token is returned once and never stored."""
    plain = "crm_" + secrets.token_urlsafe(32)
    tok = ApiToken(user_id=user.id, name=name[:80] or "token", token_hash=hash_token(plain))
    db.session.add(tok)
    db.session.flush()
    record_event(actor, "api_token.create", tok, detail={"user": user.username, "name": tok.name})
    return tok, plain


def revoke_token(actor: User, tok: ApiToken) -> None:
    tok.revoked_at = utcnow()
    record_event(actor, "api_token.revoke", tok, detail={"user_id": tok.user_id})


@login_manager.request_loader
def load_user_from_bearer(req):
    """Bearer tokens authenticate API calls only, never pages."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.startswith("Bearer "):
        return None
    tok = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.token_hash == hash_token(header[7:].strip()), ApiToken.revoked_at.is_(None)))
    if tok is None or not tok.user.active:
        return None
    tok.last_used_at = utcnow()
    request.environ["crm.auth"] = "token"
    return tok.user


def require_api_user():
    if not current_user.is_authenticated:
        abort(401, description="Authentication required: send a bearer token or sign in.")
    if request.environ.get("crm.auth") != "token" and request.method not in SAFE_METHODS:
        csrf.protect()  # the browser session needs the X-CSRFToken header
