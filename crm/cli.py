"""`flask crm ...` commands. Each command is one transaction: services flush, we commit."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from crm.errors import ValidationError
from crm.extensions import db
from crm.vocab import ROLES

crm_cli = AppGroup("crm", help="Alliance CRM administration.")


@crm_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", help="Prompted for (hidden) when omitted.")
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option("--beat", "beats", multiple=True, help="Beat code to assign (repeatable).")
@click.option("--district", help="District code (supervisors).")
def create_user_cmd(username, role, password, display_name, beats, district):
    """Create a user with ROLE."""
    import sqlalchemy as sa

    from crm.models import Beat, District
    from crm.users.services import create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    beat_ids = [db.session.scalar(sa.select(Beat.id).where(Beat.code == b)) for b in beats]
    if None in beat_ids:
        raise click.BadParameter(f"unknown beat among {', '.join(beats)}", param_hint="--beat")
    district_id = None
    if district:
        district_id = db.session.scalar(sa.select(District.id).where(District.code == district))
        if district_id is None:
            raise click.BadParameter(f"unknown district {district}", param_hint="--district")
    try:
        user = create_user(None, username, role, password, display_name=display_name,
                           district_id=district_id, beat_ids=beat_ids)
    except ValidationError as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"created {user.role} {user.username}")


def register_cli(app: Flask) -> None:
    from crm.audit.cli import audit_cli
    from crm.csvio.cli import register as register_csv
    from crm.demo.cli import register as register_demo
    from crm.evaluation.cli import register as register_evaluation
    from crm.network.cli import register as register_analytics
    from crm.network.cli import register_outcomes
    from crm.ops.cli import register as register_ops
    from crm.ops.cli import register_retention

    register_csv(crm_cli)
    register_demo(crm_cli)
    register_evaluation(crm_cli)
    register_analytics(crm_cli)
    register_outcomes(crm_cli)
    register_ops(crm_cli)
    register_retention(crm_cli)
    crm_cli.add_command(audit_cli)
    from crm.facts.cli import facts_cli
    crm_cli.add_command(facts_cli)
    from crm.handovers.cli import handover_cli
    crm_cli.add_command(handover_cli)
    app.cli.add_command(crm_cli)


@crm_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", help="A label to recognise the token by.")
@click.option("--revoke", "revoke_id", type=int, help="Revoke the token with this id instead.")
def token_cmd(username, name, revoke_id):
    """Create (or revoke) a personal API token for USERNAME; the token is printed once."""
    import sqlalchemy as sa

    from crm.models import ApiToken, User
    from crm.users.services import issue_token, revoke_token

    user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"no user named {username}")
    if revoke_id:
        tok = db.session.get(ApiToken, revoke_id)
        if tok is None or tok.user_id != user.id:
            raise click.ClickException(f"{username} has no token {revoke_id}")
        revoke_token(None, tok)
        db.session.commit()
        click.echo(f"revoked token {revoke_id}")
        return
    tok, plain = issue_token(None, user, name)
    db.session.commit()
    click.echo(f"token {tok.id} for {user.username} (shown once, store it safely):\n{plain}")
