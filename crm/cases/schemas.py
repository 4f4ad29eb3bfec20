"""Marshmallow schemas of the cases API (and the OpenAPI document built from them)."""

import marshmallow as ma

from crm.api.common import UTCDateTime, VersionedSchema
from crm.vocab import (
    ACTION_STATUSES,
    CASE_STAGES,
    IDEA_STATUSES,
    OWNER_KINDS,
    PARTICIPANT_KINDS,
    PARTICIPANT_ROLES,
)

OneOf = ma.validate.OneOf


# Display names are worked out by the API view for its caller (who may see which person) and
# handed over as attributes of the dumped object (`name`, `proposed_by_name`, `owner_name`):
# a schema never reads per-request state. An object without them dumps no name at all.
NAME_HELP = "Display name; null for a person the caller may not see."


class ParticipantSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    kind = ma.fields.Str(required=True, validate=OneOf(PARTICIPANT_KINDS))
    role = ma.fields.Str(required=True, validate=OneOf(PARTICIPANT_ROLES))
    group_id = ma.fields.Int(allow_none=True)
    stakeholder_id = ma.fields.Int(allow_none=True)
    user_id = ma.fields.Int(allow_none=True)
    agency = ma.fields.Str(load_default="")
    name = ma.fields.Str(dump_only=True, allow_none=True, metadata={"description": NAME_HELP})


class IdeaSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    text = ma.fields.Str(required=True)
    proposed_by_stakeholder_id = ma.fields.Int(allow_none=True)
    proposed_by_group_id = ma.fields.Int(allow_none=True)
    proposed_by_name = ma.fields.Str(dump_only=True, allow_none=True,
                                     metadata={"description": NAME_HELP})
    status = ma.fields.Str(dump_only=True)
    decline_reason = ma.fields.Str(dump_only=True)
    proposer_told_on = ma.fields.Date(dump_only=True, allow_none=True)
    proposer_to_be_told = ma.fields.Function(
        lambda i: i.status == "declined" and i.proposer_told_on is None, dump_only=True)


class IdeaUpdateSchema(ma.Schema):
    version_id = ma.fields.Int(required=True)
    text = ma.fields.Str()
    status = ma.fields.Str(validate=OneOf(IDEA_STATUSES))
    decline_reason = ma.fields.Str()
    proposer_told_on = ma.fields.Date()


class ActionSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    description = ma.fields.Str(required=True)
    owner_kind = ma.fields.Str(required=True, validate=OneOf(OWNER_KINDS))
    owner_user_id = ma.fields.Int(allow_none=True)
    owner_stakeholder_id = ma.fields.Int(allow_none=True)
    owner_group_id = ma.fields.Int(allow_none=True)
    owner_agency = ma.fields.Str(load_default="")
    owner_name = ma.fields.Str(dump_only=True, allow_none=True, metadata={"description": NAME_HELP})
    liaison_user_id = ma.fields.Int(allow_none=True)
    due_on = ma.fields.Date(allow_none=True)
    status = ma.fields.Str(load_default="open", validate=OneOf(ACTION_STATUSES))
    outcome = ma.fields.Str(load_default="")
    overdue = ma.fields.Method("get_overdue", dump_only=True)

    def get_overdue(self, a):
        from crm.cases.services import is_overdue
        return is_overdue(a)


class ActionUpdateSchema(ma.Schema):
    version_id = ma.fields.Int(required=True)
    description = ma.fields.Str()
    owner_kind = ma.fields.Str(validate=OneOf(OWNER_KINDS))
    owner_user_id = ma.fields.Int(allow_none=True)
    owner_stakeholder_id = ma.fields.Int(allow_none=True)
    owner_group_id = ma.fields.Int(allow_none=True)
    owner_agency = ma.fields.Str()
    liaison_user_id = ma.fields.Int(allow_none=True)
    due_on = ma.fields.Date(allow_none=True)
    status = ma.fields.Str(validate=OneOf(ACTION_STATUSES))
    outcome = ma.fields.Str()


class MeasureValueSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    measured_on = ma.fields.Date(required=True)
    value = ma.fields.Float(required=True)
    note = ma.fields.Str(load_default="", validate=ma.validate.Length(max=300))


class MeasureSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str(required=True, validate=ma.validate.Length(min=1, max=200))
    unit = ma.fields.Str(load_default="", validate=ma.validate.Length(max=60))
    baseline_value = ma.fields.Float(allow_none=True, load_default=None)
    baseline_on = ma.fields.Date(allow_none=True, load_default=None)
    values = ma.fields.List(ma.fields.Nested(MeasureValueSchema), dump_only=True)


class EventSchema(ma.Schema):
    id = ma.fields.Int()
    at = UTCDateTime()
    actor = ma.fields.Function(lambda e: e.actor.username if e.actor else None, allow_none=True)
    action = ma.fields.Str()
    summary = ma.fields.Str()
    detail = ma.fields.Dict()


class WarningSchema(ma.Schema):
    relation_id = ma.fields.Int()
    co_producer_group_id = ma.fields.Int()
    co_producer_group = ma.fields.Str()
    group_id = ma.fields.Int()
    group = ma.fields.Str()
    issue = ma.fields.Str()
    via = ma.fields.Str()
    message = ma.fields.Str()


