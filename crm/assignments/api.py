"""Assignments API: yours and your scope's, assign a visit (supervisors), cancel one."""

from __future__ import annotations

import marshmallow as ma
from flask import abort

from crm.access import require_role
from crm.api.common import Blueprint, paginate
from crm.assignments import services
from crm.assignments.models import ASSIGNMENT_STATUSES, MAX_ASSIGNMENT_NOTE
from crm.vocab import STAFF_ROLES
from crm.web.forms import client_ip

blp = Blueprint("assignments_api", __name__, url_prefix="/api/v1/assignments",
                description="Assignments: visits to a group a supervisor asks of an officer, and "
                            "introductions an officer asks for")


class AssignmentSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    kind = ma.fields.Str(dump_only=True, metadata={"enum": ["visit", "introduction"]})
    group = ma.fields.Function(lambda a: {"id": a.group_id, "name": a.group.name}, dump_only=True)
    officer = ma.fields.Function(lambda a: {"id": a.officer_id, "name": a.officer.display_name},
                                 dump_only=True)
    assigned_by = ma.fields.Function(
        lambda a: {"id": a.assigned_by_id, "name": a.assigned_by.display_name}, dump_only=True)
    stakeholder_id = ma.fields.Int(dump_only=True, allow_none=True, metadata={
        "description": "The person to contact first (the introduction's first step)"})
    due_on = ma.fields.Date(dump_only=True)
    overdue = ma.fields.Function(lambda a: a.is_overdue(), dump_only=True)
    note = ma.fields.Str(dump_only=True)
    chain = ma.fields.Raw(dump_only=True, allow_none=True, metadata={
        "description": "The attached warm introduction: steps of kind officer, stakeholder, group"})
    status = ma.fields.Str(dump_only=True)
    contact_id = ma.fields.Int(dump_only=True, allow_none=True)
    version_id = ma.fields.Int(dump_only=True)


class AssignmentCreateSchema(ma.Schema):
    group_id = ma.fields.Int(required=True, validate=ma.validate.Range(min=1, max=2**31 - 1))
    officer_id = ma.fields.Int(required=True, validate=ma.validate.Range(min=1, max=2**31 - 1))
    due_on = ma.fields.Date(required=True)
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=MAX_ASSIGNMENT_NOTE))


class AssignmentQuerySchema(ma.Schema):
    status = ma.fields.Str(load_default="open", validate=ma.validate.OneOf(
        (*ASSIGNMENT_STATUSES, "all")))
    mine = ma.fields.Bool(load_default=False, metadata={"description": "Only those assigned to you"})


@blp.route("/")
@blp.arguments(AssignmentQuerySchema, location="query")
@blp.response(200, AssignmentSchema(many=True))
@blp.paginate()
def list_assignments(args, pagination_parameters):
    """Assignments you may see (yours, those you gave, your district's visits), earliest due first."""
    user = require_role(*STAFF_ROLES)
    q = services.assignments_query(user, officer_id=user.id if args["mine"] else None,
                                   status=None if args["status"] == "all" else args["status"])
    return paginate(q, pagination_parameters)


@blp.route("/", methods=["POST"])
@blp.arguments(AssignmentCreateSchema)
@blp.response(201, AssignmentSchema)
@blp.alt_response(422, description="Invalid input, one message list per field")
def create_assignment(data):
    """Assign a visit to a group to an officer of your district, with a due date."""
    user = require_role(*services.ASSIGN_ROLES)
    return services.assign_visit(user, data, ip=client_ip())


@blp.route("/<id:assignment_id>/cancel", methods=["POST"])
@blp.response(200, AssignmentSchema)
@blp.alt_response(404, description="Unknown, or not yours to see")
def cancel_assignment(assignment_id: int):
    """Cancel an open assignment (who gave it, a supervisor of the group, or an administrator)."""
    user = require_role(*STAFF_ROLES)
    a = services.get_visible(user, assignment_id)
    if a is None:
        abort(404)
    return services.cancel_assignment(user, a, ip=client_ip())
