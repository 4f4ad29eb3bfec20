"""Coverage, network and my-beat pages.

The pages read the same documents as the API and the CLI and draw them server-side as inline
SVG (`crm.network.svg`), so they work without map tiles, without internet and without script.
Coverage and hard-to-engage are computed on request; the network layout, factions and
introductions are the latest background results (`crm.network.results`), shown at once with
when they were computed, "refreshing" while a newer one is on its way. Views only parse the
query string and render; caches, the CSV tables and the audit events (`analytics.export`,
`stakeholder.read` for names in introduction chains) live in `crm.network.pages`. The
request is the commit boundary (crm.web).

The package, its blueprint and its templates are all called "network"; the pages keep their
/analytics/ addresses.

- /analytics/coverage (+ .csv): supervisors (their district by default), unit, admin.
- /analytics/network: supervisors, unit, admin, analyst.
- /analytics/my-beat: officers (their beats); supervisors, unit and admin pick a beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from crm.access import beat_ids_select, roles_required
from crm.audit.reads import note_read
from crm.extensions import db
from crm.models import User
from crm.network import pages
from crm.network.pages import BeatRow, DistrictRow
from crm.network.services import compute
from crm.timezones import local_today
from crm.vocab import STAFF_ROLES
from crm.web.forms import client_ip, current_actor

# Addresses stay /analytics/ (bookmarks, and the API's /api/v1/analytics/).
bp = Blueprint("network", __name__, url_prefix="/analytics")

COVERAGE_ROLES = ("supervisor", "unit", "admin")
NETWORK_ROLES = ("supervisor", "unit", "admin", "analyst")
MY_BEAT_ROLES = STAFF_ROLES
# Roles that may open group and stakeholder pages (analysts have no record pages).
RECORD_ROLES = STAFF_ROLES
WINDOWS = (30, 60, 90, 180, 365)
MAX_NETWORK_GROUPS = 400  # beyond this a spring layout is neither fast nor readable
HARD_LIST_SIZE = 50  # rows of the hard-to-engage list on the page (the CSV has all)
FACTION_COLOURS = 8
COVERAGE_LEGEND = [("cov-none", "no groups"), ("cov-0", "0–19 %"), ("cov-1", "20–39 %"),
                   ("cov-2", "40–59 %"), ("cov-3", "60–79 %"), ("cov-4", "80–100 %")]


# ---------------------------------------------------------------- filters


class PlaceForm(FlaskForm):
    """District and beat filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    district = SelectField("District", validators=[Optional()])
    beat = SelectField("Beat", validators=[Optional()])


class ScopeForm(PlaceForm):
    """Coverage filters: the place and the contact window ending on `as_of`."""

    days = SelectField("Window", coerce=int, default=90,
                       choices=[SelectChoice(d, f"{d} days") for d in WINDOWS])
    as_of = DateField("As of", validators=[Optional()])


class NetworkForm(PlaceForm):
    min_shared = IntegerField("Shared members at least", default=2,
                              validators=[Optional(), NumberRange(min=1, max=10000)])


@dataclass
class Scope:
    """What a page shows: the beats on the map and the beats the tables are limited to."""

    district: DistrictRow | None
    beat: BeatRow | None
    days: int
    as_of: date
    as_of_given: bool
    map_beats: list[BeatRow]
    beat_ids: list[int] | None  # tables: None means every beat
    district_arg: str = ""
    window: bool = True  # the page has a contact window (days, as_of)
    extra: dict = field(default_factory=dict)

    def args(self, **over) -> dict:
        """Query-string arguments that reproduce this scope (for links and the CSV)."""
        a = {"district": self.district_arg, "days": self.days if self.window else None}
        if self.beat:
            a["beat"] = self.beat.code
        if self.as_of_given:
            a["as_of"] = self.as_of.isoformat()
        a.update(self.extra)
        a.update(over)
        return {k: v for k, v in a.items() if v is not None}


