"""Contacts: one officer interaction with stakeholders and groups, and its follow-up."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.beats.models import Beat
from crm.db import Versioned, enum_check
from crm.extensions import db
from crm.groups.models import CommunityGroup
from crm.stakeholders.models import Stakeholder
from crm.users.models import User
from crm.vocab import CHANNELS, ENFORCEMENT, INITIATED_BY, STAGES


class Contact(Versioned, db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        enum_check("channel", CHANNELS),
        enum_check("initiated_by", INITIATED_BY),
        enum_check("enforcement", ENFORCEMENT),
        enum_check("stage_after", STAGES),
        sa.Index("ix_contacts_beat_id_occurred_at", "beat_id", "occurred_at"),
        sa.Index("ix_contacts_occurred_at", "occurred_at"),
        # Open follow-ups only (a small share of all contacts): "due soon" lists probe this.
        # A plain follow_up_on index would tempt PostgreSQL into scanning done ones too.
        sa.Index("ix_contacts_open_follow_ups", "follow_up_on", "id",
                 sqlite_where=sa.text("follow_up_on IS NOT NULL AND follow_up_done_at IS NULL"),
                 postgresql_where=sa.text("follow_up_on IS NOT NULL AND follow_up_done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    beat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("beats.id"))
    place: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    channel: Mapped[str] = mapped_column(sa.String(20))
    initiated_by: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    techniques: Mapped[list] = mapped_column(sa.JSON, default=list)
    stage_after: Mapped[str | None] = mapped_column(sa.String(30))
    enforcement: Mapped[str] = mapped_column(sa.String(20), default="none", server_default="none")
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    follow_up_on: Mapped[date | None]
    follow_up_note: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    follow_up_done_at: Mapped[datetime | None]
    follow_up_done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    logged_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # A client-made key per form load: a double tap or a resent form finds the first contact.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    beat: Mapped[Beat | None] = relationship()
    logged_by: Mapped[User] = relationship(foreign_keys=[logged_by_id])
    officer_links: Mapped[list[ContactOfficer]] = relationship(
        back_populates="contact", cascade="all, delete-orphan")
    stakeholder_links: Mapped[list[ContactStakeholder]] = relationship(
        back_populates="contact", cascade="all, delete-orphan")
    group_links: Mapped[list[ContactGroup]] = relationship(
        back_populates="contact", cascade="all, delete-orphan")

    @property
    def officers(self) -> list[User]:
        return [link.officer for link in self.officer_links]

    @property
    def stakeholders(self) -> list[Stakeholder]:
        return [link.stakeholder for link in self.stakeholder_links]

    @property
    def groups(self) -> list[CommunityGroup]:
        return [link.group for link in self.group_links]


# The link tables repeat occurred_at and initiated_by from the contact so that "last contact
# per group" and "contacts per officer over time" are answered from one index each.
class ContactOfficer(db.Model):
    __tablename__ = "contact_officers"
    __table_args__ = (
        sa.Index("ix_contact_officers_user_id_occurred_at", "user_id", "occurred_at"),
    )

    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    occurred_at: Mapped[datetime]

    contact: Mapped[Contact] = relationship(back_populates="officer_links")
    officer: Mapped[User] = relationship()


class ContactStakeholder(db.Model):
    __tablename__ = "contact_stakeholders"
    __table_args__ = (
        sa.Index("ix_contact_stakeholders_stakeholder_id_occurred_at",
                 "stakeholder_id", "occurred_at"),
    )

    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    stakeholder_id: Mapped[int] = mapped_column(sa.ForeignKey("stakeholders.id"), primary_key=True)
    occurred_at: Mapped[datetime]

    contact: Mapped[Contact] = relationship(back_populates="stakeholder_links")
    stakeholder: Mapped[Stakeholder] = relationship()


class ContactGroup(db.Model):
    __tablename__ = "contact_groups"
    __table_args__ = (
        enum_check("initiated_by", INITIATED_BY),
        sa.Index("ix_contact_groups_group_id_occurred_at", "group_id", "occurred_at"),
        sa.Index("ix_contact_groups_group_id_initiated_by_occurred_at",
                 "group_id", "initiated_by", "occurred_at"),
    )

    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"), primary_key=True)
    occurred_at: Mapped[datetime]
    initiated_by: Mapped[str] = mapped_column(sa.String(20))

    contact: Mapped[Contact] = relationship(back_populates="group_links")
    group: Mapped[CommunityGroup] = relationship()
