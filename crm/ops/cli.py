"""`flask crm backup`, `flask crm restore`, `flask crm users disable-inactive`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app


def register(group) -> None:
    @group.command("backup")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write it (default: instance/backups/alliance-<UTC time>.*).")
    def backup_cmd(output):
        """Back up the whole database (SQLite online backup or pg_dump)."""
        from crm.audit.services import record_event
        from crm.extensions import db
        from crm.ops.backup import backup, default_backup_path

        url = db.engine.url
        target = output or default_backup_path(current_app.instance_path, url)
        path = backup(url, target)
        record_event(None, "ops.backup", object_type="database", detail={"file": path.name})
        db.session.commit()
        click.echo(f"backup written to {path} ({path.stat().st_size:,} bytes)")

    @group.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_cmd(source, yes):
        """Replace the database's contents with the backup SOURCE.

        Then erase, revoke and reset again what was erased, revoked or changed since the
        backup (the ledger), append the audit events written since, and audit the restore.
        """
        from crm.extensions import db
        from crm.ops.backup import restore_database

        if not yes:
            click.confirm(f"Replace every record in {db.engine.url.render_as_string()} "
                          f"with {source}?", abort=True)
        done = restore_database(db, source, instance_dir=Path(current_app.instance_path))
        click.echo(f"restored from {source}; erased again: {done['erasures']}, tokens revoked "
                   f"again: {done['tokens_revoked']}, credentials reset: "
                   f"{done['credentials_reset']}, audit events kept: "
                   f"{done['audit_events_carried_over']}")
        if done["audit_events_archived_to"]:
            click.echo(f"audit events written since the backup did not continue its chain; "
                       f"kept in backups/{done['audit_events_archived_to']}", err=True)

    @group.command("disable-inactive")
    def disable_inactive_cmd():
        """Disable accounts nobody has used for ACCOUNT_INACTIVE_DAYS (90 by default)."""
        from crm.extensions import db
        from crm.users.services import disable_inactive_accounts

        users = disable_inactive_accounts(None)
        db.session.commit()
        click.echo(f"disabled {len(users)} account(s)" +
                   (": " + ", ".join(u.username for u in users) if users else ""))


def register_retention(group) -> None:
    @group.command("retention-refresh")
    def retention_refresh_cmd():
        """Set review dates (3 years after the last activity) so past-due records enter review."""
        from crm.extensions import db
        from crm.privacy.services import refresh_review_dates

        n = refresh_review_dates(None)
        db.session.commit()
        click.echo(f"review dates refreshed on {n} stakeholder record(s)")
