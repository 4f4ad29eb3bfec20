"""The second factor's setup: the authenticator key and its QR code, one-time recovery codes,
and an admin's reset.

Checking a code at sign-in (throttles, once-only steps) is `crm.users.signin`; this module
holds what enrolment and the account page need. Recovery codes are stored like passwords
(the app's argon2 hasher), each usable once, and every issue, use and reset is audited.
"""

from __future__ import annotations

import secrets

import pyotp
import segno
import sqlalchemy as sa
from markupsafe import Markup

from crm.audit.services import record_event
from crm.db import utcnow
from crm.errors import ValidationError
from crm.extensions import db
from crm.users.models import RecoveryCode, User
from crm.users.services import hash_password, revoke_sessions, verify_password

ISSUER = "Alliance CRM"
RECOVERY_CODE_COUNT = 10
# Letters and digits that cannot be misread for each other when copied from paper.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (drawn here: no script, no outside service)."""
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=False,
                        title="QR code of the authenticator key", svgclass="qr")
    # segno drew this SVG from the encoded modules: no typed text reaches it unescaped.
    return Markup(svg)  # noqa: S704  # nosec B704


# ---- recovery codes ---------------------------------------------------------------------------

def normalise_code(code: str | None) -> str:
    """What the user typed, as stored: lower case, without spaces or hyphens."""
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def issue_recovery_codes(actor: User | None, user: User, *, ip: str = "") -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones; returns them once.

    Every earlier code stops working, used or not.
    """
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_password(normalise_code(c)))
                       for c in codes)
    db.session.flush()
    record_event(actor, "auth.recovery_codes_issue", user, ip=ip,
                 detail={"count": len(codes)})
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def spend_recovery_code(user: User, code: str) -> bool:
    """Mark the matching unused code as used; False when none matches (or it was just used)."""
    typed = normalise_code(code)
    if len(typed) != _CODE_LENGTH:
        return False
    unused = db.session.execute(sa.select(RecoveryCode.id, RecoveryCode.code_hash).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all()
    for code_id, code_hash in unused:
        if verify_password(code_hash, typed):
            table = RecoveryCode.__table__
            # Atomic: two requests with the same code, one wins.
            return db.session.execute(
                sa.update(table).where(table.c.id == code_id, table.c.used_at.is_(None))
                .values(used_at=utcnow())).rowcount == 1
    return False


# ---- enrolment from the account page, and an admin's reset ----------------------------------

def enrol_totp(user: User, secret: str, code: str, *, ip: str = "") -> list[str]:
    """Turn on the second factor with `secret` once `code` proves the authenticator has it.

    Returns the new recovery codes (shown once). Raises ValidationError naming the code field.
    """
    from crm.users.signin import claim_code

    if user.totp_secret:
        raise ValidationError({"code": "two-factor sign-in is already on"})
    if not claim_code(user, secret, code):
        raise ValidationError({"code": "is not the current code of this key; try the next one"})
    user.totp_secret = secret
    record_event(user, "auth.totp_enrol", user, ip=ip)
    return issue_recovery_codes(user, user, ip=ip)


def reset_second_factor(actor: User, user: User, *, ip: str = "") -> None:
    """An admin clears a user's authenticator key and recovery codes (a lost phone).

    The user signs in with the password next time and, where the role requires a second
    factor, sets up a new one there. Their sessions end: whoever holds the lost phone may
    also hold a signed-in browser.
    """
    had = bool(user.totp_secret)
    user.totp_secret = None
    user.totp_last_step = None
    dropped = db.session.execute(
        sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id)).rowcount
    record_event(actor, "user.second_factor_reset", user, ip=ip,
                 detail={"had_authenticator": had, "recovery_codes_dropped": dropped})
    revoke_sessions(actor, user, reason="second factor reset", ip=ip)
