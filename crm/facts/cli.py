"""`flask crm facts rebuild|check`: recompute the engagement facts from the records."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from crm.extensions import db

facts_cli = AppGroup("facts", help="Engagement facts behind hard-to-engage and coverage.")


@facts_cli.command("rebuild")
def rebuild_cmd():
    """Recompute every fact table from the records (after a restore, a bulk load or a bug)."""
    from crm.facts.services import rebuild
    from crm.network.services import bump_versions

    started = time.perf_counter()

    def progress(stage, done, total):
        if stage != "done":
            click.echo(f"[{done + 1}/{total}] {stage} ...", nl=True)

    counts = rebuild(progress=progress)
    # The pages keep coverage and hard-to-engage by the contacts counter: retire them.
    bump_versions("contacts")
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # The rebuild leaves as many dead rows as live ones; until they are vacuumed and the
        # planner has fresh statistics, coverage reads were several times slower.
        click.echo("vacuuming and analysing the fact tables ...")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in counts:
                conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
    for table, n in counts.items():
        click.echo(f"  {table:<26} {n:>10,} rows")
    click.echo(f"rebuilt in {time.perf_counter() - started:.1f}s")


@facts_cli.command("check")
def check_cmd():
    """Compare the fact tables with a rebuild; non-zero exit when they differ."""
    from crm.facts.services import differences

    diff = differences()
    if not diff:
        click.echo("facts agree with the records")
        return
    for table, (extra, missing) in diff.items():
        click.echo(f"{table}: {len(extra)} rows wrong or extra, {len(missing)} missing")
    raise SystemExit(1)
