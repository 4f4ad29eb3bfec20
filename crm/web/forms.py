"""What every view needs from the request, in one place.

- `current_actor()` — the signed-in user, passed to services as `actor` (pages and API).
- `client_ip()` — the client's address for the audit trail (ProxyFix, when configured in
  `create_app`, has already put the forwarded address in `request.remote_addr`).
- `apply_errors(form, exc)` — a service `ValidationError` shown on the fields it names.
- `version_of(form)` — the version an edit form started from.
- `conflict_rows(...)` / `conflict_context(...)` — the "what you typed / saved now" table of
  a refused stale edit, rendered by the one `templates/_conflict.html` partial.
- `versioned_edit(...)` — the whole GET/POST edit of a `Versioned` record, with the 409.

Services never see the request: views call these and pass plain values on. Lists page with
`crm.web.paging` and the `pager` macro of `templates/_macros.html`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import FloatField

from crm.errors import ConflictError, ValidationError
from crm.extensions import db
from crm.vocab import label

__all__ = ["STALE_MESSAGE", "FiniteFloatField", "apply_errors", "client_ip", "conflict_context",
           "conflict_rows",
           "current_actor", "show_value", "version_of", "versioned_edit"]

class FiniteFloatField(FloatField):
    """A number field for pages: float() also reads "nan" and "inf", which no one measures
    and which a NOT NULL column (SQLite stores NaN as NULL) or a chart cannot take."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not math.isfinite(self.data):
            self.data = None
            raise ValueError("Enter a number (not nan or infinity).")


STALE_MESSAGE = ("This record was changed by someone else while you saved. "
                 "Nothing was overwritten.")


def current_actor():
    """The signed-in user as a plain `User` (not the proxy), or None when anonymous.

    Works for pages (session cookie) and the API (bearer token through the request loader).
    """
    if not current_user or not current_user.is_authenticated:
        return None
    return current_user._get_current_object()


def client_ip() -> str:
    """The client's address for audit events; "" when unknown (tests, CLI)."""
    return request.remote_addr or ""


# ---- service errors on form fields -----------------------------------------------------------

def apply_errors(form, exc: ValidationError | Mapping[str, list[str]], *,
                 skip: tuple[str, ...] = ()) -> list[str]:
    """Put each message of a service error on the form field it names.

    Messages for names that are not fields of `form` go to `form.form_errors` (shown at the
    top of the form) as "Field name: message", and are also returned, so a template that
    takes a separate `loose_errors` list can show them. Keys in `skip` are left out (a view
    that renders them itself, such as possible duplicates).
    """
    errors = exc.errors if isinstance(exc, ValidationError) else exc
    loose: list[str] = []
    for name, messages in errors.items():
        if name in skip:
            continue
        messages = [messages] if isinstance(messages, str) else list(messages)
        field = form._fields.get(name) if hasattr(form, "_fields") else None
        if field is not None:
            field.errors = list(field.errors) + messages
        else:
            loose.extend(f"{label(name)}: {m}" for m in messages)
    if loose and hasattr(form, "form_errors"):
        form.form_errors = list(form.form_errors) + loose
    return loose


def version_of(form) -> int | None:
    """The `version_id` the form was opened at; None when missing or not a number."""
    try:
        return int(form.version_id.data)
    except (AttributeError, TypeError, ValueError):
        return None


# ---- the conflict (409) table ----------------------------------------------------------------

def show_value(value) -> str:
    """One value as the conflict table shows it: lists joined, dates ISO, empty as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value) or "—"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def conflict_rows(labels: Mapping[str, str], yours: Mapping[str, Any],
                  saved: Mapping[str, Any]) -> list[dict]:
    """Field by field: what the officer typed and what is saved now (keys of `labels`, in order)."""
    rows = []
    for key, text in labels.items():
        if key not in yours and key not in saved:
            continue
        mine, theirs = show_value(yours.get(key)), show_value(saved.get(key))
        rows.append({"field": text, "yours": mine, "saved": theirs, "differs": mine != theirs})
    return rows


def conflict_context(message: str, *, version_id: int | None, labels: Mapping[str, str],
                     yours: Mapping[str, Any], saved: Mapping[str, Any],
                     reload_url: str | None = None, resubmit: bool = True) -> dict:
    """What `_conflict.html` expects as `conflict`.

    `resubmit` says the form below still holds the officer's values at the saved version, so
    sending it again knowingly replaces the saved values; False for one-button actions.
    """
    return {"message": message, "version_id": version_id, "reload_url": reload_url,
            "rows": conflict_rows(labels, yours, saved), "resubmit": resubmit}


# ---- one versioned edit ----------------------------------------------------------------------

def versioned_edit(form, record, *,
                   typed: Callable[[Any], dict],
                   save: Callable[[Any, dict, int | None], Any],
                   reload: Callable[[], Any],
                   snapshot: Callable[[Any], dict],
                   labels: Mapping[str, str],
                   render: Callable[[Any, Any, dict | None], str],
                   done: Callable[[Any], Any],
                   fill: Callable[[Any, Any], None] | None = None,
                   shown: Callable[[dict], dict] | None = None,
                   saved_message: str | None = None,
                   reload_url: str | None = None):
    """GET shows the form filled from `record`; POST saves it unless someone saved first.

    Parameters (all callables get the objects of this request):
      form      a FlaskForm with a `version_id` field, bound to the request
      record    the Versioned record, loaded with the caller's scope checks
      typed     form -> the values the officer sent, as `save` takes them
      save      (record, values, version_id) -> anything; the service call. It raises
                ValidationError (422, messages on the fields) or ConflictError (409)
      reload    () -> the record loaded again after the rollback (same scope checks)
      snapshot  record -> the saved values, by the keys of `labels`
      labels    {key: "Field label"}: the rows of the conflict table, in order
      render    (record, form, conflict) -> the page's HTML
      done      record -> the response after a successful save (usually a 303 redirect)
      fill      (form, record) -> None: fill the form on GET (default `form.process(obj=...)`)
      shown     values -> values as the conflict table should show them (e.g. split lists)

    On a conflict — the version the form started from is stale, or someone committed between
    our check and our UPDATE (StaleDataError) — the transaction is rolled back, the record
    reloaded and the form answered with 409: the officer's values stay in the form, the
    table shows them beside the saved ones, and `version_id` moves to the saved version so
    that sending again knowingly replaces it.
    """
    if not form.is_submitted():
        if fill is not None:
            fill(form, record)
        else:
            form.process(obj=record)
        form.version_id.data = record.version_id
        return render(record, form, None), 200
    if not form.validate():
        return render(record, form, None), 422
    values = typed(form)
    try:
        save(record, values, version_of(form))
        db.session.flush()  # a lost race surfaces here, inside the view, not at the commit
    except ValidationError as e:
        apply_errors(form, e)
        return render(record, form, None), 422
    except (ConflictError, StaleDataError) as e:
        db.session.rollback()
        record = reload()
        message = str(e) if isinstance(e, ConflictError) and str(e) else STALE_MESSAGE
        conflict = conflict_context(
            message, version_id=record.version_id, labels=labels,
            yours=shown(values) if shown else values, saved=snapshot(record),
            reload_url=reload_url or request.path)
        form.version_id.data = record.version_id
        return render(record, form, conflict), 409
    if saved_message:
        flash(saved_message, "success")
    return done(record)
