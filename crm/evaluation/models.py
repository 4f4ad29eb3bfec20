"""Training roster, trials (design, allocation, crossovers) and community perception surveys."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Timestamped, Versioned, enum_check
from crm.extensions import db

TRIAL_UNITS = ("officer", "beat")
TRIAL_STRATA = ("district", "none")
ARMS = ("treatment", "control")
CROSSOVER_KINDS = ("trained_in_control", "untrained_in_treatment", "moved_beat", "other")
SURVEY_SOURCES = ("paper", "link")


class TrainingCompletion(Timestamped, db.Model):
    """One officer completed one module of the Proactive Alliance training."""

    __tablename__ = "training_completions"
    __table_args__ = (sa.UniqueConstraint("officer_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(sa.String(40))
    completed_on: Mapped[date]
    trainer: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    officer = relationship("User", foreign_keys=[officer_id])


class Trial(Versioned, db.Model):
    """A randomized evaluation: its design, frozen by `design_hash` once allocated."""

    __tablename__ = "trials"
    __table_args__ = (enum_check("unit", TRIAL_UNITS), enum_check("strata", TRIAL_STRATA))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    unit: Mapped[str] = mapped_column(sa.String(20))
    strata: Mapped[str] = mapped_column(sa.String(20), default="none", server_default="none")
    eligible: Mapped[list] = mapped_column(sa.JSON, default=list)  # beat codes or usernames
    baseline_start: Mapped[date]
    baseline_end: Mapped[date]
    follow_up_start: Mapped[date]
    follow_up_end: Mapped[date]
    outcomes: Mapped[list] = mapped_column(sa.JSON, default=list)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    arms_visible_to_supervisors: Mapped[bool] = mapped_column(default=False,
                                                              server_default=sa.false())
    design_hash: Mapped[str | None] = mapped_column(sa.String(64))
    allocated_at: Mapped[datetime | None]
    allocated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    units: Mapped[list[TrialUnit]] = relationship(back_populates="trial", cascade="all, delete-orphan",
                                                  order_by="TrialUnit.unit_key")
    crossovers: Mapped[list[TrialCrossover]] = relationship(
        back_populates="trial", cascade="all, delete-orphan", order_by="TrialCrossover.id")


class TrialUnit(db.Model):
    """One allocated unit (beat code or username) with its arm and stratum."""

    __tablename__ = "trial_units"
    __table_args__ = (sa.UniqueConstraint("trial_id", "unit_key"), enum_check("arm", ARMS))

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(sa.ForeignKey("trials.id", ondelete="CASCADE"))
    unit_key: Mapped[str] = mapped_column(sa.String(80))
    arm: Mapped[str] = mapped_column(sa.String(20))
    stratum: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")

    trial: Mapped[Trial] = relationship(back_populates="units")


class TrialCrossover(Timestamped, db.Model):
    """A deviation from the allocation, recorded rather than hidden."""

    __tablename__ = "trial_crossovers"
    __table_args__ = (enum_check("kind", CROSSOVER_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(sa.ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    unit_key: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(30))
    occurred_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    trial: Mapped[Trial] = relationship(back_populates="crossovers")


class SurveyCampaign(Timestamped, db.Model):
    """One wave of the perception survey for one group or beat, with its own public link."""

    __tablename__ = "survey_campaigns"
    __table_args__ = (
        sa.CheckConstraint("(group_id IS NULL) <> (beat_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"), index=True)
    beat_id: Mapped[int | None] = mapped_column(sa.ForeignKey("beats.id"), index=True)
    items: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"key", "text"}]
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    public_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    group = relationship("CommunityGroup")
    beat = relationship("Beat")


class SurveyResponse(db.Model):
    """One anonymous answer sheet: Likert scores only, no name, no address, no time of day."""

    __tablename__ = "survey_responses"
    __table_args__ = (enum_check("source", SURVEY_SOURCES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {item key: 1..5}
    source: Mapped[str] = mapped_column(sa.String(10))
    received_on: Mapped[date]
