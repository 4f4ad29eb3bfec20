"""Change counters that tell the analytics when their inputs moved, and the stored results.

`DataVersion` rows are bumped after every committed change of an input family;
`AnalyticsResult` rows hold what the background jobs computed, keyed by analytic, parameters
and the counters they were computed from, so every worker and app server reads the same
documents (see `crm.network.results`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class DataVersion(db.Model):
    """One row per input family ('network': groups, members, relations; 'contacts': contacts,
    cases; the finer 'memberships', 'relations', 'groups' and 'links' that the background
    analytics are keyed by). Bumped right after the commit of the change (see
    `crm.network.services.bump_after_commit`), so every worker sees it."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(default=0, server_default="0")


class AnalyticsResult(db.Model):
    """One computation of one analytic: requested once per input version (the unique key is
    the single-flight guard), claimed by one worker, then holding the document."""

    __tablename__ = "analytics_results"
    __table_args__ = (sa.UniqueConstraint("analytic", "params_hash", "versions_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    analytic: Mapped[str] = mapped_column(sa.String(40))
    params_hash: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict] = mapped_column(sa.JSON)
    versions_key: Mapped[str] = mapped_column(sa.String(200))
    versions: Mapped[dict] = mapped_column(sa.JSON)
    # pending -> running -> done | failed (retried); the claim is an UPDATE on this column.
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    requested_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    computed_at: Mapped[datetime | None]
    seconds: Mapped[float | None] = mapped_column(sa.Float)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    document: Mapped[dict | None] = mapped_column(sa.JSON)


sa.Index("ix_analytics_results_latest", AnalyticsResult.analytic, AnalyticsResult.params_hash,
         AnalyticsResult.status, AnalyticsResult.computed_at)
