import marshmallow as ma

from crm.evaluation.services import OUTCOMES
from crm.network.schemas import ComputedSchema


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


class PanelQuerySchema(ma.Schema):
    outcome = ma.fields.Str(validate=ma.validate.OneOf(OUTCOMES),
                            metadata={"description": "One outcome; default every pre-registered one"})
    format = ma.fields.Str(load_default="csv", validate=ma.validate.OneOf(("csv", "parquet")))


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
    computed = ma.fields.Nested(ComputedSchema, metadata={
        "description": "when the stored result was computed (a background job works it out)"})


class TrialCreateSchema(ma.Schema):
    name = ma.fields.Str(required=True, validate=ma.validate.Length(1, 120))
    unit = ma.fields.Str(required=True, validate=ma.validate.OneOf(("officer", "beat")))
    strata = ma.fields.Str(load_default="none", validate=ma.validate.OneOf(("district", "none")))
    baseline_start = ma.fields.Date(required=True)
    baseline_end = ma.fields.Date(required=True)
    follow_up_start = ma.fields.Date(required=True)
    follow_up_end = ma.fields.Date(required=True)
    outcomes = ma.fields.List(ma.fields.Str(validate=ma.validate.OneOf(OUTCOMES)), required=True,
                              validate=ma.validate.Length(1, len(OUTCOMES)))
    seed = ma.fields.Int(required=True, validate=ma.validate.Range(0, 2**62 - 1))
    eligible = ma.fields.List(ma.fields.Str(validate=ma.validate.Length(1, 80)), load_default=None,
                              validate=ma.validate.Length(max=5000), metadata={
                                  "description": "Beat codes or usernames; default every unit "
                                                 "with a contact in the baseline"})
    arms_visible_to_supervisors = ma.fields.Bool(load_default=False)


class CrossoverSchema(ma.Schema):
    unit_key = ma.fields.Str(required=True, validate=ma.validate.Length(1, 80))
    kind = ma.fields.Str(required=True, validate=ma.validate.OneOf(
        ("trained_in_control", "untrained_in_treatment", "moved_beat", "other")))
    occurred_on = ma.fields.Date(required=True)
    id = ma.fields.Int(dump_only=True)
