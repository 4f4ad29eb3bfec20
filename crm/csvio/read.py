"""Reading CSV files: formats, streaming rows in chunks, and the report of one import.

Files are read line by line from a binary stream (a spooled upload, a file on disk), so a
200,000-row file is never held in memory; rows come out in chunks of `CHUNK_ROWS` for the
planners, which look references up once per chunk.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from crm.csvio.safe import restore
from crm.extensions import db

KINDS = ("beats", "groups", "stakeholders", "memberships", "relations", "contacts")
COLUMNS: dict[str, tuple[str, ...]] = {
    "beats": ("code", "name", "district"),
    "groups": ("name", "kind", "beats", "stance", "size_estimate", "description"),
    "stakeholders": ("external_id", "name", "phone", "email", "language", "consent"),
    "memberships": ("stakeholder", "group", "role"),
    "relations": ("group_a", "group_b", "type", "issue"),
    "contacts": ("occurred_at", "officer", "stakeholders", "groups", "initiated_by", "channel",
                 "note"),
}
# Columns a file may add. `group` in a stakeholders file: the group a new person joins (the
# page asks the same of everyone but administrators, so a new person stays in scope).
# `interpreter` (yes/no): the person needs an interpreter; a file without it changes nothing.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"stakeholders": ("group", "interpreter")}
# Optional columns an export writes, so a file exported and imported again loses nothing.
EXPORTED_OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"stakeholders": ("interpreter",)}
# Exports that carry personal data (names, phone numbers, who met whom).
PERSONAL_KINDS = ("stakeholders", "memberships", "contacts")
LIST_SEPARATOR = ";"
# Kept exactly as written (a contact's note is part of its natural key).
FREE_TEXT = frozenset({"description", "issue", "note"})
CHUNK_ROWS = 2000  # rows planned (and written) together
IN_CHUNK = 500  # values per IN (...) list: well under SQLite's bound-parameter limit
MAX_ERRORS = 1000  # a file this bad is not worth listing further


@dataclass
class RowError:
    line: int  # file line; the header is line 1
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    # Records created on the side, e.g. {"districts": 2} for a beats file.
    also_created: dict[str, int] = field(default_factory=dict)
    # Rows already committed when a later batch was refused (batched imports only).
    committed_rows: int = 0
    more_errors: bool = False  # errors past MAX_ERRORS were not listed

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        if self.errors and self.committed_rows:
            return (f"{self.kind}: the first {self.committed_rows} rows were imported and saved, "
                    "then the database refused the rest (see below). Import the same file "
                    "again to finish: rows already saved are left unchanged.")
        if self.errors:
            more = " (only the first ones are listed)" if self.more_errors else ""
            return (f"{self.kind}: {len(self.errors)} problem(s) found{more}; "
                    "nothing was imported.")
        if self.dry_run:
            text = (f"{self.kind} (dry run, nothing written): {self.created} would be created, "
                    f"{self.updated} would be updated, {self.unchanged} unchanged.")
        else:
            text = (f"{self.kind}: {self.created} created, {self.updated} updated, "
                    f"{self.unchanged} unchanged.")
        for what, n in self.also_created.items():
            if n:
                text += f" {n} {what} {'would be ' if self.dry_run else ''}created."
        return text


class Check:
    """Collects the errors of one import and the per-row checks that produce them."""

    def __init__(self, report: ImportReport, progress: Callable[[int], None] | None = None):
        self.report = report
        self.progress = progress

    def error(self, line: int, column: str, reason: str) -> None:
        if len(self.report.errors) >= MAX_ERRORS:
            self.report.more_errors = True
            return
        self.report.errors.append(RowError(line, column, reason))

    @property
    def count(self) -> int:
        return len(self.report.errors) + self.report.more_errors

    def rows(self, rows: list[tuple[int, dict]]) -> Iterable[tuple[int, dict]]:
        for line, row in rows:
            yield line, row
            if self.progress:
                self.progress(1)

    def errors_from(self, line: int, exc, columns: dict[str, str] | None = None) -> None:
        """A service cleaner's ValidationError as row errors, its field names as CSV columns."""
        for key, messages in exc.errors.items():
            for message in [messages] if isinstance(messages, str) else messages:
                self.error(line, (columns or {}).get(key, key), message)

    def text(self, line: int, row: dict, col: str, column_type=None, *, required=False) -> str | None:
        value = row[col]
        if not value:
            if required:
                self.error(line, col, "is required")
            return None
        length = getattr(getattr(column_type, "type", None), "length", None)
        if length and len(value) > length:
            self.error(line, col, f"is {len(value)} characters long; at most {length} allowed")
            return None
        return value

    def choice(self, line: int, row: dict, col: str, values: tuple[str, ...],
               default: str | None = None) -> str | None:
        value = row[col].lower()
        if not value:
            if default is None:
                self.error(line, col, f"is required (one of {', '.join(values)})")
            return default
        if value not in values:
            self.error(line, col, f"{row[col]!r} is not one of {', '.join(values)}")
            return None
        return value


