"""A CSV import that runs in the background: who started it, how far it is, how it ended."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Timestamped, enum_check
from crm.extensions import db

JOB_STATUSES = ("queued", "checking", "writing", "done", "failed")


class ImportJob(Timestamped, db.Model):
    """Progress and outcome of one uploaded file; the file itself is deleted when it ends.

    `errors` holds [line, column, reason] rows (at most `read.MAX_ERRORS`), `summary` the
    report's sentence; `committed_rows` > 0 on a failure means those rows were saved.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (enum_check("status", JOB_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    dry_run: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[str] = mapped_column(sa.String(20), default="queued", server_default="queued")
    path: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    rows_total: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_checked: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_written: Mapped[int] = mapped_column(default=0, server_default="0")
    committed_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)
    finished_at: Mapped[datetime | None]

    @property
    def running(self) -> bool:
        return self.status in ("queued", "checking", "writing")

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 0
        done = self.rows_written if self.status == "writing" else self.rows_checked
        return min(100, round(100 * done / self.rows_total))
