"""Analytics reads take turns; writes never wait for them (issue 10: the contact POST).

Supervisors reloading coverage, network and officer pages keep every worker of a machine
busy; an officer's contact POST then shares the cores with all of them and waits for a CPU
three to six times its own work (measured with bench/gunicorn_sched.py). So the pages and
API answers that summarise many records run at most `ANALYTICS_READ_SLOTS` at a time per
machine (default: one core fewer than the machine has, at least one): the others wait,
asleep, for a slot, and a write (or any other page) finds a core free.

A slot is an exclusive `flock` on one of N files under the instance directory, so it holds
across gunicorn workers, their threads and several app servers on one machine, and the
kernel releases it when a worker dies. Each thread of each process opens the files itself:
flock locks belong to an open file, which a fork or another thread would otherwise share.

While it holds a slot a thread also runs at a higher niceness (`ANALYTICS_READ_NICE`, 10),
so that a POST woken on the same cores runs first rather than after the page's time slice
(measured: half of the POST's time on PostgreSQL was waiting for a CPU). Linux sets
niceness per thread; lowering it back needs root, CAP_SYS_NICE or an RLIMIT_NICE of 20
(systemd `LimitNICE=20`, `ulimit -e 20`): without one of these it stays off (probed on a
throwaway thread at start-up, logged), since a thread left niced would slow the POSTs it
serves later.
"""

from __future__ import annotations

import fcntl
import os
import random
import threading
from pathlib import Path

from flask import Flask, g, request

# Blueprints whose answers summarise many records (pages and their API).
ANALYTICS_BLUEPRINTS = frozenset({"network", "network_api", "officers", "officers_api",
                                  "briefings"})
READ_METHODS = frozenset({"GET", "HEAD"})


def default_slots() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def _thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _set_thread_nice(value: int) -> None:
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), value)


def can_renice(step: int) -> bool:
    """Whether a thread of this process can raise its niceness by `step` and lower it back
    (tried on a throwaway thread, which then ends)."""
    ok = []

    def probe():
        base = _thread_nice()
        try:
            _set_thread_nice(min(19, base + step))
            _set_thread_nice(base)
            ok.append(_thread_nice() == base)
        except OSError:
            ok.append(False)

    t = threading.Thread(target=probe, name="renice-probe")
    t.start()
    t.join()
    return bool(ok and ok[0])


class ReadSlots:
    """N slots shared by every process on the machine that uses the same directory."""

    def __init__(self, directory: Path, count: int, nice: int = 0):
        self.directory = Path(directory)
        self.count = count
        self.nice = nice  # added to a holding thread's niceness (0: unchanged)
        self._local = threading.local()
        self.directory.mkdir(parents=True, exist_ok=True)

    def _files(self) -> list[int]:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():  # a new thread, or a forked worker
            local.pid = os.getpid()
            local.fds = [os.open(self.directory / f"slot-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                         for i in range(self.count)]
        return local.fds

    def acquire(self) -> int:
        """Take a free slot, or wait for one; returns its number for `release`."""
        fds = self._files()
        start = random.randrange(self.count)  # noqa: S311 - spreads the waiters, not a secret
        for k in range(self.count):
            i = (start + k) % self.count
            try:
                fcntl.flock(fds[i], fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                continue
        else:
            fcntl.flock(fds[start], fcntl.LOCK_EX)  # all taken: sleep until this one frees
            i = start
        if self.nice:
            try:
                base = _thread_nice()
                _set_thread_nice(min(19, base + self.nice))
                self._local.base_nice = base
            except OSError:  # never leave a slot taken over a niceness
                self._local.base_nice = None
        return i

    def release(self, i: int) -> None:
        base = getattr(self._local, "base_nice", None)
        try:
            if base is not None:
                self._local.base_nice = None
                _set_thread_nice(base)  # back before the thread serves anything else
        finally:
            fcntl.flock(self._files()[i], fcntl.LOCK_UN)


def init_app(app: Flask) -> None:
    """Make the analytics reads of `app` take a slot (ANALYTICS_READ_SLOTS; 0 turns it off)."""
    count = app.config.get("ANALYTICS_READ_SLOTS")
    count = default_slots() if count is None else int(count)
    if count <= 0:
        return
    nice = int(app.config.get("ANALYTICS_READ_NICE") or 0)
    if nice and not can_renice(nice):
        app.logger.info("analytics reads keep the worker's niceness: lowering it back needs "
                        "root, CAP_SYS_NICE or RLIMIT_NICE 20 (LimitNICE=20)")
        nice = 0
    try:
        slots = ReadSlots(Path(app.config["INSTANCE_DIR"]) / "read-slots", count, nice)
    except OSError:  # an instance directory it cannot write: serve without the limit
        app.logger.warning("analytics read slots off: cannot create them", exc_info=True)
        return
    app.extensions["crm_read_slots"] = slots

    @app.before_request
    def take_a_read_slot():
        if request.method in READ_METHODS and request.blueprint in ANALYTICS_BLUEPRINTS:
            g.crm_read_slot = slots.acquire()

    @app.teardown_request
    def give_back_the_read_slot(_exc):  # whatever `release_after_request` did not
        slot = g.pop("crm_read_slot", None)
        if slot is not None:
            slots.release(slot)


def release_after_request(app: Flask) -> None:
    """Give the slot back as soon as the answer is built; called after every other
    after_request hook is registered (Flask runs them last registered, first)."""
    slots = app.extensions.get("crm_read_slots")
    if slots is None:
        return

    @app.after_request
    def give_back_the_read_slot_early(response):
        slot = g.pop("crm_read_slot", None)
        if slot is not None:
            slots.release(slot)
        return response
