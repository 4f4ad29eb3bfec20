"""A realistic synthetic community on the real beats of a city: `seed_demo(size, city, seed)`.

Everything is generated with numpy (one `Generator` per run, so a seed gives the same rows)
and written with SQLAlchemy Core executemany batches: ids are assigned here, so link rows
need no round trips, and no ORM object is built per row. The demo password is hashed once
and shared by every demo login. The service flushes only; the caller commits (one
transaction, also for `large`: Core inserts keep nothing in the session, and rows are built
in batches of `BATCH` dicts, so memory stays bounded).

Sizes: `small` (~40 groups, 300 stakeholders, 800 memberships, 2,000 contacts) for `make run`
and tests; `large` is the benchmark scale (5,000 groups, 100,000 stakeholders, 300,000
memberships, 1,000,000 contacts).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa

from crm.audit.services import record_event
from crm.network.services import bump_versions
from crm.beats.services import beat_adjacency, load_geography, neighbourhood_names
from crm.db import utcnow
from crm.demo import words
from crm.extensions import db
from crm.models import (BeatAssignment, CaseAction, CaseEvent, CaseIdea, CaseMeasure, GroupAssignment,
                        CaseMeasureValue, CaseParticipant, CommunityGroup, Contact, ContactGroup,
                        ContactOfficer, ContactStakeholder, GroupRelation, Membership,
                        ProblemCase, RelationshipStageChange, Stakeholder, User,
                        WellbeingCheckin)
from crm.cases.models import case_beats, case_contacts
from crm.groups.models import group_beats
from crm.users.services import hash_password
from crm.vocab import (CASE_STAGES, CHANNELS, CONSENT_STATUSES, GROUP_KINDS, INITIATED_BY,
                       MEMBERSHIP_ROLES, STAGES, STANCES, SUBJECT_CATEGORIES, TECHNIQUES)

DEMO_PASSWORD = "alliance-demo-2026"  # noqa: S105 - printed on purpose: demo logins only
BATCH = 20_000
# From this many contacts on, secondary indexes of the big tables are rebuilt after loading.
BULK_INDEX_THRESHOLD = 50_000
BULK_TABLES = ("stakeholders", "memberships", "contacts", "contact_officers", "contact_groups",
               "contact_stakeholders")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Size:
    groups: int
    stakeholders: int
    memberships: int
    contacts: int
    officers: int | None  # None: one per beat
    unit: int
    supervisors: int | None  # None: one per district
    cases: int
    wellbeing: int
    districts: int | None  # None: the whole city; else the demo sits in this many districts


SIZES = {
    "small": Size(groups=40, stakeholders=300, memberships=800, contacts=2_000, officers=10,
                  unit=2, supervisors=2, cases=10, wellbeing=6, districts=2),
    "large": Size(groups=5_000, stakeholders=100_000, memberships=300_000, contacts=1_000_000,
                  officers=None, unit=12, supervisors=None, cases=250, wellbeing=300,
                  districts=None),
}


class DemoDataExistsError(RuntimeError):
    """The database already holds community groups; the demo seeds empty databases only."""


@dataclass
class DemoLogin:
    username: str
    role: str
    where: str  # beats or district
    password: str = DEMO_PASSWORD
    existing: bool = False  # the username was taken before the seed: its password is unchanged


@dataclass
class SeedReport:
    size: str
    city: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)


def has_groups() -> bool:
    return db.session.scalar(sa.select(CommunityGroup.id).limit(1)) is not None


def demo_logins() -> list[DemoLogin]:
    """The demo accounts present in the database (for `seed-demo --if-empty`)."""
    users = db.session.scalars(
        sa.select(User).where(sa.or_(
            User.username.in_(("admin", "analyst")),
            User.username.like("officer%"), User.username.like("supervisor%"),
            User.username.like("unit%")))).all()
    out = []
    for u in users:
        if u.role == "supervisor" and u.district is not None:
            where = f"district {u.district.code}"
        else:
            where = ", ".join(b.code for b in u.current_beats())
        out.append(DemoLogin(u.username, u.role, where))
    order = {r: i for i, r in enumerate(("admin", "analyst", "supervisor", "unit", "officer"))}

    def key(login: DemoLogin):
        digits = "".join(ch for ch in login.username if ch.isdigit())
        return (order.get(login.role, 9), int(digits or 0), login.username)

    return sorted(out, key=key)


def seed_demo(size: str = "small", city: str = "chicago", seed: int = 0,
              progress: Progress | None = None) -> SeedReport:
    """Seed the demo community; raises DemoDataExistsError when groups exist. Flushes, no commit."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(SIZES)}")
    if has_groups():
        raise DemoDataExistsError("the database already has community groups; "
                             "the demo seeds an empty database only")
    started = time.perf_counter()
    seeder = _Seeder(SIZES[size], city, seed, progress or (lambda *_: None))
    report = SeedReport(size=size, city=city, seed=seed)
    seeder.run()
    report.counts = dict(seeder.counts)
    report.logins = seeder.logins
    # Core inserts bypass the ORM's change tracking: tell the analytics cache explicitly.
    bump_versions("network", "contacts")
    if db.session.get_bind().dialect.name == "postgresql":
        # Planner statistics for the freshly loaded tables (autovacuum would come later).
        db.session.execute(sa.text("ANALYZE"))
    record_event(None, "demo.seed", object_type="demo",
                 detail={"size": size, "city": city, "seed": seed, "counts": report.counts})
    report.elapsed = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------------------

def _csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group `values` by integer `keys` in [0, n): (starts of length n+1, values sorted by key)."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts, values[order]


def _pick_from_csr(rng, starts, values, rows) -> tuple[np.ndarray, np.ndarray]:
    """One uniform pick from each listed row of a CSR; (values, has_any) (value -1 if empty)."""
    lo = starts[rows]
    n = starts[rows + 1] - lo
    has = n > 0
    idx = lo + np.floor(rng.random(len(rows)) * np.maximum(n, 1)).astype(np.int64)
    out = np.full(len(rows), -1, dtype=np.int64)
    out[has] = values[idx[has]]
    return out, has


def _weighted_pick_from_csr(rng, starts, values, cumw, rows) -> np.ndarray:
    """Weighted pick per row; `cumw` is the running sum of weights in CSR order."""
    lo, hi = starts[rows], starts[rows + 1]
    base = np.where(lo > 0, cumw[np.maximum(lo - 1, 0)], 0.0)
    top = np.where(hi > 0, cumw[np.maximum(hi - 1, 0)], 0.0)
    target = base + rng.random(len(rows)) * (top - base)
    idx = np.searchsorted(cumw, target, side="right")
    idx = np.clip(idx, lo, np.maximum(hi - 1, lo))
    out = np.where(hi > lo, values[np.minimum(idx, len(values) - 1)], -1)
    return out


def _squash_repeats(name: str) -> str:
    """'Portage Park Park Chess Players' -> 'Portage Park Chess Players'."""
    parts = name.split(" ")
    return " ".join(w for i, w in enumerate(parts) if i == 0 or w != parts[i - 1])


def _choice(rng, options, probs, n):
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def _chunks(n: int, size: int = BATCH) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, size):
        yield lo, min(n, lo + size)


QUALIFIERS = ("North", "South", "East", "West", "Upper", "Lower", "Greater", "Old", "New",
              "Central")
