"""A realistic synthetic community on the real beats of a city: `seed_demo(size, city, seed)`.

Everything is generated with numpy (one `Generator` per run, so a seed gives the same rows)
and written with SQLAlchemy Core executemany batches: ids are assigned here, so link rows
need no round trips, and no ORM object is built per row. The demo password is hashed once
and shared by every demo login. The service flushes only; the caller commits (one
transaction, also for `large`: Core inserts keep nothing in the session, and rows are built
in batches, so memory stays bounded). The steps, one module per kind of record, are in
`crm.demo.seed`.

Sizes: `small` (~40 groups, 300 stakeholders, 800 memberships, 2,000 contacts) for `make run`
and tests; `large` is the benchmark scale (5,000 groups, 100,000 stakeholders, 300,000
memberships, 1,000,000 contacts); `xlarge` is one big force for the cost-growth benchmark
(20,000 groups, 1,000,000 stakeholders, 3,000,000 memberships, 5,000,000 contacts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from crm.audit.services import record_event
from crm.demo import seed as _seed
from crm.demo.seed import DEMO_PASSWORD, SIZES, Demo, DemoLogin, Progress, Size
from crm.extensions import db
from crm.models import CommunityGroup, User
from crm.network.services import bump_versions

__all__ = ["DEMO_PASSWORD", "SIZES", "DemoDataExistsError", "DemoLogin", "SeedReport", "Size",
           "demo_logins", "has_groups", "seed_demo"]


class DemoDataExistsError(RuntimeError):
    """The database already holds community groups; the demo seeds empty databases only."""


@dataclass
class SeedReport:
    size: str
    city: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)


def has_groups() -> bool:
    return db.session.scalar(sa.select(CommunityGroup.id).limit(1)) is not None


def demo_logins() -> list[DemoLogin]:
    """The demo accounts present in the database (for `seed-demo --if-empty`)."""
    users = db.session.scalars(
        sa.select(User).where(sa.or_(
            User.username.in_(("admin", "analyst")),
            User.username.like("officer%"), User.username.like("supervisor%"),
            User.username.like("unit%")))).all()
    out = []
    for u in users:
        if u.role == "supervisor" and u.district is not None:
            where = f"district {u.district.code}"
        else:
            where = ", ".join(b.code for b in u.current_beats())
        out.append(DemoLogin(u.username, u.role, where))
    order = {r: i for i, r in enumerate(("admin", "analyst", "supervisor", "unit", "officer"))}

    def key(login: DemoLogin):
        digits = "".join(ch for ch in login.username if ch.isdigit())
        return (order.get(login.role, 9), int(digits or 0), login.username)

    return sorted(out, key=key)


def seed_demo(size: str = "small", city: str = "chicago", seed: int = 0,
              progress: Progress | None = None) -> SeedReport:
    """Seed the demo community; raises DemoDataExistsError when groups exist. Flushes, no commit."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    if has_groups():
        raise DemoDataExistsError("the database already has community groups; "
                                  "the demo seeds an empty database only")
    started = time.perf_counter()
    demo = Demo(SIZES[size], city, seed, progress or (lambda *_: None))
    report = SeedReport(size=size, city=city, seed=seed)
    _seed.run(demo)
    report.counts = dict(demo.counts)
    report.logins = demo.logins
    # Core inserts bypass the ORM's change tracking: tell the analytics cache explicitly.
    bump_versions("network", "contacts")
    # ... and the engagement facts: recomputed from the contacts just loaded.
    from crm.facts.services import rebuild as rebuild_facts
    rebuild_facts(progress=lambda stage, done, total: demo.progress("engagement facts", done, total))
    # Evaluation and continuity (issues 14, 15), each its own step: a trial in its follow-up
    # period with two survey waves, and one beat in hand-over.
    from crm.evaluation.demo import seed_evaluation_demo
    from crm.handovers.demo import seed_handover_demo
    report.counts.update(seed_evaluation_demo(today=demo.today, seed=seed))
    report.counts.update(seed_handover_demo(today=demo.today))
    if db.session.get_bind().dialect.name == "postgresql":
        # Planner statistics for the freshly loaded tables (autovacuum would come later).
        db.session.execute(sa.text("ANALYZE"))
    record_event(None, "demo.seed", object_type="demo",
                 detail={"size": size, "city": city, "seed": seed, "counts": report.counts})
    report.elapsed = time.perf_counter() - started
    return report
