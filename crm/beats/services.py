"""Beats and districts: loading the real geography shipped in `crm/beats/geo/<city>/`.

`load_geography(city)` is idempotent by code: it creates missing districts and beats and
updates the name, district, geometry and centroid of the ones already there. It flushes;
the caller commits.

Codes: Chicago beats are `beat_num` ("0111"), districts the two-digit `district` of
beats.csv ("01", which is `dist_num` "1" of districts.geojson zero-padded). Charlottesville
beats are `beat_no` ("10", named after their neighbourhood), districts the `district`
column ("2"); Charlottesville ships no district shapes, so their geometry stays None.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from crm.beats.models import Beat, District
from crm.extensions import db

GEO_DIR = Path(__file__).resolve().parent / "geo"
CITIES = ("chicago", "charlottesville")


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _read_features(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)["features"]


def _merge_geometries(geoms: list[dict]) -> dict:
    """One geometry per code: several features of the same beat become a MultiPolygon."""
    if len(geoms) == 1:
        return geoms[0]
    polygons: list = []
    for g in geoms:
        if g["type"] == "Polygon":
            polygons.append(g["coordinates"])
        elif g["type"] == "MultiPolygon":
            polygons.extend(g["coordinates"])
    return {"type": "MultiPolygon", "coordinates": polygons}


def _ring_area_centroid(ring: list) -> tuple[float, float, float]:
    """Signed area and centroid (x, y) of one closed ring (shoelace formula)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=False):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    a /= 2.0
    if a == 0:
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return a, cx / (6.0 * a), cy / (6.0 * a)


def centroid(geometry: dict | None) -> tuple[float, float] | None:
    """Area-weighted centroid (lat, lon) of a GeoJSON Polygon or MultiPolygon (holes subtracted)."""
    if not geometry:
        return None
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return None
    total = sx = sy = 0.0
    pts: list = []
    for poly in polygons:
        for i, ring in enumerate(poly):
            pts.extend(ring)
            a, x, y = _ring_area_centroid([tuple(p[:2]) for p in ring])
            a = abs(a) if i == 0 else -abs(a)  # exterior adds, holes subtract
            total += a
            sx += a * x
            sy += a * y
    if total == 0:
        if not pts:
            return None
        return (sum(p[1] for p in pts) / len(pts), sum(p[0] for p in pts) / len(pts))
    return (sy / total, sx / total)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _chicago() -> tuple[list[dict], list[dict]]:
    folder = GEO_DIR / "chicago"
    district_geoms = {f["properties"]["dist_num"].zfill(2): f["geometry"]
                      for f in _read_features(folder / "districts.geojson")}
    rows = _read_csv(folder / "beats.csv")
    codes = sorted({r["district"].zfill(2) for r in rows} | set(district_geoms))
    districts = [{"code": c, "name": f"{_ordinal(int(c))} District",
                  "geometry": district_geoms.get(c)} for c in codes]
    geoms: dict[str, list[dict]] = defaultdict(list)
    for f in _read_features(folder / "beats.geojson"):
        geoms[f["properties"]["beat_num"]].append(f["geometry"])
    rows_by_code: dict[str, list[dict]] = defaultdict(list)
    for r in rows:  # a beat in several pieces (3100: both airports) has a row per piece
        rows_by_code[r["beat_num"]].append(r)
    beats = []
    for code, pieces in rows_by_code.items():
        r = pieces[0]
        geometry = _merge_geometries(geoms[code]) if code in geoms else None
        if len(pieces) == 1 and r.get("centroid_lat"):
            lat, lon = float(r["centroid_lat"]), float(r["centroid_lon"])
        else:
            lat, lon = centroid(geometry) or (None, None)
        beats.append({"code": code, "name": f"Beat {code}", "district": r["district"].zfill(2),
                      "geometry": geometry, "lat": lat, "lon": lon})
    return districts, beats


