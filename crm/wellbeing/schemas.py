import marshmallow as ma

from crm.api.common import UTCDateTime


class CheckinSchema(ma.Schema):
    """One of the caller's own check-ins; nobody else can read it."""

    id = ma.fields.Int(dump_only=True)
    occurred_at = UTCDateTime(load_default=None, allow_none=True, metadata={
        "description": "When the hard contact happened (naive UTC); default now."})
    stress_level = ma.fields.Int(required=True, validate=ma.validate.Range(1, 5), metadata={
        "description": "1 (calm) to 5 (very stressed)"})
    boundary_crossed = ma.fields.Bool(load_default=False)
    coping = ma.fields.Str(load_default="", validate=ma.validate.Length(max=2000), metadata={
        "description": "What helped (free text, private)"})
    debrief_wanted = ma.fields.Bool(load_default=False)
    contact_id = ma.fields.Int(load_default=None, allow_none=True, metadata={
        "description": "Optional: a contact the caller took part in"})
    created_at = UTCDateTime(dump_only=True)


class AggregateQuerySchema(ma.Schema):
    days = ma.fields.Int(load_default=30, validate=ma.validate.Range(1, 366),
                         metadata={"description": "Window in days, ending today"})


class AggregateSchema(ma.Schema):
    """Totals over the window; empty unless at least 5 officers contributed."""

    days = ma.fields.Int()
    since = ma.fields.Date()
    shown = ma.fields.Bool(metadata={"description": "False when fewer than 5 officers "
                                                    "contributed; then only `message` is set"})
    message = ma.fields.Str()
    checkins = ma.fields.Int(allow_none=True)
    officers = ma.fields.Int(allow_none=True)
    mean_stress = ma.fields.Float(allow_none=True)
    share_boundary_crossed = ma.fields.Float(allow_none=True)
    debriefs_wanted = ma.fields.Int(allow_none=True)
