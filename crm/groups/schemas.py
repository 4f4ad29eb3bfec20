"""API schemas for groups, memberships and relations.

Output schemas dump records (a group is dumped from a `crm.home.services.GroupRow` so it
carries its last contact and stay-in-touch status); input schemas validate request bodies
and query strings, so a bad field is a 422 naming that field.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crm.api.common import UTCDateTime, VersionedSchema
from crm.groups.models import CommunityGroup, GroupRelation
from crm.groups.services import SORTS
from crm.stakeholders.languages import language_name
from crm.vocab import GROUP_KINDS, MEMBERSHIP_ROLES, RELATION_TYPES, STAGES, STANCES

STATUS_LABELS = {"ok": "in touch", "due": "due", "overdue": "overdue"}


def valid_size(value: int | None) -> None:
    """The service's one size rule (`clean_size_estimate`), as a schema validator."""
    from crm.errors import ValidationError
    from crm.groups.services import clean_size_estimate

    try:
        clean_size_estimate(value)
    except ValidationError as e:
        raise ma.ValidationError(e.errors["size_estimate"]) from None


class GroupRefSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str(dump_only=True)


# ---- groups ----------------------------------------------------------------------------

class GroupSchema(ma.Schema):
    """A group as read: its fields, beats, last contact and stay-in-touch status."""

    id = ma.fields.Int(attribute="group.id", dump_only=True)
    name = ma.fields.Str(attribute="group.name", dump_only=True)
    kind = ma.fields.Str(attribute="group.kind", dump_only=True,
                         metadata={"enum": list(GROUP_KINDS)})
    stance = ma.fields.Str(attribute="group.stance", dump_only=True,
                           metadata={"enum": list(STANCES)})
    stage = ma.fields.Str(attribute="group.stage", dump_only=True, metadata={"enum": list(STAGES)})
    size_estimate = ma.fields.Int(attribute="group.size_estimate", allow_none=True, dump_only=True)
    languages = ma.fields.List(ma.fields.Str(), attribute="group.languages", dump_only=True)
    language_names = ma.fields.Function(lambda row: [language_name(v) for v in
                                                     (row.group.languages or [])],
                                        dump_only=True)
    channels = ma.fields.List(ma.fields.Str(), attribute="group.channels", dump_only=True)
    description = ma.fields.Str(attribute="group.description", dump_only=True)
    contact_interval_days = ma.fields.Int(attribute="group.contact_interval_days", dump_only=True)
    beats = ma.fields.List(ma.fields.Str(), attribute="beat_codes", dump_only=True,
                           metadata={"description": "Beat codes"})
    last_contact_at = UTCDateTime(allow_none=True, dump_only=True)
    days_since_contact = ma.fields.Int(attribute="days_since", allow_none=True, dump_only=True,
                                       metadata={"description": "null: never contacted"})
    stay_in_touch = ma.fields.Str(attribute="status", dump_only=True, metadata={
        "enum": ["ok", "due", "overdue"],
        "description": "ok: in touch; due: 80% of the contact interval has passed; "
                       "overdue: past the interval or never contacted"})
    version_id = ma.fields.Int(attribute="group.version_id", dump_only=True, metadata={
        "description": "Send it back on update; a different current version means someone "
                       "else saved first (409)."})
    created_at = UTCDateTime(attribute="group.created_at", dump_only=True)
    updated_at = UTCDateTime(attribute="group.updated_at", dump_only=True)


class GroupInputSchema(ma.Schema):
    name = ma.fields.Str(validate=validate.Length(min=1, max=CommunityGroup.name.type.length))
    kind = ma.fields.Str(validate=validate.OneOf(GROUP_KINDS))
    stance = ma.fields.Str(validate=validate.OneOf(STANCES))
    stage = ma.fields.Str(validate=validate.OneOf(STAGES))
    size_estimate = ma.fields.Int(allow_none=True, validate=valid_size)
    languages = ma.fields.List(ma.fields.Str(validate=validate.Length(max=60)),
                               validate=validate.Length(max=20))
    channels = ma.fields.List(ma.fields.Str(validate=validate.Length(max=60)),
                              validate=validate.Length(max=20))
    description = ma.fields.Str(validate=validate.Length(max=5000))
    contact_interval_days = ma.fields.Int(validate=validate.Range(min=1, max=3650))
    beats = ma.fields.List(ma.fields.Str(), metadata={"description": "Beat codes"})


class GroupCreateSchema(GroupInputSchema):
    name = ma.fields.Str(required=True,
                         validate=validate.Length(min=1, max=CommunityGroup.name.type.length))


class GroupUpdateSchema(GroupInputSchema):
    version_id = ma.fields.Int(required=True, metadata={
        "description": "The version you read; a stale one is refused with 409."})


