"""Coverage, network and my-beat pages.

The pages read the same documents as the API and the CLI (`crm.network.services.compute`,
cached per input version) and draw them server-side as inline SVG (`crm.network.svg`), so
they work without map tiles, without internet and without script. Views only parse the
query string, pick the documents and shape rows for the templates; the request is the
commit boundary (crm.web). Exports write an `analytics.export` audit event; showing a
stakeholder's name in an introduction chain writes `stakeholder.read`.

- /analytics/coverage (+ .csv): supervisors (their district by default), unit, admin.
- /analytics/network: supervisors, unit, admin, analyst.
- /analytics/my-beat: officers (their beats); supervisors, unit and admin pick a beat.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

import analytics
from crm.access import beat_ids_select, stakeholder_scope
from crm.audit.services import record_event
from crm.extensions import db
from crm.models import Beat, CommunityGroup, District, Stakeholder, User, group_beats
from crm.network import svg
from crm.network.services import (compute, current_versions, load_membership_arrays,
                                  load_officer_links, load_relations)
from crm.access import roles_required

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

COVERAGE_ROLES = ("supervisor", "unit", "admin")
NETWORK_ROLES = ("supervisor", "unit", "admin", "analyst")
MY_BEAT_ROLES = ("officer", "unit", "supervisor", "admin")
# Roles that may open group and stakeholder pages (analysts have no record pages).
RECORD_ROLES = ("officer", "unit", "supervisor", "admin")
WINDOWS = (30, 60, 90, 180, 365)
MAX_NETWORK_GROUPS = 400  # beyond this a spring layout is neither fast nor readable
HARD_LIST_SIZE = 50  # rows of the hard-to-engage list on the page (the CSV has all)
INTRO_GROUPS = 10  # hard-to-engage groups that get suggested introductions on my-beat
INTRO_CHAINS = 3
INTRO_HOPS = 4  # officer -> stakeholder -> group -> stakeholder -> target (see _near)
FACTION_COLOURS = 8
CSV_TABLES = ("beats", "officers", "hard-to-engage")
COVERAGE_LEGEND = [("cov-none", "no groups"), ("cov-0", "0–19 %"), ("cov-1", "20–39 %"),
                   ("cov-2", "40–59 %"), ("cov-3", "60–79 %"), ("cov-4", "80–100 %")]


def _me() -> User:
    return current_user._get_current_object()


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


# ---------------------------------------------------------------- geography and filters


@dataclass(frozen=True)
class BeatRow:
    id: int
    code: str
    name: str
    district_id: int | None
    version_id: int
    updated_at: object


@dataclass(frozen=True)
class DistrictRow:
    id: int
    code: str
    name: str


def _beats() -> list[BeatRow]:
    """Every beat without its geometry (one small query; outlines load only on a cache miss)."""
    return [BeatRow(*r) for r in db.session.execute(
        sa.select(Beat.id, Beat.code, Beat.name, Beat.district_id, Beat.version_id,
                  Beat.updated_at).order_by(Beat.code))]


def _districts() -> list[DistrictRow]:
    return [DistrictRow(*r) for r in db.session.execute(
        sa.select(District.id, District.code, District.name).order_by(District.code))]


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
                 as_of=as_of or date.today(), as_of_given=as_of is not None,
                 map_beats=map_beats, beat_ids=beat_ids, district_arg=district_code or "",
                 window=days is not None)


# ---------------------------------------------------------------- coverage


@lru_cache(maxsize=32)
def _beat_map(beat_key: tuple) -> svg.BeatMap:
    """Projected outlines of a set of beats, keyed by (id, version, updated_at) of each."""
    ids = [k[0] for k in beat_key]
    geoms = dict(db.session.execute(sa.select(Beat.id, Beat.geometry).where(Beat.id.in_(ids))).all())
    return svg.project_beats({i: geoms.get(i) for i in ids})


def _coverage_docs(scope: Scope) -> tuple[dict, dict, dict]:
    """(map document, table document, hard-to-engage document) for the scope."""
    kw = {"as_of": scope.as_of, "days": scope.days}
    map_ids = None if scope.district is None and scope.beat is None else [b.id for b in scope.map_beats]
    map_doc = compute("coverage", beat_ids=map_ids, **kw)
    same = (map_ids is None and scope.beat_ids is None) or (
        map_ids is not None and scope.beat_ids is not None and sorted(map_ids) == sorted(scope.beat_ids))
    table_doc = map_doc if same else compute("coverage", beat_ids=scope.beat_ids, **kw)
    hard = compute("hard-to-engage", beat_ids=scope.beat_ids, **kw)
    return map_doc, table_doc, hard


def _beat_rows(beats: list[BeatRow], doc: dict) -> list[dict]:
    """One row per beat, also for beats the document does not list (no groups, no contacts)."""
    by_id = {r["beat"]["id"]: r for r in doc["beats"] if r.get("beat")}
    rows = []
    for b in beats:
        r = by_id.get(b.id) or {"groups": 0, "groups_reached": 0, "share_reached": None,
                                "contacts": 0, "proactive_share": None, "contacts_receptive": 0,
                                "contacts_wary_hostile": 0, "contacts_other": 0}
        if not r["groups"]:
            summary = f"Beat {b.code}: no groups"
        else:
            summary = f"Beat {b.code}: {r['groups_reached']}/{r['groups']} groups reached"
        summary += (f", {_pct(r['proactive_share'])} proactive" if r["contacts"]
                    else ", no contacts")
        rows.append({**r, "beat": b, "cls": svg.coverage_class(r["share_reached"] if r["groups"] else None),
                     "summary": summary})
    return rows


def _officer_rows(doc: dict) -> list[dict]:
    rows = []
    top = max((o["contacts"] for o in doc["officers"]), default=0)
    for o in doc["officers"]:
        other = o["contacts"] - o["contacts_receptive"] - o["contacts_wary_hostile"]
        parts = [("receptive", o["contacts_receptive"]), ("other", other),
                 ("wary", o["contacts_wary_hostile"])]
        rows.append({**o, "contacts_other": other,
                     "segments": svg.stacked_segments(parts, top)})
    rows.sort(key=lambda r: (not r["comfort_zone"], r["officer"]["name"] or "", r["officer"]["id"]))
    return rows


def _form_errors_page(template: str, form: FlaskForm, **ctx):
    return render_template(template, form=form, scope=None, invalid=True, **ctx), 422


@bp.route("/coverage")
@roles_required(*COVERAGE_ROLES)
def coverage():
    user = _me()
    beats, districts = _beats(), _districts()
    form = ScopeForm(formdata=request.args)
    scope = _scope(form, user, beats, districts, default_own_district=user.role == "supervisor")
    if scope is None:
        return _form_errors_page("network/coverage.html", form)
    map_doc, table_doc, hard = _coverage_docs(scope)
    bmap = _beat_map(tuple((b.id, b.version_id, b.updated_at) for b in scope.map_beats))
    map_rows = _beat_rows(scope.map_beats, map_doc)
    table_beats = scope.map_beats if scope.beat_ids is None else [
        b for b in scope.map_beats if b.id in set(scope.beat_ids)]
    missing = {k for k in bmap.missing}
    return render_template(
        "network/coverage.html", form=form, scope=scope, bmap=bmap, map_rows=map_rows,
        beat_rows=_beat_rows(table_beats, table_doc), officers=_officer_rows(table_doc),
        hard=hard["groups"][:HARD_LIST_SIZE], hard_total=len(hard["groups"]),
        no_outline=[r["beat"] for r in map_rows if r["beat"].id in missing],
        legend=COVERAGE_LEGEND, windows=WINDOWS, can_open=user.role in RECORD_ROLES)


def _csv_cell(value):
    """Numbers as they are; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _coverage_table(table: str, scope: Scope) -> tuple[list[str], list[list]]:
    _map_doc, table_doc, hard = _coverage_docs(scope)
    district_codes = dict(db.session.execute(sa.select(District.id, District.code)).all())
    if table == "beats":
        beats = scope.map_beats if scope.beat_ids is None else [
            b for b in scope.map_beats if b.id in set(scope.beat_ids)]
        header = ["beat", "name", "district", "groups", "groups_reached", "share_reached",
                  "contacts", "proactive_share", "contacts_receptive", "contacts_other",
                  "contacts_wary_hostile"]
        rows = [[r["beat"].code, r["beat"].name, district_codes.get(r["beat"].district_id, ""),
                 r["groups"], r["groups_reached"], r["share_reached"], r["contacts"],
                 r["proactive_share"], r["contacts_receptive"], r["contacts_other"],
                 r["contacts_wary_hostile"]] for r in _beat_rows(beats, table_doc)]
    elif table == "officers":
        header = ["officer_id", "officer", "contacts", "groups_reached", "proactive_share",
                  "contacts_receptive", "contacts_other", "contacts_wary_hostile",
                  "comfort_zone_index", "comfort_zone"]
        rows = [[o["officer"]["id"], o["officer"]["name"], o["contacts"], o["groups_reached"],
                 o["proactive_share"], o["contacts_receptive"], o["contacts_other"],
                 o["contacts_wary_hostile"], o["comfort_zone_index"],
                 "yes" if o["comfort_zone"] else "no"] for o in _officer_rows(table_doc)]
    else:
        header = ["group_id", "group", "days_since_contact", "reasons", "reason_codes", "priority"]
        rows = [[f["group"]["id"], f["group"]["name"],
                 "never" if f["days_since_contact"] is None else f["days_since_contact"],
                 "; ".join(f["reasons"]), " ".join(f["reason_codes"]), f["priority"]]
                for f in hard["groups"]]
    return header, rows