STANCE_IX = {s: i for i, s in enumerate(STANCES)}
REC, NEU, WARY, HOST, UNK = (STANCE_IX[s] for s in ("receptive", "neutral", "wary", "hostile",
                                                   "unknown"))

# Stance mix per kind: receptive, neutral, wary, hostile, unknown.
STANCE_MIX = {
    "agency": (.60, .30, .05, .0, .05), "faith": (.30, .30, .10, .03, .27),
    "business": (.30, .35, .10, .05, .20), "advocacy": (.06, .18, .32, .26, .18),
    "youth": (.14, .24, .26, .10, .26), "informal": (.06, .20, .25, .15, .34),
    "tenants": (.12, .26, .28, .14, .20),
}
DEFAULT_MIX = (.20, .32, .14, .06, .28)
KIND_WEIGHTS = {"geographic": .16, "demographic": .08, "cultural": .09, "faith": .12,
                "business": .12, "tenants": .08, "youth": .09, "advocacy": .07, "agency": .06,
                "informal": .09, "other": .04}
# Relative pull on members (a few big congregations and block clubs, small agencies).
KIND_SIZE = {"geographic": 1.4, "demographic": 1.0, "cultural": 1.2, "faith": 1.6,
             "business": 0.6, "tenants": 1.0, "youth": 1.0, "advocacy": 0.8, "agency": 0.4,
             "informal": 0.7, "other": 0.6}
# Contacts per group by stance: officers favour the friendly groups (the known failure mode).
CONTACT_PULL = {REC: 3.0, NEU: 1.3, WARY: 0.55, HOST: 0.3, UNK: 0.8}
# initiated_by mix (proactive, requested, reactive) by stance: hostile contact is mostly reactive.
INITIATED_MIX = {REC: (.68, .24, .08), NEU: (.60, .22, .18), UNK: (.50, .20, .30),
                 WARY: (.35, .15, .50), HOST: (.18, .10, .72)}
# Target stage index per stance: options and weights.
STAGE_TARGET = {REC: ((2, 3, 4), (.25, .45, .30)), NEU: ((1, 2, 3), (.35, .45, .20)),
                UNK: ((1, 2), (.6, .4)), WARY: ((1, 2, 3), (.5, .4, .1)),
                HOST: ((1, 2), (.75, .25))}


