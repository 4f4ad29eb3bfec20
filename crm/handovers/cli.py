"""`flask crm handover plan|show|transfer`: the supervisor's steps from a terminal (actor: system)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from crm.errors import DomainError
from crm.extensions import db
from crm.timezones import local_today

handover_cli = AppGroup("handover", help="Hand a beat's relationships to a successor.")


def _user(username: str, param: str):
    from crm.models import User
    u = db.session.scalar(sa.select(User).where(User.username == username))
    if u is None:
        raise click.BadParameter(f"unknown user {username}", param_hint=param)
    return u


def _handover(handover_id: int):
    from crm.handovers.models import Handover
    h = db.session.get(Handover, handover_id)
    if h is None:
        raise click.BadParameter(f"no hand-over {handover_id}", param_hint="HANDOVER_ID")
    return h


def _echo(h) -> None:
    from crm.handovers.services import to_dict
    d = to_dict(None, h)
    click.echo(f"hand-over {d['id']} beat {d['beat']} of {d['leaving_officer']} "
               f"(last day {d['leaves_on']}): {d['status']}")
    for i in d["items"]:
        who = i["successor"] or "-"
        extra = f" [{i['task']}{' - done' if i['done'] else ''}]" if i["task"] else ""
        if i.get("introduced_by"):
            extra += f" (introduced by {i['introduced_by']})"
        click.echo(f"  {i['id']:>5} {i['kind']:<12} {i['label'][:50]:<50} -> {who}{extra}")


@handover_cli.command("plan")
@click.option("--officer", required=True, help="Leaving officer's username.")
@click.option("--beat", required=True, help="Beat code.")
@click.option("--leaves-on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day on the beat (default today).")
def plan_cmd(officer, beat, leaves_on):
    """Draft the hand-over of OFFICER's relationships on BEAT."""
    from crm.handovers.services import draft_handover
    from crm.models import Beat
    b = db.session.scalar(sa.select(Beat).where(Beat.code == beat))
    if b is None:
        raise click.BadParameter(f"unknown beat {beat}", param_hint="--beat")
    try:
        h = draft_handover(None, _user(officer, "--officer"), b,
                           leaves_on=leaves_on.date() if leaves_on else local_today())
    except DomainError as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    _echo(h)


@handover_cli.command("show")
@click.argument("handover_id", type=int)
def show_cmd(handover_id):
    """Show a hand-over and its items."""
    _echo(_handover(handover_id))


@handover_cli.command("transfer")
@click.argument("handover_id", type=int)
@click.option("--to", "successor", required=True, help="Successor's username.")
@click.option("--item", "items", multiple=True, type=int,
              help="Only these item ids (repeatable; a split). Default: every item without one.")
@click.option("--meet-by", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Introductions due by.")
@click.option("--wait", is_flag=True, help="Only name the successor; transfer later.")
def transfer_cmd(handover_id, successor, items, meet_by, wait):
    """Give items to a successor and, when every item has one, transfer the hand-over."""
    from crm.handovers.services import assign_successor, transfer
    h = _handover(handover_id)
    try:
        assign_successor(None, h, _user(successor, "--to"), item_ids=list(items) or None)
        if not wait and all(i.successor_id for i in h.items):
            transfer(None, h, meet_by=meet_by.date() if meet_by else None)
    except DomainError as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    _echo(h)
