"""Well-being API: the caller's own check-ins; aggregates for supervisors and admins.

Every lookup is by author, so another officer's check-in is a 404 for everyone.
"""

from crm.access import require_role
from crm.api.common import Blueprint, paginate
from crm.web.forms import current_actor
from crm.wellbeing import services
from crm.wellbeing.schemas import AggregateQuerySchema, AggregateSchema, CheckinSchema

blp = Blueprint("wellbeing_api", __name__, url_prefix="/api/v1/wellbeing",
                description="Officer well-being check-ins (private to their author) and "
                            "aggregates over at least 5 officers")


@blp.route("/")
@blp.response(200, CheckinSchema(many=True))
@blp.alt_response(403, description="Role without check-ins (admin, analyst)")
@blp.paginate()
def list_checkins(pagination_parameters):
    """The caller's own check-ins, newest first."""
    require_role(*services.AUTHOR_ROLES)
    return paginate(services.own_checkins(current_actor()), pagination_parameters)


@blp.route("/", methods=["POST"])
@blp.arguments(CheckinSchema)
@blp.response(201, CheckinSchema)
@blp.alt_response(422, description="Invalid input, or a contact the caller did not take part in")
@blp.alt_response(403, description="Role without check-ins (admin, analyst)")
def create_checkin(data):
    """Record a check-in for the caller."""
    require_role(*services.AUTHOR_ROLES)
    return services.create_checkin(current_actor(), **data)


@blp.route("/<id:checkin_id>")
@blp.response(200, CheckinSchema)
@blp.alt_response(404, description="Not one of the caller's check-ins")
def get_checkin(checkin_id: int):
    """One of the caller's own check-ins."""
    return services.get_own_checkin_or_404(current_actor(), checkin_id)


@blp.route("/<id:checkin_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="Not one of the caller's check-ins")
def delete_checkin(checkin_id: int):
    """Delete one of the caller's own check-ins."""
    me = current_actor()
    services.delete_checkin(me, services.get_own_checkin_or_404(me, checkin_id))


@blp.route("/aggregate")
@blp.arguments(AggregateQuerySchema, location="query")
@blp.response(200, AggregateSchema)
@blp.alt_response(403, description="Only supervisors (their district) and admins (everyone)")
def aggregate(args):
    """Totals over the window, shown only when at least 5 officers contributed."""
    require_role(*services.AGGREGATE_ROLES)
    return services.aggregate_checkins(current_actor(), days=args["days"])
