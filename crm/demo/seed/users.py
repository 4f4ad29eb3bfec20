"""Demo accounts: admin, analyst, supervisors, unit members and officers on nearby beats."""

from __future__ import annotations

import secrets
from datetime import timedelta

import numpy as np
import sqlalchemy as sa

from crm.demo import words
from crm.demo.seed.arrays import csr
from crm.demo.seed.base import DEMO_PASSWORD, Demo, DemoLogin
from crm.extensions import db
from crm.models import BeatAssignment, User
from crm.users.services import hash_password


def insert_users(demo: Demo) -> None:
    """Write the demo accounts and their beat assignments (one shared password hash)."""
    rng, size = demo.rng, demo.size
    nb = demo.nb
    n_off = size.officers or max(nb, 12)
    n_sup = size.supervisors or len(demo.district_ids)
    n_sup = max(2, min(n_sup, len(demo.district_ids))) if demo.district_ids else 2
    pw_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
    existing = dict(db.session.execute(
        sa.select(User.username, User.id)).all())
    next_id = demo.next_id(User.__table__)
    first, last = words.FIRST_NAMES, words.LAST_NAMES
    rows, logins = [], []
    assignments: list[tuple[int, int]] = []  # (user id, beat index)
    officer_ids, unit_ids, supervisor_ids = [], [], []
    perm = rng.permutation(nb)

    def add(username, role, district_id=None, beat_ix=()):
        nonlocal next_id
        name = f"{first[rng.integers(len(first))]} {last[rng.integers(len(last))]}"
        if username in existing:
            uid = existing[username]
            taken = True
        else:
            uid = next_id
            next_id += 1
            taken = False
            rows.append({
                "id": uid, "username": username, "display_name": name,
                "password_hash": pw_hash, "role": role, "active": True,
                "district_id": district_id, "failed_logins": 0, "locked_until": None,
                "last_login_at": None, "password_changed_at": demo.now, "totp_secret": None,
                "session_nonce": secrets.token_urlsafe(16), "version_id": 1,
                "created_at": demo.now, "updated_at": demo.now})
        for b in beat_ix:
            assignments.append((uid, b))
        if district_id is not None:
            where = f"district {demo.district_code[district_id]}"
        else:
            where = ", ".join(demo.beat_codes[b] for b in beat_ix)
        logins.append(DemoLogin(username, role, where, existing=taken))
        return uid

    add("admin", "admin")
    add("analyst", "analyst")
    for i in range(n_sup):
        supervisor_ids.append(add(f"supervisor{i + 1}", "supervisor",
                                  district_id=demo.district_ids[i % len(demo.district_ids)]))
    for i in range(size.unit):
        unit_ids.append(add(f"unit{i + 1}", "unit"))
    demo.officer_beats: list[list[int]] = []
    for i in range(n_off):
        home = int(perm[i % nb])
        extra = int(rng.choice(3, p=(.4, .4, .2)))
        near = [j for j in demo.near[home][:3]]
        rng.shuffle(near)
        beat_ix = [home] + near[:extra]
        officer_ids.append(add(f"officer{i + 1}", "officer", beat_ix=beat_ix))
        demo.officer_beats.append(beat_ix)
    demo.insert(User.__table__, rows, "users")
    start = demo.today - timedelta(days=400)
    aid = demo.next_id(BeatAssignment.__table__)
    arows = [{"id": aid + i, "user_id": u, "beat_id": int(demo.beat_ids[b]), "starts_on": start,
              "ends_on": None, "created_at": demo.now, "updated_at": demo.now}
             for i, (u, b) in enumerate(assignments)]
    demo.insert(BeatAssignment.__table__, arows, "users")
    demo.logins = logins
    demo.officer_ids = np.array(officer_ids, dtype=np.int64)
    demo.unit_ids = unit_ids
    demo.supervisor_ids = supervisor_ids
    # officers by beat index (CSR)
    ob_beat = np.array([b for bl in demo.officer_beats for b in bl], dtype=np.int64)
    ob_off = np.array([i for i, bl in enumerate(demo.officer_beats) for _ in bl],
                      dtype=np.int64)
    demo.off_by_beat = csr(ob_beat, ob_off, nb)
