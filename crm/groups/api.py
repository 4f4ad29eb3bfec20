"""Groups API: list with filters and sorting, read, create, update (version-checked), delete.

Every query is scoped by `crm.access.group_scope`: a group the caller may not see is a 404.
Officers read; unit members, supervisors and admins also write; only admins delete;
analysts get 403 (they work on pseudonymised exports).
"""

from __future__ import annotations

from crm.access import get_visible_or_404, require_role
from crm.api.common import Blueprint
from crm.errors import ConflictError
from crm.extensions import db
from crm.groups import services
from crm.groups.models import CommunityGroup
from crm.groups.schemas import GroupCreateSchema, GroupQuerySchema, GroupSchema, GroupUpdateSchema

blp = Blueprint("groups_api", __name__, url_prefix="/api/v1/groups", description="Groups")


def dump_group(group: CommunityGroup) -> dict:
    return GroupSchema().dump(services.group_row(group))


def filters_from(args: dict) -> services.GroupFilters:
    return services.GroupFilters(
        beat=args.get("beat"), kind=args.get("kind"), stance=args.get("stance"),
        stage=args.get("stage"), min_days=args.get("min_days"), never=args.get("never", False),
        q=args.get("q"), language=args.get("language"), sort=args.get("sort", "name"),
        desc=args.get("order") == "desc")


@blp.route("/")
@blp.arguments(GroupQuerySchema, location="query")
@blp.response(200, GroupSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@blp.paginate()
def list_groups(args, pagination_parameters):
    """Visible groups with their last contact and stay-in-touch status."""
    user = require_role(*services.READER_ROLES)
    rows, total = services.list_groups(user, filters_from(args), page=pagination_parameters.page,
                                       per_page=pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return rows


@blp.route("/<id:group_id>")
@blp.response(200, GroupSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
def get_group(group_id: int):
    user = require_role(*services.READER_ROLES)
    return services.group_row(get_visible_or_404(CommunityGroup, group_id, user))


@blp.route("/", methods=["POST"])
@blp.arguments(GroupCreateSchema)
@blp.response(201, GroupSchema)
@blp.alt_response(403, response="FORBIDDEN")
def create_group(data):
    """Create a group (unit, supervisor, admin). A unit member is assigned to what they create."""
    user = require_role(*services.EDITOR_ROLES)
    return services.group_row(services.create_group(user, data))


@blp.route("/<id:group_id>", methods=["PATCH", "PUT"])
@blp.arguments(GroupUpdateSchema)
@blp.response(200, GroupSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT", description="Someone else saved first; "
                  "`current` holds the saved version")
def update_group(data, group_id: int):
    """Change the fields sent; `version_id` must be the version you read."""
    user = require_role(*services.EDITOR_ROLES)
    group = get_visible_or_404(CommunityGroup, group_id, user)
    version_id = data.pop("version_id")
    try:
        services.update_group(user, group, data, version_id)
    except ConflictError as e:
        db.session.rollback()  # a race lost at the flush leaves the session failed; re-read
        e.current = dump_group(group)
        raise
    return services.group_row(group)


@blp.route("/<id:group_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
def delete_group(group_id: int):
    """Delete a group with its memberships and relations (admins only; audited)."""
    user = require_role("admin")
    services.delete_group(user, get_visible_or_404(CommunityGroup, group_id, user))