@bp.route("/coverage.csv")
@roles_required(*COVERAGE_ROLES)
def coverage_csv():
    user = _me()
    table = request.args.get("table", "beats")
    if table not in CSV_TABLES:
        abort(404, description=f"no table {table!r}; choose one of {', '.join(CSV_TABLES)}")
    form = ScopeForm(formdata=request.args)
    scope = _scope(form, user, _beats(), _districts(),
                   default_own_district=user.role == "supervisor")
    if scope is None:
        msg = "; ".join(f"{getattr(form, k).label.text}: {', '.join(v)}"
                        for k, v in form.errors.items())
        return Response(msg + "\n", status=422, mimetype="text/plain")
    header, rows = _coverage_table(table, scope)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    record_event(user, "analytics.export", object_type="analytics", object_id="coverage",
                 ip=request.remote_addr or "",
                 detail={"table": table, "rows": len(rows), "filters": scope.args()})
    name = f"coverage-{table}-{scope.as_of.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- network


@dataclass(frozen=True)
class NetworkPicture:
    drawing: svg.NetworkDrawing
    groups: dict  # id -> (name, stance)
    relations: int


@lru_cache(maxsize=16)
def _network_picture(beat_ids: tuple | None, min_shared: int, versions: tuple,
                     today: date) -> NetworkPicture:
    """Layout of the groups in the beats; cached per input version (the layout is the cost)."""
    q = sa.select(CommunityGroup.id, CommunityGroup.name, CommunityGroup.stance)
    if beat_ids is not None:
        q = q.where(CommunityGroup.id.in_(
            sa.select(group_beats.c.group_id).where(group_beats.c.beat_id.in_(beat_ids))))
    groups = {gid: (name, stance) for gid, name, stance in db.session.execute(q)}
    s, g = load_membership_arrays(today)
    keep = np.isin(g, np.fromiter(groups, dtype=np.int64, count=len(groups)))
    res = analytics.overlap(s[keep], g[keep], min_shared=min_shared)
    members = dict.fromkeys(groups, 0)
    members.update(zip(res.group_ids.tolist(), res.group_sizes.tolist(), strict=True))
    overlaps = zip(res.group_a.tolist(), res.group_b.tolist(), res.shared.tolist(), strict=True)
    relations = [(r.group_a, r.group_b, r.type) for r in load_relations(today)
                 if r.group_a in groups and r.group_b in groups]
    drawing = svg.draw_network(members, overlaps, relations, seed=0)
    return NetworkPicture(drawing=drawing, groups=groups, relations=len(relations))


