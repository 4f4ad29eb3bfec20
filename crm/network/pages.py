"""Services behind the coverage, network and my-beat pages (the views only parse and render).

What lives here rather than in the views: the per-process caches (beat outlines), reading the
background results (network layout, factions, introductions), the CSV tables and their
audit events, and the audit of stakeholder names shown in introduction chains. Like every
service these take an explicit actor, write audit and flush, never commit.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import sqlalchemy as sa
from markupsafe import Markup

from crm.access import visible_stakeholder_ids
from crm.audit.services import record_event
from crm.csvio.safe import SafeWriter
from crm.extensions import db
from crm.models import Beat, District, Stakeholder, User
from crm.network import results, svg
from crm.network.services import LRU, compute

INTRO_GROUPS = 10  # hard-to-engage groups that get suggested introductions on my-beat
INTRO_CHAINS = 3
CSV_TABLES = ("beats", "officers", "hard-to-engage")


def pct(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


# ---------------------------------------------------------------- geography


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


def _stamp(model) -> sa.Subquery:
    """One row that changes whenever a row is added, edited (its version_id grows,
    updated_at moves) or deleted."""
    return sa.select(sa.func.count(), sa.func.sum(model.id), sa.func.sum(model.version_id),
                     sa.func.max(model.updated_at), sa.func.max(model.created_at)).subquery()


_geography = LRU(1)  # the one latest beat list


def geography() -> tuple[list[BeatRow], list[DistrictRow]]:
    """Every beat (without its geometry) and district, kept per process until one changes:
    the coverage and network pages list them on every load (~300 rows through the ORM),
    where one aggregate over the two small tables tells whether anything changed."""
    beats_, districts_ = _stamp(Beat), _stamp(District)
    key = (db.engine.url.render_as_string(hide_password=True),
           *db.session.execute(sa.select(*beats_.c, *districts_.c)
                               .select_from(beats_.join(districts_, sa.true()))).one())

    def load():
        return ([BeatRow(*r) for r in db.session.execute(
                    sa.select(Beat.id, Beat.code, Beat.name, Beat.district_id, Beat.version_id,
                              Beat.updated_at).order_by(Beat.code))],
                [DistrictRow(*r) for r in db.session.execute(
                    sa.select(District.id, District.code, District.name)
                    .order_by(District.code))])
    found = _geography.get_or_compute(key, load)
    return list(found[0]), list(found[1])


def beats() -> list[BeatRow]:
    """Every beat without its geometry (outlines load only on a cache miss)."""
    return geography()[0]


def districts() -> list[DistrictRow]:
    return geography()[1]


def beat_map(map_beats: list[BeatRow]) -> svg.BeatMap:
    return _beat_map(tuple((b.id, b.version_id, b.updated_at) for b in map_beats))


@lru_cache(maxsize=32)
def _beat_map(beat_key: tuple) -> svg.BeatMap:
    """Projected outlines of a set of beats, keyed by (id, version, updated_at) of each."""
    ids = [k[0] for k in beat_key]
    geoms = dict(db.session.execute(sa.select(Beat.id, Beat.geometry).where(Beat.id.in_(ids))).all())
    return svg.project_beats({i: geoms.get(i) for i in ids})


# ---------------------------------------------------------------- coverage


def coverage_docs(*, as_of: date, days: int, map_beat_ids: list[int] | None,
                  table_beat_ids: list[int] | None) -> tuple[dict, dict, dict]:
    """(map document, table document, hard-to-engage document), from the engagement facts
    (crm/facts), kept per process until the next write (`compute(live_cache=True)`)."""
    kw = {"as_of": as_of, "days": days, "live_cache": True}
    map_doc = compute("coverage", beat_ids=map_beat_ids, **kw)
    same = (map_beat_ids is None and table_beat_ids is None) or (
        map_beat_ids is not None and table_beat_ids is not None
        and sorted(map_beat_ids) == sorted(table_beat_ids))
    table_doc = map_doc if same else compute("coverage", beat_ids=table_beat_ids, **kw)
    hard = compute("hard-to-engage", beat_ids=table_beat_ids, **kw)
    return map_doc, table_doc, hard


def beat_rows(beats_: list[BeatRow], doc: dict) -> list[dict]:
    """One row per beat, also for beats the document does not list (no groups, no contacts)."""
    by_id = {r["beat"]["id"]: r for r in doc["beats"] if r.get("beat")}
    rows = []
    for b in beats_:
        r = by_id.get(b.id) or {"groups": 0, "groups_reached": 0, "share_reached": None,
                                "contacts": 0, "proactive_share": None, "contacts_receptive": 0,
                                "contacts_wary_hostile": 0, "contacts_other": 0}
        if not r["groups"]:
            summary = f"Beat {b.code}: no groups"
        else:
            summary = f"Beat {b.code}: {r['groups_reached']}/{r['groups']} groups reached"
        summary += (f", {pct(r['proactive_share'])} proactive" if r["contacts"]
                    else ", no contacts")
        rows.append({**r, "beat": b, "summary": summary,
                     "cls": svg.coverage_class(r["share_reached"] if r["groups"] else None)})
    return rows


def officer_rows(doc: dict) -> list[dict]:
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


def _csv_cell(value):
    """Numbers rounded, None blank."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return value  # text is neutralised by the shared writer (crm.csvio.safe)