class GroupQuerySchema(ma.Schema):
    beat = ma.fields.Str(metadata={"description": "Beat code"})
    kind = ma.fields.Str(validate=validate.OneOf(GROUP_KINDS))
    stance = ma.fields.Str(validate=validate.OneOf(STANCES))
    stage = ma.fields.Str(validate=validate.OneOf(STAGES))
    min_days = ma.fields.Int(validate=validate.Range(min=0), metadata={
        "description": "Last contact at least this many days ago (never contacted included)"})
    never = ma.fields.Bool(metadata={"description": "Only groups never contacted"})
    q = ma.fields.Str(metadata={"description": "Name contains"})
    language = ma.fields.Str(validate=validate.Length(min=1, max=40), metadata={
        "description": "Groups that speak this language: a code (`es`) or a name (`Spanish`)"})
    sort = ma.fields.Str(load_default="name", validate=validate.OneOf(SORTS))
    order = ma.fields.Str(load_default="asc", validate=validate.OneOf(("asc", "desc")))


# ---- relations -------------------------------------------------------------------------

class RelationSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    group_a = ma.fields.Nested(GroupRefSchema, dump_only=True)
    group_b = ma.fields.Nested(GroupRefSchema, dump_only=True)
    type = ma.fields.Str(dump_only=True, metadata={"enum": list(RELATION_TYPES)})
    issue = ma.fields.Str(dump_only=True)
    starts_on = ma.fields.Date(allow_none=True, dump_only=True)
    ends_on = ma.fields.Date(allow_none=True, dump_only=True)
    is_current = ma.fields.Bool(dump_only=True)


class RelationCreateSchema(ma.Schema):
    group_a_id = ma.fields.Int(required=True)
    group_b_id = ma.fields.Int(required=True)
    type = ma.fields.Str(required=True, validate=validate.OneOf(RELATION_TYPES))
    issue = ma.fields.Str(load_default="",
                          validate=validate.Length(max=GroupRelation.issue.type.length))
    starts_on = ma.fields.Date(allow_none=True, load_default=None)


class RelationUpdateSchema(ma.Schema):
    type = ma.fields.Str(validate=validate.OneOf(RELATION_TYPES))
    issue = ma.fields.Str(validate=validate.Length(max=GroupRelation.issue.type.length))
    starts_on = ma.fields.Date(allow_none=True)
    ends_on = ma.fields.Date(allow_none=True, metadata={"description": "null reopens it"})
    version_id = ma.fields.Int(required=True)


class RelationEndSchema(ma.Schema):
    ends_on = ma.fields.Date(allow_none=True, load_default=None,
                             metadata={"description": "Defaults to today"})
    version_id = ma.fields.Int(required=True)


class RelationQuerySchema(ma.Schema):
    group_id = ma.fields.Int(metadata={"description": "Relations of this group (either side)"})
    type = ma.fields.Str(validate=validate.OneOf(RELATION_TYPES))
    current = ma.fields.Bool(metadata={"description": "true: current only; false: ended only"})


# ---- memberships -----------------------------------------------------------------------

class MembershipSchema(VersionedSchema):
    id = ma.fields.Int(dump_only=True)
    stakeholder_id = ma.fields.Int(dump_only=True)
    stakeholder_name = ma.fields.Str(allow_none=True, dump_only=True, metadata={
        "description": "null when you may not see this person's name"})
    group = ma.fields.Nested(GroupRefSchema, dump_only=True)
    role = ma.fields.Str(dump_only=True, metadata={"enum": list(MEMBERSHIP_ROLES)})
    starts_on = ma.fields.Date(allow_none=True, dump_only=True)
    ends_on = ma.fields.Date(allow_none=True, dump_only=True)


class MembershipCreateSchema(ma.Schema):
    stakeholder_id = ma.fields.Int(required=True)
    group_id = ma.fields.Int(required=True)
    role = ma.fields.Str(load_default="member", validate=validate.OneOf(MEMBERSHIP_ROLES))
    starts_on = ma.fields.Date(allow_none=True, load_default=None)


class MembershipUpdateSchema(ma.Schema):
    role = ma.fields.Str(validate=validate.OneOf(MEMBERSHIP_ROLES))
    starts_on = ma.fields.Date(allow_none=True)
    ends_on = ma.fields.Date(allow_none=True, metadata={"description": "null reopens it"})
    version_id = ma.fields.Int(required=True)


class MembershipQuerySchema(ma.Schema):
    group_id = ma.fields.Int()
    stakeholder_id = ma.fields.Int()
    role = ma.fields.Str(validate=validate.OneOf(MEMBERSHIP_ROLES))
    current = ma.fields.Bool(metadata={"description": "true: current only; false: ended only"})
