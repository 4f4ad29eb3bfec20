"""Stakeholders (personal data: minimal fields, consent, retention) and their memberships."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Dated, Versioned, enum_check
from crm.extensions import db
from crm.groups.models import CommunityGroup
from crm.vocab import CONSENT_STATUSES, MEMBERSHIP_ROLES, STAGES, SUBJECT_CATEGORIES


class Stakeholder(Versioned, db.Model):
    __tablename__ = "stakeholders"
    __table_args__ = (
        enum_check("data_subject_category", SUBJECT_CATEGORIES),
        enum_check("consent_status", CONSENT_STATUSES),
        enum_check("stage", STAGES),
        sa.Index("ix_stakeholders_review_on", "review_on"),
        sa.Index("ix_stakeholders_name", "name"),
        # Introductions start from the few people in a working relationship.
        sa.Index("ix_stakeholders_stage", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Personal fields are deliberately few: a name, how to reach them, their language.
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    language: Mapped[str | None] = mapped_column(sa.String(40))
    # Meeting this person needs an interpreter (for `language`): planned before a visit.
    interpreter_needed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    data_subject_category: Mapped[str] = mapped_column(
        sa.String(30), default="community_member", server_default="community_member")
    consent_status: Mapped[str] = mapped_column(
        sa.String(20), default="not_asked", server_default="not_asked")
    consent_on: Mapped[date | None]
    consent_method: Mapped[str | None] = mapped_column(sa.String(80))
    consent_purpose: Mapped[str | None] = mapped_column(sa.String(200))
    stage: Mapped[str] = mapped_column(sa.String(30), default="none", server_default="none")
    review_on: Mapped[date | None]  # retention: past this date the record must be reviewed
    erased_at: Mapped[datetime | None]  # personal fields blanked; the row stays as a tombstone
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stakeholders.id"))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="stakeholder", cascade="all, delete-orphan"
    )

    @classmethod
    def live(cls) -> sa.ColumnElement[bool]:
        """Still holds personal data: not erased, not merged into another record."""
        return sa.and_(cls.erased_at.is_(None), cls.merged_into_id.is_(None))

    @property
    def is_live(self) -> bool:
        return self.erased_at is None and self.merged_into_id is None

    def __repr__(self) -> str:
        return f"<Stakeholder {self.id}>"


class Membership(Dated, Versioned, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        enum_check("role", MEMBERSHIP_ROLES),
        # One row per person and group; the unique index serves "groups of a person".
        sa.UniqueConstraint("stakeholder_id", "group_id"),
        sa.Index("ix_memberships_group_id_stakeholder_id", "group_id", "stakeholder_id"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                           name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stakeholder_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(20), default="member", server_default="member")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]

    stakeholder: Mapped[Stakeholder] = relationship(back_populates="memberships")
    group: Mapped[CommunityGroup] = relationship(back_populates="memberships")