def coverage_table(table: str, table_beats: list[BeatRow], table_doc: dict, hard: dict
                   ) -> tuple[list[str], list[list]]:
    """Header and rows of one coverage CSV table."""
    if table == "beats":
        district_codes = dict(db.session.execute(sa.select(District.id, District.code)).all())
        header = ["beat", "name", "district", "groups", "groups_reached", "share_reached",
                  "contacts", "proactive_share", "contacts_receptive", "contacts_other",
                  "contacts_wary_hostile"]
        rows = [[r["beat"].code, r["beat"].name, district_codes.get(r["beat"].district_id, ""),
                 r["groups"], r["groups_reached"], r["share_reached"], r["contacts"],
                 r["proactive_share"], r["contacts_receptive"], r["contacts_other"],
                 r["contacts_wary_hostile"]] for r in beat_rows(table_beats, table_doc)]
    elif table == "officers":
        header = ["officer_id", "officer", "contacts", "groups_reached", "proactive_share",
                  "contacts_receptive", "contacts_other", "contacts_wary_hostile",
                  "comfort_zone_index", "comfort_zone"]
        rows = [[o["officer"]["id"], o["officer"]["name"], o["contacts"], o["groups_reached"],
                 o["proactive_share"], o["contacts_receptive"], o["contacts_other"],
                 o["contacts_wary_hostile"], o["comfort_zone_index"],
                 "yes" if o["comfort_zone"] else "no"] for o in officer_rows(table_doc)]
    elif table == "hard-to-engage":
        header = ["group_id", "group", "days_since_contact", "reasons", "reason_codes", "priority"]
        rows = [[f["group"]["id"], f["group"]["name"],
                 "never" if f["days_since_contact"] is None else f["days_since_contact"],
                 "; ".join(f["reasons"]), " ".join(f["reason_codes"]), f["priority"]]
                for f in hard["groups"]]
    else:
        raise LookupError(f"no table {table!r}; choose one of {', '.join(CSV_TABLES)}")
    return header, rows


def export_coverage_csv(actor: User, table: str, table_beats: list[BeatRow], docs: tuple,
                        *, filters: dict, ip: str = "") -> str:
    """One coverage table as CSV text, with its `analytics.export` audit event."""
    _map_doc, table_doc, hard = docs
    header, rows = coverage_table(table, table_beats, table_doc, hard)
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(header)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    record_event(actor, "analytics.export", object_type="analytics", object_id="coverage", ip=ip,
                 detail={"table": table, "rows": len(rows), "filters": filters})
    return out.getvalue()


# ---------------------------------------------------------------- network


@dataclass(frozen=True)
class NetworkPicture:
    drawing: svg.NetworkDrawing
    groups: dict  # id -> (name, stance)
    relations: int
    faction_of: dict  # group id -> faction index (empty while factions are computing)
    layout: results.Result
    factions: results.Result

    @property
    def refreshing(self) -> bool:
        return self.layout.refreshing or self.factions.refreshing


def _drawing(d: dict) -> svg.NetworkDrawing:
    return svg.NetworkDrawing(
        width=d["width"], height=d["height"],
        nodes=tuple(svg.DrawnNode(**n) for n in d["nodes"]),
        edges=tuple(svg.DrawnEdge(**e) for e in d["edges"]))


_pictures = LRU(16)
_markup = LRU(16)


