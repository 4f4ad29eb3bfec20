"""Community groups and the declared relations between them."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.beats.models import Beat
from crm.db import Dated, Timestamped, Versioned, enum_check
from crm.extensions import db
from crm.timezones import local_today
from crm.vocab import GROUP_KINDS, RELATION_TYPES, STAGES, STANCES

group_beats = sa.Table(
    "group_beats",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("community_groups.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("beat_id", sa.ForeignKey("beats.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_group_beats_beat_id_group_id", "beat_id", "group_id"),
)


class CommunityGroup(Versioned, db.Model):
    __tablename__ = "community_groups"
    __table_args__ = (
        enum_check("kind", GROUP_KINDS),
        enum_check("stance", STANCES),
        enum_check("stage", STAGES),
        sa.CheckConstraint("size_estimate IS NULL OR size_estimate >= 0", name="size_nonnegative"),
        sa.CheckConstraint("contact_interval_days > 0", name="interval_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="other", server_default="other")
    stance: Mapped[str] = mapped_column(sa.String(20), default="unknown", server_default="unknown")
    # Where the group stands with the police now; history in RelationshipStageChange.
    stage: Mapped[str] = mapped_column(sa.String(30), default="none", server_default="none")
    size_estimate: Mapped[int | None]
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    contact_interval_days: Mapped[int] = mapped_column(default=30, server_default="30")

    beats: Mapped[list[Beat]] = relationship(secondary=group_beats, order_by=Beat.code)
    memberships: Mapped[list[Membership]] = relationship(  # noqa: F821
        back_populates="group", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<CommunityGroup {self.name!r}>"


class GroupRelation(Dated, Versioned, db.Model):
    """A declared relation; overlap by shared members is computed, never typed in."""

    __tablename__ = "group_relations"
    __table_args__ = (
        enum_check("type", RELATION_TYPES),
        sa.CheckConstraint("group_a_id <> group_b_id", name="distinct_groups"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                           name="dates_ordered"),
        sa.Index("ix_group_relations_group_b_id", "group_b_id"),
        sa.Index("ix_group_relations_group_a_id", "group_a_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_a_id: Mapped[int] = mapped_column(sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    group_b_id: Mapped[int] = mapped_column(sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(20))
    issue: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    starts_on: Mapped[date | None] = mapped_column(default=local_today)
    ends_on: Mapped[date | None]

    group_a: Mapped[CommunityGroup] = relationship(foreign_keys=[group_a_id])
    group_b: Mapped[CommunityGroup] = relationship(foreign_keys=[group_b_id])

    @classmethod
    def open_on(cls, day: date | None = None) -> sa.ColumnElement[bool]:
        """A relation counts as current until it ends (one declared to start later is on
        record already, and blocks a second one of the same type)."""
        day = day or local_today()
        return sa.or_(cls.ends_on.is_(None), cls.ends_on >= day)

    @property
    def is_current(self) -> bool:
        return self.ends_on is None or self.ends_on >= local_today()

    def other(self, group_id: int) -> CommunityGroup:
        return self.group_b if self.group_a_id == group_id else self.group_a


class RelationshipStageChange(Timestamped, db.Model):
    """One step in a stakeholder's or group's relationship with the police."""

    __tablename__ = "relationship_stage_changes"
    __table_args__ = (
        enum_check("from_stage", STAGES),
        enum_check("to_stage", STAGES),
        sa.CheckConstraint("(stakeholder_id IS NULL) <> (group_id IS NULL)", name="one_subject"),
        sa.Index("ix_relationship_stage_changes_group_id_changed_at", "group_id", "changed_at"),
        sa.Index("ix_relationship_stage_changes_stakeholder_id_changed_at",
                 "stakeholder_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stakeholder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_stage: Mapped[str] = mapped_column(sa.String(30))
    to_stage: Mapped[str] = mapped_column(sa.String(30))
    changed_at: Mapped[datetime]
