"""The department's time zone.

Every timestamp column stores naive UTC (`crm.db.utcnow`). Officers enter and read local
times: the configured `TIME_ZONE` (an IANA name such as America/Chicago, from `CRM_TIME_ZONE`
or `TIME_ZONE`), checked with zoneinfo when the app starts. This module is the one place
that converts between the two:

- shown: the `|local` Jinja filter (and `|local_iso` for `<time datetime>`);
- entered: `from_local` for a typed local time, `parse_to_utc` for ISO text (an offset is
  honoured, no offset means local);
- "today", "overdue" and windows: `local_today()`, `local_date()` for the local day of a
  stored time, `local_day_bounds()` / `day_start_utc()` for the UTC instants at which a local
  day begins and ends (a DST day has 23 or 25 hours), `window_utc()` for the analytics'
  windows of whole local days, `local_wall()` for the times handed to `analytics/`, and
  `sql_local_date()` for the local day in SQL (the engagement facts' day rows).

Local times that a DST change makes odd follow one rule:

- a time skipped when the clocks go forward (02:30 on the spring-forward day in Chicago)
  did not happen: it is refused with a message that names the zone and the time meant;
- a time that happens twice when the clocks go back (01:30 on the fall-back day) is taken
  as the first one, still on daylight time (fold=0, Python's default). Send an offset
  (`2026-11-01T01:30-06:00`) through the API or a CSV file to mean the second one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

DEFAULT_ZONE = "UTC"
# The demo cities (crm/demo) and the zone their departments keep.
DEMO_CITY_ZONES = {"chicago": "America/Chicago", "charlottesville": "America/New_York"}
DISPLAY_FORMAT = "%Y-%m-%d %H:%M"
FORMATS = {"datetime": DISPLAY_FORMAT, "date": "%Y-%m-%d", "time": "%H:%M",
           "seconds": "%Y-%m-%d %H:%M:%S"}


class LocalTimeError(ValueError):
    """A local time the clocks skipped (spring forward); the message is for the user."""


def check_zone(name: str | None) -> ZoneInfo:
    """The zone named `name`, or a RuntimeError saying what to set instead."""
    try:
        if not name or not name.strip():
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RuntimeError(
            f"TIME_ZONE (CRM_TIME_ZONE) must be an IANA time zone such as America/Chicago, "
            f"not {name!r}") from None


def init_app(app) -> None:
    """Check the configured zone at start-up and install the template filters."""
    app.config["TIME_ZONE"] = check_zone(app.config.get("TIME_ZONE") or DEFAULT_ZONE).key
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["local_iso"] = iso_local
    app.jinja_env.globals["zone_abbreviation"] = abbreviation
    app.jinja_env.globals["time_zone_name"] = zone_name


def zone_name() -> str:
    if has_app_context():
        return current_app.config.get("TIME_ZONE") or DEFAULT_ZONE
    return DEFAULT_ZONE


def zone() -> ZoneInfo:
    return ZoneInfo(zone_name())  # ZoneInfo caches its instances


# ---- now and today ----------------------------------------------------------------------------


def local_now() -> datetime:
    """Now, as an aware local datetime."""
    return datetime.now(UTC).astimezone(zone())


def local_today() -> date:
    """Today's date where the department is (not the server's, not UTC's)."""
    return local_now().date()


# ---- stored UTC <-> local ---------------------------------------------------------------------


def to_local(value: datetime) -> datetime:
    """A stored time (naive UTC, or aware) as an aware local datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone())


def local_date(value: datetime | date) -> date:
    """The local calendar day of a stored time (a date is returned as it is)."""
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


def from_local(value: datetime, tz: ZoneInfo | None = None) -> datetime:
    """A time as typed (naive local, or aware) to naive UTC for storage.

    Raises LocalTimeError for a local time the clocks skipped; a repeated one is the first.
    """
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    tz = tz or zone()
    utc = value.replace(tzinfo=tz).astimezone(UTC)  # fold=0 unless the caller set it
    if utc.astimezone(tz).replace(tzinfo=None) != value:  # naive comparison ignores fold
        meant = utc.astimezone(tz)
        raise LocalTimeError(
            f"{value:%H:%M} on {value:%Y-%m-%d} did not happen in {tz.key}: the clocks went "
            f"forward that night; did you mean {meant:%H:%M} {meant.tzname()}?")
    return utc.replace(tzinfo=None)


def is_ambiguous(value: datetime, tz: ZoneInfo | None = None) -> bool:
    """True when a naive local time happens twice (the hour repeated when clocks go back)."""
    tz = tz or zone()
    a, b = value.replace(tzinfo=tz, fold=0), value.replace(tzinfo=tz, fold=1)
    return a.utcoffset() != b.utcoffset() and a.astimezone(UTC).astimezone(tz).replace(
        tzinfo=None) == value


def parse_to_utc(text: str) -> datetime:
    """ISO 8601 text to naive UTC: an offset is honoured, none means local time.

    Raises ValueError (LocalTimeError for a skipped local time) with a readable message.
    """
    return from_local(datetime.fromisoformat(text.strip()))


def day_start_utc(day: date) -> datetime:
    """The naive UTC instant at which the local `day` begins (local midnight)."""
    return from_local(datetime.combine(day, time.min))


def days_utc(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC covering the local days `first` to `last` inclusive."""
    return day_start_utc(first), day_start_utc(last + timedelta(days=1))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC of the local `day`: 23 hours on the spring-forward day, 25 on
    the fall-back day."""
    return days_utc(day, day)


_TICK = timedelta(microseconds=1)  # the resolution of a stored time


def day_end_utc(day: date) -> datetime:
    """The last stored instant (naive UTC) of the local `day`: `occurred_at <= day_end_utc(d)`
    is "on or before d" by the department's calendar."""
    return day_start_utc(day + timedelta(days=1)) - _TICK


