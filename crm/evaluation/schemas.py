import marshmallow as ma

from crm.evaluation.services import OUTCOMES


class TrialUnitSchema(ma.Schema):
    unit = ma.fields.Str(metadata={"description": "Beat code or username (a pseudonym for analysts)"})
    arm = ma.fields.Str(allow_none=True, metadata={"description": "treatment or control; null when hidden"})
    stratum = ma.fields.Str()


class TrialSchema(ma.Schema):
    id = ma.fields.Int()
    name = ma.fields.Str()
    unit = ma.fields.Str()
    strata = ma.fields.Str()
    baseline_start = ma.fields.Date()
    baseline_end = ma.fields.Date()
    follow_up_start = ma.fields.Date()
    follow_up_end = ma.fields.Date()
    outcomes = ma.fields.List(ma.fields.Str())
    seed = ma.fields.Int()
    design_hash = ma.fields.Str(allow_none=True)


class TrialShowSchema(ma.Schema):
    name = ma.fields.Str()
    unit = ma.fields.Str()
    seed = ma.fields.Int()
    design_hash = ma.fields.Str(allow_none=True)
    design_changed = ma.fields.Bool()
    units = ma.fields.List(ma.fields.Nested(TrialUnitSchema))


class AnalysisQuerySchema(ma.Schema):
    outcome = ma.fields.Str(required=True, validate=ma.validate.OneOf(OUTCOMES))


class AnalysisSchema(ma.Schema):
    outcome = ma.fields.Str()
    estimate = ma.fields.Float(allow_none=True)
    ci_low = ma.fields.Float(allow_none=True)
    ci_high = ma.fields.Float(allow_none=True)
    se = ma.fields.Float(allow_none=True)
    n_units = ma.fields.Int()
    n_treatment = ma.fields.Int()
    n_control = ma.fields.Int()
    periods = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.List(ma.fields.Str()))
