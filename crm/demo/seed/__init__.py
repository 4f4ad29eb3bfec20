"""The demo seeder, one module per kind of record; `run(demo)` calls the steps in order.

The order is part of the seed: every step draws from the run's one generator, so moving a
step changes everything drawn after it. Groups, memberships and contacts are drawn first
(each depends on the one before) and written later, once all of a row is known (a group's
stage comes from its contacts).
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.demo.seed import (
    bulk,
    cases,
    contacts,
    field_ready,
    geography,
    groups,
    people,
    relations,
    users,
    wellbeing,
)
from crm.demo.seed.base import DEMO_PASSWORD, SIZES, Demo, DemoLogin, Progress, Size
from crm.extensions import db

__all__ = ["DEMO_PASSWORD", "SIZES", "Demo", "DemoLogin", "Progress", "Size", "run"]

# From this many contacts on, secondary indexes of the big tables are rebuilt after loading.
BULK_INDEX_THRESHOLD = 50_000


def run(demo: Demo) -> None:
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        # A big page cache for this connection while the indexes of the link tables
        # grow: random b-tree inserts otherwise thrash the 2 MB default.
        db.session.execute(sa.text("PRAGMA cache_size=-262144"))
    try:
        _steps(demo)
    finally:
        if sqlite:
            db.session.execute(sa.text("PRAGMA cache_size=-2000"))


def _steps(demo: Demo) -> None:
    demo.progress("geography", 0, 1)
    geography.place_beats(demo)
    demo.progress("geography", 1, 1)
    users.insert_users(demo)
    groups.plan_groups(demo)
    people.plan_memberships(demo)
    contacts.plan_contacts(demo)
    # Bulk load: secondary indexes of the big tables are dropped and rebuilt afterwards
    # (a sorted build beats a million random b-tree inserts). The DDL runs inside the
    # seed's transaction, so a failed seed rolls them back too.
    deferred = bulk.drop_indexes(demo) if demo.size.contacts >= BULK_INDEX_THRESHOLD else []
    groups.insert_groups(demo)
    people.insert_stakeholders(demo, demo.size.stakeholders)
    people.insert_memberships(demo)
    relations.insert_relations(demo)
    contacts.insert_contacts(demo)
    bulk.create_indexes(demo, deferred)
    cases.insert_cases(demo)
    wellbeing.insert_checkins(demo)
    # Last of the drawn steps, drawing nothing: each login's day-one examples.
    field_ready.make_field_ready(demo)
    if demo.pg:
        bulk.fix_sequences(demo)
