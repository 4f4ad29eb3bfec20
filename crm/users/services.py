"""Users: creation and edits, passwords, API tokens, session revocation.

Sign-in itself (throttles, lockout, second factor) lives in `crm.users.signin`.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy.orm import joinedload

from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups.models import CommunityGroup
from crm.text import clean_text
from crm.timezones import local_today
from crm.users.models import ApiToken, BeatAssignment, GroupAssignment, User, new_session_nonce
from crm.vocab import ROLES

MIN_PASSWORD_LENGTH = 12
TOKEN_USE_PRECISION = timedelta(minutes=1)  # an API token's "last used"


# ---- password hashing ------------------------------------------------------------------------

@functools.cache
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def password_hasher() -> PasswordHasher:
    """argon2id at the cost the app is configured with (PASSWORD_HASH_* in config.py)."""
    if not has_app_context():  # argon2-cffi's defaults, the same as Config's
        return _hasher_for(3, 64 * 1024, 4)
    c = current_app.config
    return _hasher_for(c["PASSWORD_HASH_TIME_COST"], c["PASSWORD_HASH_MEMORY_COST"],
                       c["PASSWORD_HASH_PARALLELISM"])


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher().verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def spend_verify_time(password: str) -> None:
    """Verify against a dummy hash: an unknown or locked account takes as long as a real one."""
    verify_password(_dummy_hash(password_hasher()), password)


def password_ok(user: User, password: str) -> bool:
    return verify_password(user.password_hash, password)


def rehash_if_needed(user: User, password: str) -> None:
    """After a successful check: bring the stored hash up to the configured cost."""
    if password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


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


def change_password(actor: User | None, user: User, new_password: str, *, ip: str = "") -> None:
    """Set a new password; every session and API token of the user stops working.

    Used both by the user (account page) and by an admin resetting it (actor is the admin).
    Whoever held the old password may have made tokens with it, so they go too.
    """
    check_password_policy(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    own = actor is not None and actor.id == user.id
    record_event(actor, "user.password_change" if own else "user.password_reset", user, ip=ip)
    revoke_all_tokens(actor, user, reason="password change" if own else "password reset", ip=ip)
    revoke_sessions(actor, user, reason="password change" if own else "password reset", ip=ip)


# ---- accounts --------------------------------------------------------------------------------

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
                beat_ids: list[int] = (), ip: str = "") -> User:
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
    user = User(username=username, role=role,
                display_name=clean_text(display_name, one_line=True) or username,
                password_hash=hash_password(password), district_id=district_id,
                password_changed_at=utcnow())
    user.assignments = [BeatAssignment(beat_id=b) for b in beat_ids]
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", user, ip=ip, detail={"username": username, "role": role})
    return user


@dataclass
class UserChanges:
    """What an admin may change about a user on the edit page (None: leave as it is)."""

    role: str
    display_name: str | None = None
    district_id: int | None = None
    beat_ids: set[int] = field(default_factory=set)
    group_names: list[str] = field(default_factory=list)
    active: bool = True
    new_password: str | None = None


def _snapshot(user: User, on: date) -> dict:
    return {"role": user.role, "district_id": user.district_id, "active": user.active,
            "beats": sorted(b.code for b in user.current_beats(on))}


def update_user(actor: User, user: User, changes: UserChanges, *, version_id: int | None,
                ip: str = "", today: date | None = None) -> User:
    """Apply an admin's edit: role, district, beats, groups, active, optionally a new password.

    Beats no longer wanted are ended (yesterday was their last day), never deleted, so the
    history of who covered which beat survives; an assignment that only started today is
    removed, as a same-day correction (the audit event keeps the before and after).
    """
    if version_id != user.version_id:
        raise ConflictError("Someone else changed this user while you edited; reload and redo.",
                            current=_snapshot(user, today or local_today()))
    today = today or local_today()
    errors: dict[str, str] = {}
    if changes.role not in ROLES:
        errors["role"] = f"must be one of {', '.join(ROLES)}"
    if user.id == actor.id and (changes.role != "admin" or not changes.active):
        errors["role"] = "you cannot demote or disable yourself"
    found: dict[str, int] = {}
    if changes.group_names:
        found = dict(db.session.execute(sa.select(CommunityGroup.name, CommunityGroup.id)
                                        .where(CommunityGroup.name.in_(changes.group_names))).all())
        missing = [n for n in changes.group_names if n not in found]
        if missing:
            errors["groups"] = f"unknown group(s): {'; '.join(missing)}"
    if changes.new_password:
        try:
            check_password_policy(changes.new_password, username=user.username)
        except ValidationError as e:
            errors["new_password"] = e.errors["password"]
    if errors:
        raise ValidationError(errors)

    before = _snapshot(user, today)
    user.role = changes.role
    user.district_id = changes.district_id
    user.display_name = clean_text(changes.display_name, one_line=True) or user.display_name
    ended = _set_beats(user, changes.beat_ids, today)
    for gid in found.values():
        if not db.session.get(GroupAssignment, (user.id, gid)):
            db.session.add(GroupAssignment(user_id=user.id, group_id=gid))
    if changes.active != user.active:
        set_active(actor, user, changes.active, reason="admin", ip=ip)
    if changes.new_password:
        change_password(actor, user, changes.new_password, ip=ip)
    db.session.flush()
    if ended:  # the relationships built on a beat are drafted for hand-over as it ends
        from crm.handovers.services import draft_on_assignment_end
        for a in ended:
            draft_on_assignment_end(actor, a, ip=ip)
    record_event(actor, "user.update", user, ip=ip,
                 detail={"before": before, "after": _snapshot(user, today),
                         "groups_added": sorted(found)})
    return user


def _set_beats(user: User, wanted: set[int], today: date) -> list[BeatAssignment]:
    """Start and end assignments to match `wanted`; return the ones that ended."""
    current = {a.beat_id: a for a in user.assignments if a.is_current_on(today)}
    ended = []
    for beat_id in wanted - set(current):
        user.assignments.append(BeatAssignment(beat_id=beat_id, starts_on=today))
    for beat_id in set(current) - wanted:
        a = current[beat_id]
        if a.starts_on >= today:
            user.assignments.remove(a)
        else:
            a.ends_on = today - timedelta(days=1)
            ended.append(a)
    return ended


# ---- API tokens ------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(actor: User | None, user: User, name: str, *, ip: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; the plain token is returned once and never stored."""
    name = (name or "").strip()
    if len(name) > 80:  # refused, never cut: the label is what the user reads back later
        raise ValidationError({"name": f"must be at most 80 characters (now {len(name)})"})
    plain = "crm_" + secrets.token_urlsafe(32)
    tok = ApiToken(user_id=user.id, name=name or "token", token_hash=hash_token(plain))
    db.session.add(tok)
    db.session.flush()
    record_event(actor, "api_token.create", tok, ip=ip,
                 detail={"user": user.username, "name": tok.name})
    return tok, plain