def _charlottesville() -> tuple[list[dict], list[dict]]:
    folder = GEO_DIR / "charlottesville"
    rows = _read_csv(folder / "beats.csv")
    geoms: dict[str, list[dict]] = defaultdict(list)
    for f in _read_features(folder / "beats.geojson"):
        geoms[str(f["properties"]["BEAT_NO"])].append(f["geometry"])
    codes = sorted({r["district"] for r in rows}, key=int)
    districts = [{"code": c, "name": f"District {c}", "geometry": None} for c in codes]
    beats = []
    for r in rows:
        code = r["beat_no"]
        geometry = _merge_geometries(geoms[code]) if code in geoms else None
        lat, lon = centroid(geometry) or (None, None)
        name = r["neighborhood_name"].replace("\\", "/").strip() or f"Beat {code}"
        beats.append({"code": code, "name": name, "district": r["district"],
                      "geometry": geometry, "lat": lat, "lon": lon})
    return districts, beats


def read_geography(city: str) -> tuple[list[dict], list[dict]]:
    """The city's districts and beats as plain dicts, straight from the shipped files."""
    if city == "chicago":
        return _chicago()
    if city == "charlottesville":
        return _charlottesville()
    raise ValueError(f"unknown city {city!r}; expected one of {', '.join(CITIES)}")


def load_geography(city: str) -> tuple[list[District], list[Beat]]:
    """Create or update the city's districts and beats (matched by code); flushes, no commit."""
    district_rows, beat_rows = read_geography(city)
    existing_d = {d.code: d for d in db.session.scalars(
        sa.select(District).where(District.code.in_([r["code"] for r in district_rows])))}
    districts: list[District] = []
    for r in district_rows:
        d = existing_d.get(r["code"])
        if d is None:
            d = District(code=r["code"], name=r["name"], geometry=r["geometry"])
            db.session.add(d)
        else:
            if d.name != r["name"]:
                d.name = r["name"]
            if r["geometry"] is not None and d.geometry != r["geometry"]:
                d.geometry = r["geometry"]
        districts.append(d)
    db.session.flush()
    by_code = {d.code: d for d in districts}

    existing_b = {b.code: b for b in db.session.scalars(
        sa.select(Beat).where(Beat.code.in_([r["code"] for r in beat_rows])))}
    beats: list[Beat] = []
    for r in beat_rows:
        values = {"name": r["name"], "district_id": by_code[r["district"]].id,
                  "geometry": r["geometry"], "centroid_lat": r["lat"], "centroid_lon": r["lon"]}
        b = existing_b.get(r["code"])
        if b is None:
            b = Beat(code=r["code"], **values)
            db.session.add(b)
        else:
            for k, v in values.items():
                if getattr(b, k) != v:
                    setattr(b, k, v)
        beats.append(b)
    db.session.flush()
    return districts, beats


def beat_adjacency(city: str) -> list[tuple[str, str]]:
    """Pairs of neighbouring beat codes where the city ships them (Chicago), else []."""
    path = GEO_DIR / city / "beat_adjacency.csv"
    if not path.exists():
        return []
    return [(r["beat_a"], r["beat_b"]) for r in _read_csv(path)]


def neighbourhood_names(city: str, beats: list[dict] | None = None) -> dict[str, str]:
    """Beat code -> a neighbourhood name: Chicago's nearest community area, else the beat name."""
    _, beat_rows = read_geography(city) if beats is None else (None, beats)
    path = GEO_DIR / city / "community_areas.csv"
    if not path.exists():
        return {b["code"]: b["name"] for b in beat_rows}
    areas = [(float(r["centroid_lat"]), float(r["centroid_lon"]), _title(r["community"]))
             for r in _read_csv(path)]
    out = {}
    for b in beat_rows:
        if b["lat"] is None:
            out[b["code"]] = b["name"]
            continue
        out[b["code"]] = min(areas, key=lambda a, b=b: (a[0] - b["lat"]) ** 2
                             + (a[1] - b["lon"]) ** 2)[2]
    return out


def _title(name: str) -> str:
    small = {"of", "and", "the"}
    words = name.strip().lower().split()
    fixed = {"ohare": "O'Hare", "mckinley": "McKinley"}
    return " ".join(fixed.get(w, w if (i and w in small) else w.capitalize())
                    for i, w in enumerate(words))
