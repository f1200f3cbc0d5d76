"""Parsing of single field values as field staff write them.

Pure functions, shared by the file readers and the API so that a value means
the same thing whichever door it came in by. Each parser returns the
canonical form or raises :class:`ValueProblem` with a message written for the
person who has to fix the spreadsheet, not for a programmer.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from typing import Literal

DateOrder = Literal["dmy", "mdy"]

#: Longest value kept in any text field. Longer values are almost always a
#: paste gone wrong (a whole document in one cell), not a name.
MAX_TEXT_LENGTH = 2000

#: Earliest year accepted in any date: older dates in a child-protection
#: record are typing errors.
MIN_YEAR = 1900


class ValueProblem(ValueError):
    """A value that cannot be read; the message is shown to the user as is."""


_CONTROL = {chr(c) for c in range(32)} | {chr(127)} | {chr(c) for c in range(0x80, 0xA0)}
_CONTROL_TABLE = str.maketrans({c: " " for c in _CONTROL})


def clean_text(value: object) -> str | None:
    """Canonical text: NFC, control characters removed, whitespace collapsed.

    NFC matters because the same Arabic or Cyrillic name typed on two
    keyboards can arrive in two Unicode forms; collapsing them here means
    "as written" still compares equal byte for byte. Format characters such
    as the zero-width non-joiner are kept: they are part of Persian spelling.
    Returns ``None`` for empty values so "missing" has a single representation.
    """
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if not text:
        return None
    if text.isascii() and text.isprintable():
        # Fast path for the common case: nothing to normalise but spacing.
        text = " ".join(text.split()) if "  " in text else text.strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueProblem(
                f"value is {len(text)} characters long; at most {MAX_TEXT_LENGTH} are accepted"
            )
        return text or None
    if not text.isprintable():  # printable text has no control character to replace
        text = text.translate(_CONTROL_TABLE)
    text = unicodedata.normalize("NFC", text)
    # str.split() and the regex \s both split at exactly the characters
    # str.isspace() accepts, so this is re.sub(r"\s+", " ", text).strip()
    # without the regex engine (a test compares the two on arbitrary text).
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueProblem(
            f"value is {len(text)} characters long; at most {MAX_TEXT_LENGTH} are accepted"
        )
    return text


_RECORD_TYPES = {
    "case": "case",
    "tracing_request": "tracing_request",
    "tracingrequest": "tracing_request",
    "tracing": "tracing_request",
    "tr": "tracing_request",
}


def parse_record_type(value: str) -> str:
    """``case`` or ``tracing_request``; spaces, hyphens and case are forgiven."""
    if value in _CANONICAL_TYPES:
        return value
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    found = _RECORD_TYPES.get(key) or _RECORD_TYPES.get(key.replace("_", ""))
    if found is None:
        raise ValueProblem(f"record_type must be 'case' or 'tracing_request', not {value!r}")
    return found


_CANONICAL_TYPES = frozenset(("case", "tracing_request"))

_TRUE = {"true", "t", "yes", "y", "1", "oui", "o", "si", "sí", "نعم"}
_FALSE = {"false", "f", "no", "n", "0", "non", "لا"}


def parse_bool(value: str) -> bool:
    """Yes/no in the forms exports use (true/false, yes/no, 1/0, oui/non)."""
    key = value.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueProblem(f"expected true or false (or yes/no, 1/0), not {value!r}")


_SEX = {
    "male": "male",
    "m": "male",
    "boy": "male",
    "masculin": "male",
    "masculino": "male",
    "homme": "male",
    "garçon": "male",
    "ذكر": "male",
    "чоловіча": "male",
    "female": "female",
    "f": "female",
    "girl": "female",
    "féminin": "female",
    "feminin": "female",
    "femenino": "female",
    "femme": "female",
    "fille": "female",
    "أنثى": "female",
    "انثى": "female",
    "жіноча": "female",
    "other": "other",
    "autre": "other",
}
_SEX_UNKNOWN = {"unknown", "u", "?", "inconnu", "nsp", "n/a", "na", "-"}


def parse_sex(value: str) -> str | None:
    """``male``/``female``/``other``; an explicit "unknown" becomes missing.

    Missing sex must not count as disagreement in matching, so "unknown" is
    stored the same way as an empty cell.
    """
    key = value.strip().lower()
    if key in _SEX_UNKNOWN:
        return None
    found = _SEX.get(key)
    if found is None:
        raise ValueProblem(f"sex must be male, female or other (or empty), not {value!r}")
    return found


_AGE = re.compile(
    r"^\s*~?\s*(?P<num>\d{1,3}(?:[.,]\d+)?)\s*"
    r"(?P<unit>y|yr|yrs|year|years|an|ans|años|m|mo|mos|month|months|mois|meses)?\s*\??\s*$",
    re.IGNORECASE,
)
_MONTH_UNITS = {"m", "mo", "mos", "month", "months", "mois", "meses"}
MAX_AGE = 120.0


def parse_age(value: str | float | int) -> tuple[float, bool]:
    """Age in years, and whether the writing itself marks it as estimated.

    Field forms write "5", "5.5", "~5", "5?" or "18 months"; a tilde or a
    question mark is the caseworker saying "about", which matching treats as
    a wider interval, so it is returned rather than thrown away.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        years, marked = float(value), False
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
        years, marked = float(value), False  # the common case, without the regex
    else:
        text = str(value)
        match = _AGE.match(text)
        if match is None:
            raise ValueProblem(
                f"age must be a number of years (e.g. 7, 7.5, ~7, 18 months), not {text!r}"
            )
        years = float(match["num"].replace(",", "."))
        unit = (match["unit"] or "").lower()
        if unit in _MONTH_UNITS:
            years = years / 12.0
        marked = "~" in text or "?" in text
    if years != years or years < 0 or years > MAX_AGE:  # NaN check first
        raise ValueProblem(f"age {value!r} is outside 0-{MAX_AGE:.0f} years")
    return round(years, 2), marked


