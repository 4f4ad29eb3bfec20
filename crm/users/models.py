"""Users, their roles, beat assignments, API tokens and sign-in throttles."""

from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.beats.models import Beat, District
from crm.db import Dated, Timestamped, Versioned, enum_check, utcnow
from crm.extensions import db
from crm.timezones import local_today
from crm.vocab import ROLES


def new_session_nonce() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, Versioned, db.Model):
    __tablename__ = "users"
    __table_args__ = (enum_check("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # A supervisor's district; officers get theirs through beat assignments.
    district_id: Mapped[int | None] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    # Wrong second-factor codes since the last complete sign-in, from any source. Only someone
    # who knows the password can make them, so reaching the limit locks the whole account
    # (`locked_until`); wrong passwords lock per source instead (LoginThrottle).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The TOTP time step of the last accepted code: a code is accepted once only.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Part of the session cookie's user id; rotating it revokes every session server-side.
    session_nonce: Mapped[str] = mapped_column(sa.String(64), default=new_session_nonce)

    district: Mapped[District | None] = relationship()
    assignments: Mapped[list[BeatAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_locked(self) -> bool:
        """Locked as a whole (not just from one source address) right now."""
        return self.locked_until is not None and self.locked_until > utcnow()

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def current_beats(self, on: date | None = None) -> list[Beat]:
        on = on or local_today()
        return [a.beat for a in self.assignments if a.is_current_on(on)]

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class BeatAssignment(Dated, Timestamped, db.Model):
    __tablename__ = "beat_assignments"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "beat_id", "starts_on"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beats.id"), index=True)
    starts_on: Mapped[date] = mapped_column(default=local_today)
    ends_on: Mapped[date | None]

    user: Mapped[User] = relationship(back_populates="assignments")
    beat: Mapped[Beat] = relationship()


class GroupAssignment(Timestamped, db.Model):
    """A community policing unit member's standing responsibility for a group."""

    __tablename__ = "group_assignments"
    __table_args__ = (sa.Index("ix_group_assignments_group_id_user_id", "group_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"), primary_key=True)


class ApiToken(Timestamped, db.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed sign-ins of one account from one source address: growing delays, then a lock.

    Keyed by account and source so that failures from a stranger's address never lock the
    officer out of their own; a row goes when that source signs in or its failures age out.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (sa.UniqueConstraint("user_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator at the second-factor step.

    Ten are issued at enrolment (and whenever the user asks for new ones); only their hash
    is stored, with the app's password hasher, and a used one keeps `used_at`.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    used_at: Mapped[datetime | None]
