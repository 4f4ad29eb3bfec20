"""Bench phase: the live phase (issue 10, item 5).

The app is served as in production: gunicorn with 4 workers, `CRM_ENV=production` settings
(secure cookies behind a pretend TLS proxy, no debug), SQLite in WAL mode or PostgreSQL, and
the network analytics computed by a separate `flask crm worker` process (on SQLite through
the embedded queue file, on PostgreSQL through Redis when one answers, db 7 by default,
flushed first). Then:

- quiet phase: 4 supervisor clients load, in a loop, the coverage page, the hard-to-engage
  API and the network page of their district;
- live phase: the same 4 clients while one officer logs a contact every 2 s through
  `POST /api/v1/contacts` (bearer token, idempotency key) for 60 s; the officer's contacts
  alternate between groups flagged hard-to-engage in their beats and other groups of the
  beat, and a watcher polls the hard-to-engage API after each flagged one until the group
  has left it (freshness); a supervisor adds one membership early in the phase and a watcher
  polls the overlap API until its document is computed from the data with that change.

Each figure is printed beside its target and beside lower bounds served by the same
gunicorn in the same run: the p50 of a trivial request (the web manifest, no database) and
of a primary-key read (`GET /api/v1/contacts/<id>`), both with no other load. The load
average of the machine (shared) is recorded at the start and end of each phase.

What the phase writes (contacts, one membership, two API tokens) is removed afterwards
through the services, so the cached demo database stays as seeded.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import runpy
import secrets
import statistics
import subprocess  # nosec B404
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
QUIET_SECONDS = float(os.environ.get("BENCH_QUIET_SECONDS", "30"))
LIVE_SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS", "60"))
POST_EVERY = 2.0
SUPERVISORS = 4
# After the live phase the overlap watcher keeps polling this long (seconds) at most.
NETWORK_WAIT = float(os.environ.get("BENCH_NETWORK_WAIT", "240"))
WARM_WAIT = float(os.environ.get("BENCH_WARM_WAIT", "600"))
BOUND_REQUESTS = 60
TARGETS = {"coverage page": 0.1, "hard-to-engage API": 0.1, "contact POST": 0.05,
           "hard-to-engage freshness": 1.0, "overlap freshness": 60.0}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q * len(v))) - 1))]


# ------------------------------------------------------------------ preparing the actors


@dataclass
class Plan:
    district: str
    supervisor: str
    officer: str
    beat_id: int
    flagged: list[int]  # hard-to-engage groups in the officer's beats, in the answer asked
    other_groups: list[int]  # other groups of the officer's beat
    member_group: int  # the membership change: this stakeholder joins this group
    member_stakeholder: int
    pk_contact: int
    officer_token: str = ""
    supervisor_token: str = ""
    token_ids: list[int] = field(default_factory=list)


def prepare(app) -> Plan:
    """Choose the officer with the most flagged groups in their beats, their district's
    supervisor, and a membership change inside that district; issue two API tokens."""
    from crm.extensions import db
    from crm.models import BeatAssignment, CommunityGroup, Contact, District, User, group_beats
    from crm.network.services import compute
    from crm.stakeholders.models import Membership
    from crm.users.services import issue_token

    with app.app_context():
        flagged_all = [f["group"]["id"] for f in compute("hard-to-engage", use_cache=False)["groups"]]
        gb = db.session.execute(sa.select(group_beats.c.group_id, group_beats.c.beat_id)).all()
        beats_of: dict[int, set[int]] = {}
        for g, b in gb:
            beats_of.setdefault(g, set()).add(b)
        officers = db.session.execute(
            sa.select(User.id, User.username, BeatAssignment.beat_id)
            .join(BeatAssignment, BeatAssignment.user_id == User.id)
            .where(User.role == "officer", User.active.is_(True),
                   BeatAssignment.current_on())).all()
        best = None
        for uid, username, beat in officers:
            mine = [g for g in flagged_all if beat in beats_of.get(g, ())]
            if best is None or len(mine) > len(best[3]):
                best = (uid, username, beat, mine)
        if best is None:
            raise RuntimeError("no officer with a current beat in the demo")
        uid, officer, beat_id, mine = best
        district_id = db.session.scalar(sa.text("SELECT district_id FROM beats WHERE id = :b"),
                                        {"b": beat_id})
        district = db.session.scalar(sa.select(District.code).where(District.id == district_id))
        sup = db.session.scalar(sa.select(User).where(User.role == "supervisor",
                                                      User.district_id == district_id,
                                                      User.active.is_(True)).order_by(User.id))
        district_beats = set(db.session.scalars(sa.text(
            "SELECT id FROM beats WHERE district_id = :d"), {"d": district_id}))
        # The answer the watcher reads: the district's; keep the flagged groups it lists.
        in_answer = {f["group"]["id"] for f in compute(
            "hard-to-engage", beat_ids=sorted(district_beats), use_cache=False)["groups"]}
        flagged = [g for g in mine if g in in_answer]
        others = [g for g, bs in beats_of.items() if beat_id in bs and g not in set(flagged_all)]
        # The membership change: someone of one district group joins another district group.
        district_groups = sorted(g for g, bs in beats_of.items() if bs & district_beats)
        members = db.session.execute(
            sa.select(Membership.stakeholder_id, Membership.group_id)
            .where(Membership.group_id.in_(district_groups[:50]), Membership.current_on())).all()
        taken = {(s, g) for s, g in members}
        target_group = db.session.scalar(
            sa.select(CommunityGroup.id).where(CommunityGroup.id.in_(district_groups))
            .order_by(CommunityGroup.id.desc()).limit(1))
        stakeholder = next(s for s, g in members if (s, target_group) not in taken
                           and g != target_group)
        pk_contact = db.session.scalar(sa.select(Contact.id).where(Contact.beat_id.in_(
            district_beats)).order_by(Contact.id).limit(1))
        officer_user = db.session.get(User, uid)
        t1, officer_token = issue_token(None, officer_user, "bench live phase")
        t2, sup_token = issue_token(None, sup, "bench live phase")
        db.session.commit()
        plan = Plan(district=district, supervisor=sup.username, officer=officer, beat_id=beat_id,
                    flagged=flagged, other_groups=others, member_group=target_group,
                    member_stakeholder=stakeholder, pk_contact=pk_contact,
                    officer_token=officer_token, supervisor_token=sup_token,
                    token_ids=[t1.id, t2.id])
        db.session.remove()
    return plan


def cleanup(app, plan: Plan, contact_ids: list[int], membership_id: int | None) -> None:
    """Remove what the phase wrote, through the services (the facts follow)."""
    from crm.contacts.services import delete_contact
    from crm.extensions import db
    from crm.groups.services import delete_membership
    from crm.models import Contact, User
    from crm.stakeholders.models import Membership
    from crm.users.models import ApiToken
    from crm.users.services import revoke_token

    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.role == "admin").order_by(User.id))
        for cid in contact_ids:
            c = db.session.get(Contact, cid)
            if c is not None:
                delete_contact(admin, c)
        if membership_id is not None:
            m = db.session.get(Membership, membership_id)
            if m is not None:
                delete_membership(admin, m)
        for tid in plan.token_ids:
            tok = db.session.get(ApiToken, tid)
            if tok is not None:
                revoke_token(None, tok)
        db.session.commit()
        db.session.remove()


# ------------------------------------------------------------------ the servers


def _redis_url() -> str | None:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    if url.lower() in ("", "none", "0"):
        return None
    try:
        import redis

        r = redis.Redis.from_url(url, socket_connect_timeout=1)
        r.flushdb()  # the bench's own db number: jobs and rate limits of an earlier run
        return url
    except Exception as e:  # no Redis: the embedded queue instead
        print(f"  (no Redis at {url}: {type(e).__name__}; the embedded queue is used)")
        return None


class Servers:
    """gunicorn with 4 workers and one `flask crm worker`, as production runs them."""

    def __init__(self, url: str, kind: str, size: str):
        from bench.run import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        instance = OUT / f"instance-{kind}-{size}"
        instance.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, DATABASE_URL=url, CRM_ENV="production",
                   SECRET_KEY=secrets.token_hex(32), CRM_INSTANCE_DIR=str(instance),
                   TRUSTED_PROXIES="1", CRM_ANALYTICS_WORKER_THREAD="0")
        for k in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "REDIS_URL", "CRM_ANALYTICS_QUEUE"):
            env.pop(k, None)
        redis_url = _redis_url() if kind == "postgresql" else None
        if redis_url:
            env["REDIS_URL"], module = redis_url, "wsgi"
            self.queue = f"redis ({redis_url})"
        else:
            env["CRM_ANALYTICS_QUEUE"], module = "sqlite", "bench.wsgi"
            (instance / "queue.sqlite").unlink(missing_ok=True)
            self.queue = "embedded SQLite queue"
        env["FLASK_APP"] = module
        bin_dir = ROOT / ".venv" / "bin"
        self.log = open(OUT / f"live-{kind}-{size}.log", "w")  # noqa: SIM115 - closed in stop()
        # Threads per worker: the repository's gunicorn.conf.py (4), or BENCH_THREADS=N.
        threads = ["--threads", os.environ["BENCH_THREADS"]] if os.environ.get("BENCH_THREADS") else []
        self.threads = int(os.environ.get("BENCH_THREADS") or runpy.run_path(
            str(ROOT / "gunicorn.conf.py")).get("threads", 1))
        # gunicorn's own time per request (from a worker taking it to the last byte written):
        # beside the clients' times it shows how long a request waited for a free worker.
        self.access_log = OUT / f"live-{kind}-{size}-access.log"
        self.access_log.unlink(missing_ok=True)
        # Where each request's time went (on a CPU, waiting for one, blocked): bench/gunicorn_sched.py.
        self.sched_log = OUT / f"live-{kind}-{size}-sched.log"
        self.sched_log.unlink(missing_ok=True)
        env["BENCH_SCHED_LOG"] = str(self.sched_log)
        self.web = subprocess.Popen(  # noqa: S603  # nosec B603
            [str(bin_dir / "gunicorn"), "--workers", "4", *threads, "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--timeout", "60", "--access-logfile", str(self.access_log),
             "--access-logformat", "%(m)s %(U)s %(s)s %(D)s",
             "--config", str(ROOT / "bench" / "gunicorn_sched.py"), f"{module}:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.worker = subprocess.Popen(  # noqa: S603  # nosec B603
            [str(bin_dir / "flask"), "crm", "worker", "--workers", "2"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/manifest.webmanifest", timeout=2).read()  # noqa: S310  # nosec B310
                return
            except OSError:
                if self.web.poll() is not None:
                    raise RuntimeError(f"gunicorn exited; see {self.log.name}") from None
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer; see {self.log.name}")

    def stop(self) -> None:
        for p in (self.web, self.worker):
            p.terminate()
        for p in (self.web, self.worker):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        self.log.close()


# ------------------------------------------------------------------ the clients


def client(base: str):
    from bench.run import Session

    return Session(base, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"})


def api(base: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={  # noqa: S310
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310  # nosec B310
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class Recorder:
    def __init__(self):
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.lock = threading.Lock()

    def add(self, name: str, dt: float, ok: bool = True) -> None:
        with self.lock:
            self.times.setdefault(name, []).append(dt)
            if not ok:
                self.errors[name] = self.errors.get(name, 0) + 1


def supervisor_loop(sess, plan: Plan, rec: Recorder, stop: threading.Event) -> None:
    pages = [("coverage page", "/analytics/coverage"),
             ("hard-to-engage API", f"/api/v1/analytics/hard-to-engage?district={plan.district}"),
             ("network page", "/analytics/network")]
    while not stop.is_set():
        for name, path in pages:
            t0 = time.perf_counter()
            try:
                status, _ = sess.get(path)
            except urllib.error.HTTPError as e:
                status = e.code
            except OSError:  # a timeout or a refused connection counts as an error
                status = None
            rec.add(name, time.perf_counter() - t0, status == 200)


def hte_ids(sess, plan: Plan) -> set[int]:
    _, body = sess.get(f"/api/v1/analytics/hard-to-engage?district={plan.district}")
    return {f["group"]["id"] for f in json.loads(body)["groups"]}


def hte_watcher(sess, plan: Plan, todo: queue.Queue, fresh: list) -> None:
    """For each (group, t_sent, t_answered): poll until the group has left the answer."""
    while True:
        item = todo.get()
        if item is None:
            return
        group, sent, answered = item
        deadline, polls = sent + 30, 0
        while time.perf_counter() < deadline:
            try:
                gone = group not in hte_ids(sess, plan)
            except OSError:
                gone = False
            polls += 1
            if gone:
                now = time.perf_counter()
                fresh.append({"from_post_s": round(now - sent, 4),
                              "after_answer_s": round(now - answered, 4), "polls": polls})
                break
            time.sleep(0.02)
        else:
            fresh.append(None)


def officer_loop(base: str, plan: Plan, rec: Recorder, todo: queue.Queue, created: list,
                 seconds: float) -> None:
    """A contact every 2 s; every other one with a flagged group while any are left."""
    flagged, others = list(plan.flagged), list(plan.other_groups) or list(plan.flagged)
    start = time.perf_counter()
    k = 0
    while (due := start + k * POST_EVERY) < start + seconds:
        time.sleep(max(0.0, due - time.perf_counter()))
        use_flagged = flagged and (k % 2 == 0 or not others)
        group = flagged.pop(0) if use_flagged else others[k % len(others)]
        body = {"idempotency_key": f"bench-{uuid.uuid4()}", "beat_id": plan.beat_id,
                "group_ids": [group], "channel": "visit", "initiated_by": "proactive",
                "note": "Bench: talked with the group about the block party."}
        t0 = time.perf_counter()
        status, doc = api(base, "POST", "/api/v1/contacts/", plan.officer_token, body)
        t1 = time.perf_counter()
        rec.add("contact POST", t1 - t0, status == 201)
        if status == 201:
            created.append(doc["id"])
            if use_flagged:
                todo.put((group, t0, t1))
        else:
            print(f"  contact POST answered {status}: {doc}")
        k += 1


def _officer_process(base: str, plan: Plan, todo, results, seconds: float) -> None:
    """The officer's phone: its own process, so its POSTs are timed without waiting for the
    supervisors' client threads (one interpreter lock in the bench process)."""
    rec, created = Recorder(), []
    try:
        officer_loop(base, plan, rec, todo, created, seconds)
    finally:
        results.put((rec.times, rec.errors, created))


