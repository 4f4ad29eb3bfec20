"""Pure drawing helpers for the analytics pages: beat outlines and network layouts as SVG geometry.

Nothing here touches Flask or the database: the views pass plain data in and put the numbers
this module returns into templates, so the pages draw maps and graphs server-side, with no
map tiles, no internet and no script.

Coordinates are returned in SVG user units (y grows downwards), rounded to one decimal,
inside a box that starts at (0, 0).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

__all__ = [
    "BeatMap", "project_beats", "geometry_rings",
    "coverage_class", "COVERAGE_STEPS",
    "sqrt_scale", "linear_scale", "Segment", "stacked_segments",
    "DrawnNode", "DrawnEdge", "NetworkDrawing", "draw_network", "pack_layout",
]


# ---------------------------------------------------------------- beat map


@dataclass(frozen=True)
class BeatMap:
    """Projected beat outlines: one SVG path per key, fitted to ``width`` x ``height``.

    ``missing`` lists the keys whose geometry was absent or unusable (drawn nowhere;
    the page lists them instead).
    """

    width: float
    height: float
    paths: dict[Hashable, str]
    missing: tuple[Hashable, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {_fmt(self.width)} {_fmt(self.height)}"


def geometry_rings(geometry: Mapping | None) -> list[list[tuple[float, float]]] | None:
    """The (lon, lat) rings of a GeoJSON Polygon or MultiPolygon, or None if unusable.

    Parameters
    ----------
    geometry : dict or None
        A GeoJSON geometry object (WGS84 longitude/latitude pairs).

    Returns
    -------
    list of rings, or None
        Every ring (outer and holes) of every polygon, each a list of ``(lon, lat)``
        floats. None for a missing geometry, another geometry type, or coordinates
        that are not finite numbers within longitude/latitude range.

    Examples
    --------
    >>> geometry_rings({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]})
    [[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]]
    >>> geometry_rings({"type": "Point", "coordinates": [0, 0]}) is None
    True
    """
    if not isinstance(geometry, Mapping):
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        return None
    rings: list[list[tuple[float, float]]] = []
    try:
        for polygon in polygons:
            for ring in polygon:
                pts = [(float(p[0]), float(p[1])) for p in ring]
                if len(pts) < 3:
                    continue
                if not all(math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180
                           and -90 <= y <= 90 for x, y in pts):
                    return None
                rings.append(pts)
    except (TypeError, ValueError, IndexError):
        return None
    return rings or None


def project_beats(geometries: Mapping[Hashable, Mapping | None], *, width: float = 1000,
                  max_height: float = 1000, pad: float = 8) -> BeatMap:
    """Project beat outlines to SVG paths with an equirectangular projection.

    Parameters
    ----------
    geometries : mapping key -> GeoJSON geometry (or None)
        Polygon or MultiPolygon in WGS84 longitude/latitude.
    width, max_height : float, optional
        The drawing is scaled to fit ``width`` x ``max_height`` (keeping its aspect);
        the returned map is as wide as that allows and as tall as the shape needs.
    pad : float, optional
        Margin on every side, in output units.

    Returns
    -------
    BeatMap
        One path per usable geometry (``M x y L x y ... Z`` per ring, so holes and
        multi-part beats need ``fill-rule: evenodd``), and the keys left out.

    Notes
    -----
    x = (lon - lon_min) * cos(phi), y = lat_max - lat, with phi the mean latitude of
    the bounding box; at city scale this keeps shapes and areas true within a
    fraction of a percent. Consecutive points that round to the same output point
    are dropped, which thins dense outlines at no visible cost.

    Examples
    --------
    >>> m = project_beats({"a": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}},
    ...                   width=20, max_height=20, pad=0)
    >>> m.view_box, m.paths["a"]
    ('0 0 20 20', 'M0 20L20 20L20 0L0 0Z')
    """
    rings_by_key: dict[Hashable, list] = {}
    missing = []
    for key, geometry in geometries.items():
        rings = geometry_rings(geometry)
        if rings is None:
            missing.append(key)
        else:
            rings_by_key[key] = rings
    if not rings_by_key:
        return BeatMap(width=width, height=2 * pad, paths={}, missing=tuple(missing))

    lons = [x for rings in rings_by_key.values() for ring in rings for x, _ in ring]
    lats = [y for rings in rings_by_key.values() for ring in rings for _, y in ring]
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    span_x, span_y = (lon1 - lon0) * kx, lat1 - lat0
    inner_w, inner_h = width - 2 * pad, max_height - 2 * pad
    if span_x <= 0 and span_y <= 0:
        scale = 1.0
    elif span_x <= 0:
        scale = inner_h / span_y
    elif span_y <= 0:
        scale = inner_w / span_x
    else:
        scale = min(inner_w / span_x, inner_h / span_y)
    out_w, out_h = span_x * scale + 2 * pad, span_y * scale + 2 * pad

    paths = {}
    for key, rings in rings_by_key.items():
        parts = []
        for ring in rings:
            pts = []
            for lon, lat in ring:
                p = (round((lon - lon0) * kx * scale + pad, 1), round((lat1 - lat) * scale + pad, 1))
                if not pts or p != pts[-1]:
                    pts.append(p)
            if len(pts) > 1 and pts[-1] == pts[0]:
                pts.pop()  # Z closes the ring
            if len(pts) < 3:
                continue
            parts.append("M" + "L".join(f"{_fmt(x)} {_fmt(y)}" for x, y in pts) + "Z")
        if parts:
            paths[key] = "".join(parts)
        else:
            missing.append(key)  # shrank to nothing at this scale
    return BeatMap(width=round(out_w, 1), height=round(out_h, 1), paths=paths,
                   missing=tuple(missing))


def _fmt(v: float) -> str:
    """1 decimal, no trailing '.0' (keeps the SVG small)."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


