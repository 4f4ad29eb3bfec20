"""OpenAPI shapes of the analytics documents (dump-only; the documents are built as dicts)."""

import marshmallow as ma
from marshmallow import fields as f

from crm.api.common import Ref


class AnalyticsQuerySchema(ma.Schema):
    as_of = f.Date(metadata={"description": "End of the window (default: today)"})
    days = f.Int(load_default=90, validate=ma.validate.Range(min=1, max=3650),
                 metadata={"description": "Window length in days"})
    beat = f.List(f.Str(), metadata={"description": "Beat codes to restrict to (repeatable)"})
    district = f.Str(metadata={"description": "District code to restrict to"})
    group = f.Int(metadata={"description": "Target group (introductions)"})
    officer = f.Int(metadata={"description": "Only chains starting at this officer (introductions)"})
    limit = f.Int(validate=ma.validate.Range(min=1, max=100000),
                  metadata={"description": "At most this many items"})


class StakeholderRef(ma.Schema):
    id = f.Int(allow_none=True, metadata={"description": "null for analysts"})
    pseudonym = f.Str(metadata={"description": "analysts only: valid within this answer"})


class OfficerRef(ma.Schema):
    id = f.Int(allow_none=True, metadata={"description": "null for analysts"})
    name = f.Str(allow_none=True)
    pseudonym = f.Str(metadata={"description": "analysts only: valid within this answer"})


class ComputedSchema(ma.Schema):
    """When a background result was computed and from which data."""

    at = f.Str(allow_none=True, metadata={"description": "UTC time of the computation"})
    data_versions = f.Dict(allow_none=True, metadata={"description": "input versions it used"})
    current_versions = f.Dict(metadata={"description": "input versions now"})
    status = f.Str(metadata={"description": "fresh, refreshing (a newer one is on its way) "
                                            "or computing (none yet)"})


class ComputingSchema(ma.Schema):
    status = f.Str()
    message = f.Str()
    computed = f.Nested(ComputedSchema)


class OverlapPairSchema(ma.Schema):
    group_a = f.Nested(Ref)
    group_b = f.Nested(Ref)
    shared = f.Int()
    jaccard = f.Float()


class OverlapSchema(ma.Schema):
    computed = f.Nested(ComputedSchema)
    pair_count = f.Int()
    pairs = f.List(f.Nested(OverlapPairSchema))


class FactionSchema(ma.Schema):
    groups = f.List(f.Nested(Ref))


class FrustratedSchema(ma.Schema):
    group_a = f.Nested(Ref)
    group_b = f.Nested(Ref)
    type = f.Str()
    issue = f.Str(allow_none=True)


class MediatorSchema(ma.Schema):
    stakeholder = f.Nested(StakeholderRef)
    group_a = f.Nested(Ref)
    group_b = f.Nested(Ref)


class FactionsSchema(ma.Schema):
    computed = f.Nested(ComputedSchema)
    factions = f.List(f.Nested(FactionSchema))
    frustrated = f.List(f.Nested(FrustratedSchema))
    frustration = f.Int()
    triangle_balance = f.Float(allow_none=True)
    exact = f.Bool()
    mediators = f.List(f.Nested(MediatorSchema))


class BrokerSchema(ma.Schema):
    kind = f.Str()
    id = f.Int(allow_none=True)
    name = f.Str(allow_none=True)
    betweenness = f.Float()
    is_articulation_point = f.Bool()
    split_groups = f.Int()
    reason = f.Str()
    reasons = f.List(f.Str())


class BrokersSchema(ma.Schema):
    computed = f.Nested(ComputedSchema)
    brokers = f.List(f.Nested(BrokerSchema))
    exact = f.Bool()
    sources = f.Int(allow_none=True)
    nodes = f.Int()
    shrunk_nodes = f.Int()


class FlagSchema(ma.Schema):
    group = f.Nested(Ref)
    days_since_contact = f.Int(allow_none=True)
    reasons = f.List(f.Str())
    reason_codes = f.List(f.Str())
    priority = f.Float()


class HardToEngageSchema(ma.Schema):
    as_of = f.Str()
    window_days = f.Int()
    groups = f.List(f.Nested(FlagSchema))


class CoverageBeatSchema(ma.Schema):
    id = f.Int()
    code = f.Str()
    name = f.Str()
    district_id = f.Int(allow_none=True)


class BeatCoverageSchema(ma.Schema):
    beat = f.Nested(CoverageBeatSchema, allow_none=True)
    groups = f.Int()
    groups_reached = f.Int()
    share_reached = f.Float(allow_none=True)
    contacts = f.Int()
    proactive_share = f.Float(allow_none=True)
    contacts_receptive = f.Int()
    contacts_wary_hostile = f.Int()
    contacts_other = f.Int()


class OfficerCoverageSchema(ma.Schema):
    officer = f.Nested(OfficerRef)
    contacts = f.Int()
    groups_reached = f.Int()
    proactive_share = f.Float(allow_none=True)
    contacts_receptive = f.Int()
    contacts_wary_hostile = f.Int()
    comfort_zone_index = f.Float(allow_none=True)
    comfort_zone = f.Bool()


class CoverageSchema(ma.Schema):
    as_of = f.Str()
    window_days = f.Int()
    beats = f.List(f.Nested(BeatCoverageSchema))
    officers = f.List(f.Nested(OfficerCoverageSchema))


class StepSchema(ma.Schema):
    kind = f.Str()
    id = f.Int()
    name = f.Str(allow_none=True)


class ChainSchema(ma.Schema):
    officer = f.Nested(Ref)
    steps = f.List(f.Nested(StepSchema))
    hops = f.Int()
    stage = f.Str()
    last_contact_at = f.Str()


class IntroductionsSchema(ma.Schema):
    computed = f.Nested(ComputedSchema)
    target = f.Nested(Ref)
    chains = f.List(f.Nested(ChainSchema))
