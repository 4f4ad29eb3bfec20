"""Pieces every API module uses: the blueprint class, input bounds, pagination, version
checks, shared schemas.

Bounds on input live here, once for every endpoint: each API module makes its blueprint
with `Blueprint` below, whose argument parser refuses, before any service sees them,

- JSON bodies larger than `MAX_JSON_BYTES` (413) or nested deeper than `MAX_JSON_DEPTH` (400);
- lists longer than `MAX_LIST_ITEMS`, integers outside PostgreSQL's INTEGER, dates outside
  `DATE_MIN`..`DATE_MAX`, and text with NUL characters or lone surrogates (422, naming the
  field), whatever the schema declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import flask_smorest
import marshmallow as ma
import sqlalchemy as sa
from flask import abort
from webargs.flaskparser import FlaskParser

from crm.errors import ConflictError
from crm.extensions import db
from crm.timezones import LocalTimeError, from_local, iso_local

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL INTEGER (SQLite holds 64 bits)
MAX_LIST_ITEMS = 1000
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2999, 12, 31)


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored (NUL or a lone surrogate), or None when it can."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (it contains a lone surrogate)."
    return None


def value_problem(value) -> str | None:
    """Why a loaded value cannot be stored, or None; containers are checked by `bound_errors`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            return f"Must be between {INT_MIN} and {INT_MAX}."
    elif isinstance(value, str):
        return text_problem(value)
    elif isinstance(value, date):  # datetimes too
        day = value.date() if isinstance(value, datetime) else value
        if not DATE_MIN <= day <= DATE_MAX:
            return f"Must be a date from {DATE_MIN} to {DATE_MAX}."
    elif isinstance(value, (list, tuple, set, frozenset)) and len(value) > MAX_LIST_ITEMS:
        return f"At most {MAX_LIST_ITEMS} items."
    return None


def bound_errors(data) -> dict:
    """Messages for every value in `data` (nested dicts and lists) that breaks a bound, keyed
    like marshmallow's (field name, then list index). Iterative: depth is no risk here."""
    errors: dict = {}
    stack = [((), data)]
    while stack:
        path, value = stack.pop()
        problem = value_problem(value)
        if problem is None and isinstance(value, Mapping):
            for key, item in value.items():
                key_problem = text_problem(key) if isinstance(key, str) else None
                if key_problem:
                    problem = f"A field name is not valid: {key_problem}"
                    break
                stack.append(((*path, key), item))
        elif problem is None and isinstance(value, (list, tuple)):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        if problem:
            node = errors
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node.setdefault(path[-1] if path else "_schema", []).append(problem)
    return errors


def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict)
                                                  else value))
    return False


class BoundedParser(FlaskParser):
    """webargs' Flask parser with the bounds above applied to every schema it loads."""

    def _raw_load_json(self, req):
        if len(req.get_data(cache=True)) > MAX_JSON_BYTES:
            abort(413, f"The JSON body is larger than {MAX_JSON_BYTES // 1024} KiB.")
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            data = None
        else:
            if not json_depth_exceeds(data):
                return data
        abort(400, f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")

    def _load_location_data(self, *, schema, req, location):
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location == "json":  # before marshmallow walks a million items one by one
            errors = bound_errors(data)
            if errors:
                raise ma.ValidationError(errors)
        return data

    def _process_location_data(self, location_data, schema, req, location, unknown, validators):
        data = super()._process_location_data(location_data, schema, req, location, unknown,
                                              validators)
        errors = bound_errors(data)  # what the fields made of the input: ints, dates
        if errors:
            raise ma.ValidationError(errors)
        return data


def document_bounds(converter, field, ret: dict, **kwargs) -> dict:
    """apispec attribute function: the OpenAPI document states the bounds `BoundedParser`
    enforces on integers and lists (unless the schema states tighter ones), so clients and
    fuzzers see them. Registered on the spec in `crm.api.init_api`."""
    if field.dump_only:
        return {}
    if isinstance(field, ma.fields.Integer):
        return {"minimum": max(ret.get("minimum", INT_MIN), INT_MIN),
                "maximum": min(ret.get("maximum", INT_MAX), INT_MAX)}
    if isinstance(field, ma.fields.List):
        return {"maxItems": min(ret.get("maxItems", MAX_LIST_ITEMS), MAX_LIST_ITEMS)}
    return {}


class Blueprint(flask_smorest.Blueprint):
    """Every API blueprint: flask-smorest's, parsing its arguments within the bounds above."""

    ARGUMENTS_PARSER = BoundedParser()


class UTCDateTime(ma.fields.DateTime):
    """Timestamps are stored as naive UTC; the API speaks RFC 3339 with an explicit offset.

    Output is the department's local time with its offset (crm.timezones; "Z" where the offset
    is zero); input may carry any offset (honoured) or none (taken as local time: a time the
    clocks skipped is refused, a repeated one is the first).
    """

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_local(value)

    def _deserialize(self, value, attr, data, **kwargs):
        dt = super()._deserialize(value, attr, data, **kwargs)
        if not DATE_MIN <= dt.date() <= DATE_MAX:  # also keeps year 1 + offset from overflowing
            raise ma.ValidationError(f"Must be a time from {DATE_MIN} to {DATE_MAX}.")
        try:
            return from_local(dt)
        except LocalTimeError as e:
            raise ma.ValidationError(str(e)) from None


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
