"""Relations API: declared relations between two groups (allied, competing, overlapping).

A relation is visible when the caller may see at least one of its two groups; declaring
one needs both. Ending a relation keeps it in the history; DELETE is for mistakes.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from crm.access import require_role
from crm.api.common import Blueprint, paginate
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups import services
from crm.groups.models import GroupRelation
from crm.groups.schemas import (
    RelationCreateSchema,
    RelationEndSchema,
    RelationQuerySchema,
    RelationSchema,
    RelationUpdateSchema,
)
from crm.timezones import local_today

blp = Blueprint("relations_api", __name__, url_prefix="/api/v1/relations", description="Relations")


def _relation_or_404(relation_id: int, user) -> GroupRelation:
    rel = db.session.scalar(services.relations_query(user).where(GroupRelation.id == relation_id))
    if rel is None:
        abort(404)
    return rel


def _conflict_with_current(rel: GroupRelation, e: ConflictError):
    db.session.rollback()  # a race lost at the flush leaves the session failed; re-read
    e.current = RelationSchema().dump(rel)
    return e


@blp.route("/")
@blp.arguments(RelationQuerySchema, location="query")
@blp.response(200, RelationSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@blp.paginate()
def list_relations(args, pagination_parameters):
    user = require_role(*services.READER_ROLES)
    q = services.relations_query(user).order_by(GroupRelation.id)
    if args.get("group_id") is not None:
        gid = args["group_id"]
        q = q.where(sa.or_(GroupRelation.group_a_id == gid, GroupRelation.group_b_id == gid))
    if args.get("type"):
        q = q.where(GroupRelation.type == args["type"])
    if args.get("current") is not None:
        current = GroupRelation.open_on(local_today())
        q = q.where(current if args["current"] else sa.not_(current))
    return paginate(q, pagination_parameters)


@blp.route("/<id:relation_id>")
@blp.response(200, RelationSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_relation(relation_id: int):
    return _relation_or_404(relation_id, require_role(*services.READER_ROLES))


@blp.route("/", methods=["POST"])
@blp.arguments(RelationCreateSchema)
@blp.response(201, RelationSchema)
@blp.alt_response(403, response="FORBIDDEN")
def create_relation(data):
    """Declare a relation between two groups you can both see."""
    user = require_role(*services.EDITOR_ROLES)
    a = services.visible_group(user, data["group_a_id"])
    b = services.visible_group(user, data["group_b_id"])
    if a is None:
        raise ValidationError({"group_a_id": "unknown group"})
    if b is None:
        raise ValidationError({"group_b_id": "unknown group"})
    return services.declare_relation(user, a, b, data["type"], data["issue"], data["starts_on"])


@blp.route("/<id:relation_id>", methods=["PATCH", "PUT"])
@blp.arguments(RelationUpdateSchema)
@blp.response(200, RelationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def update_relation(data, relation_id: int):
    """Change type, issue or dates; `version_id` must be the version you read."""
    user = require_role(*services.EDITOR_ROLES)
    rel = _relation_or_404(relation_id, user)
    version_id = data.pop("version_id")
    try:
        return services.update_relation(user, rel, data, version_id)
    except ConflictError as e:
        raise _conflict_with_current(rel, e) from None


@blp.route("/<id:relation_id>/end", methods=["POST"])
@blp.arguments(RelationEndSchema)
@blp.response(200, RelationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def end_relation(data, relation_id: int):
    """End a relation (it stays in the history)."""
    user = require_role(*services.EDITOR_ROLES)
    rel = _relation_or_404(relation_id, user)
    try:
        return services.end_relation(user, rel, data["ends_on"], data["version_id"])
    except ConflictError as e:
        raise _conflict_with_current(rel, e) from None


@blp.route("/<id:relation_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
def delete_relation(relation_id: int):
    """Remove a relation recorded by mistake."""
    user = require_role(*services.EDITOR_ROLES)
    services.delete_relation(user, _relation_or_404(relation_id, user))
