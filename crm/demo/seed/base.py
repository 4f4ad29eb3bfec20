"""What every seeding step shares: the sizes, the demo logins, and `Demo`, the state of one
run (its random generator, clock, counts and the arrays earlier steps drew for later ones)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from crm.db import utcnow
from crm.demo.seed.arrays import BATCH
from crm.extensions import db

DEMO_PASSWORD = "alliance-demo-2026"  # noqa: S105 - printed on purpose: demo logins only
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Size:
    groups: int
    stakeholders: int
    memberships: int
    contacts: int
    officers: int | None  # None: one per beat
    unit: int
    supervisors: int | None  # None: one per district
    cases: int
    wellbeing: int
    districts: int | None  # None: the whole city; else the demo sits in this many districts


SIZES = {
    "small": Size(groups=40, stakeholders=300, memberships=800, contacts=2_000, officers=10,
                  unit=2, supervisors=2, cases=10, wellbeing=6, districts=2),
    "large": Size(groups=5_000, stakeholders=100_000, memberships=300_000, contacts=1_000_000,
                  officers=None, unit=12, supervisors=None, cases=250, wellbeing=300,
                  districts=None),
    # One big force: the cost-growth point of the benchmark (BENCH_SIZE=xlarge, PostgreSQL).
    "xlarge": Size(groups=20_000, stakeholders=1_000_000, memberships=3_000_000,
                   contacts=5_000_000, officers=None, unit=24, supervisors=None, cases=500,
                   wellbeing=600, districts=None),
}


@dataclass
class DemoLogin:
    username: str
    role: str
    where: str  # beats or district
    password: str = DEMO_PASSWORD
    existing: bool = False  # the username was taken before the seed: its password is unchanged


class Demo:
    """One seeding run. Steps run in a fixed order (`crm.demo.seed.run`) and draw from the one
    generator in that order, which is what makes a seed reproducible. Each step leaves the
    arrays later steps need on this object (beat and group indexes, not database ids, until
    the rows are written): geography -> `beat_ids`, `near`; users -> `officer_ids`,
    `off_by_beat`; groups -> `kind`, `stance`, `group_ids`, the beat/group CSRs; memberships
    -> `m_s`, `m_g`, `members_csr`; contacts -> `c`, `contact_ids`, `cg_*`, `cs_*`;
    relations -> `competing`.
    """

    def __init__(self, size: Size, city: str, seed: int, progress: Progress):
        self.size = size
        self.city = city
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.logins: list[DemoLogin] = []
        self.now = utcnow().replace(microsecond=0)
        self.today = self.now.date()
        self.pg = db.engine.dialect.name == "postgresql"

    def next_id(self, table: sa.Table) -> int:
        return (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1

    def insert(self, table: sa.Table, rows: list[dict] | Iterable[list[dict]], stage: str,
               total: int | None = None) -> int:
        """executemany `rows` (a list, or an iterable of batches) into `table`."""
        batches = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)] \
            if isinstance(rows, list) else rows
        done = 0
        for batch in batches:
            if not batch:
                continue
            db.session.execute(sa.insert(table), batch)
            done += len(batch)
            self.progress(stage, done, total if total is not None else done)
        self.counts[table.name] = self.counts.get(table.name, 0) + done
        return done

    def days_ago(self, days: np.ndarray) -> np.ndarray:
        return np.datetime64(self.today, "D") - days.astype("timedelta64[D]")
