"""Community survey trends API: a group's or a beat's trust trend (aggregates only, k >= 5)."""

import marshmallow as ma

from crm.access import require_role
from crm.api.common import Blueprint
from crm.evaluation import services as svc
from crm.web.forms import current_actor

blp = Blueprint("surveys_api", __name__, url_prefix="/api/v1/surveys",
                description="Community perception surveys: trends per group and beat")

TREND_ROLES = ("officer", "unit", "supervisor", "admin", "analyst")


class TrendQuerySchema(ma.Schema):
    group = ma.fields.Int(validate=ma.validate.Range(1, 2**31 - 1), metadata={"description": "Group id"})
    beat = ma.fields.Str(validate=ma.validate.Length(1, 20), metadata={"description": "Beat code"})
    item = ma.fields.Str(load_default="trust", validate=ma.validate.Length(1, 40),
                         metadata={"description": "Survey item key (default: trust)"})

    @ma.validates_schema
    def one_target(self, data, **kwargs):
        if ("group" in data) == ("beat" in data):
            raise ma.ValidationError("give one group or one beat", "target")


class TrendPointSchema(ma.Schema):
    campaign = ma.fields.Str()
    opens_on = ma.fields.Str(metadata={"description": "YYYY-MM-DD"})
    n = ma.fields.Int(allow_none=True, metadata={"description": "null below k answers"})
    mean = ma.fields.Float(allow_none=True)
    ci_low = ma.fields.Float(allow_none=True)
    ci_high = ma.fields.Float(allow_none=True)


class TrendSchema(ma.Schema):
    kind = ma.fields.Str(metadata={"description": "group or beat"})
    target = ma.fields.Str(metadata={"description": "The group's name or the beat's code"})
    item = ma.fields.Str()
    k = ma.fields.Int(metadata={"description": "Fewest answers a wave needs to show numbers"})
    points = ma.fields.List(ma.fields.Nested(TrendPointSchema))


@blp.route("/trend")
@blp.arguments(TrendQuerySchema, location="query")
@blp.response(200, TrendSchema)
@blp.alt_response(404, description="No such group or beat in your scope")
@blp.alt_response(422, description="Neither or both of group and beat, or an unknown item")
def trend(args):
    """Trust trend of one group or beat, oldest wave first: n, mean and 95 % interval per wave;
    a wave with fewer than k answers carries no numbers (not even n)."""
    me = require_role(*TREND_ROLES)
    return svc.trust_trend_for(me or current_actor(), group_id=args.get("group"),
                               beat_code=args.get("beat"), item=args["item"])
