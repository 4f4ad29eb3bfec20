"""Officers' well-being check-ins after hard (reactive, wary or hostile) contacts."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from crm.demo import words
from crm.demo.seed.base import Demo
from crm.demo.seed.mix import HOST, WARY
from crm.models import WellbeingCheckin


def insert_checkins(demo: Demo) -> None:
    """Write a few check-ins, half an hour after hard contacts."""
    rng, c = demo.rng, demo.c
    hard = np.flatnonzero(np.isin(demo.stance[c["g"]], [WARY, HOST]) & (c["init"] == 2))
    if not len(hard):
        hard = np.arange(demo.n_contacts)
    pick = np.sort(rng.choice(hard, size=min(demo.size.wellbeing, len(hard)), replace=False))
    wid = demo.next_id(WellbeingCheckin.__table__)
    rows = []
    for j, i in enumerate(pick.tolist()):
        at = c["at"][i].astype("datetime64[us]").item() + timedelta(minutes=30)
        at = min(at, demo.now)
        rows.append({"id": wid + j, "officer_id": int(c["officer"][i]),
                     "contact_id": int(demo.contact_ids[i]), "occurred_at": at,
                     "stress_level": int(rng.choice(5, p=(.1, .25, .3, .2, .15)) + 1),
                     "boundary_crossed": bool(rng.random() < 0.2),
                     "coping": words.COPING[int(rng.integers(len(words.COPING)))],
                     "debrief_wanted": bool(rng.random() < 0.3),
                     "created_at": at, "updated_at": at})
    demo.insert(WellbeingCheckin.__table__, rows, "wellbeing")