def _group_count(beat_ids: list[int] | None) -> int:
    if beat_ids is None:
        return db.session.scalar(sa.select(sa.func.count()).select_from(CommunityGroup))
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(group_beats.c.group_id)))
                             .where(group_beats.c.beat_id.in_(beat_ids)))


@bp.route("/network")
@roles_required(*NETWORK_ROLES)
def network():
    user = _me()
    beats, districts = _beats(), _districts()
    form = NetworkForm(formdata=request.args)
    scope = _scope(form, user, beats, districts, default_own_district=user.role == "supervisor")
    ctx = {"form": form, "max_groups": MAX_NETWORK_GROUPS, "can_open": user.role in RECORD_ROLES}
    if scope is None:
        return render_template("network/network.html", scope=None, invalid=True, **ctx), 422
    min_shared = form.min_shared.data or 2
    scope.extra["min_shared"] = min_shared
    count = _group_count(scope.beat_ids)
    if count > MAX_NETWORK_GROUPS:
        return render_template("network/network.html", scope=scope, too_many=count, **ctx)
    key = tuple(scope.beat_ids) if scope.beat_ids is not None else None
    picture = _network_picture(key, min_shared, current_versions(("network",)), date.today())
    factions = compute("factions", beat_ids=scope.beat_ids)["factions"]
    faction_of = {}
    for i, f in enumerate(factions):
        for g in f["groups"]:
            faction_of.setdefault(g["id"], i)
    nodes = []
    for n in picture.drawing.nodes:
        name, stance = picture.groups[n.id]
        idx = faction_of.get(n.id)
        nodes.append({"node": n, "name": name, "stance": stance, "faction": idx,
                      "cls": "faction-none" if idx is None else f"faction-{idx % FACTION_COLOURS}",
                      "title": f"{name} — {n.members} member{'' if n.members == 1 else 's'}, "
                               f"stance {stance}" + ("" if idx is None else f", faction {idx + 1}")})
    names = {gid: v[0] for gid, v in picture.groups.items()}
    return render_template(
        "network/network.html", scope=scope, picture=picture, nodes=nodes, names=names,
        edge_counts=_edge_counts(picture.drawing), factions=len({n["faction"] for n in nodes
                                                                  if n["faction"] is not None}),
        min_shared=min_shared, faction_colours=FACTION_COLOURS, **ctx)


