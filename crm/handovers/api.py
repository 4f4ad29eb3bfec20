"""Hand-overs API: plans for supervisors, notes for the leaving officer, reading for successors."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort

from crm.access import beat_ids_select, require_role
from crm.api.common import Blueprint
from crm.errors import ValidationError
from crm.extensions import db
from crm.handovers import services
from crm.handovers.models import Handover, HandoverItem
from crm.handovers.schemas import (
    HandoverSchema,
    NoteSchema,
    PlanSchema,
    RetentionQuerySchema,
    RetentionSchema,
    SuccessorSchema,
    TransferSchema,
)
from crm.models import Beat, User
from crm.timezones import local_today
from crm.web.forms import client_ip

blp = Blueprint("handovers_api", __name__, url_prefix="/api/v1/handovers", description="Hand-overs")

ROLES = ("officer", "supervisor", "admin")


def _user(field: str, username: str) -> User:
    u = db.session.scalar(sa.select(User).where(User.username == username))
    if u is None:
        raise ValidationError({field: f"no user {username}"})
    return u


def _get(user: User, handover_id: int) -> Handover:
    h = services.get_handover(user, handover_id)
    if h is None:
        abort(404, description="No such hand-over among yours.")
    return h


@blp.route("/")
@blp.response(200, HandoverSchema(many=True))
def list_handovers():
    """Hand-overs you may open: your district's, the ones you give or were given (newest first)."""
    user = require_role(*ROLES)
    return [services.to_dict(user, h) for h in db.session.scalars(services.handovers_for(user).limit(200))]


@blp.route("/", methods=["POST"])
@blp.arguments(PlanSchema)
@blp.response(201, HandoverSchema)
@blp.alt_response(422, description="Unknown officer or beat, or not an officer")
def plan(args):
    """Draft the hand-over of an officer's relationships on a beat (a waiting plan is returned)."""
    user = require_role(*services.PLAN_ROLES)
    officer = _user("officer", args["officer"])
    beat = db.session.scalar(sa.select(Beat).where(Beat.code == args["beat"]))
    if beat is None or not services.may_plan(user, beat.id):
        raise ValidationError({"beat": f"no beat {args['beat']} in your district"})
    h = services.draft_handover(user, officer, beat, leaves_on=args["leaves_on"], ip=client_ip())
    return services.to_dict(user, h)


@blp.route("/<id:handover_id>")
@blp.response(200, HandoverSchema)
def show(handover_id: int):
    """One hand-over; a successor sees only the items given to them."""
    user = require_role(*ROLES)
    return services.to_dict(user, _get(user, handover_id))


@blp.route("/<id:handover_id>/successor", methods=["POST"])
@blp.arguments(SuccessorSchema)
@blp.response(200, HandoverSchema)
def successor(args, handover_id: int):
    """Give items (default: all without one) to a successor; call again to split."""
    user = require_role(*services.PLAN_ROLES)
    h = _get(user, handover_id)
    services.assign_successor(user, h, _user("successor", args["successor"]),
                              item_ids=args.get("items") or None, ip=client_ip())
    return services.to_dict(user, h)


@blp.route("/<id:handover_id>/transfer", methods=["POST"])
@blp.arguments(TransferSchema)
@blp.response(200, HandoverSchema)
@blp.alt_response(422, description="Some item has no successor yet (the plan waits)")
def transfer(args, handover_id: int):
    """Move every item to its successor and set the introduction tasks."""
    user = require_role(*services.PLAN_ROLES)
    h = _get(user, handover_id)
    services.transfer(user, h, meet_by=args.get("meet_by"), ip=client_ip())
    return services.to_dict(user, h)


@blp.route("/items/<id:item_id>/note", methods=["POST"])
@blp.arguments(NoteSchema)
@blp.response(200, HandoverSchema)
def note(args, item_id: int):
    """The leaving officer's short note on a person or group (engagement record, not intelligence)."""
    user = require_role("officer")
    item = db.session.get(HandoverItem, item_id)
    if item is None or item.handover.leaving_officer_id != user.id:
        abort(404, description="No such item among your hand-overs.")
    services.set_note(user, item, args["note"], ip=client_ip())
    return services.to_dict(user, item.handover)


@blp.route("/retention")
@blp.arguments(RetentionQuerySchema, location="query")
@blp.response(200, RetentionSchema(many=True))
def retention(args):
    """Per beat that changed hands: relationships re-established by the successor in 30/60/90 days."""
    user = require_role("supervisor", "admin", "analyst")
    beat_ids = None
    if user.role == "supervisor":
        beat_ids = list(db.session.scalars(beat_ids_select(user)))
    today = local_today()
    return [{"beat": r.beat_code, "handover_id": r.handover_id, "transferred_on": r.transferred_on,
             **r.retention.to_dict()}
            for r in services.retention(beat_ids, today - timedelta(days=args["days"]), today)]
