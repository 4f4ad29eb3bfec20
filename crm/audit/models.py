"""Audit events: append-only and hash-chained so tampering is detectable."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import enum_check
from crm.extensions import db
from crm.vocab import AUDIT_OUTCOMES


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        enum_check("outcome", AUDIT_OUTCOMES),
        sa.Index("ix_audit_events_object_type_object_id", "object_type", "object_id"),
        sa.Index("ix_audit_events_actor_id_at", "actor_id", "at"),
        sa.Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    # No foreign key: the trail must outlive the user rows it names.
    actor_id: Mapped[int | None]
    actor_username: Mapped[str] = mapped_column(sa.String(80), default="", server_default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    object_id: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    outcome: Mapped[str] = mapped_column(sa.String(20), default="success", server_default="success")
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