def _edge_counts(drawing: svg.NetworkDrawing) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in drawing.edges:
        out[e.kind] = out.get(e.kind, 0) + 1
    return out


# ---------------------------------------------------------------- my beat


def _visible_names(user: User, stakeholder_ids: set[int]) -> dict[int, str]:
    """Names of the stakeholders the user may see; the others stay "a member".

    Names are what a search result shows; one `stakeholder.read` event per page lists whose
    names were shown, so the trail answers "who saw this person in a chain" without one
    event (and two queries) per name.
    """
    if not stakeholder_ids or user.role == "analyst":
        return {}
    names = dict(db.session.execute(
        sa.select(Stakeholder.id, Stakeholder.name).where(
            Stakeholder.id.in_(stakeholder_ids), stakeholder_scope(user),
            Stakeholder.erased_at.is_(None), Stakeholder.merged_into_id.is_(None))).all())
    if names:
        record_event(user, "stakeholder.read", object_type="stakeholders",
                     object_id=",".join(str(i) for i in sorted(names))[:200],
                     ip=request.remote_addr or "",
                     detail={"ids": sorted(names), "fields": ["name"], "via": "analytics.my-beat"})
    return names


@dataclass(frozen=True)
class _IntroInputs:
    stakeholders: np.ndarray
    groups: np.ndarray
    links: tuple
    users: dict


@lru_cache(maxsize=1)
def _intro_inputs(versions: tuple, as_of: date) -> _IntroInputs:
    """Memberships, officers' working relationships and officer names, loaded once per version."""
    s, g = load_membership_arrays(as_of)
    links = tuple(load_officer_links(datetime.combine(as_of, datetime.max.time())))
    users = dict(db.session.execute(sa.select(User.id, User.display_name)).all())
    return _IntroInputs(s, g, links, users)


@lru_cache(maxsize=1024)
def _introductions_for(group_id: int, versions: tuple, as_of: date,
                       officer_id: int | None = None) -> tuple:
    """Suggested introductions to one group: the chains of
    `compute("introductions", group_id=group_id, officer_id=officer_id, limit=INTRO_CHAINS)`.

    Computed here rather than through `compute` because a page asks for ten groups: the
    inputs are loaded once per data version (`_intro_inputs`; on the large demo a load takes
    seconds) and each group's chains are cached on their own, so pages of different beats
    share them without flushing the shared document cache. Steps name groups and officers;
    stakeholders stay ids (the page decides whose names the viewer may see).
    """
    inp = _intro_inputs(versions, as_of)
    chains = analytics.introductions(group_id, _near(inp.stakeholders, inp.groups, group_id),
                                     inp.links, officer_id=officer_id, max_hops=INTRO_HOPS,
                                     limit=INTRO_CHAINS)
    group_ids = {i for c in chains for k, i in c.steps if k == "group"}
    names = dict(db.session.execute(sa.select(CommunityGroup.id, CommunityGroup.name)
                                    .where(CommunityGroup.id.in_(group_ids))).all())
    return tuple({"officer": {"id": c.officer_id, "name": inp.users.get(c.officer_id)},
                  "steps": [{"kind": k, "id": i,
                             "name": names.get(i) if k == "group"
                             else inp.users.get(i) if k == "officer" else None}
                            for k, i in c.steps],
                  "hops": c.hops, "stage": c.stage} for c in chains)


