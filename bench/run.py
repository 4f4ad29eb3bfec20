"""`make bench`: the analytics, facts, live and page benchmark at a demo size.

`BENCH_SIZE` (small, large — the default —, xlarge) chooses the demo. For each database
(SQLite always, in bench/out/<size>.sqlite, except at xlarge; PostgreSQL when BENCH_PG_URL
names a server, in the database `<name>_<size>`; skipped with a message otherwise) it builds
the demo once and keeps it, then runs the phases (each skipped with BENCH_SKIP_<PHASE>=1):

- analytics: per analytic, the median of several uncached refreshes from the database, the
  peak traced memory, and the ratio to a lower bound measured in the same run (overlap: the
  bare sparse product B^T B on the same membership arrays; hard-to-engage: the raw SQL that
  fetches the same facts);
- facts (bench/facts.py): the incremental update of one contact, and coverage and
  hard-to-engage answered from the facts, each against a bound of the same run;
- live (bench/live.py): gunicorn with 4 workers in production settings and a `flask crm
  worker`, 4 supervisors on the coverage page, the hard-to-engage API and the network page,
  quiet and then with an officer logging a contact every 2 s; freshness of hard-to-engage
  and of the overlap after a membership change;
- pages: the coverage page, the officer home page and the contact POST under 4 clients.

Figures go to bench/results.json, per size and database, with the load average of the
(shared) machine, and the growth of each analytic from one size to the next.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess  # nosec B404
import sys
import threading
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import DevelopmentConfig, _normalise_db_url  # noqa: E402
from crm import create_app  # noqa: E402
from crm.db import fetch_raw  # noqa: E402
from crm.extensions import db  # noqa: E402

RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results.json")  # trial runs elsewhere
OUT = ROOT / "bench" / "out"  # cached demo databases and logs (gitignored)
SIZE_ORDER = ("small", "large", "xlarge")
SIZE = os.environ.get("BENCH_SIZE", "large")
if SIZE not in SIZE_ORDER:
    raise SystemExit(f"BENCH_SIZE must be one of {', '.join(SIZE_ORDER)}, not {SIZE!r}")
RUNS = int(os.environ.get("BENCH_RUNS", "2" if SIZE == "xlarge" else "5"))
CLIENTS = 4
REQUESTS_PER_CLIENT = int(os.environ.get("BENCH_REQUESTS", "50"))


def targets() -> list[tuple[str, str]]:
    """(kind, URL) of each database of the run.

    SQLite always (a file under bench/out/, or BENCH_SQLITE), except at xlarge where the
    bench is a PostgreSQL one (BENCH_DB=sqlite,postgresql asks for both). PostgreSQL when
    BENCH_PG_URL (or BENCH_DATABASE_URL) names a server: the demo is kept in the database
    `<its name>_<size>` (BENCH_PG_DATABASE overrides), created when missing.
    """
    wanted = set((os.environ.get("BENCH_DB") or
                  ("postgresql" if SIZE == "xlarge" else "sqlite,postgresql")).split(","))
    out = []
    if "sqlite" in wanted:
        sqlite_path = os.environ.get("BENCH_SQLITE") or OUT / f"{SIZE}.sqlite"
        Path(sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        out.append(("sqlite", f"sqlite:///{sqlite_path}"))
    pg = os.environ.get("BENCH_PG_URL") or os.environ.get("BENCH_DATABASE_URL")
    if "postgresql" in wanted and pg:
        url = sa.make_url(_normalise_db_url(pg))
        name = os.environ.get("BENCH_PG_DATABASE") or f"{url.database or 'alliance_bench'}_{SIZE}"
        out.append(("postgresql", url.set(database=name).render_as_string(hide_password=False)))
    elif "postgresql" in wanted:
        print("PostgreSQL part skipped: set BENCH_PG_URL=postgresql://user@host:5432/name "
              f"(the demo is kept in the database name_{SIZE}).")
    return out


def ensure_pg_database(url: str) -> None:
    u = sa.make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}):
            conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def make_app(url: str):
    cfg = type("BenchConfig", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                                      "DEBUG": False})
    return create_app(cfg)


def build(app, kind: str) -> dict:
    """Migrate and seed the demo of BENCH_SIZE unless the database already has it."""
    from alembic import command

    from crm.demo.services import SIZES, has_groups, seed_demo
    from crm.extensions import migrate
    from crm.models import CommunityGroup
    from crm.network.services import bump_versions

    with app.app_context():
        command.upgrade(migrate.get_config(), "head")
        if has_groups():
            n = db.session.scalar(sa.select(sa.func.count()).select_from(CommunityGroup))
            if abs(n - SIZES[SIZE].groups) > SIZES[SIZE].groups // 10:
                raise SystemExit(f"[{kind}] the bench database holds {n:,} groups, not the "
                                 f"{SIZE} demo ({SIZES[SIZE].groups:,}): point the bench "
                                 "elsewhere or remove that database")
            print(f"[{kind}] {SIZE} demo already built ({n:,} groups)")
            return {}
        print(f"[{kind}] seeding the {SIZE} demo (once) ...", flush=True)
        last = {"stage": None}

        def progress(stage, done, total):
            if stage != last["stage"] or done == total:
                print(f"  {stage}: {done:,}/{total:,}", flush=True)
                last["stage"] = stage

        t0 = time.perf_counter()
        report = seed_demo(SIZE, "chicago", seed=0, progress=progress)
        bump_versions("network", "contacts")
        db.session.commit()
        elapsed = time.perf_counter() - t0
        print(f"[{kind}] seeded in {elapsed:.1f}s: {report.counts}", flush=True)
        return {"seed_s": round(elapsed, 1), "counts": report.counts}


def vacuum_analyze(url: str) -> None:
    """Fresh statistics and visibility maps after bulk loading, as autovacuum would give."""
    if not url.startswith("postgresql") or os.environ.get("BENCH_SKIP_VACUUM") == "1":
        return
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def timed(fn, runs: int = RUNS) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def bench_analytics(app, kind: str) -> list[dict]:
    import analytics
    from crm.network.services import (
        NAMES,
        compute,
        group_contact_facts_query,
        load_membership_arrays,
    )

    rows = []
    with app.app_context():
        target = compute("hard-to-engage", use_cache=False, limit=1)["groups"]
        target_id = target[0]["group"]["id"] if target else None
        s, g = load_membership_arrays()

        def bare_product():
            sid = np.unique(s, return_inverse=True)[1]
            gid = np.unique(g, return_inverse=True)[1]
            b = sp.csr_matrix((np.ones(len(sid), np.int32), (sid, gid)))
            return b.T @ b

        bounds = {
            "overlap": timed(bare_product)[0],
            # The bare facts query through the DBAPI cursor: the fastest way to get them.
            "hard-to-engage": timed(lambda: fetch_raw(db.session,
                group_contact_facts_query(datetime.combine(date.today(), datetime.max.time()))))[0],
        }
        # overlap is also measured as the pure function on the same arrays: that is what
        # the bound describes; the refresh from the database is reported beside it.
        pure_overlap = timed(lambda: analytics.overlap(s, g))[0]
        total_s, total_peak = 0.0, 0.0

        def cold(name: str, kw: dict) -> dict:
            # From the database each time: the membership arrays and introductions' inputs
            # are kept per process, shared by the analytics (see the refresh figure below).
            empty_process_caches()
            return compute(name, use_cache=False, **kw)

        for name in NAMES:
            kw = {"group_id": target_id} if name == "introductions" else {}
            median, _ = timed(lambda n=name, k=kw: cold(n, k),
                              runs=RUNS if name != "brokers" else min(RUNS, max(3, RUNS // 2)))
            peak = peak_mb(lambda n=name, k=kw: cold(n, k))
            total_s += median
            total_peak = max(total_peak, peak)
            bound = bounds.get(name)
            measured = pure_overlap if name == "overlap" else median
            rows.append({"analytic": name, "database": kind, "median_s": round(measured, 4),
                         "refresh_s": round(median, 4),
                         "lower_bound_s": round(bound, 4) if bound else None,
                         "ratio": round(measured / bound, 2) if bound else None,
                         "peak_mb": round(peak, 1)})
        all_peak = peak_mb(lambda: [cold(n, {"group_id": target_id} if n == "introductions" else {})
                                    for n in NAMES])
        rows.append({"analytic": "all six (refresh from database)", "database": kind,
                     "median_s": round(total_s, 3), "lower_bound_s": None, "ratio": None,
                     "peak_mb": round(all_peak, 1)})
        beat_ids = district_of(target_id)
        url = db.engine.url.render_as_string(hide_password=False)
    rows.append(bench_refresh(url, kind, target_id, beat_ids))
    return rows


REFRESH_ROW = "all network analytics refreshed after a change"


def district_of(group_id: int | None) -> list[int]:
    """The beats of the district of the group's first beat (the bench's district)."""
    from crm.models import Beat, group_beats

    beat = db.session.scalar(sa.select(sa.func.min(group_beats.c.beat_id))
                             .where(group_beats.c.group_id == group_id)) if group_id else None
    district = db.session.scalar(sa.select(Beat.district_id).where(Beat.id == beat)) if beat \
        else db.session.scalar(sa.select(sa.func.min(Beat.district_id)))
    return sorted(db.session.scalars(sa.select(Beat.id).where(Beat.district_id == district)))


def bench_refresh(url: str, kind: str, target_id: int | None, beat_ids: list[int]) -> dict:
    """All network analytics refreshed after a change, as a worker does it: each run in a
    fresh process (`refresh_after_change`), RUNS runs for the time (median) and the
    process's peak RSS (max), one more under tracemalloc for the peak traced memory (the
    tracing slows Python code, so it is not timed)."""
    import tempfile

    def child(traced: bool) -> dict:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            code = ("import json, sys; from bench.run import refresh_after_change; "
                    "a = json.loads(sys.argv[1]); "
                    "open(a.pop('out'), 'w').write(json.dumps(refresh_after_change(**a)))")
            args = {"url": url, "target_id": target_id, "beat_ids": beat_ids, "traced": traced,
                    "out": out.name}
            subprocess.run([sys.executable, "-c", code, json.dumps(args)],  # noqa: S603  # nosec B603
                           cwd=ROOT, check=True)
            return json.loads(Path(out.name).read_text())

    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = [child(False) for _ in range(RUNS)]
    traced = child(True)
    median = statistics.median(r["seconds"] for r in runs)
    best = min(runs, key=lambda r: abs(r["seconds"] - median))
    row = {"analytic": REFRESH_ROW, "database": kind, "median_s": round(median, 3),
           "refresh_s": round(median, 3), "runs_s": [r["seconds"] for r in runs],
           "steps_s": best["steps"], "lower_bound_s": None, "ratio": None,
           "peak_mb": traced["peak_mb"], "rss_mb": max(r["rss_mb"] for r in runs),
           "rss_before_mb": max(r["rss_before_mb"] for r in runs),
           "target_group": target_id, "district_beats": len(beat_ids),
           "district_groups": runs[0]["district_groups"],
           "loadavg": [load_before, [round(x, 2) for x in os.getloadavg()]]}
    print(f"{REFRESH_ROW} ({kind}): median {median:.2f} s of {row['runs_s']}, steps "
          f"{row['steps_s']}; peak traced {row['peak_mb']} MB, process peak RSS "
          f"{row['rss_mb']} MB ({row['rss_before_mb']} MB before the first job); load "
          f"{row['loadavg']}", flush=True)
    return row


def empty_process_caches() -> None:
    """Every per-process cache of the crm modules (LRUs and lru_caches), as in a fresh worker."""
    import functools

    lru_wrapper = type(functools.lru_cache(lambda: None))
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "crm" or name.startswith("crm.")):
            continue
        for obj in list(vars(module).values()):
            kind = type(obj)
            if kind is lru_wrapper and obj.__module__ == name:
                obj.cache_clear()
            elif kind.__module__.startswith("crm.") and hasattr(kind, "get_or_compute"):
                obj.clear()


def refresh_after_change(url: str, target_id: int | None, beat_ids: list[int],
                         traced: bool = False) -> dict:
    """One worker's refresh after a membership change, in this (fresh) process: the change
    counters bumped (every network result goes stale), every per-process cache emptied, then
    the jobs a change sets off run in sequence through `run_job`, as the queue's worker runs
    them: overlap, factions, brokers, introductions for one target, the layout of one
    district. Seconds (each and in all), peak traced memory (when `traced`) and peak RSS."""
    import resource

    from crm.network import results
    from crm.network.services import bump_versions

    def rss_mb() -> float:
        # This process's own peak (VmHWM): Linux carries ru_maxrss over from the parent
        # across fork and exec, so it would report the bench's own peak instead.
        try:
            with open("/proc/self/status") as f:
                return round(next(int(x.split()[1]) for x in f if x.startswith("VmHWM:")) / 1024, 1)
        except (OSError, StopIteration):
            return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    app = make_app(url)
    jobs = [("overlap", {}), ("factions", {}), ("brokers", {}),
            ("introductions", {"group_id": target_id}), ("network-layout", {"beat_ids": beat_ids})]
    with app.app_context():
        from crm.network.pages import group_count
        district_groups = group_count(beat_ids)
        bump_versions("network")
        db.session.commit()
        empty_process_caches()
        before = rss_mb()
        if traced:
            tracemalloc.start()
        steps = {}
        t0 = time.perf_counter()
        for name, kw in jobs:
            t = time.perf_counter()
            status = results.run_job(name, results.normalise(name, **kw))
            if status != "done":
                raise RuntimeError(f"{name}: {status} (another worker holds this version?)")
            steps[name] = round(time.perf_counter() - t, 3)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
        if traced:
            tracemalloc.stop()
        db.engine.dispose()
    return {"seconds": round(seconds, 3), "steps": steps, "rss_mb": rss_mb(),
            "rss_before_mb": before, "peak_mb": round(peak, 1) if traced else None,
            "district_groups": district_groups}


# ------------------------------------------------------------------ pages under load

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _BehindTLSProxy(DefaultCookiePolicy):
    """Send Secure cookies over the bench's plain http: the client plays the TLS proxy."""

    def return_ok_secure(self, cookie, request):
        return True


