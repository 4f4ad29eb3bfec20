"""`flask crm seed-demo`: a synthetic community on the real beats of a city."""

from __future__ import annotations

import click
from flask import current_app

from crm.extensions import db

MAX_OFFICERS_LISTED = 20


class _ProgressPrinter:
    """Turns `progress(stage, done, total)` calls into one click progress bar per stage."""

    def __init__(self):
        self.stage = None
        self.bar = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            self.bar = click.progressbar(length=max(total, 1), label=f"{stage:<22}",
                                         show_eta=False, show_percent=True)
            self.bar.__enter__()
        self.bar.length = max(total, done, 1)
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _print_logins(logins) -> None:
    from crm.demo.services import DEMO_PASSWORD

    if not logins:
        return
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    click.echo("  (admin: the first sign-in asks you to set up an authenticator app, "
               "because admins need a second factor)")
    officers = [lg for lg in logins if lg.role == "officer"]
    hidden = officers[MAX_OFFICERS_LISTED:]
    shown = [lg for lg in logins if lg not in hidden]
    width = max(len(lg.username) for lg in logins)
    for lg in shown:
        note = "  (existing account, password unchanged)" if getattr(lg, "existing", False) else ""
        where = f"  {lg.where}" if lg.where else ""
        click.echo(f"  {lg.username:<{width}}  {lg.role:<10}{where}{note}")
    if hidden:
        click.echo(f"  ... and {len(hidden)} more officers, {hidden[0].username} to "
                   f"{hidden[-1].username} (same password; their beats are in the app)")


def _seed_in_kept_zone() -> None:
    """This process read its zone before seed-demo kept one (a first `make run`): seed in the
    zone the app will run in, so the facts' day rows are its local days."""
    import os
    from pathlib import Path

    from crm.timezones import check_zone

    if os.environ.get("CRM_TIME_ZONE") or os.environ.get("TIME_ZONE"):
        return  # named: the app runs in it already
    kept = Path(current_app.instance_path) / "time_zone"
    if kept.is_file() and kept.read_text().strip():
        current_app.config["TIME_ZONE"] = check_zone(kept.read_text()).key


def register(group):
    """Add `seed-demo` to the `flask crm` group."""

    @group.command("seed-demo")
    @click.option("--size", type=click.Choice(["small", "large", "xlarge"]), default="small",
                  show_default=True, help="small: ~40 groups; large: the benchmark scale "
                  "(5,000 groups); xlarge: one big force (20,000 groups, 5,000,000 contacts).")
    @click.option("--city", type=click.Choice(["chicago", "charlottesville"]), default=None,
                  help="Whose real beats to use (default: the DEMO_CITY setting).")
    @click.option("--seed", type=int, default=0, show_default=True,
                  help="Random seed: the same seed gives the same community.")
    @click.option("--if-empty", is_flag=True,
                  help="Do nothing (but print the logins) when groups already exist.")
    def seed_demo_cmd(size, city, seed, if_empty):
        """Seed a realistic synthetic community (one transaction, committed at the end)."""
        from crm.demo.services import DemoDataExistsError, demo_logins, has_groups, seed_demo

        city = city or current_app.config.get("DEMO_CITY", "chicago")
        from crm.timezones import keep_demo_zone

        if if_empty and has_groups():
            click.echo("Groups already exist; demo seed skipped.")
            if not current_app.testing:  # tests never write the checkout's instance/
                click.echo(keep_demo_zone(city, current_app.instance_path))
            _print_logins(demo_logins())
            return
        zone_note = None
        if not current_app.testing:
            zone_note = keep_demo_zone(city, current_app.instance_path)
            _seed_in_kept_zone()
        printer = _ProgressPrinter()
        try:
            report = seed_demo(size, city, seed, progress=printer)
        except DemoDataExistsError as e:
            printer.close()
            db.session.rollback()
            raise click.ClickException(str(e)) from e
        except Exception:
            printer.close()
            db.session.rollback()
            raise
        printer.close()
        click.echo("committing ...")
        db.session.commit()
        click.echo(f"\nSeeded the {size} demo on {city} beats (seed {seed}):")
        for table, n in report.counts.items():
            click.echo(f"  {table:<28} {n:>10,}")
        click.echo(f"  {'elapsed':<28} {report.elapsed:>9.1f}s")
        if zone_note:
            click.echo(zone_note)
        _print_logins(report.logins)