COVERAGE_STEPS = 5


def coverage_class(share: float | None) -> str:
    """CSS class of a beat by the share of its groups reached: ``cov-0`` .. ``cov-4``.

    ``cov-none`` when the beat has no groups (``share`` is None). Steps are fifths:
    0 to < 0.2 is ``cov-0``, ..., 0.8 to 1 is ``cov-4``.

    Examples
    --------
    >>> [coverage_class(s) for s in (None, 0, 0.2, 0.79, 1)]
    ['cov-none', 'cov-0', 'cov-1', 'cov-3', 'cov-4']
    """
    if share is None:
        return "cov-none"
    share = min(max(float(share), 0.0), 1.0)
    return f"cov-{min(int(share * COVERAGE_STEPS + 1e-9), COVERAGE_STEPS - 1)}"


# ---------------------------------------------------------------- scales and bars


def sqrt_scale(value: float, vmax: float, lo: float, hi: float) -> float:
    """Map ``0..vmax`` to ``lo..hi`` by square root (so areas grow with the value).

    Examples
    --------
    >>> sqrt_scale(25, 100, 0, 10), sqrt_scale(0, 0, 4, 20)
    (5.0, 4.0)
    """
    if vmax <= 0 or value <= 0:
        return float(lo)
    return lo + (hi - lo) * math.sqrt(min(value, vmax) / vmax)


