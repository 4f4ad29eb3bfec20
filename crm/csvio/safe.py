"""Spreadsheet-safe CSV cells, for every CSV the app writes.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some programs, a
tab or carriage return) as a formula, so an exported name like `=HYPERLINK(...)` would run on
the analyst's machine. Every exporter writes its text cells through `neutralise`, which puts
a single quote in front (the usual spreadsheet escape, shown as plain text). The CSV import
reads cells through `restore`, which removes exactly that quote again, so export -> import
round-trips: `restore(neutralise(x)) == x` for every string `x`.

Numbers (int, float) are written as they are: a negative number is data, not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def _needs_quote(text: str) -> bool:
    # A text that already starts with the quote before a formula character gets one more,
    # so that `restore` can tell an escape from a quote the user typed.
    stripped = text.lstrip(QUOTE)
    return text.startswith(FORMULA_START) or (stripped != text and stripped.startswith(FORMULA_START))


def neutralise(value):
    """The cell as a spreadsheet shows it but never runs it; non-text passes through."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def restore(text: str) -> str:
    """Undo `neutralise` on a cell read from a CSV file."""
    if text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text


class SafeWriter:
    """`csv.writer` that neutralises every cell; same `writerow`/`writerows`."""

    def __init__(self, out, **kwargs):
        kwargs.setdefault("lineterminator", "\n")
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(out, **kwargs) -> SafeWriter:
    return SafeWriter(out, **kwargs)


def to_csv(header: Iterable, rows: Iterable[Iterable]) -> tuple[str, int]:
    """A whole CSV document (header first) and the number of data rows."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(header)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return out.getvalue(), n
