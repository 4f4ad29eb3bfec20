"""GET /api/v1/officers/<id>/summary: the officer page's figures as JSON.

Same access as the page (`crm.officers.services.get_officer`): an administrator any officer,
a supervisor the officers working a beat of their district, everyone their own; anything
else is a 404 (analysts see no names).
"""

from __future__ import annotations

import marshmallow as ma
from flask import abort

from crm.api.common import Blueprint
from crm.officers import services
from crm.web.forms import current_actor

blp = Blueprint("officers_api", __name__, url_prefix="/api/v1/officers",
                description="Officer summaries: contacts over time, groups reached, stance mix, "
                            "comfort zone and open assignments")

f = ma.fields


class SummaryQuerySchema(ma.Schema):
    days = f.Int(load_default=services.DEFAULT_DAYS,
                 validate=ma.validate.OneOf(services.WINDOWS),
                 metadata={"description": "Window length in days, ending today"})


class _Officer(ma.Schema):
    id = f.Int()
    name = f.Str()
    role = f.Str()


class _Week(ma.Schema):
    start = f.Str(metadata={"description": "First day counted (ISO date)"})
    end = f.Str(metadata={"description": "Last day counted (ISO date)"})
    contacts = f.Int()


class _Group(ma.Schema):
    id = f.Int(allow_none=True, metadata={"description": "null for a group outside your scope"})
    name = f.Str(allow_none=True)
    stance = f.Str()
    contacts = f.Int()
    proactive = f.Int()
    last_at = f.Str()


class _Comfort(ma.Schema):
    rule = f.Str()
    threshold = f.Float()
    min_proactive = f.Int()
    proactive = f.Int()
    proactive_receptive = f.Int()
    share_receptive = f.Float(allow_none=True)
    beats = f.List(f.Str())
    beats_assigned = f.Bool()
    beat_groups = f.Int()
    beat_receptive = f.Int()
    baseline_share = f.Float(allow_none=True)
    index = f.Float(allow_none=True)
    flagged = f.Bool()


class _Ref(ma.Schema):
    id = f.Int()
    name = f.Str()


class _Assignment(ma.Schema):
    id = f.Int()
    kind = f.Str()
    group = f.Nested(_Ref)
    due_on = f.Str()
    overdue = f.Bool()


class OfficerSummarySchema(ma.Schema):
    officer = f.Nested(_Officer)
    as_of = f.Str()
    window_days = f.Int()
    first_day = f.Str()
    contacts = f.Int(metadata={"description": "Contacts in the window, each once"})
    group_contacts = f.Int(metadata={"description": "One per group of a contact (coverage's count)"})
    proactive_group_contacts = f.Int()
    proactive_share = f.Float(allow_none=True)
    weeks = f.List(f.Nested(_Week))
    stance_mix = f.Dict(keys=f.Str(), values=f.Int())
    groups_reached = f.Int()
    groups = f.List(f.Nested(_Group))
    comfort_zone = f.Nested(_Comfort)
    open_assignments = f.List(f.Nested(_Assignment))


@blp.route("/<id:user_id>/summary")
@blp.arguments(SummaryQuerySchema, location="query")
@blp.response(200, OfficerSummarySchema)
@blp.alt_response(404, description="Unknown, or not an officer you may see")
def officer_summary(args, user_id: int):
    """One officer's contacts per week, groups reached, stance mix, comfort zone, assignments."""
    actor = current_actor()
    officer = services.get_officer(actor, user_id)
    if officer is None:
        abort(404, description="No officer with this id that you may see.")
    return services.officer_summary(actor, officer, days=args["days"]).to_dict()
