"""The demo's corner of the city: the real beats of the picked districts, and each beat's
nearest neighbours (the shipped adjacency first)."""

from __future__ import annotations

import numpy as np

from crm.beats.services import beat_adjacency, load_geography, neighbourhood_names
from crm.demo.seed.base import Demo


def place_beats(demo: Demo) -> None:
    """Load the city's beats, pick the demo's districts and each beat's neighbours."""
    rng = demo.rng
    districts, beats = load_geography(demo.city)
    beats = [b for b in beats if b.centroid_lat is not None]
    by_district: dict[int, list] = {}
    for b in beats:
        by_district.setdefault(b.district_id, []).append(b)
    district_ids = [d.id for d in districts if len(by_district.get(d.id, ())) >= 2]
    if demo.size.districts:
        # The district pick is seeded: the same seed gives the same corner of the city.
        picked = rng.choice(len(district_ids), size=min(demo.size.districts, len(district_ids)),
                            replace=False)
        district_ids = sorted(district_ids[i] for i in picked)
    demo.district_ids = district_ids
    demo.district_code = {d.id: d.code for d in districts}
    focus = [b for b in beats if b.district_id in set(district_ids)]
    focus.sort(key=lambda b: b.code)
    demo.beat_ids = np.array([b.id for b in focus], dtype=np.int64)
    demo.beat_codes = [b.code for b in focus]
    demo.beat_district = np.array([b.district_id for b in focus], dtype=np.int64)
    hoods = neighbourhood_names(demo.city, [
        {"code": b.code, "name": b.name, "lat": b.centroid_lat, "lon": b.centroid_lon}
        for b in focus])
    demo.beat_hood = [hoods[b.code] for b in focus]
    nb = len(focus)
    lat = np.array([b.centroid_lat for b in focus])
    lon = np.array([b.centroid_lon for b in focus])
    kx = np.cos(np.radians(lat.mean()))
    d2 = ((lat[:, None] - lat[None, :]) ** 2 + ((lon[:, None] - lon[None, :]) * kx) ** 2)
    np.fill_diagonal(d2, np.inf)
    # Nearest beats first; Chicago's shipped adjacency pairs are put in front.
    code_ix = {c: i for i, c in enumerate(demo.beat_codes)}
    adj: list[list[int]] = [[] for _ in range(nb)]
    for a, b in beat_adjacency(demo.city):
        if a in code_ix and b in code_ix:
            adj[code_ix[a]].append(code_ix[b])
            adj[code_ix[b]].append(code_ix[a])
    k = min(6, nb - 1)
    nearest = np.argsort(d2, axis=1)[:, :k]
    demo.near = []
    for i in range(nb):
        seen = sorted(set(adj[i]), key=lambda j, i=i: d2[i, j])
        seen += [int(j) for j in nearest[i] if int(j) not in seen]
        demo.near.append(seen[:max(k, 1)])
    demo.nb = nb
