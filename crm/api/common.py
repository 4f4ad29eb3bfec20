"""Pieces every API module uses: pagination, version checks, shared schemas."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
import sqlalchemy as sa

from crm.errors import ConflictError
from crm.extensions import db


class UTCDateTime(ma.fields.DateTime):
    """Timestamps are stored as naive UTC; the API speaks RFC 3339 with an explicit zone.

    Output always ends in "Z"; input may carry any offset (converted to UTC) or none (taken as UTC).
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"

    def _deserialize(self, value, attr, data, **kwargs):
        dt = super()._deserialize(value, attr, data, **kwargs)
        if dt.tzinfo is not None:
            dt = dt.astimezone(UTC).replace(tzinfo=None)
        return dt


class Ref(ma.Schema):
    """A reference to another record: its id and a display name."""

    id = ma.fields.Int(required=True)
    name = ma.fields.Str(required=True)


class VersionedSchema(ma.Schema):
    version_id = ma.fields.Int(dump_only=True, metadata={
        "description": "Send it back on update; a different current version means someone "
                       "else saved first (409)."})
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


def paginate(query: sa.Select, pagination_parameters) -> list:
    """Apply flask-smorest's page/page_size and report the total for the X-Pagination header."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    pagination_parameters.item_count = total
    page, size = pagination_parameters.page, pagination_parameters.page_size
    if (page - 1) * size >= max(total, 1):
        return []  # past the end (also keeps absurd page numbers away from the database)
    return list(db.session.scalars(query.limit(size).offset((page - 1) * size)))


def check_version(obj, sent_version: int | None, dump) -> None:
    """Refuse a stale update, returning the current record so the client can show both."""
    if sent_version is not None and sent_version != obj.version_id:
        raise ConflictError(
            f"{type(obj).__name__} {obj.id} was changed by someone else (now version "
            f"{obj.version_id}, you edited version {sent_version}).", current=dump(obj))