def _scope(form: PlaceForm, user: User, beats: list[BeatRow], districts: list[DistrictRow],
           *, default_own_district: bool) -> Scope | None:
    """Fill the form's choices, apply role defaults and validate; None when invalid."""
    by_code = {d.code: d for d in districts}
    district_code = request.args.get("district")
    if district_code is None and default_own_district and user.district_id is not None:
        district_code = next((d.code for d in districts if d.id == user.district_id), "")
        form.district.data = district_code
    district = by_code.get(district_code or "")
    form.district.choices = [SelectChoice("", "All districts")] + [
        SelectChoice(d.code, f"{d.code} · {d.name}") for d in districts]
    in_district = [b for b in beats if district is None or b.district_id == district.id]
    form.beat.choices = [SelectChoice("", "Whole district" if district else "All beats")] + [
        SelectChoice(b.code, f"{b.code} · {b.name}") for b in in_district]
    if not form.validate():
        return None
    beat = next((b for b in beats if b.code == form.beat.data), None) if form.beat.data else None
    if beat is not None:
        map_district = district or next((d for d in districts if d.id == beat.district_id), None)
    else:
        map_district = district
    map_beats = [b for b in beats if map_district is None or b.district_id == map_district.id]
    if beat is not None:
        beat_ids = [beat.id]
    elif district is not None:
        beat_ids = [b.id for b in in_district]
    else:
        beat_ids = None
    days = getattr(form, "days", None)
    as_of = getattr(form, "as_of", None)
    as_of = as_of.data if as_of is not None else None
    return Scope(district=district, beat=beat, days=(days.data if days else None) or 90,
                 as_of=as_of or local_today(), as_of_given=as_of is not None,
                 map_beats=map_beats, beat_ids=beat_ids, district_arg=district_code or "",
                 window=days is not None)


# ---------------------------------------------------------------- coverage


def _coverage_docs(scope: Scope) -> tuple[dict, dict, dict]:
    map_ids = None if scope.district is None and scope.beat is None else [b.id for b in scope.map_beats]
    return pages.coverage_docs(as_of=scope.as_of, days=scope.days, map_beat_ids=map_ids,
                               table_beat_ids=scope.beat_ids)


def _table_beats(scope: Scope) -> list[BeatRow]:
    if scope.beat_ids is None:
        return scope.map_beats
    wanted = set(scope.beat_ids)
    return [b for b in scope.map_beats if b.id in wanted]


def _read_scope(form_class: type[PlaceForm], user: User) -> tuple[PlaceForm, Scope | None]:
    """The page's filter form from the query string and the scope it asks for (None: invalid).
    Supervisors start on their own district."""
    form = form_class(formdata=request.args)
    return form, _scope(form, user, *pages.geography(),
                        default_own_district=user.role == "supervisor")


def _form_errors_page(template: str, form: FlaskForm, **ctx):
    return render_template(template, form=form, scope=None, invalid=True, **ctx), 422


@bp.route("/coverage")
@roles_required(*COVERAGE_ROLES)
def coverage():
    user = current_actor()
    form, scope = _read_scope(ScopeForm, user)
    if scope is None:
        return _form_errors_page("network/coverage.html", form)
    map_doc, table_doc, hard = _coverage_docs(scope)
    for name in ("coverage", "hard-to-engage"):  # as the API notes them, once a minute
        note_read(user, "analytics.read", "analytics", name, client_ip())
    where = tuple(sorted(scope.args().items()))
    return render_template(
        "network/coverage.html", form=form, scope=scope,
        map_html=pages.kept_fragment(map_doc, ("map", where), lambda: _coverage_map(scope, map_doc)),
        officers_html=pages.kept_fragment(
            table_doc, ("officers", where, user.id, user.role, user.district_id),
            lambda: render_template("network/_coverage_officers.html", scope=scope,
                                    officers=pages.officer_rows(table_doc))),
        beat_rows=pages.beat_rows(_table_beats(scope), table_doc),
        hard=hard["groups"][:HARD_LIST_SIZE], hard_total=len(hard["groups"]),
        windows=WINDOWS, can_open=user.role in RECORD_ROLES,
        **_assignment_context(user, hard["groups"][:HARD_LIST_SIZE]))