def linear_scale(value: float, vmin: float, vmax: float, lo: float, hi: float) -> float:
    """Map ``vmin..vmax`` to ``lo..hi`` linearly (``lo`` when the range is empty).

    Examples
    --------
    >>> linear_scale(3, 1, 5, 1, 9)
    5.0
    """
    if vmax <= vmin:
        return float(lo)
    value = min(max(value, vmin), vmax)
    return lo + (hi - lo) * (value - vmin) / (vmax - vmin)


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: its key, value, and x / width in bar units."""

    key: str
    value: int
    x: float
    width: float


def stacked_segments(parts: Iterable[tuple[str, int]], total_max: int,
                     length: float = 100) -> list[Segment]:
    """Lay the parts of one bar end to end, scaled so ``total_max`` fills ``length``.

    Zero parts are left out. Bars of different totals share the scale, so they compare.

    Examples
    --------
    >>> [(s.key, s.x, s.width) for s in stacked_segments([("a", 1), ("b", 0), ("c", 3)], 8)]
    [('a', 0.0, 12.5), ('c', 12.5, 37.5)]
    """
    out, x = [], 0.0
    if total_max <= 0:
        return out
    for key, value in parts:
        if value <= 0:
            continue
        w = length * value / total_max
        out.append(Segment(key, int(value), round(x, 3), round(w, 3)))
        x += w
    return out


# ---------------------------------------------------------------- network drawing


@dataclass(frozen=True)
class DrawnNode:
    id: int
    x: float
    y: float
    r: float
    members: int
    anchor: str = "middle"  # text-anchor of a label under the node, so it stays in the box


@dataclass(frozen=True)
class DrawnEdge:
    """An edge to draw. ``kind``: "overlap" (shared members) or a relation type."""

    a: int
    b: int
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str
    width: float
    shared: int = 0


@dataclass(frozen=True)
class NetworkDrawing:
    width: float
    height: float
    nodes: tuple[DrawnNode, ...]
    edges: tuple[DrawnEdge, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {_fmt(self.width)} {_fmt(self.height)}"


_RELATION_ORDER = {"overlapping": 0, "allied": 1, "competing": 2}


def draw_network(members: Mapping[int, int], overlaps: Iterable[tuple[int, int, int]],
                 relations: Iterable[tuple[int, int, str]] = (), *, width: float = 1000,
                 max_height: float = 800, r_min: float = 4, r_max: float = 22,
                 w_min: float = 1, w_max: float = 8, label_room: float = 18,
                 max_unit: float = 110, seed: int = 0) -> NetworkDrawing:
    """Lay out groups and their links with seeded spring layouts, in SVG units.

    Parameters
    ----------
    members : mapping group_id -> member count
        The nodes; a node's radius grows with the square root of its members.
    overlaps : iterable of (group_a, group_b, shared)
        Overlap edges; stroke width grows linearly with ``shared``. Edges to groups
        not in ``members`` are ignored.
    relations : iterable of (group_a, group_b, type)
        Declared relations ("allied", "competing", "overlapping"), drawn on top of
        the overlap edges.
    width, max_height : float, optional
        The drawing is ``width`` wide and as tall as its layout needs, at most
        ``max_height``; node centres stay ``r_max + label_room`` from the borders.
    max_unit : float, optional
        Largest distance between neighbouring nodes, so a handful of groups is not
        blown up to fill the page.
    seed : int, optional
        Seed of :func:`networkx.spring_layout`: the same input gives the same picture.

    Returns
    -------
    NetworkDrawing
        Nodes sorted by id; overlap edges first (thinnest first), then relations
        (overlapping, allied, competing), so the relation styles stay visible.

    Notes
    -----
    See :func:`pack_layout`: each connected component gets its own spring layout and
    the components are packed side by side, so isolated groups cannot squeeze the
    rest into a corner. Layout weights are ``sqrt(shared / max shared)``; a relation
    between groups without overlap pulls with weight 0.5.

    Examples
    --------
    >>> d = draw_network({1: 4, 2: 9}, [(1, 2, 3)], [(1, 2, "competing")])
    >>> [e.kind for e in d.edges], [n.r for n in d.nodes]
    (['overlap', 'competing'], [16.0, 22.0])
    """
    g = nx.Graph()
    g.add_nodes_from(sorted(members))
    ov = [(a, b, int(s)) for a, b, s in overlaps if a in members and b in members and a != b]
    smin = min((s for *_, s in ov), default=0)
    smax = max((s for *_, s in ov), default=0)
    g.add_weighted_edges_from((a, b, math.sqrt(s / smax)) for a, b, s in ov)
    rels = sorted({(min(a, b), max(a, b), t) for a, b, t in relations
                   if a in members and b in members and a != b},
                  key=lambda r: (_RELATION_ORDER.get(r[2], 9), r[0], r[1]))
    for a, b, _t in rels:
        if not g.has_edge(a, b):
            g.add_edge(a, b, weight=0.5)

    unit_pos, (uw, uh) = pack_layout(g, seed=seed)
    margin = r_max + label_room
    scale = min((width - 2 * margin) / uw, (max_height - 2 * margin) / uh, max_unit) if g else 1
    height = round(uh * scale + 2 * margin, 1)
    dx = (width - uw * scale) / 2
    pos = {n: (round(dx + x * scale, 1), round(margin + y * scale, 1))
           for n, (x, y) in unit_pos.items()}
    vmax = max(members.values(), default=0)
    nodes = tuple(DrawnNode(n, pos[n][0], pos[n][1],
                            round(sqrt_scale(members[n], vmax, r_min, r_max), 1), int(members[n]),
                            _anchor(pos[n][0], width))
                  for n in sorted(members))
    edges = [DrawnEdge(a, b, *pos[a], *pos[b], kind="overlap", shared=s,
                       width=round(linear_scale(s, smin, smax, w_min, w_max), 1))
             for a, b, s in sorted(ov, key=lambda e: (e[2], e[0], e[1]))]
    edges += [DrawnEdge(a, b, *pos[a], *pos[b], kind=t, width=2.5) for a, b, t in rels]
    return NetworkDrawing(width=width, height=height, nodes=nodes, edges=tuple(edges))


def pack_layout(g: nx.Graph, *, seed: int = 0, weight: str = "weight",
                aspect: float = 0.6) -> tuple[dict, tuple[float, float]]:
    """Spring-lay out each connected component and pack the components on shelves.

    Parameters
    ----------
    g : networkx.Graph
    seed : int, optional
        Seed of every :func:`networkx.spring_layout` call.
    weight : str, optional
        Edge attribute used as attraction.
    aspect : float, optional
        Wanted height / width of the packed picture.

    Returns
    -------
    (positions, (width, height))
        ``node -> (x, y)`` in layout units (about one unit between neighbouring
        nodes; y grows downwards) and the size of the packed picture.

    Notes
    -----
    A component of ``n`` nodes gets a square of side ``sqrt(n) + 1`` (1 for an
    isolated node), so its area grows with its size. Squares are placed largest
    first, left to right, on shelves of a width chosen for ``aspect``; isolated nodes
    come last and line up as a grid. One spring layout on a disconnected graph would
    push the isolated nodes to the rim and crush everything else into the middle.

    Examples
    --------
    >>> pos, size = pack_layout(nx.Graph([(1, 2)]))
    >>> size, pos[1], pos[2]
    ((2.414, 2.414), (0.5, 1.207), (1.914, 1.207))
    """
    comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c[0]))
    boxes = []
    for comp in comps:
        n = len(comp)
        if n == 1:
            boxes.append(({comp[0]: (0.5, 0.5)}, 1.0))
            continue
        inner = math.sqrt(n)
        if n == 2:
            local = {comp[0]: (0.0, 0.5), comp[1]: (1.0, 0.5)}
        else:
            raw = nx.spring_layout(g.subgraph(comp), seed=seed, weight=weight)
            xs = [float(p[0]) for p in raw.values()]
            ys = [float(p[1]) for p in raw.values()]
            span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
            ox = min(xs) - (span - (max(xs) - min(xs))) / 2
            oy = min(ys) - (span - (max(ys) - min(ys))) / 2
            local = {k: ((float(p[0]) - ox) / span, (float(p[1]) - oy) / span)
                     for k, p in raw.items()}
        boxes.append(({k: (0.5 + x * inner, 0.5 + y * inner) for k, (x, y) in local.items()},
                      inner + 1))
    if not boxes:
        return {}, (1.0, 1.0)
    area = sum(side * side for _, side in boxes)
    row = max(math.sqrt(area / aspect), max(side for _, side in boxes))
    pos, x, y, shelf, width = {}, 0.0, 0.0, 0.0, 0.0
    for local, side in boxes:
        if x > 0 and x + side > row + 1e-9:
            x, y, shelf = 0.0, y + shelf, 0.0
        for k, (lx, ly) in local.items():
            pos[k] = (round(x + lx, 3), round(y + ly, 3))
        x += side
        shelf = max(shelf, side)
        width = max(width, x)
    return pos, (round(width, 3), round(y + shelf, 3))


def _anchor(x: float, width: float) -> str:
    if x < width * 0.2:
        return "start"
    if x > width * 0.8:
        return "end"
    return "middle"
