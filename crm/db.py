"""Declarative base, naming convention and the column mixins every table shares."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.timezones import local_today

# Stable constraint names so Alembic autogenerate and downgrades agree on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Naive UTC: every timestamp column stores UTC without a zone, on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )


class Versioned(Timestamped):
    """Optimistic locking: SQLAlchemy adds `WHERE version_id = :old` to every UPDATE.

    Edit forms and API updates carry the version they started from; a mismatch is a
    concurrent edit and is refused (see `crm.errors.ConflictError`).
    """

    version_id: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")

    @sa.orm.declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.version_id}


class Dated:
    """Rows that hold from `starts_on` to `ends_on` (both inclusive; None means open-ended).

    The one definition of "current on a date" for memberships, relations and beat
    assignments: `Model.current_on(day)` in SQL, `row.is_current_on(day)` in Python.
    """

    @classmethod
    def current_on(cls, day: date | None = None) -> sa.ColumnElement[bool]:
        day = day or local_today()
        return sa.and_(sa.or_(cls.starts_on.is_(None), cls.starts_on <= day),
                       sa.or_(cls.ends_on.is_(None), cls.ends_on >= day))

    def is_current_on(self, day: date | None = None) -> bool:
        day = day or local_today()
        return ((self.starts_on is None or self.starts_on <= day)
                and (self.ends_on is None or self.ends_on >= day))


def enum_check(column: str, values: tuple[str, ...], name: str | None = None) -> sa.CheckConstraint:
    """A CHECK constraint that keeps an enumerated text column inside its vocabulary."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_valid")


def configure_sqlite(engine: sa.Engine) -> None:
    """WAL, enforced foreign keys, a busy timeout and `crm_local_date` on every SQLite connection."""
    if engine.dialect.name != "sqlite":
        return
    from crm.timezones import register_sqlite_functions

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        # Zero deleted and overwritten text inside pages (an old phone number after an edit),
        # without extra I/O; erasures switch to full secure_delete (crm.privacy.services).
        cur.execute("PRAGMA secure_delete=FAST")
        register_sqlite_functions(dbapi_conn)  # crm_local_date: the facts' local days
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def fetch_raw(session, stmt: sa.Select) -> list[tuple]:
    """Rows of a large read straight from the DBAPI cursor, skipping SQLAlchemy's per-row
    processing (5x faster for the 300k-row membership table; SQLite gives times as ISO text).
    Only for statements whose parameters are plain numbers and dates, which render safely as
    literals."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall()
    finally:
        cur.close()


def listen_on_sessions(*hooks: tuple[str, object]) -> None:
    """Listen on every ORM session for each (event name, function); idempotent, since the
    tests build many apps in one process."""
    from sqlalchemy.orm import Session

    for name, fn in hooks:
        if not sa.event.contains(Session, name, fn):
            sa.event.listen(Session, name, fn)
