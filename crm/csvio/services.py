"""CSV import and export: one file per kind of record, checked in full before anything is written.

The layout of the package:

- `read`    formats (`COLUMNS`), streaming rows in chunks, the report and its row errors;
- `plans/`  one planner per kind: checks rows with the service cleaners and the importer's
            scope (`crm.access`), counts, and writes with one audit event per record;
- `export`  the exports, in the import format;
- `safe`    spreadsheet-safe cells (formula neutralising) for every CSV the app writes;
- `jobs`    large uploads imported in the background, with progress.

An import reads the file twice. The first pass checks every row (every bad row is reported
with its file line, column and reason) and writes nothing; a file with any bad row imports
nothing. The second pass writes, chunk by chunk. With `commit` (the command line and the
background job pass `db.session.commit`) each chunk is its own short transaction, so a long
import never holds the database's write lock for long; without it the caller commits once
(a web request). Imports are idempotent on natural keys, so a run cut short is finished by
importing the same file again.

Services flush and never commit themselves: the `commit` callable belongs to the boundary.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from crm.audit.services import record_event
from crm.csvio.export import export_csv, export_rows
from crm.csvio.plans import (
    PLANNERS,
    contact_import_key,
    contact_natural_key,
    parse_when,
    stakeholder_ref,
)
from crm.csvio.read import (
    COLUMNS,
    KINDS,
    OPTIONAL_COLUMNS,
    PERSONAL_KINDS,
    Check,
    ImportReport,
    RowError,
    as_binary,
    read_chunks,
)
from crm.errors import ValidationError
from crm.extensions import db

__all__ = ["COLUMNS", "KINDS", "OPTIONAL_COLUMNS", "PERSONAL_KINDS", "ImportReport", "RowError",
           "contact_import_key", "contact_natural_key", "export_csv", "export_rows",
           "import_csv", "parse_when", "stakeholder_ref"]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(KINDS)}"})


def import_csv(actor, kind: str, source, *, dry_run: bool = False, ip: str = "",
               progress: Callable[[int], None] | None = None,
               commit: Callable[[], None] | None = None,
               on_written: Callable[[int], None] | None = None) -> ImportReport:
    """Check and import one CSV file of `kind` (text, bytes, a path or a binary file object).

    Bad rows raise nothing: they are listed in `report.errors` and nothing is written.
    With `dry_run` the report says what would be created and updated, and nothing is written.
    `progress(n)` is called as rows are checked; `on_written(rows)` after each written chunk.
    `commit`, when given, is called after each chunk (see the module docstring); a chunk the
    database refuses after earlier chunks were committed is reported with
    `report.committed_rows`, never as "nothing was imported".
    """
    _check_kind(kind)
    report = ImportReport(kind=kind, dry_run=dry_run)
    check = Check(report, progress)
    planner = PLANNERS[kind](actor, check, ip=ip)
    refusal = planner.refusal()
    if refusal:
        check.error(1, "", refusal)
        return _failed(report)
    stream = as_binary(source)
    for chunk in read_chunks(kind, stream, check):
        with db.session.no_autoflush:
            planner.plan(chunk)
        if commit:
            commit()  # ends the read transaction: nothing is held while a large file is checked
    if report.errors or report.more_errors:
        return _failed(report)
    if dry_run:
        return report
    _write(actor, kind, stream, report, ip=ip, commit=commit, on_written=on_written)
    return report


def _write(actor, kind, stream, report: ImportReport, *, ip, commit, on_written) -> None:
    """The second pass: plan each chunk again (against what is written by now) and write it."""
    writer = PLANNERS[kind](actor, Check(ImportReport(kind=kind)), ip=ip)
    written = 0
    for chunk in read_chunks(kind, stream, writer.check):
        with db.session.no_autoflush:
            writes = writer.plan(chunk)
        refused = writer.report.errors  # the data changed since the check (a concurrent edit)
        if not refused:
            try:
                writer.apply(writes)
                writer.write_audit()
            except (sa.exc.IntegrityError, sa.exc.DataError) as e:
                # Undo the uncommitted part: this chunk, or with a single transaction the
                # whole import. (No SAVEPOINT: on SQLite, releasing a first savepoint commits.)
                db.session.rollback()
                refused = [RowError(chunk[0][0], "", "the database refused the rows from this "
                                    f"line on ({type(getattr(e, 'orig', e)).__name__}); "
                                    "please try again")]
        if refused:
            report.errors = list(refused)
            report.committed_rows = written if commit else 0
            _failed(report, keep_committed=True)
            return
        written += len(chunk)
        if on_written:
            on_written(written)  # before the commit, so the count is saved with the rows
        if commit:
            commit()
    record_event(actor, "csv.import", object_type=kind, ip=ip,
                 detail={"kind": kind, "created": report.created, "updated": report.updated,
                         "unchanged": report.unchanged, **{f"{k}_created": n for k, n in
                                                           report.also_created.items() if n}})
    if commit:
        commit()


def _failed(report: ImportReport, *, keep_committed: bool = False) -> ImportReport:
    report.errors.sort(key=lambda e: e.line)
    report.created = report.updated = report.unchanged = 0
    report.also_created = {}
    if not keep_committed:
        report.committed_rows = 0
    return report

