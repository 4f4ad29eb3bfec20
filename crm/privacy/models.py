"""What an erasure must know that the stakeholder row no longer says: its former values."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class StakeholderHistory(db.Model):
    """Former names, phones, emails and external ids of a person, and the typed reasons for
    keeping or erasing the record.

    The audit trail records only THAT a personal field changed (it cannot be erased), so the
    old value is kept here, where an erasure can find it to scrub every copy typed into free
    text elsewhere, and then deletes it. The reasons live here rather than in the trail for
    the same reason: typed text may name someone who is erased later.
    """

    __tablename__ = "stakeholder_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    stakeholder_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(30))  # name, phone, ... or keep_reason
    value: Mapped[str] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime]