class Session:
    """A tiny browser: cookies, CSRF tokens from forms; `headers` go with every request
    (the live phase sends X-Forwarded-Proto: https, as a TLS proxy in front would)."""

    def __init__(self, base: str, headers: dict | None = None):
        self.base = base
        jar = CookieJar(policy=_BehindTLSProxy()) if headers else CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.no_redirect = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                                       _NoRedirect())
        # Flask-WTF checks the Referer of HTTPS form posts, as a browser sends it.
        self.origin = base.replace("http://", "https://") if headers else base
        if headers:
            for op in (self.opener, self.no_redirect):
                op.addheaders = [*op.addheaders, *headers.items()]

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.status, r.read().decode()

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body,  # noqa: S310 - our own http URL
                                     headers={"Referer": self.origin + path})
        with self.opener.open(req, timeout=30) as r:
            r.read()
            return r.status

    def post_no_follow(self, path: str, data: dict) -> int:
        """POST and report the status without following the redirect (the POST alone is timed)."""
        body = urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body,  # noqa: S310 - our own http URL
                                     headers={"Referer": self.origin + path})
        try:
            with self.no_redirect.open(req, timeout=30) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def login(self, username: str, password: str) -> None:
        _, html = self.get("/login")
        self.post("/login", {"username": username, "password": password,
                             "csrf_token": csrf(html)})
        status, html = self.get("/")
        assert "Sign out" in html, f"could not sign in as {username}"


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return m.group(1) if m else ""


