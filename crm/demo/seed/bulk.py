"""Bulk-load plumbing: secondary indexes dropped and rebuilt around the big inserts, and
PostgreSQL sequences moved past the ids given explicitly."""

from __future__ import annotations

import sqlalchemy as sa

from crm.demo.seed.base import Demo
from crm.extensions import db
from crm.models import (
    BeatAssignment,
    CaseAction,
    CaseEvent,
    CaseIdea,
    CaseMeasure,
    CaseMeasureValue,
    CaseParticipant,
    CommunityGroup,
    Contact,
    GroupRelation,
    Membership,
    ProblemCase,
    RelationshipStageChange,
    Stakeholder,
    User,
    WellbeingCheckin,
)

BULK_TABLES = ("stakeholders", "memberships", "contacts", "contact_officers", "contact_groups",
               "contact_stakeholders")


def drop_indexes(demo: Demo) -> list[tuple[str, str]]:
    """Drop the non-unique secondary indexes of the big tables; return (name, DDL) pairs."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        q = sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND sql IS NOT NULL AND tbl_name IN :tables")
    elif dialect == "postgresql":
        q = sa.text("SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename IN :tables")
    else:
        return []
    q = q.bindparams(sa.bindparam("tables", expanding=True))
    found = [(name, ddl) for name, ddl in db.session.execute(q, {"tables": list(BULK_TABLES)})
             if not ddl.upper().startswith("CREATE UNIQUE")]
    for i, (name, _) in enumerate(found):
        db.session.execute(sa.text(f'DROP INDEX "{name}"'))
        demo.progress("dropping indexes", i + 1, len(found))
    return found


def create_indexes(demo: Demo, indexes: list[tuple[str, str]]) -> None:
    for i, (_, ddl) in enumerate(indexes):
        db.session.execute(sa.text(ddl))
        demo.progress("rebuilding indexes", i + 1, len(indexes))


def fix_sequences(demo: Demo) -> None:
    """Ids were given explicitly: move each serial sequence past them."""
    for table in (User, BeatAssignment, CommunityGroup, Stakeholder, Membership,
                  GroupRelation, Contact, RelationshipStageChange, ProblemCase,
                  CaseParticipant, CaseIdea, CaseAction, CaseMeasure, CaseMeasureValue,
                  CaseEvent, WellbeingCheckin):
        # Table names come from our own models, never from input.
        name = table.__tablename__
        sql = (f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
               f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)")  # nosec B608
        db.session.execute(sa.text(sql))
