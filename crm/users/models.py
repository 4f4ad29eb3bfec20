"""Users, their roles, beat assignments and API tokens."""

from __future__ import annotations

import secrets
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.beats.models import Beat, District
from crm.db import Timestamped, Versioned, enum_check
from crm.extensions import db
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
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
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

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def current_beats(self, on: date | None = None) -> list[Beat]:
        on = on or date.today()
        return [a.beat for a in self.assignments
                if a.starts_on <= on and (a.ends_on is None or a.ends_on >= on)]

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class BeatAssignment(Timestamped, db.Model):
    __tablename__ = "beat_assignments"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "beat_id", "starts_on"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beats.id"), index=True)
    starts_on: Mapped[date] = mapped_column(default=date.today)
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
