"""Hand-over API schemas."""

import marshmallow as ma

from crm.handovers.services import MAX_NOTE

NAME = ma.validate.Length(min=1, max=80)


class PlanSchema(ma.Schema):
    officer = ma.fields.Str(required=True, validate=NAME, metadata={"description": "Leaving officer's username"})
    beat = ma.fields.Str(required=True, validate=ma.validate.Length(min=1, max=20),
                         metadata={"description": "Beat code"})
    leaves_on = ma.fields.Date(required=True, metadata={"description": "Last day on the beat"})


class SuccessorSchema(ma.Schema):
    successor = ma.fields.Str(required=True, validate=NAME, metadata={"description": "Username"})
    items = ma.fields.List(ma.fields.Int(), load_default=None, allow_none=True, metadata={
        "description": "Item ids to give (a split); default: every item without a successor"})


class TransferSchema(ma.Schema):
    meet_by = ma.fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "Introductions due by (default: last day)"})


class NoteSchema(ma.Schema):
    note = ma.fields.Str(required=True, validate=ma.validate.Length(max=MAX_NOTE), metadata={
        "description": "Engagement record, not intelligence"})


class ItemSchema(ma.Schema):
    id = ma.fields.Int()
    kind = ma.fields.Str()
    label = ma.fields.Str()
    stage = ma.fields.Str(allow_none=True)
    last_contact_at = ma.fields.Str(allow_none=True)
    channel = ma.fields.Str(allow_none=True)
    language = ma.fields.Str(allow_none=True)
    note = ma.fields.Str()
    hard_to_engage = ma.fields.Bool()
    introduced_by = ma.fields.Str(allow_none=True, metadata={
        "description": "Who introduced the leaving officer to this person or group (their asked-for introduction)"})
    successor = ma.fields.Str(allow_none=True)
    task = ma.fields.Str(allow_none=True, metadata={"description": "The introduction task"})
    done = ma.fields.Bool(allow_none=True)


class HandoverSchema(ma.Schema):
    id = ma.fields.Int()
    beat = ma.fields.Str()
    status = ma.fields.Str()
    reason = ma.fields.Str()
    leaving_officer = ma.fields.Str()
    leaves_on = ma.fields.Str()
    transferred_at = ma.fields.Str(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(ItemSchema))


class RetentionQuerySchema(ma.Schema):
    days = ma.fields.Int(load_default=365, validate=ma.validate.Range(1, 3660),
                         metadata={"description": "Plans transferred in the last `days` days"})


class RetentionSchema(ma.Schema):
    beat = ma.fields.Str()
    handover_id = ma.fields.Int()
    transferred_on = ma.fields.Date()
    relationships = ma.fields.Int()
    within = ma.fields.Dict(keys=ma.fields.Str(), values=ma.fields.Int(),
                            metadata={"description": "Days (30, 60, 90) -> re-established"})
