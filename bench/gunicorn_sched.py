"""gunicorn hooks for the live phase: where each request's time went, from the kernel.

`gunicorn -c bench/gunicorn_sched.py` (with `BENCH_SCHED_LOG=<file>`) appends one line per
request: method, path, wall time, time on a CPU and time waiting in the run queue for one
(both from /proc/thread-self/schedstat, Linux), all in microseconds. What is left of the wall
time was spent blocked: on the database, a lock or the disk. The live phase reads it to tell
a contact POST that waited for a core from one that waited for the database.
"""

import os
import runpy
import time
from pathlib import Path

# Everything the repository's own gunicorn.conf.py sets (threads, the access-log filter), as
# production runs it; `-c` replaces that file, so it is read here.
globals().update({k: v for k, v in runpy.run_path(
    str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")).items()
    if not k.startswith("__")})

_LOG = os.environ.get("BENCH_SCHED_LOG")


def _sched() -> tuple[int, int]:
    with open("/proc/thread-self/schedstat", "rb") as f:
        on_cpu, waiting, _ = f.read().split()
    return int(on_cpu), int(waiting)


def pre_request(worker, req):
    req._bench_sched = (time.perf_counter_ns(), *_sched())


def post_request(worker, req, environ, resp):
    start = getattr(req, "_bench_sched", None)
    if not _LOG or start is None:
        return
    wall = time.perf_counter_ns() - start[0]
    on_cpu, waiting = _sched()
    line = (f"{req.method} {req.path} {wall // 1000} {(on_cpu - start[1]) // 1000} "
            f"{(waiting - start[2]) // 1000}\n")
    # O_APPEND: each worker's line lands whole (shorter than PIPE_BUF).
    fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