def overlap_watch(base: str, plan: Plan, out: dict, stop_at: list) -> None:
    """Add one membership, then poll the overlap API until its document is computed from it."""
    t0 = time.perf_counter()
    status, doc = api(base, "POST", "/api/v1/memberships/", plan.supervisor_token,
                      {"group_id": plan.member_group, "stakeholder_id": plan.member_stakeholder,
                       "role": "member"})
    out["post_status"] = status
    if status != 201:
        out["error"] = doc
        return
    out["membership_id"] = doc["id"]
    path = f"/api/v1/analytics/overlap?district={plan.district}"
    want = None
    while True:
        st, body = api(base, "GET", path, plan.supervisor_token)
        computed = body.get("computed") or {}
        if want is None:
            want = computed.get("current_versions")
            out["versions_after_change"] = want
        have = computed.get("data_versions") if st == 200 else None
        if have and want and all(have.get(k, 0) >= v for k, v in want.items()):
            out["seconds"] = round(time.perf_counter() - t0, 2)
            out["polls_status"] = computed.get("status")
            return
        if stop_at and time.perf_counter() > stop_at[0]:
            out["seconds"] = None
            out["gave_up_after_s"] = round(time.perf_counter() - t0, 1)
            return
        time.sleep(0.5)


def run_clients(sups, plan: Plan, seconds: float) -> Recorder:
    rec, stop = Recorder(), threading.Event()
    threads = [threading.Thread(target=supervisor_loop, args=(s, plan, rec, stop)) for s in sups]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return rec


