"""Stakeholders API: search and list (names only), read (audited), create with the duplicate
check, update (versioned), erase (administrators) and merge (unit, supervisors, admins)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from crm.access import get_visible_or_404, require_role, stakeholder_scope
from crm.api.common import Blueprint, check_version, paginate
from crm.models import Membership, Stakeholder
from crm.stakeholders import services
from crm.stakeholders.languages import column_matches
from crm.stakeholders.schemas import (
    MergeResultSchema,
    MergeSchema,
    StakeholderCreateSchema,
    StakeholderQuerySchema,
    StakeholderSchema,
    StakeholderSummarySchema,
    StakeholderUpdateSchema,
)
from crm.web.forms import client_ip

blp = Blueprint("stakeholders_api", __name__, url_prefix="/api/v1/stakeholders", description="Stakeholders")

MAX_SEARCH = 200


def _actor(*roles: str):
    return require_role(*(roles or services.EDIT_ROLES))


def _visible(stakeholder_id: int, user) -> Stakeholder:
    s = get_visible_or_404(Stakeholder, stakeholder_id, user)
    if s.erased_at is not None:
        abort(404)
    return s


@blp.route("/")
@blp.arguments(StakeholderQuerySchema, location="query")
@blp.response(200, StakeholderSummarySchema(many=True))
@blp.paginate()
def list_stakeholders(args, pagination_parameters):
    """People you may see (not erased, merged or past review); `q` ranks by similarity."""
    user = _actor()
    if args.get("q"):
        hits = services.search_stakeholders(user, args["q"], limit=MAX_SEARCH,
                                            group_id=args.get("group"),
                                            language=args.get("language"))
        pagination_parameters.item_count = len(hits)
        start = (pagination_parameters.page - 1) * pagination_parameters.page_size
        return [h.stakeholder for h in hits[start:start + pagination_parameters.page_size]]
    q = (sa.select(Stakeholder).where(stakeholder_scope(user), services.active_condition())
         .order_by(Stakeholder.name, Stakeholder.id))
    if args.get("group") is not None:
        q = q.where(Stakeholder.id.in_(sa.select(Membership.stakeholder_id)
                                       .where(Membership.group_id == args["group"])))
    if args.get("language"):
        q = q.where(column_matches(Stakeholder.language, args["language"]))
    return paginate(q, pagination_parameters)


@blp.route("/", methods=["POST"])
@blp.arguments(StakeholderCreateSchema)
@blp.response(201, StakeholderSchema)
@blp.alt_response(422, description="Invalid input, or possible duplicates listed under "
                                   "`errors.json.duplicates` (send allow_duplicate=true)")
def create_stakeholder(data):
    user = _actor()
    group_id, role = data.pop("group_id", None), data.pop("role")
    allow = data.pop("allow_duplicate")
    return services.create_stakeholder(user, data, allow_duplicate=allow, group_id=group_id,
                                       role=role, ip=client_ip())


@blp.route("/<id:stakeholder_id>")
@blp.response(200, StakeholderSchema)
@blp.alt_response(404, description="Unknown, or not yours to see")
def get_stakeholder(stakeholder_id: int):
    """One person with their personal fields; the read is recorded in the audit trail."""
    user = _actor()
    s = _visible(stakeholder_id, user)
    return services.read_stakeholder(user, s, ip=client_ip())


@blp.route("/<id:stakeholder_id>", methods=["PATCH"])
@blp.arguments(StakeholderUpdateSchema)
@blp.response(200, StakeholderSchema)
@blp.alt_response(409, description="Someone else saved first; `current` holds their version")
def update_stakeholder(data, stakeholder_id: int):
    user = _actor()
    s = _visible(stakeholder_id, user)
    if s.merged_into_id is not None:
        abort(404)
    version = data.pop("version_id")
    check_version(s, version, StakeholderSchema().dump)
    return services.update_stakeholder(user, s, data, version_id=version, ip=client_ip())


@blp.route("/<id:stakeholder_id>", methods=["DELETE"])
@blp.response(204)
def delete_stakeholder(stakeholder_id: int):
    """Erase a person (administrators): personal fields and memberships are blanked, the row
    stays so contacts keep their counts."""
    user = _actor("admin")
    services.erase_stakeholder(user, _visible(stakeholder_id, user), ip=client_ip())


@blp.route("/<id:stakeholder_id>/merge", methods=["POST"])
@blp.arguments(MergeSchema)
@blp.response(200, MergeResultSchema)
def merge_stakeholder(data, stakeholder_id: int):
    """Merge this person into `into_id`: memberships and contacts move, this one is blanked."""
    user = _actor(*services.MERGE_ROLES)
    source = _visible(stakeholder_id, user)
    target = _visible(data["into_id"], user)
    return services.merge_stakeholders(user, source, target, ip=client_ip())