class _Seeder:
    def __init__(self, size: Size, city: str, seed: int, progress: Progress):
        self.size = size
        self.city = city
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.logins: list[DemoLogin] = []
        self.now = utcnow().replace(microsecond=0)
        self.today = self.now.date()
        self.pg = db.engine.dialect.name == "postgresql"

    # ---- plumbing ------------------------------------------------------------------

    def next_id(self, table: sa.Table) -> int:
        return (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1

    def insert(self, table: sa.Table, rows: list[dict] | Iterable[list[dict]], stage: str,
               total: int | None = None) -> int:
        """executemany `rows` (a list, or an iterable of batches) into `table`."""
        batches = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)] \
            if isinstance(rows, list) else rows
        done = 0
        for batch in batches:
            if not batch:
                continue
            db.session.execute(sa.insert(table), batch)
            done += len(batch)
            self.progress(stage, done, total if total is not None else done)
        self.counts[table.name] = self.counts.get(table.name, 0) + done
        return done

    def dt64(self, seconds_ago: np.ndarray) -> np.ndarray:
        return np.datetime64(self.now, "s") - seconds_ago.astype("timedelta64[s]")

    def days_ago(self, days: np.ndarray) -> np.ndarray:
        return np.datetime64(self.today, "D") - days.astype("timedelta64[D]")

    # ---- the run ---------------------------------------------------------------------

    def run(self) -> None:
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            # A big page cache for this connection while the indexes of the link tables
            # grow: random b-tree inserts otherwise thrash the 2 MB default.
            db.session.execute(sa.text("PRAGMA cache_size=-262144"))
        try:
            self._run()
        finally:
            if sqlite:
                db.session.execute(sa.text("PRAGMA cache_size=-2000"))

    def _run(self) -> None:
        self.progress("geography", 0, 1)
        self.geography()
        self.progress("geography", 1, 1)
        self.users()
        self.groups()
        self.memberships()
        self.contacts()
        # Bulk load: secondary indexes of the big tables are dropped and rebuilt afterwards
        # (a sorted build beats a million random b-tree inserts). The DDL runs inside the
        # seed's transaction, so a failed seed rolls them back too.
        deferred = self.drop_indexes() if self.size.contacts >= BULK_INDEX_THRESHOLD else []
        self.insert_people()
        self.relations()
        self.insert_contacts()
        self.create_indexes(deferred)
        self.cases()
        self.wellbeing()
        if self.pg:
            self.fix_sequences()

    # ---- geography -------------------------------------------------------------------

    def geography(self) -> None:
        rng = self.rng
        districts, beats = load_geography(self.city)
        beats = [b for b in beats if b.centroid_lat is not None]
        by_district: dict[int, list] = {}
        for b in beats:
            by_district.setdefault(b.district_id, []).append(b)
        district_ids = [d.id for d in districts if len(by_district.get(d.id, ())) >= 2]
        if self.size.districts:
            # The district pick is seeded: the same seed gives the same corner of the city.
            picked = rng.choice(len(district_ids), size=min(self.size.districts, len(district_ids)),
                                replace=False)
            district_ids = sorted(district_ids[i] for i in picked)
        self.district_ids = district_ids
        self.district_code = {d.id: d.code for d in districts}
        focus = [b for b in beats if b.district_id in set(district_ids)]
        focus.sort(key=lambda b: b.code)
        self.beat_ids = np.array([b.id for b in focus], dtype=np.int64)
        self.beat_codes = [b.code for b in focus]
        self.beat_district = np.array([b.district_id for b in focus], dtype=np.int64)
        hoods = neighbourhood_names(self.city, [
            {"code": b.code, "name": b.name, "lat": b.centroid_lat, "lon": b.centroid_lon}
            for b in focus])
        self.beat_hood = [hoods[b.code] for b in focus]
        nb = len(focus)
        lat = np.array([b.centroid_lat for b in focus])
        lon = np.array([b.centroid_lon for b in focus])
        kx = np.cos(np.radians(lat.mean()))
        d2 = ((lat[:, None] - lat[None, :]) ** 2 + ((lon[:, None] - lon[None, :]) * kx) ** 2)
        np.fill_diagonal(d2, np.inf)
        # Nearest beats first; Chicago's shipped adjacency pairs are put in front.
        code_ix = {c: i for i, c in enumerate(self.beat_codes)}
        adj: list[list[int]] = [[] for _ in range(nb)]
        for a, b in beat_adjacency(self.city):
            if a in code_ix and b in code_ix:
                adj[code_ix[a]].append(code_ix[b])
                adj[code_ix[b]].append(code_ix[a])
        k = min(6, nb - 1)
        nearest = np.argsort(d2, axis=1)[:, :k]
        self.near = []
        for i in range(nb):
            seen = sorted(set(adj[i]), key=lambda j, i=i: d2[i, j])
            seen += [int(j) for j in nearest[i] if int(j) not in seen]
            self.near.append(seen[:max(k, 1)])
        self.nb = nb

    # ---- users -------------------------------------------------------------------------

    def users(self) -> None:
        rng, size = self.rng, self.size
        nb = self.nb
        n_off = size.officers or max(nb, 12)
        n_sup = size.supervisors or len(self.district_ids)
        n_sup = max(2, min(n_sup, len(self.district_ids))) if self.district_ids else 2
        pw_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
        existing = dict(db.session.execute(
            sa.select(User.username, User.id)).all())
        next_id = self.next_id(User.__table__)
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
                    "last_login_at": None, "password_changed_at": self.now, "totp_secret": None,
                    "session_nonce": secrets.token_urlsafe(16), "version_id": 1,
                    "created_at": self.now, "updated_at": self.now})
            for b in beat_ix:
                assignments.append((uid, b))
            if district_id is not None:
                where = f"district {self.district_code[district_id]}"
            else:
                where = ", ".join(self.beat_codes[b] for b in beat_ix)
            logins.append(DemoLogin(username, role, where, existing=taken))
            return uid

        add("admin", "admin")
        add("analyst", "analyst")
        for i in range(n_sup):
            supervisor_ids.append(add(f"supervisor{i + 1}", "supervisor",
                                      district_id=self.district_ids[i % len(self.district_ids)]))
        for i in range(size.unit):
            unit_ids.append(add(f"unit{i + 1}", "unit"))
        self.officer_beats: list[list[int]] = []
        for i in range(n_off):
            home = int(perm[i % nb])
            extra = int(rng.choice(3, p=(.4, .4, .2)))
            near = [j for j in self.near[home][:3]]
            rng.shuffle(near)
            beat_ix = [home] + near[:extra]
            officer_ids.append(add(f"officer{i + 1}", "officer", beat_ix=beat_ix))
            self.officer_beats.append(beat_ix)
        self.insert(User.__table__, rows, "users")
        start = self.today - timedelta(days=400)
        aid = self.next_id(BeatAssignment.__table__)
        arows = [{"id": aid + i, "user_id": u, "beat_id": int(self.beat_ids[b]), "starts_on": start,
                  "ends_on": None, "created_at": self.now, "updated_at": self.now}
                 for i, (u, b) in enumerate(assignments)]
        self.insert(BeatAssignment.__table__, arows, "users")
        self.logins = logins
        self.officer_ids = np.array(officer_ids, dtype=np.int64)
        self.unit_ids = unit_ids
        self.supervisor_ids = supervisor_ids
        # officers by beat index (CSR)
        ob_beat = np.array([b for bl in self.officer_beats for b in bl], dtype=np.int64)
        ob_off = np.array([i for i, bl in enumerate(self.officer_beats) for _ in bl],
                          dtype=np.int64)
        self.off_by_beat = _csr(ob_beat, ob_off, nb)

    # ---- groups --------------------------------------------------------------------------

    def groups(self) -> None:
        rng, ng, nb = self.rng, self.size.groups, self.nb
        kinds = np.array(list(GROUP_KINDS))
        kw = np.array([KIND_WEIGHTS[k] for k in GROUP_KINDS])
        kind = rng.choice(len(kinds), size=ng, p=kw / kw.sum())
        kind[:len(kinds)] = rng.permutation(len(kinds))  # every kind at least once
        stance = np.empty(ng, dtype=np.int64)
        for ki, k in enumerate(GROUP_KINDS):
            m = kind == ki
            stance[m] = _choice(rng, STANCES, STANCE_MIX.get(k, DEFAULT_MIX), int(m.sum()))
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
            bl = [int(home[g])] + self.near[int(home[g])][:int(n_beats[g]) - 1]
            for b in bl:
                gb_g.append(g)
                gb_b.append(b)
        self.gb_g = np.array(gb_g, dtype=np.int64)
        self.gb_b = np.array(gb_b, dtype=np.int64)
        self.group_beats_csr = _csr(self.gb_g, self.gb_b, ng)
        self.beat_groups_csr = _csr(self.gb_b, self.gb_g, nb)
        self.kind, self.stance, self.home = kind, stance, home
        # Zipf-like pull on members: a few big groups, many small.
        rank = rng.permutation(ng) + 1
        self.member_pull = (1.0 / rank ** 0.9) * np.array(
            [KIND_SIZE[GROUP_KINDS[k]] for k in kind])
        self.names = self.group_names()
        lang_codes = [c for c, _ in words.LANGUAGES[self.city]]
        lang_p = np.array([p for _, p in words.LANGUAGES[self.city]])
        self.lang_codes, self.lang_p = lang_codes, lang_p / lang_p.sum()
        primary_lang = rng.choice(len(lang_codes), size=ng, p=self.lang_p)
        second_lang = rng.choice(len(lang_codes), size=ng, p=self.lang_p)
        has_second = rng.random(ng) < 0.3
        self.group_languages = []
        for g in range(ng):
            langs = [lang_codes[primary_lang[g]]]
            if has_second[g] and second_lang[g] != primary_lang[g]:
                langs.append(lang_codes[second_lang[g]])
            if "en" not in langs and rng.random() < 0.5:
                langs.append("en")
            self.group_languages.append(langs)
        ch = rng.random((ng, len(CHANNELS))) < np.array([.45, .55, .45, .3, .35, .25])
        self.group_channels = [[CHANNELS[j] for j in np.flatnonzero(ch[g])] or ["visit"]
                               for g in range(ng)]
        self.interval = rng.choice(np.array([14, 30, 60, 90]), size=ng, p=(.15, .45, .25, .15))
        self.group_ids = self.next_id(CommunityGroup.__table__) + np.arange(ng)

    def group_names(self) -> list[str]:
        rng = self.rng
        streets = words.STREETS[self.city]
        names: list[str] = []
        seen: set[str] = set()
        for g in range(len(self.kind)):
            kind = GROUP_KINDS[self.kind[g]]
            b = int(self.home[g])
            templates = words.GROUP_TEMPLATES[kind]
            name = ""
            for attempt in range(24):
                t = templates[rng.integers(len(templates))]
                s1, s2 = rng.choice(len(streets), size=2, replace=False)
                hood = self.beat_hood[b] if attempt < 8 or not self.near[b] else \
                    self.beat_hood[self.near[b][attempt % len(self.near[b])]]
                if attempt >= 12:  # a crowded neighbourhood: "East Garrett Youth Council"
                    hood = f"{QUALIFIERS[rng.integers(len(QUALIFIERS))]} {hood}"
                name = t.format(hood=hood, street=streets[s1], street2=streets[s2],
                                beat=self.beat_codes[b], saint=words.SAINTS[rng.integers(len(words.SAINTS))],
                                surname=words.LAST_NAMES[rng.integers(len(words.LAST_NAMES))],
                                culture=words.CULTURES[rng.integers(len(words.CULTURES))])
                name = _squash_repeats(name)
                if name not in seen:
                    break
            if name in seen:
                name = f"{name} (Beat {self.beat_codes[b]})"
            n = 2
            base = name
            while name in seen:
                name = f"{base} {n}"
                n += 1
            seen.add(name)
            names.append(name[:200])
        return names

    # ---- memberships -------------------------------------------------------------------

    def memberships(self) -> None:
        rng, ns, ng, nm, nb = self.rng, self.size.stakeholders, self.size.groups, \
            self.size.memberships, self.nb
        # Each person lives near one beat with groups; joins mostly nearby groups.
        groups_per_beat = np.bincount(self.gb_b, minlength=nb).astype(float)
        p_home = (groups_per_beat + 0.5) / (groups_per_beat + 0.5).sum()
        s_home = rng.choice(nb, size=ns, p=p_home)
        activity = rng.gamma(1.0, 1.0, ns)  # skewed: some people join many groups
        starts, vals = self.beat_groups_csr
        cumw = np.cumsum(self.member_pull[vals])
        key = np.zeros(0, dtype=np.int64)
        for _ in range(8):  # draw, drop repeated (person, group) pairs, top up
            draws = int((nm - len(key)) * 1.3) + 64
            s = rng.choice(ns, size=draws, p=activity / activity.sum())
            local = _weighted_pick_from_csr(rng, starts, vals, cumw, s_home[s])
            glob = rng.choice(ng, size=draws, p=self.member_pull / self.member_pull.sum())
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
        self.m_s, self.m_g, self.m_role = s, g, role
        self.s_home = s_home
        self.members_csr = (np.concatenate([[0], np.cumsum(np.bincount(g, minlength=ng))]), s)
        self.n_members = np.bincount(g, minlength=ng)

    # ---- contacts (generated here, written in insert_contacts) -----------------------------

    def contacts(self) -> None:
        rng, ng, nc = self.rng, self.size.groups, self.size.contacts
        stance = self.stance
        # ~12% of groups never contacted, hard-to-engage ones more likely.
        never_w = np.select([stance == HOST, stance == WARY, stance == UNK], [4.0, 3.0, 2.0], 1.0)
        never_w[self.kind == GROUP_KINDS.index("agency")] = 0.2
        n_never = max(1, round(ng * 0.12))
        never = rng.choice(ng, size=n_never, replace=False, p=never_w / never_w.sum())
        for s_needed in (REC, HOST):  # keep both ends of the comparison contacted
            pool = np.flatnonzero(stance == s_needed)
            if len(pool) and np.isin(pool, never).all():
                never = never[never != pool[0]]
        self.never = np.zeros(ng, dtype=bool)
        self.never[never] = True
        pull = np.array([CONTACT_PULL[int(s)] for s in stance]) * rng.lognormal(0, 0.5, ng)
        pull *= 1 + 0.15 * np.log1p(self.n_members)
        pull[self.never] = 0
        g = rng.choice(ng, size=nc, p=pull / pull.sum())
        # When: within the past year, mostly daytime and evening.
        day = rng.integers(0, 364, size=nc)
        hour_p = np.array([1, .5, .3, .2, .2, .3, .8, 2, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 5,
                           3, 2, 1.5])
        hour = rng.choice(24, size=nc, p=hour_p / hour_p.sum())
        minute = rng.integers(0, 60, size=nc)
        midnight = np.datetime64(self.today, "s")
        at = midnight - (day * 86400).astype("timedelta64[s]") + \
            (hour * 3600 + minute * 60).astype("timedelta64[s]")
        future = at >= np.datetime64(self.now, "s")
        at[future] -= np.timedelta64(86400, "s")
        order = np.argsort(at, kind="stable")
        g, at = g[order], at[order]
        st = stance[g]
        # initiated_by by stance
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
            channel[m] = _choice(rng, CHANNELS, mix, int(m.sum()))
        # beat: one of the group's beats; officer: usually one assigned to that beat
        gb_starts, gb_vals = self.group_beats_csr
        beat, _ = _pick_from_csr(rng, gb_starts, gb_vals, g)
        ob_starts, ob_vals = self.off_by_beat
        off_local, has_local = _pick_from_csr(rng, ob_starts, ob_vals, beat)
        n_off = len(self.officer_ids)
        off_any = rng.integers(0, n_off, size=nc)
        use_local = has_local & (rng.random(nc) < 0.88)
        off = np.where(use_local, off_local, off_any)
        officer = self.officer_ids[off]
        second = rng.random(nc) < 0.08
        off2 = (off + 1 + rng.integers(0, max(n_off - 1, 1), size=nc)) % n_off
        second &= off2 != off
        # techniques as a bitmask
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
        # stage after: each group climbs from initial contact towards a stance-dependent target
        target = np.zeros(ng, dtype=np.int64)
        for s_ix, (opts, ps) in STAGE_TARGET.items():
            m = stance == s_ix
            target[m] = np.array(opts)[_choice(rng, opts, ps, int(m.sum()))]
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
        self.sc_contact = order_g[change]  # contact index of each group stage change
        self.sc_from, self.sc_to = prev[change], stage_sorted[change]
        last = np.zeros(ng, dtype=np.int64)
        has = n_g > 0
        last[has] = stage_sorted[first_ix[has] + n_g[has] - 1]
        self.group_stage = last
        # follow-ups
        fu = rng.random(nc) < 0.12
        at_date = at.astype("datetime64[D]")
        fu_on = at_date + rng.integers(2, 22, size=nc).astype("timedelta64[D]")
        today = np.datetime64(self.today, "D")
        past_due = fu_on < today
        done = fu & (((past_due) & (rng.random(nc) < 0.8)) | (~past_due & (rng.random(nc) < 0.2)))
        span = np.maximum((np.minimum(fu_on + 3, today) - at_date).astype(np.int64), 0)
        done_at = at + (np.floor(rng.random(nc) * span * 86400) + 3600).astype("timedelta64[s]")
        now64 = np.datetime64(self.now, "s")
        done_at = np.minimum(done_at, now64)
        # A few due today and this week, and one for officer1 today, all open.
        recent = np.flatnonzero(at >= now64 - np.timedelta64(4 * 86400, "s"))
        if len(recent):
            pick = rng.choice(recent, size=min(4, len(recent)), replace=False)
            for i, days in zip(pick, (0, 0, 3, 6), strict=False):
                fu[i], done[i] = True, False
                fu_on[i] = today + np.timedelta64(days, "D")
        mine = np.flatnonzero(officer == self.officer_ids[0])
        if len(mine):
            i = mine[-1]
            fu[i], done[i], fu_on[i] = True, False, today
        # secondary groups: another contacted group in the same beat
        bg_starts, bg_vals = self.beat_groups_csr
        sec_rows = np.flatnonzero(rng.random(nc) < 0.14)
        sec_rows = np.concatenate([sec_rows, sec_rows[rng.random(len(sec_rows)) < 0.15]])
        sec_g, ok = _pick_from_csr(rng, bg_starts, bg_vals, beat[sec_rows])
        ok &= sec_g != g[sec_rows]
        ok &= ~self.never[np.maximum(sec_g, 0)]
        cg_c = np.concatenate([np.arange(nc), sec_rows[ok]])
        cg_g = np.concatenate([g, sec_g[ok]])
        key = np.unique(cg_c * ng + cg_g)
        self.cg_c, self.cg_g = key // ng, key % ng
        # stakeholders: 0-3 members of the primary group
        n_s = rng.choice(4, size=nc, p=(.25, .45, .2, .1))
        rows = np.repeat(np.arange(nc), n_s)
        mem_starts, mem_vals = self.members_csr
        s_pick, ok = _pick_from_csr(rng, mem_starts, mem_vals, g[rows])
        key = np.unique(rows[ok] * self.size.stakeholders + s_pick[ok])
        self.cs_c, self.cs_s = key // self.size.stakeholders, key % self.size.stakeholders
        # stakeholder stage: their latest contact's stage
        ns = self.size.stakeholders
        last_c = np.full(ns, -1, dtype=np.int64)
        np.maximum.at(last_c, self.cs_s, self.cs_c)
        self.s_stage = np.where(last_c >= 0, stage[np.maximum(last_c, 0)], 0)
        self.s_last_contact = np.where(
            last_c >= 0, at[np.maximum(last_c, 0)].astype("datetime64[D]"),
            np.datetime64("NaT"))
        self.c = dict(g=g, at=at, init=init, channel=channel, beat=beat, officer=officer,
                      second=second, officer2=self.officer_ids[off2], mask=mask, enf=enf,
                      stage=stage, fu=fu, fu_on=fu_on, done=done, done_at=done_at,
                      place=rng.integers(0, len(words.PLACES), size=nc),
                      street=rng.integers(0, len(words.STREETS[self.city]), size=nc),
                      purpose=rng.integers(0, 1000, size=nc), note=rng.integers(0, len(words.NOTES), size=nc),
                      fu_note=rng.integers(0, len(words.FOLLOW_UP_NOTES), size=nc),
                      logged_delay=rng.integers(60, 3 * 3600, size=nc))
        self.contact_ids = self.next_id(Contact.__table__) + np.arange(nc)
        self.n_contacts = nc

    # ---- people --------------------------------------------------------------------------

    def insert_people(self) -> None:
        rng, ng, ns = self.rng, self.size.groups, self.size.stakeholders
        gid = self.group_ids
        group_rows = [{
            "id": int(gid[g]), "name": self.names[g], "kind": GROUP_KINDS[self.kind[g]],
            "stance": STANCES[self.stance[g]], "stage": STAGES[self.group_stage[g]],
            "size_estimate": None, "languages": self.group_languages[g],
            "channels": self.group_channels[g],
            "description": words.GROUP_DESCRIPTIONS[GROUP_KINDS[self.kind[g]]],
            "contact_interval_days": int(self.interval[g]), "version_id": 1,
            "created_at": self.now, "updated_at": self.now} for g in range(ng)]
        # Size estimates: a multiple of the members on file, skewed; some unknown.
        est = np.round(self.n_members * rng.lognormal(1.3, 0.7, ng)).astype(np.int64) + 2
        unknown = rng.random(ng) < 0.12
        for g in range(ng):
            group_rows[g]["size_estimate"] = None if unknown[g] else int(est[g])
        self.insert(CommunityGroup.__table__, group_rows, "groups")
        self.insert(group_beats, [{"group_id": int(gid[g]), "beat_id": int(self.beat_ids[b])}
                                  for g, b in zip(self.gb_g, self.gb_b, strict=True)], "groups")
        self.assign_unit_groups(gid)
        self.insert_stakeholders(ns)
        self.insert_memberships()

    def assign_unit_groups(self, gid) -> None:
        """Each unit member looks after a share of the groups, the wary and hostile first:
        the ones a community policing unit exists to reach."""
        if not self.unit_ids:
            return
        order = sorted(range(len(gid)),
                       key=lambda g: (STANCES[self.stance[g]] not in ("hostile", "wary"), g))
        per_member = max(1, min(40, len(order) // len(self.unit_ids)))
        rows = [{"user_id": uid, "group_id": int(gid[g]), "created_at": self.now,
                 "updated_at": self.now}
                for i, uid in enumerate(self.unit_ids)
                for g in order[i::len(self.unit_ids)][:per_member]]
        self.insert(GroupAssignment.__table__, rows, "groups")

    def insert_stakeholders(self, ns: int) -> None:
        rng = self.rng
        first = rng.integers(0, len(words.FIRST_NAMES), size=ns)
        last = rng.integers(0, len(words.LAST_NAMES), size=ns)
        phone = rng.random(ns) < 0.45
        email = rng.random(ns) < 0.3
        phone_no = rng.integers(0, 10_000, size=ns)
        area = "312" if self.city == "chicago" else "434"
        lang = rng.choice(len(self.lang_codes), size=ns, p=self.lang_p)
        no_lang = rng.random(ns) < 0.15
        cat = _choice(rng, SUBJECT_CATEGORIES, (.72, .12, .05, .08, .03), ns)
        consent = _choice(rng, CONSENT_STATUSES, (.55, .05, .40), ns)
        created_days = rng.integers(20, 1500, size=ns)
        created = self.days_ago(created_days)
        consent_on = created + rng.integers(0, 15, size=ns).astype("timedelta64[D]")
        consent_on = np.minimum(consent_on, np.datetime64(self.today, "D"))
        method = rng.integers(0, len(words.CONSENT_METHODS), size=ns)
        last_activity = np.where(np.isnat(self.s_last_contact), created,
                                 np.where(self.s_last_contact > created, self.s_last_contact,
                                          created))
        review = (last_activity + np.timedelta64(3 * 365, "D")).tolist()
        created_l = created.tolist()
        consent_on_l = consent_on.tolist()
        sid0 = self.next_id(Stakeholder.__table__)
        self.stakeholder_ids = sid0 + np.arange(ns)
        self.s_created = created
        first_l, last_l = first.tolist(), last.tolist()

        def batches():
            for lo, hi in _chunks(ns):
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
                        "language": None if no_lang[i] else self.lang_codes[lang[i]],
                        "data_subject_category": SUBJECT_CATEGORIES[cat[i]],
                        "consent_status": cs,
                        "consent_on": consent_on_l[i] if asked else None,
                        "consent_method": words.CONSENT_METHODS[method[i]] if asked else None,
                        "consent_purpose": "community engagement and problem-solving"
                        if asked else None,
                        "stage": STAGES[self.s_stage[i]], "review_on": review[i],
                        "erased_at": None, "merged_into_id": None, "version_id": 1,
                        "created_at": created_dt, "updated_at": created_dt})
                yield out

        self.insert(Stakeholder.__table__, batches(), "stakeholders", ns)

    def insert_memberships(self) -> None:
        rng = self.rng
        n = len(self.m_s)
        # Joined some time after the person was first recorded; a few memberships ended.
        starts = self.s_created[self.m_s] + rng.integers(0, 60, size=n).astype("timedelta64[D]")
        today = np.datetime64(self.today, "D")
        starts = np.minimum(starts, today)
        ended = rng.random(n) < 0.04
        ends = np.minimum(starts + rng.integers(30, 700, size=n).astype("timedelta64[D]"), today)
        starts_l, ends_l = starts.tolist(), ends.tolist()
        mid0 = self.next_id(Membership.__table__)
        sid, gid = self.stakeholder_ids[self.m_s].tolist(), self.group_ids[self.m_g].tolist()
        role = self.m_role.tolist()

        def batches():
            for lo, hi in _chunks(n):
                yield [{"id": mid0 + i, "stakeholder_id": sid[i], "group_id": gid[i],
                        "role": MEMBERSHIP_ROLES[role[i]], "starts_on": starts_l[i],
                        "ends_on": ends_l[i] if ended[i] else None, "version_id": 1,
                        "created_at": self.now, "updated_at": self.now}
                       for i in range(lo, hi)]

        self.insert(Membership.__table__, batches(), "memberships", n)

    # ---- relations -----------------------------------------------------------------------

    def relations(self) -> None:
        rng, ng = self.rng, self.size.groups
        n_rel = max(6, round(ng * 0.6))
        a = rng.integers(0, ng, size=n_rel * 2)
        # partner: a group in one of a's beats or a neighbouring beat
        gb_starts, gb_vals = self.group_beats_csr
        beat, _ = _pick_from_csr(rng, gb_starts, gb_vals, a)
        near_pick = np.array([self.near[b][rng.integers(len(self.near[b]))] if self.near[b]
                              else b for b in beat.tolist()], dtype=np.int64)
        beat = np.where(rng.random(len(a)) < 0.5, beat, near_pick)
        bg_starts, bg_vals = self.beat_groups_csr
        b, ok = _pick_from_csr(rng, bg_starts, bg_vals, beat)
        ok &= b != a
        lo, hi = np.minimum(a, b)[ok], np.maximum(a, b)[ok]
        key = np.unique(lo * ng + hi)
        key = rng.permutation(key)[:n_rel]
        lo, hi = key // ng, key % ng
        n = len(lo)
        rtype = _choice(rng, ("allied", "competing", "overlapping"), (.45, .25, .30), n)
        rtype[:3] = 1  # at least three competing pairs
        types = ("allied", "competing", "overlapping")
        issues = (words.ALLIED_ISSUES, words.COMPETING_ISSUES, words.OVERLAPPING_ISSUES)
        starts = self.days_ago(rng.integers(30, 5 * 365, size=n))
        ended = rng.random(n) < 0.08
        ends = np.minimum(starts + rng.integers(30, 700, size=n).astype("timedelta64[D]"),
                          np.datetime64(self.today, "D"))
        starts_l, ends_l = starts.tolist(), ends.tolist()
        rid0 = self.next_id(GroupRelation.__table__)
        rows = []
        for i in range(n):
            opts = issues[rtype[i]]
            rows.append({"id": rid0 + i, "group_a_id": int(self.group_ids[lo[i]]),
                         "group_b_id": int(self.group_ids[hi[i]]), "type": types[rtype[i]],
                         "issue": opts[rng.integers(len(opts))], "starts_on": starts_l[i],
                         "ends_on": ends_l[i] if ended[i] else None, "version_id": 1,
                         "created_at": self.now, "updated_at": self.now})
        self.competing = [(int(lo[i]), int(hi[i])) for i in range(n) if rtype[i] == 1]
        self.insert(GroupRelation.__table__, rows, "relations")

    # ---- contacts ------------------------------------------------------------------------

    def insert_contacts(self) -> None:
        c, nc = self.c, self.n_contacts
        cid = self.contact_ids.tolist()
        at = c["at"].astype("datetime64[us]").tolist()
        logged = (c["at"] + c["logged_delay"].astype("timedelta64[s]"))
        logged = np.minimum(logged, np.datetime64(self.now, "s")).astype("datetime64[us]").tolist()
        fu_on = c["fu_on"].tolist()
        done_at = c["done_at"].astype("datetime64[us]").tolist()
        beat_id = self.beat_ids[c["beat"]].tolist()
        officer = c["officer"].tolist()
        init, channel, mask = c["init"].tolist(), c["channel"].tolist(), c["mask"].tolist()
        enf, stage = c["enf"].tolist(), c["stage"].tolist()
        fu, done = c["fu"].tolist(), c["done"].tolist()
        place, street = c["place"].tolist(), c["street"].tolist()
        purpose, note, fu_note = c["purpose"].tolist(), c["note"].tolist(), c["fu_note"].tolist()
        techs = [[TECHNIQUES[t] for t in range(len(TECHNIQUES)) if m >> t & 1] for m in range(64)]
        streets = words.STREETS[self.city]
        places = [[f"{p}, {s}" for s in streets] for p in words.PLACES]
        purposes = [words.PURPOSES[i] for i in INITIATED_BY]
        enforcement = ("none", "warning", "citation", "arrest")

        def contact_batches():
            for lo, hi in _chunks(nc):
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

        self.insert(Contact.__table__, contact_batches(), "contacts", nc)

        # officers
        sec = np.flatnonzero(c["second"])
        co_c = np.concatenate([np.arange(nc), sec])
        co_u = np.concatenate([c["officer"], c["officer2"][sec]])
        self.insert_links(ContactOfficer.__table__, co_c, "user_id", co_u.tolist(), at, cid,
                          "contact officers")
        # groups (repeat initiated_by)
        ginit = [INITIATED_BY[i] for i in c["init"][self.cg_c].tolist()]
        self.insert_links(ContactGroup.__table__, self.cg_c, "group_id",
                          self.group_ids[self.cg_g].tolist(), at, cid, "contact groups",
                          extra=("initiated_by", ginit))
        self.insert_links(ContactStakeholder.__table__, self.cs_c, "stakeholder_id",
                          self.stakeholder_ids[self.cs_s].tolist(), at, cid,
                          "contact stakeholders")
        # group stage changes, one per change of the primary group's stage
        sc = self.sc_contact
        n = len(sc)
        sc0 = self.next_id(RelationshipStageChange.__table__)
        grp = self.group_ids[c["g"][sc]].tolist()
        by = c["officer"][sc].tolist()
        frm, to, sc_l = self.sc_from.tolist(), self.sc_to.tolist(), sc.tolist()

        def stage_batches():
            for lo, hi in _chunks(n):
                yield [{"id": sc0 + i, "stakeholder_id": None, "group_id": grp[i],
                        "contact_id": cid[sc_l[i]], "changed_by_id": by[i],
                        "from_stage": STAGES[frm[i]], "to_stage": STAGES[to[i]],
                        "changed_at": at[sc_l[i]], "created_at": logged[sc_l[i]],
                        "updated_at": logged[sc_l[i]]} for i in range(lo, hi)]

        self.insert(RelationshipStageChange.__table__, stage_batches(), "stage changes", n)

    def insert_links(self, table, contact_ix, col, values, at, cid, stage, extra=None):
        ci = contact_ix.tolist()
        n = len(ci)

        def batches():
            for lo, hi in _chunks(n):
                if extra:
                    name, ev = extra
                    yield [{"contact_id": cid[ci[i]], col: values[i], "occurred_at": at[ci[i]],
                            name: ev[i]} for i in range(lo, hi)]
                else:
                    yield [{"contact_id": cid[ci[i]], col: values[i], "occurred_at": at[ci[i]]}
                           for i in range(lo, hi)]

        self.insert(table, batches(), stage, n)

    # ---- problem-solving cases ---------------------------------------------------------------

    def cases(self) -> None:
        rng = self.rng
        n_cases = self.size.cases
        ng = self.size.groups
        today = self.today
        agencies = words.AGENCIES[self.city]
        streets = words.STREETS[self.city]
        contacted = np.flatnonzero(~self.never & np.isin(self.stance, [REC, NEU, UNK]))
        if not len(contacted):
            contacted = np.flatnonzero(~self.never)
        competing_of: dict[int, list[int]] = {}
        for a, b in self.competing:
            competing_of.setdefault(a, []).append(b)
            competing_of.setdefault(b, []).append(a)
        bg_starts, bg_vals = self.beat_groups_csr
        mem_starts, mem_vals = self.members_csr
        # contacts per group, for "what we heard"
        cg_order = np.argsort(self.cg_g, kind="stable")
        cg_starts = np.concatenate([[0], np.cumsum(np.bincount(self.cg_g, minlength=ng))])
        lead_pool = list(self.officer_ids[:max(1, len(self.officer_ids))]) + list(self.unit_ids)
        ids = {t: self.next_id(t.__table__) for t in (ProblemCase, CaseParticipant, CaseIdea,
                                                       CaseAction, CaseMeasure, CaseMeasureValue,
                                                       CaseEvent)}
        rows: dict[str, list[dict]] = {k: [] for k in (
            "cases", "beats", "contacts", "participants", "ideas", "actions", "measures",
            "values", "events")}

        def nid(model):
            v = ids[model]
            ids[model] += 1
            return v

        def members_of(g, k):
            ms = mem_vals[mem_starts[g]:mem_starts[g + 1]]
            if not len(ms):
                return []
            return [int(self.stakeholder_ids[s]) for s in
                    rng.choice(ms, size=min(k, len(ms)), replace=False)]

        stage_ix = {s: i for i, s in enumerate(CASE_STAGES)}
        for n in range(n_cases):
            stage = CASE_STAGES[n % len(CASE_STAGES)]
            si = stage_ix[stage]
            g0 = int(contacted[rng.integers(len(contacted))])
            b0 = int(self.home[g0])
            lead = int(lead_pool[rng.integers(len(lead_pool))])
            title_t, statement = words.PROBLEMS[rng.integers(len(words.PROBLEMS))]
            s1, s2 = rng.choice(len(streets), size=2, replace=False)
            title = title_t.format(street=streets[s1], street2=streets[s2],
                                   hood=self.beat_hood[b0])
            age = int(rng.integers(20 + 45 * si, 60 + 80 * si))
            opened = today - timedelta(days=age)
            # one date per stage reached, evenly spread between opening and now
            stage_days = sorted(int(x) for x in rng.integers(1, max(age, 2), size=si))
            entered = [datetime.combine(opened, datetime.min.time()) + timedelta(hours=10)]
            entered += [datetime.combine(opened + timedelta(days=d), datetime.min.time())
                        + timedelta(hours=int(rng.integers(8, 18))) for d in stage_days]
            case_id = nid(ProblemCase)
            closed_at = entered[-1] if stage == "closed" else None
            reached = si
            c = {"id": case_id, "title": title[:200], "problem_statement": statement,
                 "stage": stage, "lead_id": lead,
                 "place": f"{streets[s1]} between {streets[s2]} and the park" if reached >= 1 else "",
                 "place_managers": "property managers, the alderman's office" if reached >= 1 else "",
                 "victim_target": "residents walking home, shoppers" if reached >= 1 else "",
                 "guardians": "block club members, store staff" if reached >= 1 else "",
                 "offender": "a small group, mostly from outside the block" if reached >= 1 else "",
                 "handlers": "youth workers, family members" if reached >= 1 else "",
                 "analysis": "Calls cluster on weekend evenings; most come from three addresses."
                 if reached >= 1 else "",
                 "response_plan": "Combine lighting, a community-run evening programme and "
                                  "targeted foot patrol." if reached >= 2 else "",
                 "assessment": "Calls down since the response began; residents report feeling safer."
                 if reached >= 3 else "",
                 "community_verdict": "The block club says the corner feels different; keep the youth night."
                 if stage == "closed" else "",
                 "opened_on": opened, "closed_at": closed_at, "stage_entered_at": entered[-1],
                 "version_id": 1, "created_at": entered[0], "updated_at": entered[-1]}
            rows["cases"].append(c)
            case_beat_ix = {b0} | ({self.near[b0][0]} if self.near[b0] and rng.random() < 0.4
                                   else set())
            for b in sorted(case_beat_ix):
                rows["beats"].append({"case_id": case_id, "beat_id": int(self.beat_ids[b])})
            ev_t = entered[0]

            def event(at, action, summary, detail=None, actor=lead, case_id=case_id):
                rows["events"].append({"id": nid(CaseEvent), "case_id": case_id, "at": at,
                                       "actor_id": actor, "action": action, "summary": summary,
                                       "detail": detail or {}})

            event(ev_t, "case.open", f"Opened: {title}")
            for i in range(1, len(entered)):
                event(entered[i], "case.stage", f"Stage {CASE_STAGES[i - 1]} → {CASE_STAGES[i]}",
                      {"from": CASE_STAGES[i - 1], "to": CASE_STAGES[i]})
            # participants: co-producer, affected party, maybe a competing interest, people, agency
            local = [int(x) for x in bg_vals[bg_starts[b0]:bg_starts[b0 + 1]] if int(x) != g0]
            affected = local[int(rng.integers(len(local)))] if local else None
            competing = competing_of.get(g0) or ([int(x) for x in local
                                                  if self.stance[int(x)] in (WARY, HOST)])
            comp = competing[int(rng.integers(len(competing)))] if competing and \
                (n % 2 == 0 or competing_of.get(g0)) else None
            part_groups = [(g0, "co_producer")]
            if affected is not None and affected != comp:
                part_groups.append((affected, "affected_party"))
            if comp is not None and comp != g0:
                part_groups.append((comp, "competing_interest"))
            agency = agencies[int(rng.integers(len(agencies)))]
            t = entered[0] + timedelta(hours=1)
            for g, role in part_groups:
                rows["participants"].append(self._participant(nid(CaseParticipant), case_id,
                                                              "group", role, t, group=g))
                event(t, "participant.add", f"{self.names[g]} added as {role.replace('_', ' ')}",
                      {"group_id": int(self.group_ids[g]), "role": role})
            people = members_of(g0, int(rng.integers(1, 4)))
            for j, s in enumerate(people):
                role = ("co_producer", "affected_party", "resource")[j % 3]
                rows["participants"].append(self._participant(nid(CaseParticipant), case_id,
                                                              "stakeholder", role, t, stakeholder=s))
                event(t, "participant.add", f"Stakeholder {s} added as {role.replace('_', ' ')}",
                      {"stakeholder_id": s, "role": role})
            rows["participants"].append(self._participant(nid(CaseParticipant), case_id,
                                                          "agency", "resource", t, agency=agency))
            rows["participants"].append(self._participant(nid(CaseParticipant), case_id,
                                                          "officer", "co_producer", t, user=lead))
            event(t, "participant.add", f"{agency} added as resource", {"agency": agency})
            # what we heard
            cs = self.contact_ids[self.cg_c[cg_order[cg_starts[g0]:cg_starts[g0 + 1]]]]
            for cid in sorted({int(x) for x in rng.choice(cs, size=min(2, len(cs)), replace=False)}
                              if len(cs) else ()):
                rows["contacts"].append({"case_id": case_id, "contact_id": cid})
            # ideas from the community (from analysis on)
            if si >= 1:
                n_ideas = int(rng.integers(2, 5))
                picks = rng.choice(len(words.IDEAS), size=n_ideas, replace=False)
                for j, ix in enumerate(picks):
                    status = "proposed" if si == 1 and j > 0 else ("adopted", "declined",
                                                                   "proposed")[j % 3]
                    by_s = people[j % len(people)] if people and j % 2 == 0 else None
                    by_g = int(self.group_ids[g0]) if by_s is None else None
                    at_i = entered[1] + timedelta(days=j)
                    rows["ideas"].append({
                        "id": nid(CaseIdea), "case_id": case_id, "text": words.IDEAS[ix],
                        "proposed_by_stakeholder_id": by_s, "proposed_by_group_id": by_g,
                        "status": status,
                        "decline_reason": words.DECLINE_REASONS[int(rng.integers(len(words.DECLINE_REASONS)))]
                        if status == "declined" else "",
                        "proposer_told_on": (at_i + timedelta(days=7)).date()
                        if status != "proposed" and rng.random() < 0.8 else None,
                        "version_id": 1, "created_at": at_i, "updated_at": at_i})
                    event(at_i, "idea.add", f"Idea: {words.IDEAS[ix]}", {"status": status})
            # actions: every case has one community-owned action, later stages more
            owners = ["group" if si % 2 == 0 else "stakeholder", "officer"]
            if si >= 2:
                owners += ["agency", "stakeholder" if si % 2 == 0 else "group", "officer"]
            for j, kind in enumerate(owners):
                if kind == "stakeholder" and not people:
                    kind = "group"
                text = words.ACTIONS[kind][int(rng.integers(len(words.ACTIONS[kind])))]
                created = entered[min(si, 2 if len(entered) > 2 else len(entered) - 1)] \
                    + timedelta(days=j)
                due = created.date() + timedelta(days=int(rng.integers(7, 60)))
                if stage == "closed":
                    status = "done" if j % 4 else "dropped"
                elif due < today:
                    status = ("done", "open", "in_progress")[j % 3]  # some overdue
                else:
                    status = ("open", "in_progress")[j % 2]
                owner_user = lead if kind == "officer" else None
                owner_s = people[j % len(people)] if kind == "stakeholder" else None
                owner_g = int(self.group_ids[g0]) if kind == "group" else None
                owner_a = agency if kind == "agency" else ""
                rows["actions"].append({
                    "id": nid(CaseAction), "case_id": case_id, "description": text,
                    "owner_kind": kind, "owner_user_id": owner_user,
                    "owner_stakeholder_id": owner_s, "owner_group_id": owner_g,
                    "owner_agency": owner_a,
                    "liaison_user_id": lead if kind != "officer" else None,
                    "due_on": due, "status": status,
                    "outcome": "Done as agreed." if status == "done" else "",
                    "version_id": 1, "created_at": created, "updated_at": created})
                event(created, "action.add", f"Action ({kind}): {text}",
                      {"owner_kind": kind, "due_on": due.isoformat()})
            # measures: a baseline at opening, values from the response on
            for name, unit in [words.MEASURES[int(i)] for i in
                               rng.choice(len(words.MEASURES), size=int(rng.integers(1, 3)),
                                          replace=False)]:
                mid = nid(CaseMeasure)
                pct = "%" in unit
                base = float(rng.integers(30, 70)) if pct else float(rng.integers(8, 40))
                rows["measures"].append({
                    "id": mid, "case_id": case_id, "name": name, "unit": unit,
                    "baseline_value": base, "baseline_on": opened, "version_id": 1,
                    "created_at": entered[0], "updated_at": entered[0]})
                event(entered[0], "measure.add", f"Measure: {name} (baseline {base:g} {unit})",
                      {"baseline": base})
                if si >= 2:
                    v = base
                    start = entered[2]
                    for k in range(int(rng.integers(1, 5))):
                        on = (start + timedelta(days=20 * (k + 1))).date()
                        if on > today:
                            break
                        v = v * (1.08 if pct else 0.85) + float(rng.normal(0, 1.5))
                        v = round(min(v, 100.0) if pct else max(v, 0.0), 1)
                        rows["values"].append({
                            "id": nid(CaseMeasureValue), "measure_id": mid, "measured_on": on,
                            "value": v, "note": "", "created_at": datetime.combine(
                                on, datetime.min.time()), "updated_at": datetime.combine(
                                on, datetime.min.time())})
        self.insert(ProblemCase.__table__, rows["cases"], "cases")
        self.insert(case_beats, rows["beats"], "cases")
        self.insert(case_contacts, rows["contacts"], "cases")
        self.insert(CaseParticipant.__table__, rows["participants"], "cases")
        self.insert(CaseIdea.__table__, rows["ideas"], "cases")
        self.insert(CaseAction.__table__, rows["actions"], "cases")
        self.insert(CaseMeasure.__table__, rows["measures"], "cases")
        self.insert(CaseMeasureValue.__table__, rows["values"], "cases")
        self.insert(CaseEvent.__table__, rows["events"], "cases")

    def _participant(self, pid, case_id, kind, role, at, group=None, stakeholder=None,
                     user=None, agency=""):
        return {"id": pid, "case_id": case_id, "kind": kind, "role": role,
                "group_id": int(self.group_ids[group]) if group is not None else None,
                "stakeholder_id": stakeholder, "user_id": user, "agency": agency,
                "created_at": at, "updated_at": at}

    # ---- well-being ----------------------------------------------------------------------------

    def wellbeing(self) -> None:
        rng, c = self.rng, self.c
        hard = np.flatnonzero(np.isin(self.stance[c["g"]], [WARY, HOST]) & (c["init"] == 2))
        if not len(hard):
            hard = np.arange(self.n_contacts)
        pick = np.sort(rng.choice(hard, size=min(self.size.wellbeing, len(hard)), replace=False))
        wid = self.next_id(WellbeingCheckin.__table__)
        rows = []
        for j, i in enumerate(pick.tolist()):
            at = c["at"][i].astype("datetime64[us]").item() + timedelta(minutes=30)
            at = min(at, self.now)
            rows.append({"id": wid + j, "officer_id": int(c["officer"][i]),
                         "contact_id": int(self.contact_ids[i]), "occurred_at": at,
                         "stress_level": int(rng.choice(5, p=(.1, .25, .3, .2, .15)) + 1),
                         "boundary_crossed": bool(rng.random() < 0.2),
                         "coping": words.COPING[int(rng.integers(len(words.COPING)))],
                         "debrief_wanted": bool(rng.random() < 0.3),
                         "created_at": at, "updated_at": at})
        self.insert(WellbeingCheckin.__table__, rows, "wellbeing")

    # ---- bulk-load indexes ---------------------------------------------------------------------

    def drop_indexes(self) -> list[tuple[str, str]]:
        """Drop the non-unique secondary indexes of the big tables; return (name, DDL) pairs."""
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            q = sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                        "AND sql IS NOT NULL AND tbl_name IN :tables")
        elif dialect == "postgresql":
            q = sa.text("SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE schemaname = current_schema() AND tablename IN :tables")
        else:
            return []
        q = q.bindparams(sa.bindparam("tables", expanding=True))
        found = [(name, ddl) for name, ddl in db.session.execute(q, {"tables": list(BULK_TABLES)})
                 if not ddl.upper().startswith("CREATE UNIQUE")]
        for i, (name, _) in enumerate(found):
            db.session.execute(sa.text(f'DROP INDEX "{name}"'))
            self.progress("dropping indexes", i + 1, len(found))
        return found

    def create_indexes(self, indexes: list[tuple[str, str]]) -> None:
        for i, (_, ddl) in enumerate(indexes):
            db.session.execute(sa.text(ddl))
            self.progress("rebuilding indexes", i + 1, len(indexes))

    # ---- PostgreSQL sequences ----------------------------------------------------------------------

    def fix_sequences(self) -> None:
        """Ids were given explicitly: move each serial sequence past them."""
        for table in (User, BeatAssignment, CommunityGroup, Stakeholder, Membership,
                      GroupRelation, Contact, RelationshipStageChange, ProblemCase,
                      CaseParticipant, CaseIdea, CaseAction, CaseMeasure, CaseMeasureValue,
                      CaseEvent, WellbeingCheckin):
            # Table names come from our own models, never from input.
            name = table.__tablename__
            sql = (f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                   f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)")  # nosec B608
            db.session.execute(sa.text(sql))
