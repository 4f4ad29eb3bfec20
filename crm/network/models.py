"""Change counters that tell the analytics cache when its inputs moved."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class DataVersion(db.Model):
    """One row per input family ('network': groups, members, relations; 'contacts': contacts,
    cases). Bumped in the same transaction as the change, so every worker sees it."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(default=0, server_default="0")
