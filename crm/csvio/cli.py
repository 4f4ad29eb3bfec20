"""`flask crm import KIND FILE` and `flask crm export KIND`."""

from __future__ import annotations

import io
import os
import sys

import click

from crm.extensions import db

# Files with more data lines than this get a progress bar (on stderr).
PROGRESS_THRESHOLD = 1000


def register(group):
    """Add the CSV import/export commands to the `flask crm` group."""
    from crm.csvio.services import KINDS

    @group.command("import")
    @click.argument("kind", type=click.Choice(KINDS))
    @click.argument("file", type=click.File("rb"))
    @click.option("--dry-run", is_flag=True,
                  help="Check the file and report what would change; write nothing.")
    def import_cmd(kind, file, dry_run):
        """Import a CSV FILE of KIND records (all rows or none; re-importing changes nothing).

        Every row is checked before anything is written; then rows are written and committed
        in chunks, so the app keeps serving while a long file imports.
        """
        from crm.csvio.services import import_csv

        if not file.seekable():  # standard input: read twice, so keep a copy
            file = io.BytesIO(file.read())
        lines = sum(1 for _ in file)
        file.seek(0)
        options = dict(dry_run=dry_run, commit=db.session.commit)
        if lines > PROGRESS_THRESHOLD:
            with click.progressbar(length=lines, label=f"Checking {kind}",
                                   file=sys.stderr) as bar:
                report = import_csv(None, kind, file, progress=bar.update, **options)
        else:
            report = import_csv(None, kind, file, **options)
        if report.errors and not report.committed_rows:
            db.session.rollback()
        else:
            db.session.commit()
        click.echo(report.summary())
        for error in report.errors:
            click.echo(f"line {error.line}, column {error.column or '-'}: {error.reason}")
        if report.errors:
            click.get_current_context().exit(1)

    @group.command("export")
    @click.argument("kind", type=click.Choice(KINDS))
    @click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
                  help="Write to this file (readable by you only) instead of standard output.")
    def export_cmd(kind, output):
        """Export every KIND record as CSV in the import format (audited)."""
        from crm.csvio.services import export_csv

        text = export_csv(None, kind)
        if output:
            # Exports may hold personal data: the file is created readable by its owner only.
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        else:
            click.echo(text, nl=False)
        db.session.commit()  # the audit event of the export
        if output:
            click.echo(f"{kind} written to {output}", err=True)
