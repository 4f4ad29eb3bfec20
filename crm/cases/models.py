"""Problem-solving cases run with the community (SARA), and everything attached to them."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.beats.models import Beat
from crm.db import Timestamped, Versioned, enum_check
from crm.extensions import db
from crm.timezones import local_today
from crm.vocab import (
    ACTION_STATUSES,
    CASE_STAGES,
    IDEA_STATUSES,
    OWNER_KINDS,
    PARTICIPANT_KINDS,
    PARTICIPANT_ROLES,
)

case_beats = sa.Table(
    "case_beats",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("beat_id", sa.ForeignKey("beats.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_case_beats_beat_id_case_id", "beat_id", "case_id"),
)

case_contacts = sa.Table(  # "what we heard": contacts that informed the analysis
    "case_contacts",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("contact_id", sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
)


class ProblemCase(Versioned, db.Model):
    __tablename__ = "problem_cases"
    __table_args__ = (enum_check("stage", CASE_STAGES), sa.Index("ix_problem_cases_stage", "stage"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    problem_statement: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    stage: Mapped[str] = mapped_column(sa.String(20), default="scanning", server_default="scanning")
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Problem analysis triangle, each side with the people who can act on it.
    place: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    place_managers: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    victim_target: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    guardians: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    offender: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    handlers: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    analysis: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    response_plan: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    assessment: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    community_verdict: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    opened_on: Mapped[date] = mapped_column(default=local_today)
    closed_at: Mapped[datetime | None]
    stage_entered_at: Mapped[datetime | None]

    lead = relationship("User")
    beats: Mapped[list[Beat]] = relationship(secondary=case_beats, order_by=Beat.code)
    participants: Mapped[list[CaseParticipant]] = relationship(
        back_populates="case", cascade="all, delete-orphan")
    ideas: Mapped[list[CaseIdea]] = relationship(back_populates="case", cascade="all, delete-orphan")
    actions: Mapped[list[CaseAction]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseAction.due_on")
    measures: Mapped[list[CaseMeasure]] = relationship(
        back_populates="case", cascade="all, delete-orphan")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.at")
    contacts = relationship("Contact", secondary=case_contacts)


class CaseParticipant(Timestamped, db.Model):
    __tablename__ = "case_participants"
    __table_args__ = (
        enum_check("kind", PARTICIPANT_KINDS),
        enum_check("role", PARTICIPANT_ROLES),
        sa.CheckConstraint(
            "(kind = 'group' AND group_id IS NOT NULL) OR "
            "(kind = 'stakeholder' AND stakeholder_id IS NOT NULL) OR "
            "(kind = 'officer' AND user_id IS NOT NULL) OR "
            "(kind = 'agency' AND agency <> '')", name="subject_matches_kind"),
        sa.Index("ix_case_participants_group_id", "group_id"),
        sa.Index("ix_case_participants_stakeholder_id", "stakeholder_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    role: Mapped[str] = mapped_column(sa.String(30))
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"))
    stakeholder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    agency: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")

    case: Mapped[ProblemCase] = relationship(back_populates="participants")
    group = relationship("CommunityGroup")
    stakeholder = relationship("Stakeholder")
    user = relationship("User")


class CaseIdea(Versioned, db.Model):
    """A solution proposed by the community, credited to who proposed it."""

    __tablename__ = "case_ideas"
    __table_args__ = (
        enum_check("status", IDEA_STATUSES),
        sa.CheckConstraint("status <> 'declined' OR decline_reason <> ''", name="decline_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    proposed_by_stakeholder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="SET NULL"))
    proposed_by_group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(20), default="proposed", server_default="proposed")
    decline_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    proposer_told_on: Mapped[date | None]

    case: Mapped[ProblemCase] = relationship(back_populates="ideas")
    proposed_by_stakeholder = relationship("Stakeholder")
    proposed_by_group = relationship("CommunityGroup")


class CaseAction(Versioned, db.Model):
    __tablename__ = "case_actions"
    __table_args__ = (
        enum_check("owner_kind", OWNER_KINDS),
        enum_check("status", ACTION_STATUSES),
        sa.CheckConstraint(
            "(owner_kind = 'officer' AND owner_user_id IS NOT NULL) OR "
            "(owner_kind = 'stakeholder' AND owner_stakeholder_id IS NOT NULL) OR "
            "(owner_kind = 'group' AND owner_group_id IS NOT NULL) OR "
            "(owner_kind = 'agency' AND owner_agency <> '')", name="owner_matches_kind"),
        sa.Index("ix_case_actions_owner_user_id_due_on", "owner_user_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.Text)
    owner_kind: Mapped[str] = mapped_column(sa.String(20))
    owner_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    owner_stakeholder_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stakeholders.id", ondelete="SET NULL"))
    owner_group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="SET NULL"))
    owner_agency: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    # The officer who answers for a community-owned action (gets the overdue reminder).
    liaison_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="open", server_default="open")
    outcome: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    case: Mapped[ProblemCase] = relationship(back_populates="actions")
    owner_user = relationship("User", foreign_keys=[owner_user_id])
    liaison_user = relationship("User", foreign_keys=[liaison_user_id])
    owner_stakeholder = relationship("Stakeholder")
    owner_group = relationship("CommunityGroup")


class CaseMeasure(Versioned, db.Model):
    __tablename__ = "case_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    baseline_value: Mapped[float | None]
    baseline_on: Mapped[date | None]

    case: Mapped[ProblemCase] = relationship(back_populates="measures")
    values: Mapped[list[CaseMeasureValue]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", order_by="CaseMeasureValue.measured_on")


class CaseMeasureValue(Timestamped, db.Model):
    __tablename__ = "case_measure_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        sa.ForeignKey("case_measures.id", ondelete="CASCADE"), index=True)
    measured_on: Mapped[date]
    value: Mapped[float]
    note: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    measure: Mapped[CaseMeasure] = relationship(back_populates="values")


class CaseEvent(db.Model):
    """The case timeline: who changed what, when. Written by the case services only."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("problem_cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(60))
    summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    case: Mapped[ProblemCase] = relationship(back_populates="events")
    actor = relationship("User")
