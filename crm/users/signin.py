"""Sign-in: a password, then a TOTP code where the user has one or the role requires one.

Failed attempts are counted in the database, per account AND source address (an IPv6
client by its /64) (`LoginThrottle`): from the second failure each further attempt from that source waits
LOGIN_DELAY, doubling; at LOGIN_MAX_FAILURES that source is locked out of the account for
LOGIN_LOCKOUT (CJIS) and the lock is audited. Another address can still sign in, so a
stranger who knows an officer's username cannot lock the officer out.

Wrong TOTP codes also count towards the whole account (`User.failed_logins`): only someone
who knows the password can make them, so reaching the limit locks the account everywhere and
ends every session and half-done sign-in of it.

Every step re-checks `active` and the locks: a half-done sign-in (the "pending" login a
cookie carries between the two steps) is bound to its source address, lives five minutes,
and ends when the account or its source locks. A TOTP code is accepted once only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from crm.audit.services import record_event
from crm.db import utcnow
from crm.extensions import db
from crm.users.models import LoginThrottle, User
from crm.users.second_factor import issue_recovery_codes, recovery_codes_left, spend_recovery_code
from crm.users.services import (
    load_user,
    rehash_if_needed,
    revoke_sessions,
    set_active,
    spend_verify_time,
    verify_password,
)

# One message for every refusal at the password step, so the page never tells which usernames
# exist or which are locked.
GENERIC_FAILURE = "Invalid username or password, or the account is locked."
BAD_CODE = "That code is not valid. Try the current one."
REUSED_CODE = "That code was already used. Wait for the next one."
BAD_RECOVERY_CODE = "That recovery code is not valid, or it was used already."
TOO_SOON = "Too many attempts. Wait a few seconds, then type the current code."
PENDING_TTL = timedelta(minutes=5)


@dataclass
class SignInResult:
    user: User | None
    error: str | None = None
    needs_second_factor: bool = False


@dataclass
class SecondFactorResult:
    user: User | None  # set when signed in
    error: str | None = None
    ended: bool = False  # the half-done sign-in is over: start again at the password
    recovery_codes: list[str] | None = None  # issued at enrolment, to show once


def needs_second_factor(user: User) -> bool:
    return bool(user.totp_secret) or user.role in current_app.config["TOTP_REQUIRED_ROLES"]


# ---- step 1: the password ------------------------------------------------------------------

def authenticate(username: str, password: str, *, source: str = "") -> SignInResult:
    """Check a username and password from `source`, applying the throttle; audit every outcome.

    A user who needs a second factor gets `needs_second_factor` and is not signed in yet.
    """
    source = (source or "")[:64]  # the exact address, for the audit trail
    username = (username or "").strip().lower()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    now = utcnow()
    if user is None:
        spend_verify_time(password)
        # The typed name may be a mistyped password or someone's email: keep a fingerprint only.
        fingerprint = hashlib.sha256(username.encode()).hexdigest()[:12]
        record_event(None, "auth.login", object_type="users", outcome="failure", ip=source,
                     detail={"username_sha256": fingerprint, "reason": "unknown user"})
        return SignInResult(None, GENERIC_FAILURE)
    locked = _locked(user, source, now)
    if locked:
        spend_verify_time(password)
        record_event(user, "auth.login", user, outcome="denied", ip=source,
                     detail={"reason": locked})
        return SignInResult(None, GENERIC_FAILURE)
    if _too_soon(user, source, now):
        # Refused unchecked, so hurrying gains nothing; it still counts towards the lock.
        spend_verify_time(password)
        _failed(user, source, now, action="auth.login", reason="too soon")
        return SignInResult(None, GENERIC_FAILURE)
    if not verify_password(user.password_hash, password):
        _failed(user, source, now, action="auth.login", reason="bad password")
        return SignInResult(None, GENERIC_FAILURE)
    inactive_days = current_app.config["ACCOUNT_INACTIVE_DAYS"]
    last_used = user.last_login_at or user.created_at
    if last_used and now - last_used > timedelta(days=inactive_days):
        set_active(None, user, False, reason=f"unused for {inactive_days} days", ip=source)
        record_event(user, "auth.login", user, outcome="denied", ip=source,
                     detail={"reason": "inactive account disabled"})
        return SignInResult(None, GENERIC_FAILURE)
    rehash_if_needed(user, password)
    if needs_second_factor(user):
        # The password step passed; failures are cleared only when the code passes too, so
        # someone who knows the password cannot reset the count between guesses.
        record_event(user, "auth.login", user, ip=source, detail={"step": "password"})
        return SignInResult(user, needs_second_factor=True)
    record_event(user, "auth.login", user, ip=source)
    _signed_in(user, source, now)
    return SignInResult(user)


# ---- between the steps: the pending sign-in ------------------------------------------------

def start_pending(user: User, *, source: str = "") -> dict:
    """What the session keeps between the two steps (signed, so it cannot be forged)."""
    return {"user": user.get_id(), "at": utcnow().isoformat(), "source": _source(source)}


def pending_user(pending: dict | None, *, source: str = "") -> User | None:
    """The user of a half-done sign-in, or None when it is over.

    Over means: older than PENDING_TTL, sent from another address, the account disabled or
    its sessions revoked (an account lock does that), or the account locked for this source.
    """
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    now = utcnow()
    if not timedelta(0) <= now - started <= PENDING_TTL or pending.get("source") != _source(source):
        return None
    user = load_user(str(pending.get("user", "")))
    if user is None or _locked(user, source, now):
        return None
    return user


# ---- step 2: the TOTP code -----------------------------------------------------------------

def verify_second_factor(user: User, code: str, *, secret: str, enrolling: bool,
                         source: str = "") -> SecondFactorResult:
    """Check a TOTP code of a pending sign-in; sign in (and enrol `secret`) when it is right."""
    source = (source or "")[:64]
    now = utcnow()
    locked = _locked(user, source, now)
    if locked:
        record_event(user, "auth.second_factor", user, outcome="denied", ip=source,
                     detail={"reason": locked})
        return SecondFactorResult(None, GENERIC_FAILURE, ended=True)
    if _too_soon(user, source, now):
        ended = _failed(user, source, now, action="auth.second_factor", reason="too soon",
                        account_wide=True)
        return SecondFactorResult(None, GENERIC_FAILURE if ended else TOO_SOON, ended=ended)
    step = _matching_step(secret, code)
    if step is None:
        ended = _failed(user, source, now, action="auth.second_factor", reason="bad code",
                        account_wide=True)
        return SecondFactorResult(None, GENERIC_FAILURE if ended else BAD_CODE, ended=ended)
    if not _claim_step(user, step):
        # A replay (or the same code typed on two devices): refused, but not a guess.
        record_event(user, "auth.second_factor", user, outcome="failure", ip=source,
                     detail={"reason": "code already used"})
        return SecondFactorResult(None, REUSED_CODE)
    codes = None
    if enrolling:
        user.totp_secret = secret
        record_event(user, "auth.totp_enrol", user, ip=source)
        codes = issue_recovery_codes(user, user, ip=source)
    record_event(user, "auth.second_factor", user, ip=source)
    _signed_in(user, source, now)
    return SecondFactorResult(user, recovery_codes=codes)


def verify_recovery_code(user: User, code: str, *, source: str = "") -> SecondFactorResult:
    """Sign a pending sign-in in with one of the user's recovery codes (each works once).

    Counted like a wrong authenticator code when it does not match; audited either way,
    with how many codes are left.
    """
    source = (source or "")[:64]
    now = utcnow()
    locked = _locked(user, source, now)
    if locked:
        record_event(user, "auth.second_factor", user, outcome="denied", ip=source,
                     detail={"reason": locked, "method": "recovery code"})
        return SecondFactorResult(None, GENERIC_FAILURE, ended=True)
    if _too_soon(user, source, now):
        ended = _failed(user, source, now, action="auth.second_factor", reason="too soon",
                        account_wide=True)
        return SecondFactorResult(None, GENERIC_FAILURE if ended else TOO_SOON, ended=ended)
    if not user.totp_secret or not spend_recovery_code(user, code):
        ended = _failed(user, source, now, action="auth.second_factor",
                        reason="bad recovery code", account_wide=True)
        return SecondFactorResult(None, GENERIC_FAILURE if ended else BAD_RECOVERY_CODE,
                                  ended=ended)
    record_event(user, "auth.recovery_code_use", user, ip=source,
                 detail={"left": recovery_codes_left(user)})
    record_event(user, "auth.second_factor", user, ip=source,
                 detail={"method": "recovery code"})
    _signed_in(user, source, now)
    return SecondFactorResult(user)


def claim_code(user: User, secret: str, code: str) -> bool:
    """True when `code` is a current code of `secret` not used before (and now it is used)."""
    step = _matching_step(secret, code)
    return step is not None and _claim_step(user, step)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code `code` is (one step of clock drift either way), or None."""
    totp = pyotp.TOTP(secret)
    code = (code or "").strip()
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record `step` as used unless it (or a later one) already was; atomic across requests."""
    users = User.__table__
    claimed = db.session.execute(
        sa.update(users)
        .where(users.c.id == user.id,
               sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step))
        .values(totp_last_step=step)).rowcount == 1
    if claimed:
        set_committed_value(user, "totp_last_step", step)
    return claimed


# ---- the throttle --------------------------------------------------------------------------

def _source(source: str) -> str:
    """The key failures are counted under (and a pending sign-in is bound to). An IPv6 client is counted by its /64, the
    block one subscriber gets, or it could step through addresses and never hit a lock."""
    try:
        address = ipaddress.ip_address((source or "").strip())
    except ValueError:
        return (source or "")[:64]
    if address.version == 6:
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _throttle(user: User, source: str, *, create: bool = False) -> LoginThrottle | None:
    source = _source(source)
    query = sa.select(LoginThrottle).where(LoginThrottle.user_id == user.id,
                                           LoginThrottle.source == source)
    row = db.session.scalar(query.with_for_update())
    if row is not None or not create:
        return row
    try:
        with db.session.begin_nested():  # two first failures at once: one insert wins
            row = LoginThrottle(user_id=user.id, source=source, failures=0,
                                last_failure_at=utcnow())
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(query.with_for_update())
    return row


def _locked(user: User, source: str, now: datetime) -> str | None:
    """Why `user` may not sign in from `source` at all right now, or None."""
    if not user.active:
        return "inactive"
    if user.locked_until and user.locked_until > now:
        return "account locked"
    row = _throttle(user, source)
    if row is not None and row.locked_until and row.locked_until > now:
        return "locked from this source"
    return None


def _delay(failures: int) -> timedelta:
    """The wait before the next attempt after `failures` consecutive failures: none after
    the first (a typo), then LOGIN_DELAY, doubling."""
    if failures < 2:
        return timedelta(0)
    return current_app.config["LOGIN_DELAY"] * 2 ** (failures - 2)


def _too_soon(user: User, source: str, now: datetime) -> bool:
    row = _throttle(user, source)
    return row is not None and now < row.last_failure_at + _delay(_recent_failures(row, now))


def _recent_failures(row: LoginThrottle, now: datetime) -> int:
    """Consecutive failures still counting: they age out after LOGIN_LOCKOUT, and a lock
    that has run out starts the count again."""
    window = current_app.config["LOGIN_LOCKOUT"]
    if row.locked_until is not None and row.locked_until <= now:
        return 0
    return row.failures if now - row.last_failure_at <= window else 0


def _failed(user: User, source: str, now: datetime, *, action: str, reason: str,
            account_wide: bool = False) -> bool:
    """Count a failure, lock when it is one too many, audit both; True when now locked."""
    cfg = current_app.config
    row = _throttle(user, source, create=True)
    row.failures = _recent_failures(row, now) + 1
    row.last_failure_at = now
    row.locked_until = None
    locked = False
    if row.failures >= cfg["LOGIN_MAX_FAILURES"]:
        row.locked_until = now + cfg["LOGIN_LOCKOUT"]
        locked = True
        record_event(user, "auth.lockout", user, outcome="denied", ip=source,
                     detail={"scope": "source", "failures": row.failures,
                             "until": row.locked_until.isoformat()})
    if account_wide:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + cfg["LOGIN_LOCKOUT"]
            record_event(user, "auth.lockout", user, outcome="denied", ip=source,
                         detail={"scope": "account", "failures": user.failed_logins,
                                 "until": user.locked_until.isoformat()})
            user.failed_logins = 0
            # Ends every session and every half-done sign-in, from any address.
            revoke_sessions(None, user, reason="account locked", ip=source)
            locked = True
    record_event(user, action, user, outcome="failure", ip=source, detail={"reason": reason})
    _forget_stale(user, source, now)
    return locked


def _forget_stale(user: User, source: str, now: datetime) -> None:
    """Drop this account's throttle rows from other sources that no longer count."""
    db.session.execute(sa.delete(LoginThrottle).where(
        LoginThrottle.user_id == user.id, LoginThrottle.source != _source(source),
        LoginThrottle.last_failure_at < now - current_app.config["LOGIN_LOCKOUT"],
        sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)))


def _signed_in(user: User, source: str, now: datetime) -> None:
    """A complete sign-in: this source's failures and the account's code failures are over."""
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.user_id == user.id,
                                                      LoginThrottle.source == _source(source)))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now


# ---- administration --------------------------------------------------------------------------

def active_locks(user: User) -> list[LoginThrottle]:
    """The source addresses locked out of `user` right now."""
    return list(db.session.scalars(sa.select(LoginThrottle).where(
        LoginThrottle.user_id == user.id, LoginThrottle.locked_until > utcnow())
        .order_by(LoginThrottle.locked_until.desc())))


def unlock(actor: User, user: User, *, ip: str = "") -> None:
    """An admin lifts every lock on `user`: the account's and each source address's."""
    sources = db.session.scalars(sa.delete(LoginThrottle).where(LoginThrottle.user_id == user.id)
                                 .returning(LoginThrottle.source)).all()
    user.locked_until = None
    user.failed_logins = 0
    record_event(actor, "auth.unlock", user, ip=ip, detail={"sources": len(sources)})


def user_ids_with_locked_sources() -> set[int]:
    return set(db.session.scalars(sa.select(LoginThrottle.user_id).distinct()
                                  .where(LoginThrottle.locked_until > utcnow())))