def window_utc(as_of: date, days: int) -> tuple[datetime, datetime]:
    """(after, through) in naive UTC for the `days` local days ending with `as_of`: a time is
    in the window when `after < t <= through` (the analytics' window rule, on local days)."""
    return day_start_utc(as_of - timedelta(days=days - 1)) - _TICK, day_end_utc(as_of)


def local_wall(value: datetime | None) -> datetime | None:
    """A stored time as naive local wall-clock time, for `analytics/`, whose windows count
    calendar days with `.date()`: handed local times, they count the department's days."""
    return None if value is None else to_local(value).replace(tzinfo=None)


# ---- the local day in SQL ---------------------------------------------------------------------


def sql_local_date(column, dialect: str):
    """SQL for the local calendar day of a naive UTC timestamp column (GROUP BY day).

    PostgreSQL converts with its own zone data; SQLite calls `crm_local_date`, which
    `register_sqlite_functions` installs on every connection (zoneinfo, the same rules as
    `local_date`). At UTC both stay the plain date of the column."""
    import sqlalchemy as sa

    name = zone_name()
    if dialect == "postgresql":
        if name == "UTC":
            return sa.cast(column, sa.Date)
        return sa.cast(sa.func.timezone(name, sa.func.timezone("UTC", column)), sa.Date)
    if name == "UTC":
        return sa.func.date(column)
    return sa.func.crm_local_date(column, name)


@lru_cache(maxsize=131072)
def _local_date_of_hour(hour: str, name: str) -> str | None:
    """The local date of every minute of a UTC hour ('YYYY-MM-DD HH'), or None when a local
    midnight falls inside it (a zone whose offset is not whole hours)."""
    tz, start = ZoneInfo(name), datetime.fromisoformat(hour + ":00").replace(tzinfo=UTC)
    first, last = start.astimezone(tz).date(), (start + timedelta(minutes=59)).astimezone(tz).date()
    return first.isoformat() if first == last else None


@lru_cache(maxsize=65536)
def _local_date_of_minute(minute: str, name: str) -> str:
    """The local date of a UTC minute ('YYYY-MM-DD HH:MM'); zones' offsets are whole minutes."""
    at = datetime.fromisoformat(minute).replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(name)).date().isoformat()


def _sqlite_local_date(value, name):
    if value is None:
        return None
    text = str(value)
    if len(text) < 16:  # a bare date
        text = text[:10] + " 00:00"
    # One cached answer per hour (a rebuild reads millions of times, spread over a few years).
    day = _local_date_of_hour(text[:10] + " " + text[11:13], name)
    return day if day is not None else _local_date_of_minute(text[:10] + " " + text[11:16], name)


def register_sqlite_functions(dbapi_conn) -> None:
    """Install `crm_local_date(ts, zone)` on a SQLite connection (see `sql_local_date`)."""
    dbapi_conn.create_function("crm_local_date", 2, _sqlite_local_date, deterministic=True)


# ---- output -----------------------------------------------------------------------------------


def iso_local(value: datetime | None, timespec: str = "seconds") -> str | None:
    """ISO 8601 local time with its offset (`2026-11-01T01:30:00-05:00`); "Z" at UTC.
    `timespec="auto"` keeps microseconds (exports that must import back to the same time)."""
    if value is None:
        return None
    local = to_local(value)
    text = local.isoformat(timespec=timespec)
    return text[:-6] + "Z" if local.utcoffset() == timedelta(0) else text


def format_local(value: datetime | date | None, fmt: str = "datetime") -> str:
    """Jinja `|local`: a stored time in local time ("datetime", "date", "time", "seconds",
    or a strftime pattern); "" for None. A bare date is shown as it is."""
    if value is None:
        return ""
    pattern = FORMATS.get(fmt, fmt)
    if not isinstance(value, datetime):
        return value.strftime(pattern)
    return to_local(value).strftime(pattern)


def abbreviation(at: datetime | None = None) -> str:
    """The zone's abbreviation at `at` (stored UTC; default now): CST or CDT, EST, UTC."""
    return (to_local(at) if at is not None else local_now()).tzname() or zone_name()


def keep_demo_zone(city: str, instance_dir) -> str:
    """Keep the demo city's zone in instance/time_zone (read by config.py when neither
    CRM_TIME_ZONE nor TIME_ZONE is set), unless a zone is kept already; says what it did."""
    from pathlib import Path

    wanted = DEMO_CITY_ZONES.get(city, DEFAULT_ZONE)
    path = Path(instance_dir) / "time_zone"
    kept = path.read_text().strip() if path.is_file() else ""
    if not kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted + "\n")
        kept = wanted
    note = "" if kept == wanted else f" (not {wanted}: delete {path} to change it)"
    return f"Time zone kept in {path}: {kept}{note}; CRM_TIME_ZONE overrides it."


def typed_to_utc(value: datetime | None, field: str = "occurred_at") -> datetime | None:
    """A form's local time to naive UTC; a skipped time is a ValidationError naming `field`."""
    from crm.errors import ValidationError

    if value is None:
        return None
    try:
        return from_local(value)
    except LocalTimeError as e:
        raise ValidationError({field: str(e)}) from None
