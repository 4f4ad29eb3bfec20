"""Stakeholders and their memberships: people live near one beat and join mostly nearby
groups, a few join many."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from crm.demo import words
from crm.demo.seed.arrays import choice, chunks, weighted_pick_from_csr
from crm.demo.seed.base import Demo
from crm.models import Membership, Stakeholder
from crm.vocab import CONSENT_STATUSES, MEMBERSHIP_ROLES, STAGES, SUBJECT_CATEGORIES


def plan_memberships(demo: Demo) -> None:
    """Draw who belongs to which group and in what role (every group gets two members)."""
    rng, ns, ng, nm, nb = demo.rng, demo.size.stakeholders, demo.size.groups, \
        demo.size.memberships, demo.nb
    # Each person lives near one beat with groups; joins mostly nearby groups.
    groups_per_beat = np.bincount(demo.gb_b, minlength=nb).astype(float)
    p_home = (groups_per_beat + 0.5) / (groups_per_beat + 0.5).sum()
    s_home = rng.choice(nb, size=ns, p=p_home)
    activity = rng.gamma(1.0, 1.0, ns)  # skewed: some people join many groups
    starts, vals = demo.beat_groups_csr
    cumw = np.cumsum(demo.member_pull[vals])
    key = np.zeros(0, dtype=np.int64)
    for _ in range(8):  # draw, drop repeated (person, group) pairs, top up
        draws = int((nm - len(key)) * 1.3) + 64
        s = rng.choice(ns, size=draws, p=activity / activity.sum())
        local = weighted_pick_from_csr(rng, starts, vals, cumw, s_home[s])
        glob = rng.choice(ng, size=draws, p=demo.member_pull / demo.member_pull.sum())
        use_local = (rng.random(draws) < 0.7) & (local >= 0)
        g = np.where(use_local, local, glob)
        key = np.unique(np.concatenate([key, s.astype(np.int64) * ng + g]))
        if len(key) >= nm:
            break
    key = rng.permutation(key)[:nm]
    s, g = key // ng, key % ng
    # Every group gets at least two members.
    counts = np.bincount(g, minlength=ng)
    lacking = np.flatnonzero(counts < 2)
    if len(lacking):
        extra_g = np.repeat(lacking, 2)
        extra_s = rng.choice(ns, size=len(extra_g))
        key = np.unique(np.concatenate([s * ng + g, extra_s * ng + extra_g]))
        s, g = key // ng, key % ng
    order = np.lexsort((s, g))
    s, g = s[order], g[order]
    n = len(s)
    role = np.full(n, MEMBERSHIP_ROLES.index("member"), dtype=np.int64)
    first = np.ones(n, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    # The leader is a random member (rows are ordered by stakeholder within a group).
    shuffled = rng.random(n)
    grp_start = np.flatnonzero(first)
    grp_len = np.diff(np.append(grp_start, n))
    leader = grp_start + np.floor(shuffled[grp_start] * grp_len).astype(np.int64)
    u = rng.random(n)
    role[u < 0.04] = MEMBERSHIP_ROLES.index("spokesperson")
    role[(u >= 0.04) & (u < 0.06)] = MEMBERSHIP_ROLES.index("liaison")
    role[leader] = MEMBERSHIP_ROLES.index("leader")
    demo.m_s, demo.m_g, demo.m_role = s, g, role
    demo.s_home = s_home
    demo.members_csr = (np.concatenate([[0], np.cumsum(np.bincount(g, minlength=ng))]), s)
    demo.n_members = np.bincount(g, minlength=ng)


def insert_stakeholders(demo: Demo, ns: int) -> None:
    """Write the people: names, contact details, consent and a review date."""
    rng = demo.rng
    first = rng.integers(0, len(words.FIRST_NAMES), size=ns)
    last = rng.integers(0, len(words.LAST_NAMES), size=ns)
    phone = rng.random(ns) < 0.45
    email = rng.random(ns) < 0.3
    phone_no = rng.integers(0, 10_000, size=ns)
    area = "312" if demo.city == "chicago" else "434"
    lang = rng.choice(len(demo.lang_codes), size=ns, p=demo.lang_p)
    no_lang = rng.random(ns) < 0.15
    cat = choice(rng, SUBJECT_CATEGORIES, (.72, .12, .05, .08, .03), ns)
    consent = choice(rng, CONSENT_STATUSES, (.55, .05, .40), ns)
    created_days = rng.integers(20, 1500, size=ns)
    created = demo.days_ago(created_days)
    consent_on = created + rng.integers(0, 15, size=ns).astype("timedelta64[D]")
    consent_on = np.minimum(consent_on, np.datetime64(demo.today, "D"))
    method = rng.integers(0, len(words.CONSENT_METHODS), size=ns)
    last_activity = np.where(np.isnat(demo.s_last_contact), created,
                             np.where(demo.s_last_contact > created, demo.s_last_contact,
                                      created))
    review = (last_activity + np.timedelta64(3 * 365, "D")).tolist()
    created_l = created.tolist()
    consent_on_l = consent_on.tolist()
    sid0 = demo.next_id(Stakeholder.__table__)
    demo.stakeholder_ids = sid0 + np.arange(ns)
    demo.s_created = created
    first_l, last_l = first.tolist(), last.tolist()

    def batches():
        for lo, hi in chunks(ns):
            out = []
            for i in range(lo, hi):
                fn, ln = words.FIRST_NAMES[first_l[i]], words.LAST_NAMES[last_l[i]]
                cs = CONSENT_STATUSES[consent[i]]
                asked = cs != "not_asked"
                created_dt = datetime.combine(created_l[i], datetime.min.time())
                out.append({
                    "id": sid0 + i, "external_id": None, "name": f"{fn} {ln}",
                    "phone": f"{area}-555-{phone_no[i]:04d}" if phone[i] else None,
                    "email": (f"{fn}.{ln}{i}@example.org".lower().replace("'", "")
                              if email[i] else None),
                    "language": None if no_lang[i] else demo.lang_codes[lang[i]],
                    "data_subject_category": SUBJECT_CATEGORIES[cat[i]],
                    "consent_status": cs,
                    "consent_on": consent_on_l[i] if asked else None,
                    "consent_method": words.CONSENT_METHODS[method[i]] if asked else None,
                    "consent_purpose": "community engagement and problem-solving"
                    if asked else None,
                    "stage": STAGES[demo.s_stage[i]], "review_on": review[i],
                    "erased_at": None, "merged_into_id": None, "version_id": 1,
                    "created_at": created_dt, "updated_at": created_dt})
            yield out

    demo.insert(Stakeholder.__table__, batches(), "stakeholders", ns)


def insert_memberships(demo: Demo) -> None:
    """Write the memberships, joined after the person was recorded; a few ended."""
    rng = demo.rng
    n = len(demo.m_s)
    # Joined some time after the person was first recorded; a few memberships ended.
    starts = demo.s_created[demo.m_s] + rng.integers(0, 60, size=n).astype("timedelta64[D]")
    today = np.datetime64(demo.today, "D")
    starts = np.minimum(starts, today)
    ended = rng.random(n) < 0.04
    ends = np.minimum(starts + rng.integers(30, 700, size=n).astype("timedelta64[D]"), today)
    starts_l, ends_l = starts.tolist(), ends.tolist()
    mid0 = demo.next_id(Membership.__table__)
    sid, gid = demo.stakeholder_ids[demo.m_s].tolist(), demo.group_ids[demo.m_g].tolist()
    role = demo.m_role.tolist()

    def batches():
        for lo, hi in chunks(n):
            yield [{"id": mid0 + i, "stakeholder_id": sid[i], "group_id": gid[i],
                    "role": MEMBERSHIP_ROLES[role[i]], "starts_on": starts_l[i],
                    "ends_on": ends_l[i] if ended[i] else None, "version_id": 1,
                    "created_at": demo.now, "updated_at": demo.now}
                   for i in range(lo, hi)]

    demo.insert(Membership.__table__, batches(), "memberships", n)
