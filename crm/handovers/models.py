"""A hand-over plan for one (officer, beat) and its items, each given to a successor."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.beats.models import Beat
from crm.db import Versioned, enum_check
from crm.extensions import db
from crm.users.models import User

HANDOVER_STATUSES = ("draft", "transferred", "cancelled")
HANDOVER_REASONS = ("planned", "assignment_ended")
ITEM_KINDS = ("stakeholder", "group", "follow_up", "case_action")
INTRO_MODES = ("meet_together", "introduce")


class Handover(Versioned, db.Model):
    """A beat's relationships, drafted when its officer is to leave, waiting for a successor."""

    __tablename__ = "handovers"
    __table_args__ = (
        enum_check("status", HANDOVER_STATUSES),
        enum_check("reason", HANDOVER_REASONS),
        sa.Index("ix_handovers_beat_id_status", "beat_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beat_id: Mapped[int] = mapped_column(sa.ForeignKey("beats.id"))
    leaving_officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", server_default="draft")
    reason: Mapped[str] = mapped_column(sa.String(20), default="planned", server_default="planned")
    # The officer's last day on the beat (planned or actual): introductions are due before it.
    leaves_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    transferred_at: Mapped[datetime | None]
    transferred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    beat: Mapped[Beat] = relationship()
    leaving_officer: Mapped[User] = relationship(foreign_keys=[leaving_officer_id])
    items: Mapped[list[HandoverItem]] = relationship(
        back_populates="handover", cascade="all, delete-orphan", order_by="HandoverItem.id")


class HandoverItem(db.Model):
    """One person, group, follow-up or case action of the plan, and who it goes to.

    The original owner stays recorded on the plan (`leaving_officer_id`), so a moved
    follow-up or action keeps its history. For a person the item is also the successor's
    introduction task: it is done once the successor logs a contact with that person.
    """

    __tablename__ = "handover_items"
    __table_args__ = (
        enum_check("kind", ITEM_KINDS),
        enum_check("intro_mode", INTRO_MODES),
        sa.Index("ix_handover_items_successor_id_kind", "successor_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(sa.ForeignKey("handovers.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    stakeholder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    case_action_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("case_actions.id", ondelete="CASCADE"))
    # The relationship as it stood when the plan was drafted (the measure's denominator).
    stage: Mapped[str | None] = mapped_column(sa.String(30))
    last_contact_at: Mapped[datetime | None]
    hard_to_engage: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    successor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The leaving officer's short engagement note (never intelligence).
    note: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    intro_mode: Mapped[str] = mapped_column(sa.String(20), default="introduce",
                                            server_default="introduce")
    intro_due_on: Mapped[date | None]
    # Who introduced the leaving officer to this person or group: the person the officer asked
    # for an introduction (an "introduction" assignment, crm.assignments) before first meeting
    # them; empty when the officer met them without one. Filled when the plan is drafted.
    introduced_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="SET NULL"))
    introduction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignments.id", ondelete="SET NULL"))

    handover: Mapped[Handover] = relationship(back_populates="items")
    successor: Mapped[User | None] = relationship(foreign_keys=[successor_id])
