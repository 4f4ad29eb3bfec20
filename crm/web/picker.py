"""Type-ahead pickers: JSON suggestions and the server's reading of what was typed.

A picker is a plain text field (`templates/_picker.html`) that static/picker.js turns into a
combobox. Without JavaScript the server resolves what was typed: "Name (#12)", "#12" or a bare
id, a beat code, or a name that matches exactly one record the user may see. Several matches
give the field a message naming them, never a guess; nothing outside the user's scope is ever
matched or named.

Suggestions: people come from /stakeholders/search (typo-tolerant, audited); groups, officers
and beats from the endpoints here, each limited to what the user may see.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, jsonify, request, url_for
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import StopValidation

from crm.access import area_beat_ids_select, group_scope, roles_required, stakeholder_scope
from crm.extensions import db
from crm.models import Beat, CommunityGroup, Stakeholder, User
from crm.text import like_escape
from crm.vocab import STAFF_ROLES
from crm.web.forms import current_actor

bp = Blueprint("picker", __name__, url_prefix="/pick")

LIMIT = 12
AMBIGUOUS_SHOWN = 4
# Longer than any name (200) with its " (#id)": such text names nothing, and a huge LIKE
# pattern is refused by SQLite ("pattern too complex") - a 500 for a pasted essay.
MAX_TYPED = 300
MAX_BEATS = 1000  # codes in one beats field (one bound parameter each)
_ID = re.compile(r"^(?:.*\(#(\d{1,9})\)|#?(\d{1,9}))\s*$")



def typed_id(text: str) -> int | None:
    """The id in "Name (#12)", "#12" or "12"; None for anything else."""
    m = _ID.match((text or "").strip())
    return int(m.group(1) or m.group(2)) if m else None


# ---- what each kind of picker may offer ------------------------------------------------------

def people_select(user: User) -> sa.Select:
    return sa.select(Stakeholder.id, Stakeholder.name).where(
        stakeholder_scope(user), Stakeholder.live())


def groups_select(user: User) -> sa.Select:
    return sa.select(CommunityGroup.id, CommunityGroup.name).where(group_scope(user))


def officers_select(user: User | None = None) -> sa.Select:
    return sa.select(User.id, User.display_name).where(User.active.is_(True),
                                                        User.role.in_(STAFF_ROLES))


KINDS: dict[str, tuple[Callable[[User], sa.Select], str]] = {
    "person": (people_select, "person"),
    "group": (groups_select, "group"),
    "officer": (officers_select, "officer"),
}


def _matches(select: sa.Select, text: str, limit: int) -> list[tuple[int, str]]:
    name_col = select.selected_columns[1]
    id_col = select.selected_columns[0]
    exact = [tuple(r) for r in db.session.execute(
        select.where(sa.func.lower(name_col) == text.lower()).order_by(id_col).limit(limit))]
    if exact:
        return exact
    return [tuple(r) for r in db.session.execute(
        select.where(name_col.ilike(f"%{like_escape(text)}%", escape="\\")).order_by(name_col, id_col)
        .limit(limit))]


def resolve(user: User, kind: str, text: str) -> tuple[int | None, str | None]:
    """(id, None) for what was typed, (None, message) when it names nothing or several, and
    (None, None) for an empty field."""
    text = (text or "").strip()
    if not text:
        return None, None
    make_select, noun = KINDS[kind]
    if len(text) > MAX_TYPED:
        return None, f"no {noun} has a name that long (at most {MAX_TYPED} characters)"
    select = make_select(user)
    ident = typed_id(text)
    if ident is not None:
        return ident, None  # the service checks the id is one the user may use
    found = _matches(select, text, AMBIGUOUS_SHOWN + 1)
    if len(found) == 1:
        return found[0][0], None
    if not found:
        return None, f"no {noun} called “{text}” among those you may see"
    shown = ", ".join(f"{name} (#{i})" for i, name in found[:AMBIGUOUS_SHOWN])
    more = " and more" if len(found) > AMBIGUOUS_SHOWN else ""
    return None, (f"several match “{text}”: {shown}{more}. Type the number too, "
                  f"e.g. “#{found[0][0]}”.")


def label_of(user: User, kind: str, ident) -> str:
    """What a picker shows for an id already chosen ("Name (#12)"), or "" when not visible."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        return ""
    select = KINDS[kind][0](user)
    row = db.session.execute(select.where(select.selected_columns[0] == ident)).first()
    return f"{row[1]} (#{row[0]})" if row else ""


def resolve_beats(user: User, text: str, allowed: sa.Select | None) -> tuple[list[int], str | None]:
    """Beat ids for "1622, 1613" (codes, or ids); `allowed` is a select of beat ids or None (all)."""
    codes = [c.strip() for c in re.split(r"[,\s;]+", text or "") if c.strip()]
    if not codes:
        return [], None
    if len(codes) > MAX_BEATS:
        return [], f"at most {MAX_BEATS} beats in one field"
    numbers = [int(c) for c in codes if c.isdigit() and len(c) < 10]
    q = sa.select(Beat.id, Beat.code).where(sa.or_(Beat.code.in_(codes), Beat.id.in_(numbers)))
    if allowed is not None:
        q = q.where(Beat.id.in_(allowed))
    rows = db.session.execute(q).all()
    by_code = {code: bid for bid, code in rows}
    by_id = {str(bid): bid for bid, _ in rows}  # an id from a form sent by an older page
    found = {c: by_code.get(c) or by_id.get(c) for c in codes}
    missing = [c for c in codes if found[c] is None]
    if missing:
        return [], f"no beat {', '.join(missing[:5])} among the beats you may choose"
    return list(dict.fromkeys(found[c] for c in codes)), None


