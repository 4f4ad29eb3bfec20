"""Coverage and hard-to-engage answers shared by the worker processes of one machine.

Every contact retires the kept coverage and hard-to-engage answers (their change counters
moved). Kept per process only, each of gunicorn's workers then computed the same answer
again on its next page: at the xlarge size four times ~35 ms per contact, one after the
other in the analytics read slot (crm.web.read_slots), while the supervisors' pages waited
behind them. Here the first worker to need an answer computes it and leaves it in a file
under the instance directory, named by a digest of the same key the per-process cache uses
(analytic, parameters, change counters, day, zone, database); the others read it.

The files are written by this app only, in its own instance directory (as the audit anchor
and the queue are), and replaced by new names as the counters move, never rewritten: a
reader sees a whole answer or none, and only such files are ever unpickled. Files older than
`MAX_AGE` are removed now and then, and all of them when an app process starts and after a
restore (`crm restore`), whose database counts its changes from the backup's counters again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle  # nosec B403
import threading
import time
from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger(__name__)
MAX_AGE = 600  # seconds; an answer is retired by the next write anyway
PRUNE_EVERY = 64  # writes


class SharedAnswers:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._writes = 0
        self._lock = threading.Lock()

    def _path(self, key: tuple) -> Path:
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:40]
        return self.directory / f"{digest}.pickle"

    def get(self, key: tuple):
        try:
            with open(self._path(key), "rb") as f:
                return pickle.load(f)  # noqa: S301  # nosec B301
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a damaged file is recomputed, never served
            log.warning("shared answer unreadable; computing it again", exc_info=True)
            return None

    def put(self, key: tuple, value) -> None:
        path = self._path(key)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)  # a new name each time the counters move: nothing is replaced
        except OSError:
            log.warning("could not share an answer", exc_info=True)
            tmp.unlink(missing_ok=True)
            return
        with self._lock:
            self._writes += 1
            prune = self._writes % PRUNE_EVERY == 0
        if prune:
            self.prune()

    def prune(self, max_age: float = MAX_AGE) -> None:
        cutoff = time.time() - max_age
        for p in self.directory.iterdir():
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except OSError:
                continue  # another worker removed it first


def init_app(app: Flask) -> None:
    """Share live answers between this machine's processes (LIVE_SHARED_ANSWERS, default on)."""
    if not app.config.get("LIVE_SHARED_ANSWERS", True):
        return
    try:
        store = SharedAnswers(Path(app.config["INSTANCE_DIR"]) / "live-answers")
        # A restored database counts its changes from the backup's counters again, so an
        # answer left before a restart could carry a key that now means other data.
        store.prune(max_age=0)
        app.extensions["crm_live_share"] = store
    except OSError:  # an instance directory it cannot write: answers stay per process
        log.warning("live answers not shared: cannot create their directory", exc_info=True)


def shared(key: tuple, compute):
    """`compute()` unless another process of this machine already left the answer for `key`."""
    store: SharedAnswers | None = current_app.extensions.get("crm_live_share")
    if store is None:
        return compute()
    key = (*key, current_app.config["SQLALCHEMY_DATABASE_URI"])
    found = store.get(key)
    if found is not None:
        return found
    value = compute()
    store.put(key, value)
    return value
