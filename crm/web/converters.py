"""Bounds on what a request may carry, checked once at the boundary for pages and API alike.

- `<id:name>` in route rules: a record id, 1 to 2**31 - 1 (ids are INTEGER columns, 32 bits
  on PostgreSQL). Anything else in that segment does not match the route: 404, never an
  overflow in the database driver.
- No NUL character in the path, query string or form fields (PostgreSQL text cannot hold it).
- The last line: a value the database still refuses (a number, date or text out of its
  range that a form or query argument let through) is a 400 naming the problem, not a 500.
  The API's schemas bound their fields themselves (`crm.api.common`); HTML list pages bound
  the page number in `crm.web.paging.page_arg`.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1

OUT_OF_RANGE = ("A number, date or text in the request is outside what can be stored "
                "(too large, too long or not a real date). Nothing was saved.")


class IdConverter(IntegerConverter):
    """A record id in a URL: 1 to MAX_ID, at most 10 digits (so no huge int is ever built)."""

    regex = r"\d{1,10}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def reject_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL: refuse it in any path, query or form value up front."""
    if "\x00" in request.path:
        raise BadRequest("The address contains a NUL character.")
    for where, values in (("query string", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                raise BadRequest(f"{name.replace(chr(0), '')}: must not contain NUL characters "
                                 f"(in the {where}).")


def _out_of_range(e: Exception):
    """Bad data the database (or the date library) refused: the caller's mistake, a 400."""
    from crm.extensions import db

    db.session.rollback()
    current_app.logger.warning("refused out-of-range input on %s %s: %s", request.method,
                               request.path, type(e).__name__)
    if request.path.startswith("/api/") or \
            request.accept_mimetypes.best == "application/json":
        return jsonify(code=400, status="Bad Request", message=OUT_OF_RANGE), 400
    return render_template("error.html", code=400, message=OUT_OF_RANGE), 400


def register_input_bounds(app: Flask) -> None:
    """Call before the blueprints are registered: their rules use the `id` converter."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(reject_nul_characters)
    # sqlite3 raises OverflowError for an int past 64 bits; dates past year 9999 or before
    # year 1 (after a time-zone shift) raise it too. PostgreSQL raises DataError.
    app.register_error_handler(DataError, _out_of_range)
    app.register_error_handler(OverflowError, _out_of_range)
