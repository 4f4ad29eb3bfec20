"""Community groups: kind, stance and beats drawn first (memberships and contacts depend on
them), names from the neighbourhood, rows written once the contacts have set their stage."""

from __future__ import annotations

import numpy as np

from crm.demo import words
from crm.demo.seed.arrays import choice, csr
from crm.demo.seed.base import Demo
from crm.demo.seed.mix import DEFAULT_MIX, KIND_SIZE, KIND_WEIGHTS, NEU, QUALIFIERS, STANCE_MIX, UNK
from crm.groups.models import group_beats
from crm.models import CommunityGroup, GroupAssignment
from crm.vocab import CHANNELS, GROUP_KINDS, STAGES, STANCES


def plan_groups(demo: Demo) -> None:
    """Draw each group's kind, stance, beats, member pull, languages and channels."""
    rng, ng, nb = demo.rng, demo.size.groups, demo.nb
    kinds = np.array(list(GROUP_KINDS))
    kw = np.array([KIND_WEIGHTS[k] for k in GROUP_KINDS])
    kind = rng.choice(len(kinds), size=ng, p=kw / kw.sum())
    kind[:len(kinds)] = rng.permutation(len(kinds))  # every kind at least once
    stance = np.empty(ng, dtype=np.int64)
    for ki, k in enumerate(GROUP_KINDS):
        m = kind == ki
        stance[m] = choice(rng, STANCES, STANCE_MIX.get(k, DEFAULT_MIX), int(m.sum()))
    # A demo needs each stance at least twice (receptive vs hostile comparisons).
    for s in range(len(STANCES)):
        if (stance == s).sum() < 2:
            cand = np.flatnonzero(np.isin(stance, [NEU, UNK]) &
                                  (np.arange(ng) >= len(kinds)))
            stance[cand[:2 - int((stance == s).sum())]] = s
    beat_w = rng.gamma(2.0, 1.0, nb)
    home = rng.choice(nb, size=ng, p=beat_w / beat_w.sum())
    n_beats = rng.choice(3, size=ng, p=(.55, .30, .15)) + 1
    gb_g, gb_b = [], []
    for g in range(ng):
        bl = [int(home[g])] + demo.near[int(home[g])][:int(n_beats[g]) - 1]
        for b in bl:
            gb_g.append(g)
            gb_b.append(b)
    demo.gb_g = np.array(gb_g, dtype=np.int64)
    demo.gb_b = np.array(gb_b, dtype=np.int64)
    demo.group_beats_csr = csr(demo.gb_g, demo.gb_b, ng)
    demo.beat_groups_csr = csr(demo.gb_b, demo.gb_g, nb)
    demo.kind, demo.stance, demo.home = kind, stance, home
    # Zipf-like pull on members: a few big groups, many small.
    rank = rng.permutation(ng) + 1
    demo.member_pull = (1.0 / rank ** 0.9) * np.array(
        [KIND_SIZE[GROUP_KINDS[k]] for k in kind])
    demo.names = group_names(demo)
    lang_codes = [c for c, _ in words.LANGUAGES[demo.city]]
    lang_p = np.array([p for _, p in words.LANGUAGES[demo.city]])
    demo.lang_codes, demo.lang_p = lang_codes, lang_p / lang_p.sum()
    primary_lang = rng.choice(len(lang_codes), size=ng, p=demo.lang_p)
    second_lang = rng.choice(len(lang_codes), size=ng, p=demo.lang_p)
    has_second = rng.random(ng) < 0.3
    demo.group_languages = []
    for g in range(ng):
        langs = [lang_codes[primary_lang[g]]]
        if has_second[g] and second_lang[g] != primary_lang[g]:
            langs.append(lang_codes[second_lang[g]])
        if "en" not in langs and rng.random() < 0.5:
            langs.append("en")
        demo.group_languages.append(langs)
    ch = rng.random((ng, len(CHANNELS))) < np.array([.45, .55, .45, .3, .35, .25])
    demo.group_channels = [[CHANNELS[j] for j in np.flatnonzero(ch[g])] or ["visit"]
                           for g in range(ng)]
    demo.interval = rng.choice(np.array([14, 30, 60, 90]), size=ng, p=(.15, .45, .25, .15))
    demo.group_ids = demo.next_id(CommunityGroup.__table__) + np.arange(ng)


