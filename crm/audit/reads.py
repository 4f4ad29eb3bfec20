"""Reads of aggregate answers (analytics pages and API, an officer's engagement page),
audited once a minute per user, subject and address in each process.

A supervisor's screen reloading the same answer is one reading, and a write on every load
queued the officers' contact POSTs behind the audit chain's lock and a commit. These answers
hold group and officer names and counts, no member of the public's personal data; reads of
people's records are audited on every read, by their own services.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from flask import g, has_request_context

from crm.audit.services import record_event

READ_NOTED_EVERY = 60  # seconds
_KEPT = 10_000

_noted: OrderedDict[tuple, float] = OrderedDict()
_noted_lock = threading.Lock()


def note_read(user, action: str, object_type: str, object_id, ip: str) -> None:
    """Audit `user` reading (object_type, object_id) unless they did within the minute from
    the same address. In a request the event is written just before its commit
    (`write_noted_reads`): an audit event holds the chain's lock until the commit, and taken
    where a page starts it was held while the page was built, with contact POSTs queued
    behind it."""
    if has_request_context():
        g.setdefault("crm_noted_reads", []).append((user, action, object_type, object_id, ip))
    else:
        _write(user, action, object_type, object_id, ip)


def write_noted_reads() -> None:
    """The request's noted reads, as its last writes (called at the commit)."""
    for read in g.pop("crm_noted_reads", ()):
        _write(*read)


def _write(user, action: str, object_type: str, object_id, ip: str) -> None:
    key, now = (user.id, action, object_type, str(object_id), ip), time.monotonic()
    with _noted_lock:
        last = _noted.get(key)
        if last is not None and now - last < READ_NOTED_EVERY:
            return
        _noted[key] = now
        _noted.move_to_end(key)
        while len(_noted) > _KEPT:  # the least recently noted go first; noted again if read
            _noted.popitem(last=False)
    record_event(user, action, object_type=object_type, object_id=object_id, ip=ip)


def forget_noted_reads() -> None:
    """The next read of everything is audited again (tests: ids restart per test)."""
    with _noted_lock:
        _noted.clear()
