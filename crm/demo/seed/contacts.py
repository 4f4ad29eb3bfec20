"""Contacts: who met which group, when, how and with what outcome, with their officers,
groups, stakeholders, stage changes and follow-ups. Drawn before the groups are written
(the groups' stage comes from them), written after."""

from __future__ import annotations

import numpy as np

from crm.demo import words
from crm.demo.seed.arrays import choice, chunks, pick_from_csr
from crm.demo.seed.base import Demo
from crm.demo.seed.mix import CONTACT_PULL, HOST, INITIATED_MIX, NEU, REC, STAGE_TARGET, UNK, WARY
from crm.models import (
    Contact,
    ContactGroup,
    ContactOfficer,
    ContactStakeholder,
    RelationshipStageChange,
)
from crm.vocab import CHANNELS, GROUP_KINDS, INITIATED_BY, STAGES, TECHNIQUES


def plan_contacts(demo: Demo) -> None:
    """Draw every contact and its links (arrays on `demo`; nothing written yet). The parts
    draw from the generator in this order."""
    nc = demo.size.contacts
    g, at = _groups_and_times(demo)
    init, channel = _how(demo, g)
    beat, off, second, off2 = _where_and_who(demo, g)
    officer = demo.officer_ids[off]
    mask, enf = _techniques_and_enforcement(demo, g, init)
    stage = _stages(demo, g)
    fu, fu_on, done, done_at = _follow_ups(demo, at, officer)
    _linked_groups(demo, g, beat)
    _linked_people(demo, g, at, stage)
    rng = demo.rng
    demo.c = dict(g=g, at=at, init=init, channel=channel, beat=beat, officer=officer,
                  second=second, officer2=demo.officer_ids[off2], mask=mask, enf=enf,
                  stage=stage, fu=fu, fu_on=fu_on, done=done, done_at=done_at,
                  place=rng.integers(0, len(words.PLACES), size=nc),
                  street=rng.integers(0, len(words.STREETS[demo.city]), size=nc),
                  purpose=rng.integers(0, 1000, size=nc),
                  note=rng.integers(0, len(words.NOTES), size=nc),
                  fu_note=rng.integers(0, len(words.FOLLOW_UP_NOTES), size=nc),
                  logged_delay=rng.integers(60, 3 * 3600, size=nc))
    demo.contact_ids = demo.next_id(Contact.__table__) + np.arange(nc)
    demo.n_contacts = nc


def _groups_and_times(demo: Demo) -> tuple[np.ndarray, np.ndarray]:
    """Which group each contact is with (friendly ones favoured, ~12% never contacted) and
    when (the past year, mostly daytime and evening); sorted by time."""
    rng, ng, nc = demo.rng, demo.size.groups, demo.size.contacts
    stance = demo.stance
    # ~12% of groups never contacted, hard-to-engage ones more likely.
    never_w = np.select([stance == HOST, stance == WARY, stance == UNK], [4.0, 3.0, 2.0], 1.0)
    never_w[demo.kind == GROUP_KINDS.index("agency")] = 0.2
    n_never = max(1, round(ng * 0.12))
    never = rng.choice(ng, size=n_never, replace=False, p=never_w / never_w.sum())
    for s_needed in (REC, HOST):  # keep both ends of the comparison contacted
        pool = np.flatnonzero(stance == s_needed)
        if len(pool) and np.isin(pool, never).all():
            never = never[never != pool[0]]
    demo.never = np.zeros(ng, dtype=bool)
    demo.never[never] = True
    pull = np.array([CONTACT_PULL[int(s)] for s in stance]) * rng.lognormal(0, 0.5, ng)
    pull *= 1 + 0.15 * np.log1p(demo.n_members)
    pull[demo.never] = 0
    g = rng.choice(ng, size=nc, p=pull / pull.sum())
    # When: within the past year, mostly daytime and evening.
    day = rng.integers(0, 364, size=nc)
    hour_p = np.array([1, .5, .3, .2, .2, .3, .8, 2, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 5,
                       3, 2, 1.5])
    hour = rng.choice(24, size=nc, p=hour_p / hour_p.sum())
    minute = rng.integers(0, 60, size=nc)
    midnight = np.datetime64(demo.today, "s")
    at = midnight - (day * 86400).astype("timedelta64[s]") + \
        (hour * 3600 + minute * 60).astype("timedelta64[s]")
    future = at >= np.datetime64(demo.now, "s")
    at[future] -= np.timedelta64(86400, "s")
    order = np.argsort(at, kind="stable")
    g, at = g[order], at[order]
    return g, at