def formdata_with(formdata, values: dict) -> MultiDict:
    """A copy of `formdata` with `values` (field name -> value or list) put in."""
    out = MultiDict(formdata)
    for key, value in values.items():
        if isinstance(value, list | tuple):
            out.setlist(key, [str(v) for v in value])
        else:
            out[key] = "" if value is None else str(value)
    return out


def resolve_fields(user: User, formdata, fields: dict[str, str]) -> tuple[MultiDict, dict[str, str]]:
    """Resolve several picker fields of one form: (form data with ids, {field: message})."""
    values, errors = {}, {}
    for name, kind in fields.items():
        if name not in formdata:
            continue
        ident, message = resolve(user, kind, formdata.get(name, ""))
        values[name] = ident
        if message:
            errors[name] = message
    return formdata_with(formdata, values), errors


# ---- suggestions -----------------------------------------------------------------------------

def _q() -> str:
    return (request.args.get("q") or "").strip()[:100]


def _suggest(select: sa.Select) -> list[dict]:
    q = _q()
    if len(q) < 2:
        return []
    id_col, name_col = select.selected_columns[0], select.selected_columns[1]
    rows = db.session.execute(select.where(name_col.ilike(f"%{like_escape(q)}%", escape="\\"))
                              .order_by(name_col, id_col).limit(LIMIT))
    return [{"id": i, "name": n} for i, n in rows]


@bp.route("/groups.json")
@roles_required(*STAFF_ROLES)
def groups():
    """Groups the user may see whose name contains `q` (names only)."""
    return jsonify(_suggest(groups_select(current_actor())))


@bp.route("/officers.json")
@roles_required(*STAFF_ROLES)
def officers():
    """Active staff whose name contains `q` (the case forms' owner and lead pickers)."""
    return jsonify(_suggest(officers_select()))


@bp.route("/beats.json")
@roles_required(*STAFF_ROLES, "analyst")
def beats():
    """Beats whose code or name contains `q` (beats are public reference data)."""
    q = _q()
    if not q:
        return jsonify([])
    query = sa.select(Beat.id, Beat.code, Beat.name)
    if request.args.get("area"):  # only the beats the user may put a record on
        ids = area_beat_ids_select(current_actor())
        if ids is not None:
            query = query.where(Beat.id.in_(ids))
    rows = db.session.execute(
        query.where(sa.or_(Beat.code.ilike(f"%{like_escape(q)}%", escape="\\"),
                           Beat.name.ilike(f"%{like_escape(q)}%", escape="\\")))
        .order_by(sa.case((Beat.code.ilike(f"{like_escape(q)}%", escape="\\"), 0), else_=1),
                  Beat.code)
        .limit(LIMIT))
    return jsonify([{"id": i, "code": c, "label": f"{c} · {n}"} for i, c, n in rows])


# ---- a form field ----------------------------------------------------------------------------

SUGGEST_ENDPOINTS = {"person": "stakeholders.search", "group": "picker.groups",
                     "officer": "picker.officers", "beat": "picker.beats"}


class PickerField(StringField):
    """A type-ahead picker as a form field: rendered as a text input that static/picker.js
    enhances; `data` is the id (or, `multi` beats, the list of ids) the typed text names.

    What was typed is kept (`raw`) and shown again when the form comes back with a message.
    Ids are resolved here, at validation; the services still check the user may use them.
    """

    def __init__(self, label=None, validators=None, *, kind: str = "person", multi: bool = False,
                 area: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.kind, self.multi, self.area, self.raw = kind, multi, area, None
        self.choices = None  # views may still set choices; a short list becomes the hint
        self._message = None

    def process_formdata(self, valuelist):
        self.raw = ", ".join(v for v in valuelist if v) if self.multi else (valuelist[0] if valuelist else "")
        user = _actor()
        if self.kind == "beat":
            self.data, self._message = resolve_beats(user, self.raw, None)
        elif user is None:
            self.data, self._message = typed_id(self.raw), None
        else:
            self.data, self._message = resolve(user, self.kind, self.raw)
        if self.multi and self.kind != "beat":
            self.data = [] if self.data is None else [self.data]

    def pre_validate(self, form):
        if self._message:
            raise StopValidation(self._message)

    def _value(self) -> str:
        if self.raw is not None:
            return self.raw
        if self.data in (None, "", []):
            return ""
        if self.kind == "beat":
            ids = self.data if isinstance(self.data, list | tuple) else [self.data]
            codes = dict(db.session.execute(sa.select(Beat.id, Beat.code).where(Beat.id.in_(ids))).all())
            return ", ".join(codes[i] for i in ids if i in codes)
        user = _actor()
        return label_of(user, self.kind, self.data) if user is not None else str(self.data)

    def __call__(self, **kwargs):
        kwargs.setdefault("data-picker-url", url_for(SUGGEST_ENDPOINTS[self.kind],
                                                     **({"area": 1} if self.area else {})))
        if self.kind == "beat":
            kwargs.setdefault("data-picker-value", "code")
            kwargs.setdefault("data-picker-min", "1")
        if self.multi:
            kwargs.setdefault("data-picker-multi", "1")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("spellcheck", "false")
        kwargs.setdefault("placeholder", "Type a code, e.g. 1622" if self.kind == "beat"
                          else "Type a name, or its #number")
        return super().__call__(**kwargs)


def _actor() -> User | None:
    from flask_login import current_user

    return current_user._get_current_object() if current_user.is_authenticated else None
