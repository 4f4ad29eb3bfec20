"""An assignment: reach a group (or first a person who can introduce you) by a due date."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Versioned, enum_check
from crm.extensions import db
from crm.groups.models import CommunityGroup
from crm.stakeholders.models import Stakeholder
from crm.timezones import local_today
from crm.users.models import User

# visit: reach the group (a supervisor closing a coverage gap);
# introduction: contact the first person of a warm-introduction chain about the group.
ASSIGNMENT_KINDS = ("visit", "introduction")
ASSIGNMENT_STATUSES = ("open", "done", "cancelled")
MAX_ASSIGNMENT_NOTE = 2000


class Assignment(Versioned, db.Model):
    __tablename__ = "assignments"
    __table_args__ = (
        enum_check("kind", ASSIGNMENT_KINDS),
        enum_check("status", ASSIGNMENT_STATUSES),
        # An officer's open assignments (home page, follow-ups) and a group's (coverage page).
        sa.Index("ix_assignments_officer_id_status_due_on", "officer_id", "status", "due_on"),
        sa.Index("ix_assignments_group_id_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="visit", server_default="visit")
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    # The person to contact first (introduction), erased people leave it empty.
    stakeholder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="SET NULL"))
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    assigned_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    due_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The suggested warm introduction as stored by the analytics (ids and kinds, no names).
    chain: Mapped[dict | None] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(20), default="open", server_default="open")
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))

    group: Mapped[CommunityGroup] = relationship()
    stakeholder: Mapped[Stakeholder | None] = relationship()
    officer: Mapped[User] = relationship(foreign_keys=[officer_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])

    def is_overdue(self, today: date | None = None) -> bool:
        return self.status == "open" and self.due_on < (today or local_today())
