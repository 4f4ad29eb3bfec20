"""Keep personal data out of the access logs.

Searches carry names, phone numbers and emails in their query strings (`/stakeholders/
search?q=Zelda`, `?phone=555…` in the API), and the next page's Referer repeats them. An
access log cannot be erased when the person is, so query values never reach it: every
query string is logged as its parameter names only (`?q=…&page=…`). Applied to every path
rather than a list of search endpoints, so a search added later is covered too.

Installed on Werkzeug's development-server logger by `create_app`, and on gunicorn's
access logger by `gunicorn.conf.py` (and by `create_app` in each worker).
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping

REDACTED = "…"
_QUERY = re.compile(r"\?([^\s\"]*)")
_GUNICORN_ATOMS = ("r", "f")  # request line, Referer


def redact_query(query: str) -> str:
    """"q=Zelda&page=2" -> "q=…&page=…"."""
    return "&".join(f"{part.split('=', 1)[0]}={REDACTED}" for part in query.split("&") if part)


def redact_urls(text: str) -> str:
    """Every "?query" inside `text` (a request line, a URL) reduced to its parameter names."""
    return _QUERY.sub(lambda m: "?" + redact_query(m.group(1)), text)


class RedactQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = redact_urls(record.msg)
        args = record.args
        if isinstance(args, MutableMapping):  # gunicorn: a dict of atoms, changed in place
            for key in _GUNICORN_ATOMS:
                if isinstance(args.get(key), str):
                    args[key] = redact_urls(args[key])
            if args.get("q"):
                args["q"] = redact_query(args["q"])
        elif isinstance(args, tuple):  # werkzeug: ('GET /x?q=… HTTP/1.1', '200', '-')
            record.args = tuple(redact_urls(a) if isinstance(a, str) else a for a in args)
        return True


_FILTER = RedactQueryStrings()
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def install() -> None:
    """Add the filter to the access loggers (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