_ISO = re.compile(r"^(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2}))?)?$")
_DAY_FIRST = re.compile(r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{2,4})$")
_MONTH_YEAR = re.compile(r"^(?P<m>\d{1,2})[-/.](?P<y>\d{4})$")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_TIME_SUFFIX = re.compile(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_date(value: object, order: DateOrder = "dmy") -> str:
    """A date as ISO text keeping the precision written: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    Accepted: ``2015-03-07``, ``2015/03/07``, ``20150307``, ``2015-03``, ``2015``,
    ``07/03/2015`` / ``07-03-2015`` / ``07.03.2015`` (day first by default;
    month first when the mapping says ``date_order: mdy``), ``03/2015``, and
    spreadsheet date cells. Two-digit years are refused: "07/03/15" could be
    1915 or 2015 and a child's age depends on it. A year-only date is kept as
    a year: inventing "01-01" would fake a precision nobody recorded.
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return _checked(value.year, value.month, value.day, str(value))
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        # ISO dates are most of any export: let the C parser read them.
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            pass  # e.g. 2015-02-30: the general path explains what is wrong
        else:
            return _checked(date.year, date.month, date.day, text)
    text = _TIME_SUFFIX.sub("", text)
    if match := _ISO.match(text):
        year, month, day = match["y"], match["m"], match["d"]
        return _checked(int(year), _opt(month), _opt(day), text)
    if match := _COMPACT.match(text):
        return _checked(int(match["y"]), int(match["m"]), int(match["d"]), text)
    if match := _MONTH_YEAR.match(text):
        return _checked(int(match["y"]), int(match["m"]), None, text)
    if match := _DAY_FIRST.match(text):
        if len(match["y"]) != 4:
            raise ValueProblem(
                f"date {text!r} has a two-digit year; write the year in full (e.g. 2015)"
            )
        first, second = int(match["a"]), int(match["b"])
        day, month = (first, second) if order == "dmy" else (second, first)
        if month > 12 and day <= 12:
            hint = "mdy" if order == "dmy" else "dmy"
            first_part = "month" if hint == "mdy" else "day"
            raise ValueProblem(
                f"date {text!r} has month {month}; if this file writes dates "
                f"{first_part} first, set date_order: {hint} in the mapping"
            )
        return _checked(int(match["y"]), month, day, text)
    raise ValueProblem(
        f"date {text!r} is not in an accepted form (YYYY-MM-DD, YYYY-MM, YYYY, DD/MM/YYYY, MM/YYYY)"
    )


def _opt(part: str | None) -> int | None:
    return int(part) if part is not None else None


_today_cache: tuple[float, dt.date] = (0.0, dt.date.today())


def _today() -> dt.date:
    # date.today() is a system call; a file of 100,000 rows has 200,000 dates.
    # Re-read at most once a minute so a long-running server still moves on.
    global _today_cache
    now = time.monotonic()
    if now - _today_cache[0] > 60:
        _today_cache = (now, dt.date.today())
    return _today_cache[1]


def _checked(year: int, month: int | None, day: int | None, original: str) -> str:
    today = _today()
    if year < MIN_YEAR or year > today.year:
        raise ValueProblem(f"date {original!r} has year {year}, outside {MIN_YEAR}-{today.year}")
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise ValueProblem(f"date {original!r} has month {month}, which does not exist")
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise ValueProblem(f"date {original!r} does not exist in the calendar") from None
    if date > today:
        raise ValueProblem(f"date {original!r} is in the future")
    return date.isoformat()
