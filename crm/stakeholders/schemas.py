"""Stakeholder API schemas. Lists carry names only; personal fields come with a read."""

from __future__ import annotations

import marshmallow as ma

from crm.api.common import VersionedSchema
from crm.stakeholders.languages import language_name
from crm.vocab import CONSENT_STATUSES, MEMBERSHIP_ROLES, STAGES, SUBJECT_CATEGORIES

OneOf = ma.validate.OneOf
Length = ma.validate.Length


def valid_email(value: str | None) -> None:
    """The service's one email rule (`check_email`), as a schema validator."""
    from crm.errors import ValidationError
    from crm.stakeholders.services import check_email

    if value:
        try:
            check_email(value)
        except ValidationError as e:
            raise ma.ValidationError(e.errors["email"]) from None


class MembershipRefSchema(ma.Schema):
    group_id = ma.fields.Int()
    group = ma.fields.Function(lambda m: m.group.name)
    role = ma.fields.Str()


class StakeholderSummarySchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str(dump_only=True)
    stage = ma.fields.Str(dump_only=True)
    version_id = ma.fields.Int(dump_only=True)


class StakeholderSchema(VersionedSchema):
    """A person with their personal fields (reading one is recorded in the audit trail)."""

    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str()
    phone = ma.fields.Str(allow_none=True)
    email = ma.fields.Str(allow_none=True)
    language = ma.fields.Str(allow_none=True, metadata={
        "description": "A language code such as `es` (a known name is stored as its code)."})
    language_name = ma.fields.Function(lambda s: language_name(s.language) or None,
                                       dump_only=True)
    interpreter_needed = ma.fields.Bool()
    data_subject_category = ma.fields.Str()
    consent_status = ma.fields.Str()
    consent_on = ma.fields.Date(allow_none=True)
    consent_method = ma.fields.Str(allow_none=True)
    consent_purpose = ma.fields.Str(allow_none=True)
    review_on = ma.fields.Date(allow_none=True)
    stage = ma.fields.Str()
    merged_into_id = ma.fields.Int(dump_only=True, allow_none=True)
    memberships = ma.fields.List(ma.fields.Nested(MembershipRefSchema), dump_only=True)


class _Fields(ma.Schema):
    phone = ma.fields.Str(allow_none=True, validate=Length(max=40))
    email = ma.fields.Str(allow_none=True, validate=[Length(max=254), valid_email])
    language = ma.fields.Str(allow_none=True, validate=Length(max=40))
    interpreter_needed = ma.fields.Bool(metadata={
        "description": "Meeting this person needs an interpreter."})
    data_subject_category = ma.fields.Str(validate=OneOf(SUBJECT_CATEGORIES))
    consent_status = ma.fields.Str(validate=OneOf(CONSENT_STATUSES))
    consent_on = ma.fields.Date(allow_none=True)
    consent_method = ma.fields.Str(allow_none=True, validate=Length(max=80))
    consent_purpose = ma.fields.Str(allow_none=True, validate=Length(max=200))
    review_on = ma.fields.Date(allow_none=True, metadata={
        "description": "Retention: past this date the record must be reviewed."})


class StakeholderCreateSchema(_Fields):
    name = ma.fields.Str(required=True, validate=Length(min=1, max=200))
    group_id = ma.fields.Int(allow_none=True, metadata={
        "description": "First membership; required for everyone but administrators."})
    role = ma.fields.Str(load_default="member", validate=OneOf(MEMBERSHIP_ROLES))
    allow_duplicate = ma.fields.Bool(load_default=False, metadata={
        "description": "Create even if a similar person with the same phone, email or group "
                       "exists (otherwise 422 listing them under `duplicates`)."})


class StakeholderUpdateSchema(_Fields):
    version_id = ma.fields.Int(required=True)
    name = ma.fields.Str(validate=Length(min=1, max=200))
    stage = ma.fields.Str(validate=OneOf(STAGES))


class StakeholderQuerySchema(ma.Schema):
    q = ma.fields.Str(metadata={"description": "Name, phone or email; tolerant of typos."})
    group = ma.fields.Int(metadata={"description": "Members of this group id"})
    language = ma.fields.Str(validate=Length(min=1, max=40), metadata={
        "description": "People who speak this language: a code (`es`) or a name (`Spanish`)."})


class MergeSchema(ma.Schema):
    into_id = ma.fields.Int(required=True, metadata={"description": "The person to keep"})


class MergeResultSchema(ma.Schema):
    from_id = ma.fields.Int()
    into_id = ma.fields.Int()
    memberships_moved = ma.fields.Int()
    memberships_deduplicated = ma.fields.Int()
    contacts_moved = ma.fields.Int()
    contacts_deduplicated = ma.fields.Int()
    stage_changes_moved = ma.fields.Int()
    case_links_moved = ma.fields.Int()
    fields_filled = ma.fields.List(ma.fields.Str())
