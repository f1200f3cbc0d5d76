"""The minimal text handling every baseline shares: no transliteration, no name knowledge."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise(value: object) -> str | None:
    """NFKC, case-folded, spaces collapsed; ``None`` for missing or blank."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()
    return text or None


def tokens(value: object) -> list[str]:
    """Word tokens of a normalised value (Unicode-aware, like Lucene's StandardTokenizer)."""
    text = normalise(value)
    return _WORD.findall(text) if text else []


def full_name(row: dict[str, object]) -> str | None:
    """The full name as written, or first/middle/last joined when only parts were recorded."""
    name = normalise(row.get("name"))
    if name:
        return name
    parts = [normalise(row.get(c)) for c in ("name_first", "name_middle", "name_last")]
    joined = " ".join(p for p in parts if p)
    return joined or None