def _faction_of(doc: dict | None) -> dict[int, int]:
    out: dict[int, int] = {}
    for i, f in enumerate((doc or {}).get("factions", [])):
        for g in f["groups"]:
            out.setdefault(g["id"], i)
    return out


def network_picture(beat_ids: list[int] | None, min_shared: int) -> NetworkPicture | None:
    """The stored layout and factions of the groups in the beats; None while the first
    layout is still being computed (both are background jobs). The drawing is unpacked once
    per stored layout and process (a district's has thousands of edges)."""
    layout = results.latest("network-layout", beat_ids=beat_ids, min_shared=min_shared)
    factions = results.latest("factions", beat_ids=beat_ids)
    if layout.document is None:
        return None
    doc = layout.document
    drawing, groups = _pictures.get_or_compute(
        ("layout", layout.result_id, layout.computed_at),
        lambda: (_drawing(doc["drawing"]),
                 {g["id"]: (g["name"], g["stance"]) for g in doc["groups"]}))
    faction_of = _pictures.get_or_compute(("factions", factions.result_id, factions.computed_at),
                               lambda: _faction_of(factions.document))
    return NetworkPicture(drawing=drawing, groups=groups, relations=doc["relations"],
                          faction_of=faction_of, layout=layout, factions=factions)


def drawn_network(picture: NetworkPicture, can_open: bool, render: Callable[[], str]) -> Markup:
    """The network's drawing and group list as markup, rendered once per stored layout,
    stored factions and kind of viewer (with or without links to the groups) in each process:
    both rows never change once done, so this is as fresh as the results themselves (a new
    layout or factions document is a new key). A district's drawing is ~800 kB of SVG,
    ~0.2 s of template work per request otherwise."""
    key = (picture.layout.result_id, picture.layout.computed_at, picture.factions.result_id,
           picture.factions.computed_at, can_open)
    # render() is an autoescaping template's output, already safe markup.
    return _markup.get_or_compute(key, lambda: Markup(render()))  # noqa: S704  # nosec B704


_fragments = LRU(64)


def kept_fragment(doc: dict, key: tuple, render: Callable[[], str]) -> Markup:
    """Markup rendered from a live document (coverage, hard-to-engage), once per document and
    `key` in each process (`LRU.get_for`): the coverage page's map and officers' bars."""
    # render() is an autoescaping template's output, already safe markup.
    return _fragments.get_for(doc, key, lambda: Markup(render()))  # noqa: S704  # nosec B704


def group_count(beat_ids: list[int] | None) -> int:
    from crm.models import CommunityGroup, group_beats

    if beat_ids is None:
        return db.session.scalar(sa.select(sa.func.count()).select_from(CommunityGroup))
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(group_beats.c.group_id)))
                             .where(group_beats.c.beat_id.in_(beat_ids)))


# ---------------------------------------------------------------- my beat


@dataclass(frozen=True)
class Introductions:
    chains: dict  # group id -> list of chain documents (best first)
    pending: bool  # some are still computing or refreshing


def introductions_for(actor: User, group_ids: list[int]) -> Introductions:
    """Stored introductions to each group; an officer also gets their own best chain when the
    overall best are colleagues'. Groups still computing get none yet (and are enqueued)."""
    chains, pending = {}, False
    for gid in group_ids[:INTRO_GROUPS]:
        res = results.latest("introductions", group_id=gid)
        pending |= res.refreshing
        found = list((res.document or {}).get("chains", []))[:INTRO_CHAINS]
        if actor.role == "officer" and not any(c["officer"]["id"] == actor.id for c in found):
            own = results.latest("introductions", group_id=gid, officer_id=actor.id, limit=1)
            pending |= own.refreshing
            found += (own.document or {}).get("chains", [])[:1]
        chains[gid] = found
    return Introductions(chains, pending)


def visible_names(actor: User, stakeholder_ids: set[int], *, ip: str = "") -> dict[int, str]:
    """Names of the stakeholders the actor may see; the others stay "a member".

    Names are what a search result shows; one `stakeholder.read` event per page lists whose
    names were shown, so the trail answers "who saw this person in a chain" without one
    event (and two queries) per name. Analysts see no names at all.
    """
    if not stakeholder_ids or actor.role == "analyst":
        return {}
    ids = visible_stakeholder_ids(actor, stakeholder_ids)
    names = dict(db.session.execute(
        sa.select(Stakeholder.id, Stakeholder.name).where(
            Stakeholder.id.in_(ids), Stakeholder.live())).all()) if ids else {}
    if names:
        record_event(actor, "stakeholder.read", object_type="stakeholders",
                     object_id=",".join(str(i) for i in sorted(names))[:200], ip=ip,
                     detail={"ids": sorted(names), "fields": ["name"], "via": "analytics.my-beat"})
    return names