def _how(demo: Demo, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """initiated_by by the group's stance, and the channel by initiated_by."""
    rng, nc = demo.rng, demo.size.contacts
    st = demo.stance[g]
    u = rng.random(nc)
    init = np.zeros(nc, dtype=np.int64)
    for s_ix, (p_pro, p_req, _p_rea) in INITIATED_MIX.items():
        m = st == s_ix
        init[m] = np.where(u[m] < p_pro, 0, np.where(u[m] < p_pro + p_req, 1, 2))
    # channel by initiated_by
    channel = np.empty(nc, dtype=np.int64)
    ch_mix = {0: (.32, .16, .08, .12, .26, .06), 1: (.05, .30, .30, .10, .15, .10),
              2: (.55, .0, .15, .0, .30, .0)}
    for i_ix, mix in ch_mix.items():
        m = init == i_ix
        channel[m] = choice(rng, CHANNELS, mix, int(m.sum()))
    return init, channel


def _where_and_who(demo: Demo, g: np.ndarray):
    """The beat (one of the group's) and the officer (usually one assigned to that beat),
    sometimes with a second officer."""
    rng, nc = demo.rng, demo.size.contacts
    gb_starts, gb_vals = demo.group_beats_csr
    beat, _ = pick_from_csr(rng, gb_starts, gb_vals, g)
    ob_starts, ob_vals = demo.off_by_beat
    off_local, has_local = pick_from_csr(rng, ob_starts, ob_vals, beat)
    n_off = len(demo.officer_ids)
    off_any = rng.integers(0, n_off, size=nc)
    use_local = has_local & (rng.random(nc) < 0.88)
    off = np.where(use_local, off_local, off_any)
    second = rng.random(nc) < 0.08
    off2 = (off + 1 + rng.integers(0, max(n_off - 1, 1), size=nc)) % n_off
    second &= off2 != off
    return beat, off, second, off2


def _techniques_and_enforcement(demo: Demo, g: np.ndarray, init: np.ndarray):
    """Techniques as a bitmask (de-escalation more with wary and hostile groups); enforcement
    almost always none, some warnings and rarely more on reactive contacts."""
    rng, nc = demo.rng, demo.size.contacts
    st = demo.stance[g]
    tech_p = np.array([.55, .18, .15, .10, .06, .05])
    mask = np.zeros(nc, dtype=np.int64)
    hard = np.isin(st, [WARY, HOST])
    for t, p in enumerate(tech_p):
        pp = np.where(hard & (t >= 3), p * 3, p)
        mask |= (rng.random(nc) < pp).astype(np.int64) << t
    # enforcement: almost always none; some warnings and rarely more on reactive contacts
    enf = np.zeros(nc, dtype=np.int64)
    u = rng.random(nc)
    reactive = init == 2
    enf[reactive & (u < 0.07)] = 1
    enf[reactive & (u < 0.025)] = 2
    enf[reactive & (u < 0.008)] = 3
    enf[~reactive & (u < 0.004)] = 1
    return mask, enf


def _stages(demo: Demo, g: np.ndarray) -> np.ndarray:
    """Stage after each contact: each group climbs from initial contact towards a
    stance-dependent target, a few fall back a step. Also the group stage changes."""
    rng, ng, nc = demo.rng, demo.size.groups, demo.size.contacts
    stance = demo.stance
    target = np.zeros(ng, dtype=np.int64)
    for s_ix, (opts, ps) in STAGE_TARGET.items():
        m = stance == s_ix
        target[m] = np.array(opts)[choice(rng, opts, ps, int(m.sum()))]
    falls = (rng.random(ng) < 0.15) & np.isin(stance, [NEU, WARY, HOST, UNK]) & (target >= 2)
    order_g = np.lexsort((np.arange(nc), g))  # by group, then time
    gs = g[order_g]
    n_g = np.bincount(g, minlength=ng)
    first_ix = np.concatenate([[0], np.cumsum(n_g)])[:-1]
    k = np.arange(nc) - first_ix[gs]
    n = n_g[gs]
    t = target[gs]
    stage_sorted = 1 + np.floor((t - 1) * k / np.maximum(n - 1, 1)).astype(np.int64)
    fall_m = falls[gs] & (n >= 4) & (k >= np.ceil(0.8 * n))
    stage_sorted[fall_m] = np.maximum(1, stage_sorted[fall_m] - 1)
    stage = np.empty(nc, dtype=np.int64)
    stage[order_g] = stage_sorted
    prev = np.concatenate([[0], stage_sorted[:-1]])
    prev[k == 0] = 0
    change = stage_sorted != prev
    demo.sc_contact = order_g[change]  # contact index of each group stage change
    demo.sc_from, demo.sc_to = prev[change], stage_sorted[change]
    last = np.zeros(ng, dtype=np.int64)
    has = n_g > 0
    last[has] = stage_sorted[first_ix[has] + n_g[has] - 1]
    demo.group_stage = last
    return stage


def _follow_ups(demo: Demo, at: np.ndarray, officer: np.ndarray):
    """Follow-ups on ~12% of contacts, most past ones done; a few due today and this week,
    and one for officer1 today, all open."""
    rng, nc = demo.rng, demo.size.contacts
    fu = rng.random(nc) < 0.12
    at_date = at.astype("datetime64[D]")
    fu_on = at_date + rng.integers(2, 22, size=nc).astype("timedelta64[D]")
    today = np.datetime64(demo.today, "D")
    past_due = fu_on < today
    done = fu & (((past_due) & (rng.random(nc) < 0.8)) | (~past_due & (rng.random(nc) < 0.2)))
    span = np.maximum((np.minimum(fu_on + 3, today) - at_date).astype(np.int64), 0)
    done_at = at + (np.floor(rng.random(nc) * span * 86400) + 3600).astype("timedelta64[s]")
    now64 = np.datetime64(demo.now, "s")
    done_at = np.minimum(done_at, now64)
    recent = np.flatnonzero(at >= now64 - np.timedelta64(4 * 86400, "s"))
    if len(recent):
        pick = rng.choice(recent, size=min(4, len(recent)), replace=False)
        for i, days in zip(pick, (0, 0, 3, 6), strict=False):
            fu[i], done[i] = True, False
            fu_on[i] = today + np.timedelta64(days, "D")
    mine = np.flatnonzero(officer == demo.officer_ids[0])
    if len(mine):
        i = mine[-1]
        fu[i], done[i], fu_on[i] = True, False, today
    return fu, fu_on, done, done_at


def _linked_groups(demo: Demo, g: np.ndarray, beat: np.ndarray) -> None:
    """Contact-group links: the primary group, sometimes another contacted group of the beat."""
    rng, ng, nc = demo.rng, demo.size.groups, demo.size.contacts
    bg_starts, bg_vals = demo.beat_groups_csr
    sec_rows = np.flatnonzero(rng.random(nc) < 0.14)
    sec_rows = np.concatenate([sec_rows, sec_rows[rng.random(len(sec_rows)) < 0.15]])
    sec_g, ok = pick_from_csr(rng, bg_starts, bg_vals, beat[sec_rows])
    ok &= sec_g != g[sec_rows]
    ok &= ~demo.never[np.maximum(sec_g, 0)]
    cg_c = np.concatenate([np.arange(nc), sec_rows[ok]])
    cg_g = np.concatenate([g, sec_g[ok]])
    key = np.unique(cg_c * ng + cg_g)
    demo.cg_c, demo.cg_g = key // ng, key % ng


def _linked_people(demo: Demo, g: np.ndarray, at: np.ndarray, stage: np.ndarray) -> None:
    """Contact-stakeholder links: 0-3 members of the primary group; each person's stage and
    last contact follow from their latest contact."""
    rng, nc = demo.rng, demo.size.contacts
    n_s = rng.choice(4, size=nc, p=(.25, .45, .2, .1))
    rows = np.repeat(np.arange(nc), n_s)
    mem_starts, mem_vals = demo.members_csr
    s_pick, ok = pick_from_csr(rng, mem_starts, mem_vals, g[rows])
    key = np.unique(rows[ok] * demo.size.stakeholders + s_pick[ok])
    demo.cs_c, demo.cs_s = key // demo.size.stakeholders, key % demo.size.stakeholders
    # stakeholder stage: their latest contact's stage
    ns = demo.size.stakeholders
    last_c = np.full(ns, -1, dtype=np.int64)
    np.maximum.at(last_c, demo.cs_s, demo.cs_c)
    demo.s_stage = np.where(last_c >= 0, stage[np.maximum(last_c, 0)], 0)
    demo.s_last_contact = np.where(
        last_c >= 0, at[np.maximum(last_c, 0)].astype("datetime64[D]"),
        np.datetime64("NaT"))


def insert_contacts(demo: Demo) -> None:
    """Write the contacts, their officer/group/stakeholder links and stage changes."""
    c, nc = demo.c, demo.n_contacts
    cid = demo.contact_ids.tolist()
    at = c["at"].astype("datetime64[us]").tolist()
    logged = (c["at"] + c["logged_delay"].astype("timedelta64[s]"))
    logged = np.minimum(logged, np.datetime64(demo.now, "s")).astype("datetime64[us]").tolist()
    fu_on = c["fu_on"].tolist()
    done_at = c["done_at"].astype("datetime64[us]").tolist()
    beat_id = demo.beat_ids[c["beat"]].tolist()
    officer = c["officer"].tolist()
    init, channel, mask = c["init"].tolist(), c["channel"].tolist(), c["mask"].tolist()
    enf, stage = c["enf"].tolist(), c["stage"].tolist()
    fu, done = c["fu"].tolist(), c["done"].tolist()
    place, street = c["place"].tolist(), c["street"].tolist()
    purpose, note, fu_note = c["purpose"].tolist(), c["note"].tolist(), c["fu_note"].tolist()
    techs = [[TECHNIQUES[t] for t in range(len(TECHNIQUES)) if m >> t & 1] for m in range(64)]
    streets = words.STREETS[demo.city]
    places = [[f"{p}, {s}" for s in streets] for p in words.PLACES]
    purposes = [words.PURPOSES[i] for i in INITIATED_BY]
    enforcement = ("none", "warning", "citation", "arrest")

    def contact_batches():
        for lo, hi in chunks(nc):
            out = []
            for i in range(lo, hi):
                has_fu, is_done = fu[i], done[i]
                out.append({
                    "id": cid[i], "occurred_at": at[i], "beat_id": beat_id[i],
                    "place": places[place[i]][street[i]],
                    "channel": CHANNELS[channel[i]], "initiated_by": INITIATED_BY[init[i]],
                    "purpose": purposes[init[i]][purpose[i] % len(purposes[init[i]])],
                    "techniques": techs[mask[i]], "stage_after": STAGES[stage[i]],
                    "enforcement": enforcement[enf[i]], "note": words.NOTES[note[i]],
                    "follow_up_on": fu_on[i] if has_fu else None,
                    "follow_up_note": words.FOLLOW_UP_NOTES[fu_note[i]] if has_fu else "",
                    "follow_up_done_at": done_at[i] if is_done else None,
                    "follow_up_done_by_id": officer[i] if is_done else None,
                    "logged_by_id": officer[i], "idempotency_key": None, "version_id": 1,
                    "created_at": logged[i],
                    "updated_at": done_at[i] if is_done else logged[i]})
            yield out

    demo.insert(Contact.__table__, contact_batches(), "contacts", nc)

    # officers
    sec = np.flatnonzero(c["second"])
    co_c = np.concatenate([np.arange(nc), sec])
    co_u = np.concatenate([c["officer"], c["officer2"][sec]])
    insert_links(demo, ContactOfficer.__table__, co_c, "user_id", co_u.tolist(), at, cid,
                      "contact officers")
    # groups (repeat initiated_by)
    ginit = [INITIATED_BY[i] for i in c["init"][demo.cg_c].tolist()]
    insert_links(demo, ContactGroup.__table__, demo.cg_c, "group_id",
                      demo.group_ids[demo.cg_g].tolist(), at, cid, "contact groups",
                      extra=("initiated_by", ginit))
    insert_links(demo, ContactStakeholder.__table__, demo.cs_c, "stakeholder_id",
                      demo.stakeholder_ids[demo.cs_s].tolist(), at, cid,
                      "contact stakeholders")
    # group stage changes, one per change of the primary group's stage
    sc = demo.sc_contact
    n = len(sc)
    sc0 = demo.next_id(RelationshipStageChange.__table__)
    grp = demo.group_ids[c["g"][sc]].tolist()
    by = c["officer"][sc].tolist()
    frm, to, sc_l = demo.sc_from.tolist(), demo.sc_to.tolist(), sc.tolist()

    def stage_batches():
        for lo, hi in chunks(n):
            yield [{"id": sc0 + i, "stakeholder_id": None, "group_id": grp[i],
                    "contact_id": cid[sc_l[i]], "changed_by_id": by[i],
                    "from_stage": STAGES[frm[i]], "to_stage": STAGES[to[i]],
                    "changed_at": at[sc_l[i]], "created_at": logged[sc_l[i]],
                    "updated_at": logged[sc_l[i]]} for i in range(lo, hi)]

    demo.insert(RelationshipStageChange.__table__, stage_batches(), "stage changes", n)


def insert_links(demo: Demo, table, contact_ix, col, values, at, cid, stage, extra=None):
    ci = contact_ix.tolist()
    n = len(ci)

    def batches():
        for lo, hi in chunks(n):
            if extra:
                name, ev = extra
                yield [{"contact_id": cid[ci[i]], col: values[i], "occurred_at": at[ci[i]],
                        name: ev[i]} for i in range(lo, hi)]
            else:
                yield [{"contact_id": cid[ci[i]], col: values[i], "occurred_at": at[ci[i]]}
                       for i in range(lo, hi)]

    demo.insert(table, batches(), stage, n)