def revoke_token(actor: User | None, tok: ApiToken, *, ip: str = "") -> None:
    tok.revoked_at = utcnow()
    record_event(actor, "api_token.revoke", tok, ip=ip, detail={"user_id": tok.user_id})


def revoke_all_tokens(actor: User | None, user: User, *, reason: str, ip: str = "") -> int:
    """Revoke every live token of `user` (one audit event each); returns how many."""
    live = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                        ApiToken.revoked_at.is_(None))).all()
    for tok in live:
        tok.revoked_at = utcnow()
        record_event(actor, "api_token.revoke", tok, ip=ip,
                     detail={"user_id": user.id, "reason": reason})
    return len(live)


def user_for_token(plain: str) -> User | None:
    """The active user a live bearer token belongs to (and note its use), else None."""
    tok = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user)).where(
        ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None)))  # one query
    if tok is None or not tok.user.active:
        return None
    # Noted to the minute: writing it on every call made each API request a write, which on
    # SQLite holds the single writer lock from the start of the request (reads included).
    now = utcnow()
    if tok.last_used_at is None or now - tok.last_used_at >= TOKEN_USE_PRECISION:
        tok.last_used_at = now
    return tok.user


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def own_token(user: User, token_id: int | None) -> ApiToken | None:
    tok = db.session.get(ApiToken, token_id) if token_id else None
    return tok if tok is not None and tok.user_id == user.id else None


# ---- sessions --------------------------------------------------------------------------------

def revoke_sessions(actor: User | None, user: User, *, reason: str, ip: str = "") -> None:
    """Invalidate every session cookie of `user`, and any sign-in half done (logout, password
    change, disable, account lock)."""
    user.session_nonce = new_session_nonce()
    record_event(actor, "auth.sessions_revoked", user, ip=ip, detail={"reason": reason})


def load_user(session_id: str) -> User | None:
    """Flask-Login loader: the cookie carries `id:nonce`; a rotated nonce means revoked."""
    user_id, _, nonce = (session_id or "").partition(":")
    if not user_id.isdigit() or not nonce or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_nonce != nonce or not user.active:
        return None
    return user
