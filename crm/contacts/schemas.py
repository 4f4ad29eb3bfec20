"""Contact and follow-up API schemas."""

from __future__ import annotations

import marshmallow as ma

from crm.api.common import UTCDateTime, VersionedSchema
from crm.stakeholders.schemas import valid_email
from crm.timezones import local_today
from crm.vocab import CHANNELS, ENFORCEMENT, INITIATED_BY, STAGES, TECHNIQUES

OneOf = ma.validate.OneOf
Length = ma.validate.Length


class ContactSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    occurred_at = UTCDateTime(dump_only=True)
    beat_id = ma.fields.Int(dump_only=True, allow_none=True)
    beat = ma.fields.Function(lambda c: c.beat.code if c.beat else None, dump_only=True,
                              allow_none=True)
    place = ma.fields.Str(dump_only=True)
    channel = ma.fields.Str(dump_only=True)
    initiated_by = ma.fields.Str(dump_only=True)
    purpose = ma.fields.Str(dump_only=True)
    techniques = ma.fields.List(ma.fields.Str(), dump_only=True)
    stage_after = ma.fields.Str(dump_only=True, allow_none=True)
    enforcement = ma.fields.Str(dump_only=True)
    note = ma.fields.Str(dump_only=True)
    follow_up_on = ma.fields.Date(dump_only=True, allow_none=True)
    follow_up_note = ma.fields.Str(dump_only=True)
    follow_up_done_at = UTCDateTime(dump_only=True, allow_none=True)
    follow_up_done_by_id = ma.fields.Int(dump_only=True, allow_none=True)
    logged_by_id = ma.fields.Int(dump_only=True)
    idempotency_key = ma.fields.Str(dump_only=True, allow_none=True)
    officer_ids = ma.fields.Function(lambda c: [link.user_id for link in c.officer_links],
                                     dump_only=True)
    stakeholder_ids = ma.fields.Function(
        lambda c: [link.stakeholder_id for link in c.stakeholder_links], dump_only=True)
    groups = ma.fields.Function(
        lambda c: [{"id": link.group_id, "name": link.group.name} for link in c.group_links],
        dump_only=True, metadata={"type": "array", "items": {
            "type": "object", "properties": {"id": {"type": "integer"},
                                             "name": {"type": "string"}}}})


class NewStakeholderSchema(ma.Schema):
    name = ma.fields.Str(required=True, validate=Length(min=1, max=200))
    phone = ma.fields.Str(allow_none=True, validate=Length(max=40))
    email = ma.fields.Str(allow_none=True, validate=[Length(max=254), valid_email])


class ContactCreateSchema(ma.Schema):
    idempotency_key = ma.fields.Str(validate=Length(min=8, max=64), metadata={
        "description": "Made by the client once per contact (a UUID). Sending the same key "
                       "again returns the first contact (200) instead of creating another."})
    occurred_at = UTCDateTime(metadata={
        "description": "Defaults to now. An offset is honoured; without one the time is the "
                       "department's local time (a time the clocks skipped is refused, one "
                       "they repeated is the first). Answers carry the local offset."})
    beat_id = ma.fields.Int(allow_none=True, metadata={
        "description": "Defaults to the officer's first current beat."})
    place = ma.fields.Str(load_default="", validate=Length(max=200))
    channel = ma.fields.Str(required=True, validate=OneOf(CHANNELS))
    initiated_by = ma.fields.Str(required=True, validate=OneOf(INITIATED_BY))
    purpose = ma.fields.Str(load_default="", validate=Length(max=200))
    techniques = ma.fields.List(ma.fields.Str(validate=OneOf(TECHNIQUES)), load_default=list)
    stage_after = ma.fields.Str(allow_none=True, validate=OneOf(STAGES))
    enforcement = ma.fields.Str(load_default="none", validate=OneOf(ENFORCEMENT))
    note = ma.fields.Str(load_default="", validate=Length(max=2000), metadata={
        "description": "Engagement record, not intelligence: no suspicion, religion, politics "
                       "or ethnicity."})
    follow_up_on = ma.fields.Date(allow_none=True)
    follow_up_note = ma.fields.Str(load_default="", validate=Length(max=300))
    stakeholder_ids = ma.fields.List(ma.fields.Int(), load_default=list)
    group_ids = ma.fields.List(ma.fields.Int(), load_default=list)
    officer_ids = ma.fields.List(ma.fields.Int(), load_default=list,
                                 metadata={"description": "Co-officers besides the caller"})
    new_stakeholder = ma.fields.Nested(NewStakeholderSchema, allow_none=True, metadata={
        "description": "A person met for the first time, created with the contact."})


class ContactUpdateSchema(ma.Schema):
    version_id = ma.fields.Int(required=True)
    place = ma.fields.Str(validate=Length(max=200))
    purpose = ma.fields.Str(validate=Length(max=200))
    note = ma.fields.Str(validate=Length(max=2000))
    follow_up_on = ma.fields.Date(allow_none=True)
    follow_up_note = ma.fields.Str(validate=Length(max=300))


class ContactQuerySchema(ma.Schema):
    officer = ma.fields.Int(metadata={"description": "User id of an officer who took part"})
    beat = ma.fields.Str(metadata={"description": "Beat code"})
    group = ma.fields.Int(metadata={"description": "Group id"})
    stakeholder = ma.fields.Int(metadata={"description": "Stakeholder id"})
    date_from = ma.fields.Date(data_key="from", metadata={"description": "On or after (local date)"})
    date_to = ma.fields.Date(data_key="to", metadata={"description": "On or before (local date)"})
    initiated_by = ma.fields.Str(validate=OneOf(INITIATED_BY))


class FollowUpQuerySchema(ma.Schema):
    beat = ma.fields.Str(metadata={"description": "A beat code you work: that beat's follow-ups "
                                                  "instead of yours"})
    days = ma.fields.Int(load_default=30, validate=ma.validate.Range(min=0, max=366),
                         metadata={"description": "How far ahead to list"})


def _status(c) -> str:
    today = local_today()
    if c.follow_up_done_at is not None:
        return "done"
    return "overdue" if c.follow_up_on < today else ("today" if c.follow_up_on == today
                                                      else "upcoming")


class FollowUpSchema(ma.Schema):
    contact_id = ma.fields.Int(attribute="id", dump_only=True)
    follow_up_on = ma.fields.Date(dump_only=True)
    follow_up_note = ma.fields.Str(dump_only=True)
    status = ma.fields.Function(_status, dump_only=True, metadata={
        "enum": ["overdue", "today", "upcoming", "done"]})
    follow_up_done_at = UTCDateTime(dump_only=True, allow_none=True)
    occurred_at = UTCDateTime(dump_only=True)
    beat = ma.fields.Function(lambda c: c.beat.code if c.beat else None, dump_only=True,
                              allow_none=True)
    groups = ma.fields.Function(
        lambda c: [{"id": link.group_id, "name": link.group.name} for link in c.group_links],
        dump_only=True)
    version_id = ma.fields.Int(dump_only=True)