class StageDaysSchema(ma.Schema):
    scanning = ma.fields.Float(allow_none=True)
    analysis = ma.fields.Float(allow_none=True)
    response = ma.fields.Float(allow_none=True)
    assessment = ma.fields.Float(allow_none=True)


class FiguresSchema(ma.Schema):
    actions_total = ma.fields.Int()
    actions_community = ma.fields.Int()
    community_action_share = ma.fields.Float(allow_none=True, metadata={
        "description": "Share of actions owned by a stakeholder or group (null: no actions)."})
    contributors = ma.fields.Int(metadata={
        "description": "Distinct stakeholders and groups that proposed ideas or own actions."})
    ideas_total = ma.fields.Int()
    ideas_adopted = ma.fields.Int()
    ideas_adopted_share = ma.fields.Float(allow_none=True)
    days_in_stage = ma.fields.Nested(StageDaysSchema)


class UnitFiguresSchema(FiguresSchema):
    class Meta:
        exclude = ("days_in_stage",)

    cases = ma.fields.Int()
    open_cases = ma.fields.Int()
    mean_days_in_stage = ma.fields.Nested(StageDaysSchema)


class UnitFiguresQuerySchema(ma.Schema):
    member = ma.fields.Int(metadata={"description": "Only the cases this user leads or takes part in"})


class BeatRefSchema(ma.Schema):
    id = ma.fields.Int()
    code = ma.fields.Str()


class CaseSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    title = ma.fields.Str(required=True)
    problem_statement = ma.fields.Str()
    stage = ma.fields.Str(dump_only=True)
    lead_id = ma.fields.Int(allow_none=True)
    lead = ma.fields.Function(lambda c: c.lead.display_name if c.lead else None, dump_only=True)
    beats = ma.fields.List(ma.fields.Nested(BeatRefSchema), dump_only=True)
    opened_on = ma.fields.Date(dump_only=True)
    closed_at = UTCDateTime(dump_only=True, allow_none=True)
    stage_entered_at = UTCDateTime(dump_only=True, allow_none=True)


class SaraTextSchema(ma.Schema):
    """The SARA text fields: the problem analysis triangle, the response and the assessment."""

    place = ma.fields.Str()
    place_managers = ma.fields.Str()
    victim_target = ma.fields.Str()
    guardians = ma.fields.Str()
    offender = ma.fields.Str()
    handlers = ma.fields.Str()
    analysis = ma.fields.Str()
    response_plan = ma.fields.Str()
    assessment = ma.fields.Str()
    community_verdict = ma.fields.Str()


class CaseDetailSchema(CaseSchema, SaraTextSchema):
    participants = ma.fields.List(ma.fields.Nested(ParticipantSchema), dump_only=True)
    ideas = ma.fields.List(ma.fields.Nested(IdeaSchema), dump_only=True)
    actions = ma.fields.List(ma.fields.Nested(ActionSchema), dump_only=True)
    measures = ma.fields.List(ma.fields.Nested(MeasureSchema), dump_only=True)
    contact_ids = ma.fields.List(ma.fields.Int(), dump_only=True, metadata={
        "description": "Linked contacts (what we heard) the caller may see."})
    events = ma.fields.List(ma.fields.Nested(EventSchema), dump_only=True)
    warnings = ma.fields.List(ma.fields.Nested(WarningSchema), dump_only=True)
    figures = ma.fields.Nested(FiguresSchema, dump_only=True)
    allowed_moves = ma.fields.List(ma.fields.Str(), dump_only=True)


class CaseCreateSchema(ma.Schema):
    title = ma.fields.Str(required=True, validate=ma.validate.Length(min=1, max=200))
    problem_statement = ma.fields.Str(load_default="")
    beat_ids = ma.fields.List(ma.fields.Int(), required=True)
    lead_id = ma.fields.Int(allow_none=True, load_default=None)


class CaseUpdateSchema(SaraTextSchema):
    version_id = ma.fields.Int(required=True)
    title = ma.fields.Str(validate=ma.validate.Length(min=1, max=200))
    problem_statement = ma.fields.Str()
    lead_id = ma.fields.Int()
    beat_ids = ma.fields.List(ma.fields.Int())


class TransitionSchema(ma.Schema):
    to = ma.fields.Str(required=True, validate=OneOf(CASE_STAGES))
    reason = ma.fields.Str(load_default=None, allow_none=True)
    version_id = ma.fields.Int(required=True)


class ContactLinkSchema(ma.Schema):
    contact_id = ma.fields.Int(required=True)


class CaseQuerySchema(ma.Schema):
    stage = ma.fields.Str(validate=OneOf(CASE_STAGES))
    beat = ma.fields.Int(metadata={"description": "Beat id"})
    lead = ma.fields.Int(metadata={"description": "Lead (unit member) user id"})
    overdue = ma.fields.Bool(metadata={"description": "Only cases with overdue actions"})
    q = ma.fields.Str(metadata={"description": "Title contains"})


class CaseErrorSchema(ma.Schema):
    code = ma.fields.Int()
    status = ma.fields.Str()
    message = ma.fields.Str()
    errors = ma.fields.Dict()
    current = ma.fields.Dict()
