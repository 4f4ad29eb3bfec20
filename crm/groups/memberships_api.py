"""Memberships API: who belongs to which group, in what role, since and until when.

A membership is visible when its group is; the person's name is included only when the
caller may see that stakeholder (`crm.access.stakeholder_scope`), otherwise it is null.
Adding someone needs both the group and the person to be visible.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from crm.access import require_role
from crm.api.common import Blueprint, paginate
from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.groups import services
from crm.groups.schemas import (
    MembershipCreateSchema,
    MembershipQuerySchema,
    MembershipSchema,
    MembershipUpdateSchema,
)
from crm.stakeholders.models import Membership
from crm.timezones import local_today

blp = Blueprint("memberships_api", __name__, url_prefix="/api/v1/memberships", description="Memberships")


class MembershipOut:
    """A membership as the caller may read it: the name only when the person is visible."""

    def __init__(self, m: Membership, name_visible: bool):
        self.m, self.name_visible = m, name_visible

    def __getattr__(self, name):
        return getattr(self.m, name)

    @property
    def stakeholder_name(self) -> str | None:
        s = self.m.stakeholder
        return s.name if self.name_visible and s.erased_at is None else None


def _out(user, items: list[Membership]) -> list[MembershipOut]:
    visible = services.visible_stakeholder_ids(user, {m.stakeholder_id for m in items})
    return [MembershipOut(m, m.stakeholder_id in visible) for m in items]


def _membership_or_404(membership_id: int, user) -> Membership:
    m = db.session.scalar(services.memberships_query(user).where(Membership.id == membership_id))
    if m is None:
        abort(404)
    return m


@blp.route("/")
@blp.arguments(MembershipQuerySchema, location="query")
@blp.response(200, MembershipSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@blp.paginate()
def list_memberships(args, pagination_parameters):
    """Memberships of visible groups, by group or by person."""
    user = require_role(*services.READER_ROLES)
    q = services.memberships_query(user).order_by(Membership.id)
    for key in ("group_id", "stakeholder_id", "role"):
        if args.get(key) is not None:
            q = q.where(getattr(Membership, key) == args[key])
    if args.get("current") is not None:
        current = sa.or_(Membership.ends_on.is_(None), Membership.ends_on >= local_today())
        q = q.where(current if args["current"] else sa.not_(current))
    return _out(user, paginate(q, pagination_parameters))


@blp.route("/<id:membership_id>")
@blp.response(200, MembershipSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_membership(membership_id: int):
    user = require_role(*services.READER_ROLES)
    return _out(user, [_membership_or_404(membership_id, user)])[0]


@blp.route("/", methods=["POST"])
@blp.arguments(MembershipCreateSchema)
@blp.response(201, MembershipSchema)
@blp.alt_response(403, response="FORBIDDEN")
def create_membership(data):
    """Add a person you can see to a group you can see."""
    user = require_role(*services.EDITOR_ROLES)
    group = services.visible_group(user, data["group_id"])
    if group is None:
        raise ValidationError({"group_id": "unknown group"})
    stakeholder = services.visible_stakeholder(user, data["stakeholder_id"])
    m = services.add_membership(user, stakeholder, group, data["role"], data["starts_on"])
    return _out(user, [m])[0]


@blp.route("/<id:membership_id>", methods=["PATCH", "PUT"])
@blp.arguments(MembershipUpdateSchema)
@blp.response(200, MembershipSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def update_membership(data, membership_id: int):
    """Change role or dates (ends_on ends it; null reopens it); send the version you read."""
    user = require_role(*services.EDITOR_ROLES)
    m = _membership_or_404(membership_id, user)
    version_id = data.pop("version_id")
    try:
        services.update_membership(user, m, data, version_id)
    except ConflictError as e:
        db.session.rollback()  # a race lost at the flush leaves the session failed; re-read
        e.current = MembershipSchema().dump(_out(user, [m])[0])
        raise
    return _out(user, [m])[0]


@blp.route("/<id:membership_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(403, response="FORBIDDEN")
def delete_membership(membership_id: int):
    """Remove a membership recorded by mistake (set ends_on when someone leaves)."""
    user = require_role(*services.EDITOR_ROLES)
    services.delete_membership(user, _membership_or_404(membership_id, user))
