"""One cleaner for text that people type: names, free text, anything shown back to others.

Bidirectional control characters (the embeddings and overrides U+202A-U+202E, the isolates
U+2066-U+2069, and the invisible marks U+200E, U+200F, U+061C) let a name display as
something else ("Ann\u202eeeL" shows as "AnnLee" reversed), so an officer could be
shown one person while picking another. They carry no meaning in this CRM's data and are
removed. NUL is removed too: PostgreSQL refuses it in text columns.

Used by the service cleaners (stakeholders, groups, contacts), so every way in -- pages,
API, CSV import -- stores the same text.
"""

from __future__ import annotations

import re

# Explicit embeddings/overrides, isolates, and the directional marks (incl. Arabic letter mark).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_UNWANTED = re.compile(f"[{BIDI_CONTROLS}\x00]")


def strip_controls(value: str) -> str:
    """`value` without bidi control characters and NUL bytes."""
    return _UNWANTED.sub("", value)


def clean_text(value, *, one_line: bool = False) -> str:
    """Typed text made safe to store and show: controls removed, outer blanks stripped.

    With `one_line` (names, short labels) runs of whitespace, newlines included, become one
    space. None becomes "".

    >>> clean_text("  Ann \u202eLee  ")
    'Ann Lee'
    >>> clean_text("Tenants\\n of   Elm", one_line=True)
    'Tenants of Elm'
    """
    text = strip_controls(str(value or ""))
    return " ".join(text.split()) if one_line else text.strip()


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (use with escape="\\")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