# ---------------------------------------------------------------- map and network labels

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
BEAT_LABELS_MAX = 80  # past this many beats the numbers would be too small to read


def beat_label_points(bmap: svg.BeatMap, chars: int = 4) -> dict:
    """Where to write each beat's number: the middle of its outline's largest ring's box.

    Returns {beat id: (x, y)}; empty when the map has more than `BEAT_LABELS_MAX` beats
    (the table beside the map names them all). Larger beats are labelled first, and a number
    that would overlap one already written is left out (small neighbouring beats such as
    1651-1655 wrote over each other): its beat still names itself on hover, focus or tap,
    and in the table. `chars`: the longest number's length.
    """
    if len(bmap.paths) > BEAT_LABELS_MAX:
        return {}
    spots = []
    for key, d in bmap.paths.items():
        best = None
        for ring in d.split("M")[1:]:
            nums = [float(n) for n in _NUMBER.findall(ring)]
            xs, ys = nums[0::2], nums[1::2]
            if not xs or len(xs) != len(ys):
                continue
            box = (min(xs), min(ys), max(xs), max(ys))
            area = (box[2] - box[0]) * (box[3] - box[1])
            if best is None or area > best[0]:
                best = (area, box)
        if best is not None:
            x0, y0, x1, y1 = best[1]
            spots.append((-best[0], str(key), key, round((x0 + x1) / 2, 1), round((y0 + y1) / 2, 1)))
    font = beat_label_size(bmap)
    half_w, half_h = chars * 0.62 * font / 2 + 1, font / 2 + 1  # bold digits, a unit apart
    out, placed = {}, []
    for _, _, key, x, y in sorted(spots):
        if all(abs(x - px) >= half_w * 2 or abs(y - py) >= half_h * 2 for px, py in placed):
            out[key] = (x, y)
            placed.append((x, y))
    return out


def beat_label_size(bmap: svg.BeatMap) -> float:
    """A font size (in viewBox units) that reads at the map's usual width."""
    return round(max(12.0, min(bmap.width, bmap.height or bmap.width) / 30), 1)


def network_labels(nodes, names: dict, *, most: int = 15, char_w: float = 7.2,
                   line_h: float = 16.0, max_chars: int = 28) -> set:
    """Ids of the nodes whose name is written on the network drawing: the largest first,
    each only if its label box overlaps no label already placed (nor, past the three
    largest, another node's circle); the others show their name on hover, focus or tap (static/network.js).

    Parameters
    ----------
    nodes : iterable of svg.DrawnNode
    names : dict
        Node id -> group name.
    most : int
        At most this many labels.

    Examples
    --------
    >>> from crm.network.svg import DrawnNode
    >>> a, b = DrawnNode(1, 100, 100, 20, 50), DrawnNode(2, 110, 104, 10, 5)
    >>> sorted(network_labels([a, b], {1: "Tenants", 2: "Bowls"}))
    [1]
    """
    placed: list[tuple[float, float, float, float]] = []
    circles = [(n.x, n.y, n.r) for n in nodes]
    chosen = set()
    for n in sorted(nodes, key=lambda n: (-n.members, n.id)):
        if len(chosen) >= most or not n.members:
            break
        w = min(len(names.get(n.id, "")), max_chars) * char_w
        top = n.y + n.r + 2
        if n.anchor == "start":
            x0 = n.x - n.r
        elif n.anchor == "end":
            x0 = n.x + n.r - w
        else:
            x0 = n.x - w / 2
        box = (x0, top, x0 + w, top + line_h)
        if any(_overlaps(box, p) for p in placed):
            continue
        # the three largest are named even over a small neighbour's circle
        if len(chosen) >= 3 and any(_hits_circle(box, c) for c in circles if c != (n.x, n.y, n.r)):
            continue
        placed.append(box)
        chosen.add(n.id)
    return chosen


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _hits_circle(box, circle) -> bool:
    cx, cy, r = circle
    nx = min(max(cx, box[0]), box[2])
    ny = min(max(cy, box[1]), box[3])
    return (cx - nx) ** 2 + (cy - ny) ** 2 < r * r