def _coverage_map(scope: Scope, map_doc: dict) -> str:
    bmap = pages.beat_map(scope.map_beats)
    map_rows = pages.beat_rows(scope.map_beats, map_doc)
    missing = set(bmap.missing)
    return render_template(
        "network/_coverage_map.html", scope=scope, bmap=bmap, map_rows=map_rows,
        beat_points=pages.beat_label_points(bmap), beat_font=pages.beat_label_size(bmap),
        no_outline=[r["beat"] for r in map_rows if r["beat"].id in missing],
        legend=COVERAGE_LEGEND)


def _assignment_context(user: User, flags: list[dict]) -> dict:
    """Who is assigned to each hard-to-engage group, and the overdue visits (crm.assignments)."""
    from crm.assignments import services as assignments

    return {"assigned": assignments.open_by_group(user, [f["group"]["id"] for f in flags]),
            "overdue_assignments": assignments.overdue(user),
            "can_assign": user.role in assignments.ASSIGN_ROLES, "today": local_today()}


@bp.route("/coverage.csv")
@roles_required(*COVERAGE_ROLES)
def coverage_csv():
    user = current_actor()
    table = request.args.get("table", "beats")
    if table not in pages.CSV_TABLES:
        abort(404, description=f"no table {table!r}; choose one of {', '.join(pages.CSV_TABLES)}")
    form, scope = _read_scope(ScopeForm, user)
    if scope is None:
        msg = "; ".join(f"{getattr(form, k).label.text}: {', '.join(v)}"
                        for k, v in form.errors.items())
        return Response(msg + "\n", status=422, mimetype="text/plain")
    text = pages.export_coverage_csv(user, table, _table_beats(scope), _coverage_docs(scope),
                                     filters=scope.args(), ip=client_ip())
    name = f"coverage-{table}-{scope.as_of.isoformat()}.csv"
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- network


@bp.route("/network")
@roles_required(*NETWORK_ROLES)
def network():
    user = current_actor()
    form, scope = _read_scope(NetworkForm, user)
    ctx = {"form": form, "max_groups": MAX_NETWORK_GROUPS, "can_open": user.role in RECORD_ROLES}
    if scope is None:
        return render_template("network/network.html", scope=None, invalid=True, **ctx), 422
    min_shared = form.min_shared.data or 2
    scope.extra["min_shared"] = min_shared
    count = pages.group_count(scope.beat_ids)
    if count > MAX_NETWORK_GROUPS:
        return render_template("network/network.html", scope=scope, too_many=count, **ctx)
    picture = pages.network_picture(scope.beat_ids, min_shared)
    note_read(user, "analytics.read", "analytics", "network", client_ip())
    if picture is None:
        return render_template("network/network.html", scope=scope, computing=True, **ctx)
    drawn = pages.drawn_network(picture, ctx["can_open"], lambda: render_template(
        "network/_drawing.html", **_drawing_context(picture, min_shared, ctx["can_open"])))
    return render_template("network/network.html", scope=scope, picture=picture, drawn=drawn,
                           **ctx)


def _drawing_context(picture, min_shared: int, can_open: bool) -> dict:
    """What templates/network/_drawing.html draws (rendered once per stored layout)."""
    nodes = []
    for n in picture.drawing.nodes:
        name, stance = picture.groups[n.id]
        idx = picture.faction_of.get(n.id)
        nodes.append({"node": n, "name": name, "stance": stance, "faction": idx,
                      "cls": "faction-none" if idx is None else f"faction-{idx % FACTION_COLOURS}",
                      "title": f"{name} — {n.members} member{'' if n.members == 1 else 's'}, "
                               f"stance {stance}" + ("" if idx is None else f", faction {idx + 1}")})
    names = {gid: v[0] for gid, v in picture.groups.items()}
    return {"d": picture.drawing, "nodes": nodes, "names": names,
            "edge_counts": _edge_counts(picture.drawing),
            "factions": len({n["faction"] for n in nodes if n["faction"] is not None}),
            "min_shared": min_shared, "faction_colours": FACTION_COLOURS, "can_open": can_open,
            "labelled": pages.network_labels(picture.drawing.nodes, names)}