def warm(sups, base: str, plan: Plan) -> float:
    """Every worker has served each page once and the network documents exist."""
    t0 = time.perf_counter()
    for s in sups:
        for path in ("/analytics/coverage", "/analytics/network",
                     f"/api/v1/analytics/hard-to-engage?district={plan.district}"):
            s.get(path)
    while time.perf_counter() - t0 < WARM_WAIT:
        st, body = api(base, "GET", f"/api/v1/analytics/overlap?district={plan.district}",
                       plan.supervisor_token)
        _, html = sups[0].get("/analytics/network")
        if st == 200 and (body.get("computed") or {}).get("status") == "fresh" and \
                "computing" not in html.lower() and "refreshing" not in html.lower():
            break
        time.sleep(1)
    for s in sups:
        for path in ("/analytics/coverage", "/analytics/network"):
            s.get(path)
    return time.perf_counter() - t0


WARM_POSTS = 16  # 8 at a time, twice: every worker takes some


def warm_posts(base: str, plan: Plan, created: list) -> None:
    """Every worker has logged a contact before the clock runs, as on a shift that has been
    going for a while: a worker's first contact POST compiles its statements and reads the
    tables' pages (~40 ms of CPU instead of ~10). Sent 8 at a time so that each worker takes
    some; removed with the phase's other contacts."""
    groups = list(plan.other_groups) or list(plan.flagged)

    def one(i: int) -> None:
        status, doc = api(base, "POST", "/api/v1/contacts/", plan.officer_token, {
            "idempotency_key": f"bench-warm-{uuid.uuid4()}", "beat_id": plan.beat_id,
            "group_ids": [groups[i % len(groups)]], "channel": "visit",
            "initiated_by": "proactive", "note": "Bench: warming up."})
        if status == 201:
            created.append(doc["id"])

    for start in range(0, WARM_POSTS, 8):
        batch = [threading.Thread(target=one, args=(start + k,)) for k in range(8)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()


def bounds(sups, plan: Plan) -> dict:
    def p50(fn):
        times = []
        for _ in range(BOUND_REQUESTS):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    return {"trivial request p50 (web manifest)": p50(lambda: sups[0].get("/manifest.webmanifest")),
            "primary-key read p50 (GET /api/v1/contacts/<id>)":
                p50(lambda: sups[0].get(f"/api/v1/contacts/{plan.pk_contact}"))}


SERVED = {("GET", "/analytics/coverage"): "coverage page",
          ("GET", "/api/v1/analytics/hard-to-engage"): "hard-to-engage API",
          ("GET", "/analytics/network"): "network page",
          ("POST", "/api/v1/contacts/"): "contact POST"}


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def served_times(path: Path, start: int, end: int | None = None) -> dict:
    """p50/p95 of gunicorn's own time per request (its access log between two offsets)."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(None if end is None else end - start).decode(errors="replace")
    times: dict[str, list[float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and (parts[0], parts[1]) in SERVED and parts[3].isdigit():
            times.setdefault(SERVED[(parts[0], parts[1])], []).append(int(parts[3]) / 1e6)
    return {name: {"n": len(v), "p50_s": round(pct(v, 0.5), 4), "p95_s": round(pct(v, 0.95), 4)}
            for name, v in times.items()}


def sched_times(path: Path, start: int, end: int | None = None) -> dict:
    """Per page: p50/p95 of the time on a CPU, waiting in the run queue, and blocked (the rest
    of the wall time), and the same split of the slowest 5% (bench/gunicorn_sched.py)."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(None if end is None else end - start).decode(errors="replace")
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 5 and (parts[0], parts[1]) in SERVED:
            wall, cpu, runq = (int(x) / 1e6 for x in parts[2:])
            rows.setdefault(SERVED[(parts[0], parts[1])], []).append(
                (wall, cpu, runq, max(0.0, wall - cpu - runq)))
    out = {}
    for name, v in rows.items():
        slow = sorted(v)[int(len(v) * 0.95):] or sorted(v)[-1:]
        out[name] = {"n": len(v), **{
            f"{part}_{q}_s": round(pct([r[i] for r in v], p), 4)
            for i, part in ((0, "wall"), (1, "on_cpu"), (2, "run_queue"), (3, "blocked"))
            for q, p in (("p50", 0.5), ("p95", 0.95))},
            "slowest_5pct_mean_s": {part: round(statistics.mean(r[i] for r in slow), 4)
                                    for i, part in ((0, "wall"), (1, "on_cpu"),
                                                    (2, "run_queue"), (3, "blocked"))}}
    return out


def summary(rec: Recorder) -> dict:
    return {name: {"n": len(v), "p50_s": round(pct(v, 0.5), 4), "p95_s": round(pct(v, 0.95), 4),
                   "errors": rec.errors.get(name, 0)} for name, v in rec.times.items()}


def bench_live(app, url: str, kind: str, size: str) -> dict:
    from crm.demo.services import DEMO_PASSWORD

    print(f"[{kind}] live phase: preparing", flush=True)
    plan = prepare(app)
    print(f"  officer {plan.officer}: {len(plan.flagged)} flagged groups in their beats; "
          f"supervisor {plan.supervisor}, district {plan.district}", flush=True)
    servers = Servers(url, kind, size)
    created: list[int] = []
    membership: dict = {}
    out: dict = {"database": kind, "size": size, "queue": servers.queue,
                 "gunicorn_workers": 4, "gunicorn_threads": servers.threads,
                 "analytics_read_slots": os.environ.get("CRM_ANALYTICS_READ_SLOTS") or "default",
                 "supervisor_clients": SUPERVISORS,
                 "quiet_seconds": QUIET_SECONDS, "live_seconds": LIVE_SECONDS,
                 "contact_every_s": POST_EVERY, "targets": TARGETS, "loadavg": {}}
    try:
        sups = [client(servers.base) for _ in range(SUPERVISORS + 1)]
        for s in sups:
            s.login(plan.supervisor, DEMO_PASSWORD)
        watcher, sups = sups[-1], sups[:-1]
        out["warm_s"] = round(warm(sups, servers.base, plan), 1)
        warm_posts(servers.base, plan, created)
        print(f"  warm in {out['warm_s']} s (first network documents computed)", flush=True)
        out["loadavg"]["bounds"] = loadavg()
        out["bounds"] = {k: round(v, 4) for k, v in bounds(sups, plan).items()}

        out["loadavg"]["quiet_start"] = loadavg()
        mark_quiet = log_size(servers.access_log)
        sched_quiet = log_size(servers.sched_log)
        quiet = run_clients(sups, plan, QUIET_SECONDS)
        out["loadavg"]["quiet_end"] = loadavg()
        mark_live = log_size(servers.access_log)
        sched_live = log_size(servers.sched_log)
        out["quiet"] = summary(quiet)
        print(f"  quiet: {json.dumps(out['quiet'])}", flush=True)

        # The officer's process is forked before any client thread runs in this one.
        ctx = multiprocessing.get_context("fork")
        todo = ctx.Queue()
        officer_results = ctx.Queue()
        fresh: list = []
        stop_at: list = []
        watch = threading.Thread(target=hte_watcher, args=(watcher, plan, todo, fresh))
        net = threading.Thread(target=overlap_watch,
                               args=(servers.base, plan, membership, stop_at))
        rec_holder: dict = {}
        sup_thread = threading.Thread(
            target=lambda: rec_holder.setdefault("rec", run_clients(sups, plan, LIVE_SECONDS)))
        officer = ctx.Process(target=_officer_process, args=(
            servers.base, plan, todo, officer_results, LIVE_SECONDS))
        out["loadavg"]["live_start"] = loadavg()
        live_started = time.perf_counter()
        officer.start()
        for t in (watch, sup_thread):
            t.start()
        time.sleep(min(5.0, LIVE_SECONDS / 6))
        net.start()
        officer_rec = Recorder()
        officer_rec.times, officer_rec.errors, posted = officer_results.get(
            timeout=LIVE_SECONDS + 300)
        created.extend(posted)
        officer.join(30)
        sup_thread.join()
        out["loadavg"]["live_end"] = loadavg()
        mark_end = log_size(servers.access_log)
        sched_end = log_size(servers.sched_log)
        todo.put(None)
        watch.join()
        stop_at.append(live_started + LIVE_SECONDS + NETWORK_WAIT)
        net.join()
        live = summary(rec_holder["rec"])
        live.update(summary(officer_rec))
        out["live"] = live
        # Seconds from sending the contact to the first answer without the group; beside it
        # the part after the POST's answer and how many polls that took (1: the first
        # answer read after the write was already fresh).
        got = [f["from_post_s"] for f in fresh if f is not None]
        after = [f["after_answer_s"] for f in fresh if f is not None]
        out["hard_to_engage_freshness_s"] = {
            "samples": fresh, "p50_s": pct(got, 0.5), "max_s": max(got) if got else None,
            "after_post_answer_p50_s": pct(after, 0.5),
            "after_post_answer_max_s": max(after) if after else None,
            "fresh_on_first_poll": sum(1 for f in fresh if f and f["polls"] == 1),
            "missed": sum(1 for f in fresh if f is None)}
        out["overlap_freshness"] = {k: v for k, v in membership.items() if k != "membership_id"}
        out["loadavg"]["end"] = loadavg()
        out["served"] = {"quiet": served_times(servers.access_log, mark_quiet, mark_live),
                         "live": served_times(servers.access_log, mark_live, mark_end)}
        out["where_time_went"] = {"quiet": sched_times(servers.sched_log, sched_quiet, sched_live),
                                  "live": sched_times(servers.sched_log, sched_live, sched_end)}
    finally:
        servers.stop()
        cleanup(app, plan, created, membership.get("membership_id"))
    out["checks"] = checks(out)
    print_live(out)
    return out


def checks(out: dict) -> list[dict]:
    """Each figure beside its target, the quiet phase and the lower bounds of the run."""
    trivial, pk = out["bounds"].values()
    rows = []
    for name in ("coverage page", "hard-to-engage API", "network page", "contact POST"):
        live = out["live"].get(name)
        if not live:
            continue
        quiet = out["quiet"].get(name)
        target = TARGETS.get(name)
        row = {"figure": f"{name} p95 (live)", "value_s": live["p95_s"], "target_s": target,
               "p50_s": live["p50_s"], "quiet_p50_s": quiet and quiet["p50_s"],
               "quiet_p95_s": quiet and quiet["p95_s"],
               "vs_quiet": round(live["p95_s"] / quiet["p95_s"], 2) if quiet else None,
               "vs_trivial": round(live["p95_s"] / trivial, 1),
               "vs_pk_read": round(live["p95_s"] / pk, 1), "errors": live["errors"]}
        ok = target is None or live["p95_s"] < target
        if quiet and name != "network page":
            ok = ok and live["p95_s"] <= 2 * quiet["p95_s"]
        row["met"] = ok if target is not None else None
        rows.append(row)
    f = out["hard_to_engage_freshness_s"]
    if f["max_s"] is not None:
        rows.append({"figure": "hard-to-engage freshness (max)", "value_s": f["max_s"],
                     "p50_s": f["p50_s"], "target_s": 1.0, "met": f["max_s"] < 1.0 and not f["missed"],
                     "after_post_answer_max_s": f["after_post_answer_max_s"],
                     "fresh_on_first_poll": f["fresh_on_first_poll"],
                     "vs_trivial": round(f["max_s"] / trivial, 1),
                     "vs_pk_read": round(f["max_s"] / pk, 1), "samples": len(f["samples"])})
    o = out["overlap_freshness"].get("seconds")
    rows.append({"figure": "overlap refreshed after a membership change", "value_s": o,
                 "target_s": 60.0, "met": o is not None and o < 60.0})
    return rows


def print_live(out: dict) -> None:
    trivial, pk = out["bounds"].values()
    print(f"\nlive phase, {out['database']} {out['size']} ({out['queue']}); bounds: trivial "
          f"{trivial * 1000:.1f} ms, pk read {pk * 1000:.1f} ms; load average {out['loadavg']}")
    print(f"{'figure':46} {'value':>8} {'target':>7} {'p50':>8} {'quiet p50':>9} "
          f"{'quiet p95':>9} {'x quiet':>7} {'x triv':>7} {'x pk':>6}  met")

    def f(v, scale=1000, fmt="8.1f"):
        return format(v * scale, fmt) if isinstance(v, int | float) else "-".rjust(int(fmt[0]))
    for r in out["checks"]:
        print(f"{r['figure']:46} {f(r['value_s'], 1, '8.3f')} {f(r.get('target_s'), 1, '7.2f')} "
              f"{f(r.get('p50_s'), 1, '8.3f')} {f(r.get('quiet_p50_s'), 1, '9.3f')} "
              f"{f(r.get('quiet_p95_s'), 1, '9.3f')} {f(r.get('vs_quiet'), 1, '7.2f')} "
              f"{f(r.get('vs_trivial'), 1, '7.1f')} {f(r.get('vs_pk_read'), 1, '6.1f')}  "
              f"{'yes' if r['met'] else ('no' if r['met'] is False else '-')}")
    served = out.get("served", {}).get("live", {})
    if served:
        print("in gunicorn (live phase; the rest of a client's time is waiting for a free worker "
              "and the way there and back): " + ", ".join(
                  f"{k} p50 {v['p50_s']:.3f} / p95 {v['p95_s']:.3f} s" for k, v in served.items()))
    f = out["hard_to_engage_freshness_s"]
    print(f"hard-to-engage freshness: {len(f['samples'])} contacts with a flagged group; after "
          f"the POST's answer p50 {f['after_post_answer_p50_s']} s, max "
          f"{f['after_post_answer_max_s']} s; fresh on the first read after the write: "
          f"{f['fresh_on_first_poll']}/{len(f['samples'])}")
    where = out.get("where_time_went", {}).get("live", {})
    for name, v in where.items():
        slow = v["slowest_5pct_mean_s"]
        print(f"where the time went in gunicorn, live, {name} (n {v['n']}): on a CPU p50 "
              f"{v['on_cpu_p50_s'] * 1000:.1f} / p95 {v['on_cpu_p95_s'] * 1000:.1f} ms, waiting "
              f"for a CPU p50 {v['run_queue_p50_s'] * 1000:.1f} / p95 {v['run_queue_p95_s'] * 1000:.1f}"
              f" ms, blocked p50 {v['blocked_p50_s'] * 1000:.1f} / p95 {v['blocked_p95_s'] * 1000:.1f}"
              f" ms; slowest 5% (mean): wall {slow['wall'] * 1000:.1f} = CPU {slow['on_cpu'] * 1000:.1f}"
              f" + run queue {slow['run_queue'] * 1000:.1f} + blocked {slow['blocked'] * 1000:.1f} ms")