# ---- the source ----------------------------------------------------------------------------

def as_binary(source) -> io.BufferedIOBase:
    """A seekable binary stream over text, bytes, a path or a (binary or text) file object."""
    if isinstance(source, str):
        return io.BytesIO(source.encode("utf-8"))
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(bytes(source))
    if isinstance(source, os.PathLike):
        return open(source, "rb")  # noqa: SIM115 - the caller's import closes it with the job
    if isinstance(source, io.TextIOBase):
        return io.BytesIO(source.read().encode("utf-8"))
    stream = getattr(source, "stream", source)  # werkzeug FileStorage
    if not stream.seekable():
        stream = io.BytesIO(stream.read())
    return stream


def _lines(stream, check: Check) -> Iterator[str]:
    """Decoded lines, one physical line at a time; stops at the first line that is not UTF-8."""
    stream.seek(0)
    for n, raw in enumerate(stream, 1):
        if n == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            check.error(n, "", "the file is not UTF-8 text; save it as “CSV UTF-8”")
            return


def _header(kind: str, reader, check: Check) -> list[str] | None:
    expected = COLUMNS[kind]
    optional = OPTIONAL_COLUMNS.get(kind, ())
    try:
        header = next(reader, None)
    except csv.Error as e:
        check.error(1, "", f"the header row cannot be read as CSV: {e}")
        return None
    if not header or not any(h.strip() for h in header):
        if not check.count:
            check.error(1, "", f"the file has no header row; expected: {','.join(expected)}")
        return None
    header = [h.strip().lower() for h in header]
    seen: set[str] = set()
    for h in header:
        if h in seen:
            check.error(1, h, "the column appears twice")
        elif h not in expected and h not in optional:
            check.error(1, h or "(blank)", f"unknown column; expected: {','.join(expected)}")
        seen.add(h)
    for col in expected:
        if col not in seen:
            check.error(1, col, "missing column")
    return None if check.count else header


def read_chunks(kind: str, stream, check: Check,
                size: int = CHUNK_ROWS) -> Iterator[list[tuple[int, dict]]]:
    """The data rows as chunks of (file line, {column: value}); nothing when the header is bad.

    Values are stripped of surrounding blanks, except free text, which round-trips as is;
    the quote that exports put before formula-like cells is removed (`safe.restore`).
    """
    reader = csv.reader(_lines(stream, check))
    header = _header(kind, reader, check)
    if header is None:
        return
    missing = [c for c in OPTIONAL_COLUMNS.get(kind, ()) if c not in header]
    chunk: list[tuple[int, dict]] = []
    last = reader.line_num
    try:
        for fields in reader:
            line, last = last + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank line
            if len(fields) != len(header):
                check.error(line, "", f"the row has {len(fields)} fields; the header has {len(header)}")
                continue
            row = {h: restore(f if h in FREE_TEXT else f.strip())
                   for h, f in zip(header, fields, strict=True)}
            row.update(dict.fromkeys(missing, ""))
            chunk.append((line, row))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except csv.Error as e:
        check.error(last + 1, "", f"the row cannot be read as CSV: {e}; rows after it were not checked")
    if chunk:
        yield chunk


# ---- helpers for the planners --------------------------------------------------------------

def split(value: str) -> list[str]:
    """A `;`-separated list, blanks dropped, duplicates removed, order kept."""
    return list(dict.fromkeys(v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()))


def load(stmt_for: Callable[[list], sa.Select], values: Iterable) -> list:
    """Run `stmt_for(chunk)` for chunks of `values` (one IN list each) and gather the rows."""
    values = list(values)
    out: list = []
    for i in range(0, len(values), IN_CHUNK):
        out.extend(db.session.scalars(stmt_for(values[i:i + IN_CHUNK])).all())
    return out
