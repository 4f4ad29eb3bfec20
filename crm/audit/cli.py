import click
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="Audit trail tools.")


@audit_cli.command("verify")
def verify_cmd():
    """Recompute the hash chain; exit 1 at the first event that was altered or removed."""
    from crm.audit.services import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"audit trail intact: {report.checked} events verified")
    elif report.missing_tail:
        click.echo(f"audit trail TAMPERED: {report.missing_tail} "
                   f"(after {report.checked} intact events)", err=True)
        raise SystemExit(1)
    else:
        click.echo(f"audit trail TAMPERED: event {report.broken_at} does not match "
                   f"(after {report.checked} intact events)", err=True)
        raise SystemExit(1)


@audit_cli.command("reanchor")
@click.option("--yes", is_flag=True, help="Confirm: the database was recreated or replaced on purpose.")
def reanchor_cmd(yes: bool):
    """Anchor the trail at this database's newest event (after recreating or replacing the
    database on purpose; `restore` does this itself). Audited as audit.reanchor."""
    from crm.audit.services import reanchor

    if not yes:
        click.echo("refusing without --yes: re-anchoring accepts the trail as it is now", err=True)
        raise SystemExit(2)
    try:
        ev = reanchor()
    except ValueError as e:
        click.echo(f"audit trail TAMPERED: {e}", err=True)
        raise SystemExit(1) from None
    click.echo(f"audit trail re-anchored at event {ev.id}")
