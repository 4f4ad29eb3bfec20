"""Follow-ups API: open follow-ups (yours, or a beat's) and marking one done."""

from __future__ import annotations

from flask import abort

from crm.access import get_visible_or_404, require_role
from crm.api.common import Blueprint, paginate
from crm.contacts import services
from crm.contacts.schemas import FollowUpQuerySchema, FollowUpSchema
from crm.models import Contact
from crm.timezones import local_today
from crm.web.forms import client_ip

blp = Blueprint("followups_api", __name__, url_prefix="/api/v1/follow-ups", description="Follow-ups")


def _actor():
    return require_role(*services.LOG_ROLES)


@blp.route("/")
@blp.arguments(FollowUpQuerySchema, location="query")
@blp.response(200, FollowUpSchema(many=True))
@blp.paginate()
def list_follow_ups(args, pagination_parameters):
    """Open follow-ups, earliest first (overdue included): yours, or those of `beat`."""
    user = _actor()
    beat_id = None
    if args.get("beat"):
        beat = services.follow_up_beat(user, args["beat"])
        if beat is None:
            abort(404, description="No such beat among yours.")
        beat_id = beat.id
    q = services.follow_ups_query(user, beat_id=beat_id, today=local_today(),
                                  horizon_days=args["days"])
    return paginate(q, pagination_parameters)


@blp.route("/<id:contact_id>/done", methods=["POST"])
@blp.response(200, FollowUpSchema)
@blp.alt_response(404, description="Unknown contact, or not yours to see")
@blp.alt_response(422, description="The contact has no follow-up")
def mark_done(contact_id: int):
    """Mark the contact's follow-up done (a second call changes nothing)."""
    user = _actor()
    contact = get_visible_or_404(Contact, contact_id, user)
    return services.mark_follow_up_done(user, contact, ip=client_ip())
