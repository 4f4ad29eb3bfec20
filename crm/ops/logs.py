"""Keep personal data out of the access and error logs.

Searches carry names, phone numbers and emails in their query strings (`/stakeholders/
search?q=Zelda`, `?phone=555…` in the API), and the next page's Referer repeats them. An
access log cannot be erased when the person is, so query values never reach it: every
query string is logged as its parameter names only (`?q=…&page=…`). Applied to every path
rather than a list of search endpoints, so a search added later is covered too.

Error logs: the engine never renders bound parameters (`hide_parameters`, crm.extensions),
but PostgreSQL puts the values in its own messages ("Key (external_id)=(EXT-77) already
exists", "Failing row contains (…)"), so those are cut from logged exceptions too.

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


_SQL_VALUES = [
    (re.compile(r"(Key \([^)]*\))=\((?:[^()]|\([^()]*\))*\)"), r"\1=(…)"),
    (re.compile(r"(Failing row contains )\((?:[^()\n]|\([^()\n]*\))*\)"), r"\1(…)"),
    (re.compile(r"\[parameters: [^\n]*\]"), "[parameters: …]"),
]


def redact_sql_values(text: str) -> str:
    for rx, repl in _SQL_VALUES:
        text = rx.sub(repl, text)
    return text


class RedactSqlValues(logging.Filter):
    """Row values quoted by the database in error messages, cut from logged exceptions."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_sql_values(record.exc_text)
        if isinstance(record.msg, str):
            record.msg = redact_sql_values(record.msg)
        return True


_FILTER = RedactQueryStrings()
_SQL_FILTER = RedactSqlValues()
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
# The app's logger (Flask logs unhandled exceptions there), gunicorn's and SQLAlchemy's.
ERROR_LOGGERS = ("crm", "flask.app", "gunicorn.error", "werkzeug", "sqlalchemy.engine")


def install() -> None:
    """Add the filters to the access and error loggers (idempotent)."""
    for names, flt in ((ACCESS_LOGGERS, _FILTER), (ERROR_LOGGERS, _SQL_FILTER)):
        for name in names:
            logger = logging.getLogger(name)
            if flt not in logger.filters:
                logger.addFilter(flt)
