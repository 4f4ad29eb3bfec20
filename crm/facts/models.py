"""Engagement facts: small summaries of the contact records, kept up to date as contacts are
written (see `crm.facts.listeners`), so hard-to-engage and coverage answer with indexed reads.

Two kinds of rows:

- "last" rows (per group; per officer and group; per officer and beat) hold the latest
  contact, so "who had a contact in the last N days" is a range read for any N;
- daily rows (per beat and day; per officer and day) hold contact counts split the way
  coverage needs them (proactive, by the group's current stance), so any window is an
  indexed SUM over at most N rows per beat or officer.

Counts mirror `crm.network.services.load_officer_counts`: one per (officer, group) pair of
a contact, so a contact with two officers and two groups counts four times for its beat.
Days are the department's calendar day of `occurred_at` (`crm.timezones`, DST included), the
day rule of the analytics windows; after changing TIME_ZONE run `flask crm facts rebuild`.
`beat_id` 0 stands for "no beat" (a key column cannot be NULL).
Every row here can be recomputed from the records: `flask crm facts rebuild`.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db

NO_BEAT = 0


class GroupLastContact(db.Model):
    """Per group: its latest contact of any kind, and its latest proactive and requested one."""

    __tablename__ = "fact_group_last"

    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"), primary_key=True)
    last_at: Mapped[datetime]
    last_proactive_at: Mapped[datetime | None]
    last_requested_at: Mapped[datetime | None]


class OfficerGroupLast(db.Model):
    """Per officer and group: the officer's latest contact with the group."""

    __tablename__ = "fact_officer_group_last"
    __table_args__ = (sa.Index("ix_fact_officer_group_last_last_at", "last_at", "user_id"),)

    user_id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("community_groups.id", ondelete="CASCADE"), primary_key=True)
    last_at: Mapped[datetime]


class OfficerBeatLast(db.Model):
    """Per officer and beat (0: none): the officer's latest group-contact logged in the beat."""

    __tablename__ = "fact_officer_beat_last"

    user_id: Mapped[int] = mapped_column(primary_key=True)
    beat_id: Mapped[int] = mapped_column(primary_key=True)
    last_at: Mapped[datetime]


BEAT_COUNT_COLUMNS = ("n", "n_proactive", "n_receptive", "n_wary_hostile")
OFFICER_COUNT_COLUMNS = (*BEAT_COUNT_COLUMNS, "n_proactive_receptive", "n_groups_last")


class _DayCounts:
    """Group-contacts of one day: all, proactive, with receptive and with wary or hostile groups."""

    n: Mapped[int] = mapped_column(default=0, server_default="0")
    n_proactive: Mapped[int] = mapped_column(default=0, server_default="0")
    n_receptive: Mapped[int] = mapped_column(default=0, server_default="0")
    n_wary_hostile: Mapped[int] = mapped_column(default=0, server_default="0")


class BeatDay(_DayCounts, db.Model):
    """Per beat (0: none) and day. The key leads with the day: windows read a range of days.
    The second index leads with the beat and carries the counts, so a district's window is
    read from the index alone (a dozen beats x N days, not every beat's days)."""

    __tablename__ = "fact_beat_days"
    __table_args__ = (sa.Index("ix_fact_beat_days_beat_day", "beat_id", "day", *BEAT_COUNT_COLUMNS),
                      {"sqlite_with_rowid": False})

    day: Mapped[date] = mapped_column(primary_key=True)
    beat_id: Mapped[int] = mapped_column(primary_key=True)


class OfficerDay(_DayCounts, db.Model):
    """Per officer and day, plus the proactive contacts with receptive groups (comfort zone)."""

    __tablename__ = "fact_officer_days"
    # Like the beats' second index: one officer's days with their counts.
    __table_args__ = (sa.Index("ix_fact_officer_days_user_day", "user_id", "day",
                               *OFFICER_COUNT_COLUMNS),
                      {"sqlite_with_rowid": False})

    day: Mapped[date] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    n_proactive_receptive: Mapped[int] = mapped_column(default=0, server_default="0")
    # Groups whose latest contact with this officer was on this day: summed over a window,
    # the groups the officer reached in it (a group counts once, on its latest day).
    n_groups_last: Mapped[int] = mapped_column(default=0, server_default="0")


FACT_MODELS = (GroupLastContact, OfficerGroupLast, OfficerBeatLast, BeatDay, OfficerDay)
