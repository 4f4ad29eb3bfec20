"""The background queue of the network analytics (Huey).

Huey because one API covers every way the app runs: `RedisHuey` when `REDIS_URL` is set
(workers on any number of machines, started with `flask crm worker`), `SqliteHuey` in a file
under `instance/` otherwise (a consumer thread inside the app process picks the jobs up, so
`make run` needs nothing but Python), and immediate mode in the tests (a job runs inline).

`ANALYTICS_QUEUE` chooses: "redis", "sqlite", "immediate" or "memory" (default: "redis" when
`REDIS_URL` is set, else "sqlite"); "memory" keeps jobs queued in the process until
`run_pending()` runs them, so tests can look at a page while its job waits. `ANALYTICS_WORKER_THREAD` (default on) starts the
in-process consumer in "sqlite" mode on the first job a process enqueues.

A job is `crm.network.results.run_job(name, params)` in an app context of its own. It is
retried (`ANALYTICS_JOB_RETRIES`, every `ANALYTICS_JOB_RETRY_DELAY` seconds) and logged
when it fails; a request that enqueued it has long returned.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

log = logging.getLogger(__name__)
TASK_NAME = "crm.analytics.refresh"


class _InProcessConsumer(Consumer):
    """A consumer started from a thread of the app: the server owns the signal handlers."""

    def _set_signal_handlers(self):
        pass


def _mode(app: Flask) -> str:
    mode = app.config.get("ANALYTICS_QUEUE") or ("redis" if app.config.get("REDIS_URL") else "sqlite")
    if mode not in ("redis", "sqlite", "immediate", "memory"):
        raise RuntimeError(f"ANALYTICS_QUEUE must be redis, sqlite, immediate or memory, not {mode!r}")
    return mode


def init_app(app: Flask) -> None:
    """Create the app's queue and register the refresh job on it."""
    mode = _mode(app)
    if mode == "redis":
        huey = RedisHuey("crm-analytics", url=app.config["REDIS_URL"], results=False)
    elif mode == "sqlite":
        path = Path(app.config.get("ANALYTICS_QUEUE_PATH")
                    or Path(app.config["INSTANCE_DIR"]) / "queue.sqlite")
        path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no instance/ yet
        huey = SqliteHuey("crm-analytics", filename=str(path), results=False)
    else:
        huey = MemoryHuey("crm-analytics", immediate=mode == "immediate", results=False)

    retries = 0 if mode == "immediate" else app.config.get("ANALYTICS_JOB_RETRIES", 5)

    @huey.task(retries=retries, retry_delay=app.config.get("ANALYTICS_JOB_RETRY_DELAY", 10),
               name=TASK_NAME)
    def refresh(name: str, params: dict) -> str:
        from crm.network.results import run_job

        if mode in ("redis", "sqlite"):  # a consumer's thread, never a request's
            _yield_to_requests(app.config.get("ANALYTICS_WORKER_NICE", 10))
        with app.app_context():
            return run_job(name, params)

    app.extensions["crm_queue"] = {"huey": huey, "refresh": refresh, "mode": mode,
                                   "thread": None, "lock": threading.Lock()}


def _yield_to_requests(nice: int) -> None:
    """Run this job's thread at a lower CPU priority (Linux: niceness is per thread), so a
    refresh taking seconds of CPU on the app's machine does not hold up contact POSTs and
    page loads. Raising one's own niceness needs no privilege; it is never lowered back."""
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at the usual priority
        log.debug("analytics job runs at the usual priority", exc_info=True)


def _queue(app: Flask | None = None) -> dict:
    return (app or current_app).extensions["crm_queue"]


def is_immediate() -> bool:
    return _queue()["mode"] == "immediate"


def enqueue(name: str, params: dict) -> None:
    """Ask for a refresh of analytic `name`; returns at once (inline only in immediate mode)."""
    q = _queue()
    if q["mode"] == "sqlite" and current_app.config.get("ANALYTICS_WORKER_THREAD", True):
        _ensure_thread(q)
    try:
        q["refresh"](name, params)
    except Exception:  # a queue that is down must not fail the page: it shows the last result
        log.exception("could not enqueue analytics job %s %s", name, params)


def run_pending(app: Flask | None = None) -> int:
    """Run every job waiting in the queue, in this thread (tests and `make bench`); how many ran.

    A failing job is logged and, with retries left, scheduled again by Huey (not run here).
    """
    huey = _queue(app)["huey"]
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran


def _ensure_thread(q: dict) -> None:
    with q["lock"]:
        if q["thread"] is None:
            consumer = _InProcessConsumer(q["huey"], workers=1, worker_type="thread",
                                          periodic=False, initial_delay=0.05, max_delay=1.0,
                                          check_worker_health=False)
            consumer.start()
            q["thread"] = consumer
            log.info("analytics worker thread started in process")


def consumer(app: Flask, workers: int) -> Consumer:
    """The consumer of `flask crm worker`."""
    q = _queue(app)
    if q["mode"] == "immediate":
        raise RuntimeError("ANALYTICS_QUEUE is immediate: jobs run inline, there is nothing to consume")
    return q["huey"].create_consumer(workers=workers, worker_type="thread", periodic=False,
                                     max_delay=2.0)