def _near(s: np.ndarray, g: np.ndarray, target: int) -> np.ndarray:
    """The memberships a chain of at most 4 hops to `target` can use, as (stakeholder, group) rows.

    Such a chain is officer -> stakeholder -> group -> member of the target -> target, so
    only memberships in the target or in another group of one of its members matter.
    Cutting the graph down first gives the same chains (and the same tie-breaks) as the
    whole graph, at a fraction of the cost of indexing 300,000 memberships per target.
    """
    groups = np.unique(g[np.isin(s, s[g == target])])
    keep = np.isin(g, groups)
    return np.column_stack((s[keep], g[keep]))


def _chain_steps(chain: dict, me: User, names: dict[int, str], can_open: bool) -> list[dict]:
    steps = []
    for step in chain["steps"]:
        kind, ident = step["kind"], step["id"]
        if kind == "officer":
            steps.append({"kind": kind, "text": "You" if ident == me.id else (step["name"] or "An officer")})
        elif kind == "stakeholder":
            name = names.get(ident)
            steps.append({"kind": kind, "text": name or "a member",
                          "href": f"/stakeholders/{ident}" if name and can_open else None})
        else:
            steps.append({"kind": kind, "text": step["name"] or f"Group #{ident}",
                          "href": f"/groups/{ident}" if can_open else None})
    return steps


@bp.route("/my-beat")
@roles_required(*MY_BEAT_ROLES)
def my_beat():
    user = _me()
    if user.role in ("officer", "supervisor"):
        allowed = set(db.session.scalars(beat_ids_select(user)))
        beats = [b for b in _beats() if b.id in allowed]
    else:
        beats = _beats()
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

    doc = compute("hard-to-engage", beat_ids=beat_ids, days=days)
    flags = doc["groups"]
    versions, today = current_versions(("network", "contacts")), date.today()
    chains_by_group = {}
    for f in flags[:INTRO_GROUPS]:
        gid = f["group"]["id"]
        chains = list(_introductions_for(gid, versions, today))
        if user.role == "officer" and not any(c["officer"]["id"] == user.id for c in chains):
            # The best chain of the viewer's own, when the overall best are colleagues'.
            chains += _introductions_for(gid, versions, today, user.id)[:1]
        chains_by_group[gid] = chains
    wanted = {s["id"] for chains in chains_by_group.values() for c in chains
              for s in c["steps"] if s["kind"] == "stakeholder"}
    names = _visible_names(user, wanted)
    can_open = user.role in RECORD_ROLES
    intros = {gid: [{"mine": c["officer"]["id"] == user.id, "hops": c["hops"], "stage": c["stage"],
                     "steps": _chain_steps(c, user, names, can_open)} for c in chains]
              for gid, chains in chains_by_group.items()}
    return render_template("network/my_beat.html", flags=flags, intros=intros,
                           intro_groups=INTRO_GROUPS, shown=[b for b in beats if b.id in beat_ids],
                           **ctx)


@bp.route("/outcomes.csv")
@roles_required("analyst", "admin")
def outcomes_csv():
    """Pseudonymised monthly outcome measures per officer and group (program evaluation)."""
    from flask import current_app

    from crm.network.outcomes import export_outcomes

    def day(name):
        raw = request.args.get(name, "")
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            abort(422, description=f"{name}: use the form YYYY-MM-DD")

    text = export_outcomes(current_user._get_current_object(), current_app.config["SECRET_KEY"],
                           date_from=day("from"), date_to=day("to"), ip=request.remote_addr or "")
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=outcomes-pseudonymised.csv"})
