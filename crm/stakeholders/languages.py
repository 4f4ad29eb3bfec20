"""Languages by name: a compact table of common ISO 639-1 codes, and one matching rule.

People's and groups' languages are stored as typed (the demo and most imports use codes such
as "es"; people also type "Spanish" or "spanish"). Pages show a known code by its English
name, and a filter by language finds a record whatever way its language was written.
"""

from __future__ import annotations

import sqlalchemy as sa

# The languages most often met by US and European police departments; anything else is shown
# as it was typed.
LANGUAGES: dict[str, str] = {
    "am": "Amharic", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "bs": "Bosnian",
    "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fa": "Persian (Farsi)", "fi": "Finnish", "fr": "French",
    "gu": "Gujarati", "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "hmn": "Hmong",
    "hr": "Croatian", "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian",
    "id": "Indonesian", "ig": "Igbo", "it": "Italian", "ja": "Japanese", "ka": "Georgian",
    "km": "Khmer", "ko": "Korean", "ku": "Kurdish", "lo": "Lao", "lt": "Lithuanian",
    "lv": "Latvian", "ml": "Malayalam", "mr": "Marathi", "my": "Burmese", "ne": "Nepali",
    "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish", "ps": "Pashto",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "so": "Somali", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "te": "Telugu", "th": "Thai", "ti": "Tigrinya", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese",
    "yi": "Yiddish", "yo": "Yoruba", "zh": "Chinese", "yue": "Cantonese", "zu": "Zulu",
    "ase": "American Sign Language",
}
_BY_NAME = {name.lower(): code for code, name in LANGUAGES.items()}
_BY_NAME.update({"farsi": "fa", "persian": "fa", "mandarin": "zh", "asl": "ase",
                 "filipino": "tl", "creole": "ht"})


def language_code(value: str | None) -> str | None:
    """The code of a language typed as a code or an English name ("es", "Spanish"), or None."""
    v = (value or "").strip().lower()
    if not v:
        return None
    if v in LANGUAGES:
        return v
    return _BY_NAME.get(v)


def language_name(value: str | None) -> str:
    """A language as people read it: "es" -> "Spanish"; unknown text is shown as typed.

    A comma-separated list ("es, en", a group's languages in one cell) is named item by item.
    """
    if not value:
        return ""
    if "," in value:
        return ", ".join(language_name(v) for v in value.split(",") if v.strip())
    code = language_code(value)
    return LANGUAGES[code] if code else value.strip()


def language_names(values) -> str:
    """A list of languages (a group's), by name, comma-separated."""
    return ", ".join(language_name(v) for v in (values or []) if v)


def spellings(value: str) -> set[str]:
    """Every lower-case way a stored value can write the language `value` names."""
    v = (value or "").strip().lower()
    code = language_code(v)
    if code is None:
        return {v} if v else set()
    return {code, LANGUAGES[code].lower()} | {name for name, c in _BY_NAME.items() if c == code}


def choices() -> list[tuple[str, str]]:
    """(code, name) sorted by name, for a filter's select."""
    return sorted(LANGUAGES.items(), key=lambda kv: kv[1])


def column_matches(column, value: str) -> sa.ColumnElement[bool]:
    """SQL: a one-language column (a person's) holds `value` in any of its spellings."""
    return sa.func.lower(sa.func.trim(column)).in_(sorted(spellings(value)) or [""])


def json_list_matches(column, value: str) -> sa.ColumnElement[bool]:
    """SQL: a JSON list of languages (a group's) holds `value` in any of its spellings.

    Matches the list's JSON text for the quoted item, so it works the same on SQLite and
    PostgreSQL (both keep the text SQLAlchemy wrote: '["es", "en"]').
    """
    text = sa.func.lower(sa.cast(column, sa.Text))
    return sa.or_(*(text.contains(f'"{s}"', autoescape=True)
                    for s in sorted(spellings(value)) or [""]))
