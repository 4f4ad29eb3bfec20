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

from crm.audit.services import record_event

READ_NOTED_EVERY = 60  # seconds
_KEPT = 10_000

_noted: OrderedDict[tuple, float] = OrderedDict()
_noted_lock = threading.Lock()


def note_read(user, action: str, object_type: str, object_id, ip: str) -> bool:
    """Audit `user` reading (object_type, object_id) unless they did within the minute from
    the same address; True when an event was written."""
    key, now = (user.id, action, object_type, str(object_id), ip), time.monotonic()
    with _noted_lock:
        last = _noted.get(key)
        if last is not None and now - last < READ_NOTED_EVERY:
            return False
        _noted[key] = now
        _noted.move_to_end(key)
        while len(_noted) > _KEPT:  # the least recently noted go first; noted again if read
            _noted.popitem(last=False)
    record_event(user, action, object_type=object_type, object_id=object_id, ip=ip)
    return True


def forget_noted_reads() -> None:
    """The next read of everything is audited again (tests: ids restart per test)."""
    with _noted_lock:
        _noted.clear()
