"""Officer well-being check-ins: private to their author, aggregates only for supervisors."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Timestamped
from crm.extensions import db


class WellbeingCheckin(Timestamped, db.Model):
    __tablename__ = "wellbeing_checkins"
    __table_args__ = (
        sa.CheckConstraint("stress_level BETWEEN 1 AND 5", name="stress_level_range"),
        sa.Index("ix_wellbeing_checkins_officer_id_occurred_at", "officer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime]
    stress_level: Mapped[int]
    boundary_crossed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    coping: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    debrief_wanted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
