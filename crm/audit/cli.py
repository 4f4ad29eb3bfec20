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