def load(fn, clients: int = CLIENTS, per_client: int = REQUESTS_PER_CLIENT) -> dict:
    times: list[float] = []
    lock = threading.Lock()

    def worker(i):
        for _ in range(per_client):
            t0 = time.perf_counter()
            fn(i)
            dt = time.perf_counter() - t0
            with lock:
                times.append(dt)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    times.sort()
    return {"n": len(times), "p50_s": times[len(times) // 2],
            "p95_s": times[int(len(times) * 0.95) - 1]}


def contact_form_data(html: str) -> dict:
    """The officer's contact form as a browser would send it, with a fresh idempotency key."""
    data = {"csrf_token": csrf(html)}
    for name in ("idempotency_key", "occurred_at"):
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or \
            re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
        if m:
            data[name] = m.group(1)
    beat = re.search(r'<option value="(\d+)"[^>]*selected', html)
    group = re.search(r'name="group_ids" value="(\d+)"', html)
    if beat:
        data["beat_id"] = beat.group(1)
    if group:
        data["group_ids"] = group.group(1)
    data.update({"channel": "foot_patrol", "initiated_by": "proactive", "enforcement": "none",
                 "note": "Bench visit: talked about the block party."})
    return data


def bench_pages(url: str, kind: str) -> list[dict]:
    from crm.demo.services import DEMO_PASSWORD

    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, CRM_ENV="development", FLASK_DEBUG="0",
               CRM_INSTANCE_DIR=str(OUT / f"instance-{kind}-{SIZE}"))
    proc = subprocess.Popen(  # noqa: S603  # nosec B603
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", "4", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=1).read()  # noqa: S310  # nosec B310
                break
            except OSError:
                time.sleep(0.2)
        sup = [Session(base) for _ in range(CLIENTS)]
        off = [Session(base) for _ in range(CLIENTS)]
        for s in sup:
            s.login("supervisor1", DEMO_PASSWORD)
        for s in off:
            s.login("officer1", DEMO_PASSWORD)
        # Warm every worker's cache before measuring.
        load(lambda i: sup[i].get("/analytics/coverage"), per_client=10)
        load(lambda i: off[i].get("/"), per_client=10)
        for label, fn in [("supervisor coverage page", lambda i: sup[i].get("/analytics/coverage")),
                          ("officer home page", lambda i: off[i].get("/"))]:
            r = load(fn)
            rows.append({"analytic": label, "database": kind, "median_s": round(r["p50_s"], 4),
                         "p95_s": round(r["p95_s"], 4), "lower_bound_s": None, "ratio": None,
                         "peak_mb": None, "requests": r["n"], "target_p95_s": 0.1})

        def post_contact(i):
            _, html = off[i].get("/contacts/new")
            t0 = time.perf_counter()
            status = off[i].post_no_follow("/contacts/new", contact_form_data(html))
            dt = time.perf_counter() - t0
            assert status in (302, 303), f"contact POST answered {status}"
            return dt

        post_times: list[float] = []
        lock = threading.Lock()

        def poster(i):
            for _ in range(REQUESTS_PER_CLIENT // 2):
                dt = post_contact(i)
                with lock:
                    post_times.append(dt)

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(poster, range(CLIENTS)))
        post_times.sort()
        rows.append({"analytic": "contact-logging POST", "database": kind,
                     "median_s": round(post_times[len(post_times) // 2], 4),
                     "p95_s": round(post_times[int(len(post_times) * 0.95) - 1], 4),
                     "lower_bound_s": None, "ratio": None, "peak_mb": None,
                     "requests": len(post_times), "target_p95_s": 0.05})
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"\n{'analytic':36} {'db':10} {'median s':>9} {'p95 s':>8} {'bound s':>9} "
          f"{'ratio':>6} {'peak MB':>8}")
    for r in rows:
        def f(v, fmt):
            return format(v, fmt) if isinstance(v, int | float) else "-"
        print(f"{r['analytic']:36} {r['database']:10} {f(r['median_s'], '9.4f')} "
              f"{f(r.get('p95_s'), '8.4f')} {f(r['lower_bound_s'], '9.4f')} "
              f"{f(r['ratio'], '6.2f')} {f(r['peak_mb'], '8.1f')}")


def growth(runs: dict) -> list[dict]:
    """How each analytic's refresh time and peak memory grow from one size to the next."""
    from crm.demo.services import SIZES

    out = []
    for kind in ("sqlite", "postgresql"):
        sizes = [z for z in SIZE_ORDER if kind in runs.get(z, {}) and
                 runs[z][kind].get("analytics")]
        for a, b in zip(sizes, sizes[1:], strict=False):
            ra = {r["analytic"]: r for r in runs[a][kind]["analytics"]}
            rb = {r["analytic"]: r for r in runs[b][kind]["analytics"]}
            for name in ra.keys() & rb.keys():
                ta, tb = (ra[name].get("refresh_s") or ra[name]["median_s"],
                          rb[name].get("refresh_s") or rb[name]["median_s"])
                ma, mb = ra[name].get("peak_mb"), rb[name].get("peak_mb")
                out.append({"database": kind, "analytic": name, "from": a, "to": b,
                            "memberships_x": round(SIZES[b].memberships / SIZES[a].memberships),
                            "contacts_x": round(SIZES[b].contacts / SIZES[a].contacts),
                            "refresh_s": [ta, tb], "time_x": round(tb / ta, 1) if ta else None,
                            "peak_mb": [ma, mb],
                            "memory_x": round(mb / ma, 1) if ma and mb else None})
    order = {n: i for i, n in enumerate(["overlap", "factions", "brokers", "introductions",
                                         "hard-to-engage", "coverage",
                                         "all six (refresh from database)", REFRESH_ROW])}
    return sorted(out, key=lambda r: (r["database"], SIZE_ORDER.index(r["from"]),
                                      order.get(r["analytic"], 9)))


def print_growth(rows: list[dict]) -> None:
    if not rows:
        return
    print(f"\n{'growth (data: x memberships, x contacts)':36} {'db':10} {'sizes':14} "
          f"{'refresh s':>17} {'x':>6} {'peak MB':>15} {'x':>6}")

    def x(v):
        return f"{v:6.1f}" if v else "     -"
    for r in rows:
        t, m = r["refresh_s"], r["peak_mb"]
        label = f"{r['analytic']} (x{r['memberships_x']}, x{r['contacts_x']})"
        print(f"{label:36} {r['database']:10} {r['from'] + '->' + r['to']:14} "
              f"{t[0]:8.3f}{t[1]:9.3f} {x(r['time_x'])} "
              f"{m[0] or 0:7.1f}{m[1] or 0:8.1f} {x(r['memory_x'])}")


def load_results() -> dict:
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {"runs": {}}
    return data if isinstance(data, dict) and "runs" in data else {"runs": {}}


def main() -> None:
    results = load_results()  # the growth table printed at the end, if nothing is measured
    print(f"bench at size {SIZE}; load average {[round(x, 2) for x in os.getloadavg()]} "
          "(the machine is shared: figures move with it)")
    for kind, url in targets():
        run = {"measured_at": datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
               "cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
        if kind == "postgresql":
            ensure_pg_database(url)
        app = make_app(url)
        run["seed"] = build(app, kind)
        vacuum_analyze(url)
        if os.environ.get("BENCH_SKIP_ANALYTICS") != "1":
            run["analytics"] = bench_analytics(app, kind)
            print_table(run["analytics"])
        if os.environ.get("BENCH_SKIP_FACTS") != "1":
            from bench.facts import bench_facts
            run["facts"] = bench_facts(app, kind)
            print_table(run["facts"])
        if os.environ.get("BENCH_SKIP_LIVE") != "1":
            from bench.live import bench_live
            run["live"] = bench_live(app, url, kind, SIZE)
        if os.environ.get("BENCH_SKIP_PAGES") != "1":
            run["pages"] = bench_pages(url, kind)
            print_table(run["pages"])
        with app.app_context():
            db.engine.dispose()
        run["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        # Merge: a later run replaces the phases it measured, keeps the others. Read the
        # file again first: another bench (another size) may have written it meanwhile.
        results = load_results()
        entry = results["runs"].setdefault(SIZE, {}).setdefault(kind, {})
        # measured_at is this run's; each phase keeps the time it was last measured.
        stamps = dict(entry.get("phase_measured_at") or {})
        stamps.update({p: run["measured_at"] for p in ("analytics", "facts", "live", "pages")
                       if p in run})
        entry.update(run)
        entry["phase_measured_at"] = stamps
        results["growth"] = growth(results["runs"])
        RESULTS.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print_growth(results.get("growth", []))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