def _edge_counts(drawing) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in drawing.edges:
        out[e.kind] = out.get(e.kind, 0) + 1
    return out


# ---------------------------------------------------------------- my beat


def _chain_steps(chain: dict, me: User, names: dict[int, str], can_open: bool) -> list[dict]:
    steps = []
    for step in chain["steps"]:
        kind, ident = step["kind"], step["id"]
        if kind == "officer":
            steps.append({"kind": kind, "text": "You" if ident == me.id else (step["name"] or "An officer")})
        elif kind == "stakeholder":
            name = names.get(ident)
            steps.append({"kind": kind, "text": name or "a member",
                          "href": url_for("stakeholders.detail", stakeholder_id=ident)
                          if name and can_open else None})
        else:
            steps.append({"kind": kind, "text": step["name"] or f"Group #{ident}",
                          "href": url_for("groups.show", group_id=ident) if can_open else None})
    return steps


@bp.route("/my-beat")
@roles_required(*MY_BEAT_ROLES)
def my_beat():
    user = current_actor()
    if user.role in ("officer", "supervisor"):
        allowed = set(db.session.scalars(beat_ids_select(user)))
        beats = [b for b in pages.beats() if b.id in allowed]
    else:
        beats = pages.beats()
    code = request.args.get("beat") or ""
    days = request.args.get("days", 90, type=int)
    if days not in WINDOWS:
        days = 90
    ctx = {"beats": beats, "beat_code": code, "days": days, "windows": WINDOWS,
           "is_officer": user.role == "officer"}
    if code:
        beat = next((b for b in beats if b.code == code), None)
        if beat is None:
            abort(404, description=f"no beat {code} among the beats you can pick")
        beat_ids = [beat.id]
    elif user.role == "officer" and beats:
        beat_ids = [b.id for b in beats]
    else:
        return render_template("network/my_beat.html", flags=None, **ctx)

    flags = compute("hard-to-engage", beat_ids=beat_ids, days=days, live_cache=True)["groups"]
    found = pages.introductions_for(user, [f["group"]["id"] for f in flags])
    wanted = {s["id"] for chains in found.chains.values() for c in chains
              for s in c["steps"] if s["kind"] == "stakeholder"}
    names = pages.visible_names(user, wanted, ip=client_ip())
    can_open = user.role in RECORD_ROLES
    intros = {gid: [{"mine": c["officer"]["id"] == user.id, "hops": c["hops"], "stage": c["stage"],
                     "steps": _chain_steps(c, user, names, can_open),
                     "first": next((st["id"] for st in c["steps"] if st["kind"] == "stakeholder"),
                                   None)} for c in chains]
              for gid, chains in found.chains.items()}
    return render_template("network/my_beat.html", flags=flags, intros=intros,
                           intros_pending=found.pending, intro_groups=pages.INTRO_GROUPS,
                           shown=[b for b in beats if b.id in beat_ids], **ctx)


@bp.route("/outcomes.csv")
@roles_required("analyst", "admin")
def outcomes_csv():
    """Pseudonymised monthly outcome measures per officer and group (program evaluation)."""
    from crm.network.outcomes import export_outcomes

    def day(name):
        raw = request.args.get(name, "")
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            abort(422, description=f"{name}: use the form YYYY-MM-DD")

    table = request.args.get("table", "outcomes")
    if table == "handovers":  # issue 15: relationships re-established after each hand-over
        from crm.handovers.services import export_retention_csv
        text = export_retention_csv(current_actor(), date_from=day("from"), date_to=day("to"),
                                    ip=client_ip())
        return Response(text, mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=outcomes-handovers.csv"})
    if table != "outcomes":
        abort(404, description=f"no table {table!r}; choose outcomes or handovers")
    text = export_outcomes(current_actor(), current_app.config["SECRET_KEY"],
                           date_from=day("from"), date_to=day("to"), ip=client_ip())
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=outcomes-pseudonymised.csv"})
