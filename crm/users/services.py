"""Users: creation, password checks, sign-in with lockout, session revocation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db
from crm.users.models import BeatAssignment, User, new_session_nonce
from crm.vocab import ROLES

# argon2-cffi's defaults are argon2id with RFC 9106 low-memory parameters.
_hasher = PasswordHasher()
# Verifying against this keeps the time of an unknown username equal to a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_COMMON = frozenset(
    line.strip().lower()
    for line in (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


def check_password_policy(password: str, *, username: str = "") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError({"password": f"must be at least {MIN_PASSWORD_LENGTH} characters"})
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) <= 2 or (username and username.lower() in lowered):
        raise ValidationError({"password": "is too easy to guess: it is a common password or "
                                           "contains the username"})


def change_password(actor: User, user: User, new_password: str, *, ip: str = "") -> None:
    """Set a new password and revoke every session of the user (the caller signs in again)."""
    check_password_policy(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    record_event(actor, "user.password_change", user, ip=ip)
    revoke_sessions(actor, user, reason="password change", ip=ip)


def set_active(actor: User | None, user: User, active: bool, *, reason: str, ip: str = "") -> None:
    user.active = active
    record_event(actor, "user.enable" if active else "user.disable", user, ip=ip,
                 detail={"reason": reason})
    if not active:
        revoke_sessions(actor, user, reason=f"disabled: {reason}", ip=ip)


def disable_inactive_accounts(actor: User | None, *, now=None) -> list[User]:
    """Disable accounts unused for ACCOUNT_INACTIVE_DAYS (never used: counted from creation)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["ACCOUNT_INACTIVE_DAYS"])
    stale = db.session.scalars(sa.select(User).where(
        User.active.is_(True),
        sa.func.coalesce(User.last_login_at, User.created_at) < cutoff)).all()
    for user in stale:
        set_active(actor, user, False, reason="unused for "
                   f"{current_app.config['ACCOUNT_INACTIVE_DAYS']} days")
    return stale


def create_user(actor: User | None, username: str, role: str, password: str, *,
                display_name: str | None = None, district_id: int | None = None,
                beat_ids: list[int] = ()) -> User:
    errors: dict[str, str] = {}
    username = (username or "").strip().lower()
    if not username:
        errors["username"] = "is required"
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = "is already taken"
    if role not in ROLES:
        errors["role"] = f"must be one of {', '.join(ROLES)}"
    if errors:
        raise ValidationError(errors)
    check_password_policy(password, username=username)
    user = User(username=username, role=role, display_name=display_name or username,
                password_hash=hash_password(password), district_id=district_id,
                password_changed_at=utcnow())
    user.assignments = [BeatAssignment(beat_id=b) for b in beat_ids]
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", user, detail={"username": username, "role": role})
    return user


@dataclass
class SignInResult:
    user: User | None
    error: str | None = None


def password_ok(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


# One message for every failure so the page never tells which usernames exist.
GENERIC_FAILURE = "Invalid username or password, or the account is locked."


def authenticate(username: str, password: str, *, ip: str = "") -> SignInResult:
    """Check a username and password, applying the lockout policy and auditing both outcomes."""
    username = (username or "").strip().lower()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    now = utcnow()
    if user is None:
        _verify(_DUMMY_HASH, password)
        # The typed name may be a mistyped password or someone's email: keep a fingerprint only.
        fingerprint = hashlib.sha256(username.encode()).hexdigest()[:12]
        record_event(None, "auth.login", object_type="users", outcome="failure", ip=ip,
                     detail={"username_sha256": fingerprint, "reason": "unknown user"})
        return SignInResult(None, GENERIC_FAILURE)
    if user.locked_until and user.locked_until > now:
        _verify(_DUMMY_HASH, password)
        record_event(user, "auth.login", user, outcome="denied", ip=ip,
                     detail={"reason": "locked"})
        return SignInResult(None, GENERIC_FAILURE)
    if not _verify(user.password_hash, password) or not user.active:
        reason = "inactive" if user.active is False else "bad password"
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + current_app.config["LOGIN_LOCKOUT"]
            user.failed_logins = 0
            record_event(user, "auth.lockout", user, outcome="denied", ip=ip,
                         detail={"until": user.locked_until.isoformat()})
        record_event(user, "auth.login", user, outcome="failure", ip=ip, detail={"reason": reason})
        return SignInResult(None, GENERIC_FAILURE)
    last_used = user.last_login_at or user.created_at
    if last_used and now - last_used > timedelta(days=current_app.config["ACCOUNT_INACTIVE_DAYS"]):
        set_active(None, user, False, reason="unused for "
                   f"{current_app.config['ACCOUNT_INACTIVE_DAYS']} days", ip=ip)
        record_event(user, "auth.login", user, outcome="denied", ip=ip,
                     detail={"reason": "inactive account disabled"})
        return SignInResult(None, GENERIC_FAILURE)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_event(user, "auth.login", user, ip=ip)
    return SignInResult(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def revoke_sessions(actor: User | None, user: User, *, reason: str, ip: str = "") -> None:
    """Invalidate every session cookie of `user` (logout, password change, disable)."""
    user.session_nonce = new_session_nonce()
    record_event(actor, "auth.sessions_revoked", user, ip=ip, detail={"reason": reason})


def load_user(session_id: str) -> User | None:
    """Flask-Login loader: the cookie carries `id:nonce`; a rotated nonce means revoked."""
    user_id, _, nonce = (session_id or "").partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_nonce != nonce or not user.active:
        return None
    return user