def group_names(demo: Demo) -> list[str]:
    """A unique, plausible name per group, from its kind and neighbourhood."""
    rng = demo.rng
    streets = words.STREETS[demo.city]
    names: list[str] = []
    seen: set[str] = set()
    for g in range(len(demo.kind)):
        kind = GROUP_KINDS[demo.kind[g]]
        b = int(demo.home[g])
        templates = words.GROUP_TEMPLATES[kind]
        name = ""
        for attempt in range(24):
            t = templates[rng.integers(len(templates))]
            s1, s2 = rng.choice(len(streets), size=2, replace=False)
            hood = demo.beat_hood[b] if attempt < 8 or not demo.near[b] else \
                demo.beat_hood[demo.near[b][attempt % len(demo.near[b])]]
            if attempt >= 12:  # a crowded neighbourhood: "East Garrett Youth Council"
                hood = f"{QUALIFIERS[rng.integers(len(QUALIFIERS))]} {hood}"
            name = t.format(hood=hood, street=streets[s1], street2=streets[s2],
                            beat=demo.beat_codes[b], saint=words.SAINTS[rng.integers(len(words.SAINTS))],
                            surname=words.LAST_NAMES[rng.integers(len(words.LAST_NAMES))],
                            culture=words.CULTURES[rng.integers(len(words.CULTURES))])
            name = squash_repeats(name)
            if name not in seen:
                break
        if name in seen:
            name = f"{name} (Beat {demo.beat_codes[b]})"
        n = 2
        base = name
        while name in seen:
            name = f"{base} {n}"
            n += 1
        seen.add(name)
        names.append(name[:200])
    return names


def squash_repeats(name: str) -> str:
    """'Portage Park Park Chess Players' -> 'Portage Park Chess Players'."""
    parts = name.split(" ")
    return " ".join(w for i, w in enumerate(parts) if i == 0 or w != parts[i - 1])


def insert_groups(demo: Demo) -> None:
    """Write the groups (sizes estimated from their members), their beats and the unit's
    assignments."""
    rng, ng = demo.rng, demo.size.groups
    gid = demo.group_ids
    group_rows = [{
        "id": int(gid[g]), "name": demo.names[g], "kind": GROUP_KINDS[demo.kind[g]],
        "stance": STANCES[demo.stance[g]], "stage": STAGES[demo.group_stage[g]],
        "size_estimate": None, "languages": demo.group_languages[g],
        "channels": demo.group_channels[g],
        "description": words.GROUP_DESCRIPTIONS[GROUP_KINDS[demo.kind[g]]],
        "contact_interval_days": int(demo.interval[g]), "version_id": 1,
        "created_at": demo.now, "updated_at": demo.now} for g in range(ng)]
    # Size estimates: a multiple of the members on file, skewed; some unknown.
    est = np.round(demo.n_members * rng.lognormal(1.3, 0.7, ng)).astype(np.int64) + 2
    unknown = rng.random(ng) < 0.12
    for g in range(ng):
        group_rows[g]["size_estimate"] = None if unknown[g] else int(est[g])
    demo.insert(CommunityGroup.__table__, group_rows, "groups")
    demo.insert(group_beats, [{"group_id": int(gid[g]), "beat_id": int(demo.beat_ids[b])}
                              for g, b in zip(demo.gb_g, demo.gb_b, strict=True)], "groups")
    assign_unit_groups(demo, gid)


def assign_unit_groups(demo: Demo, gid) -> None:
    """Each unit member looks after a share of the groups, the wary and hostile first:
    the ones a community policing unit exists to reach."""
    if not demo.unit_ids:
        return
    order = sorted(range(len(gid)),
                   key=lambda g: (STANCES[demo.stance[g]] not in ("hostile", "wary"), g))
    per_member = max(1, min(40, len(order) // len(demo.unit_ids)))
    rows = [{"user_id": uid, "group_id": int(gid[g]), "created_at": demo.now,
             "updated_at": demo.now}
            for i, uid in enumerate(demo.unit_ids)
            for g in order[i::len(demo.unit_ids)][:per_member]]
    demo.insert(GroupAssignment.__table__, rows, "groups")
