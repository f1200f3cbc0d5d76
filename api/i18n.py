"""Translations of the review pages: gettext catalogues compiled with Babel at start-up.

Adding a language is adding ``locales/<code>/LC_MESSAGES/messages.po`` and a
line in :data:`LANGUAGES`; the .po files are compiled in memory when the app
starts, so no build step can be forgotten. Arabic (and any right-to-left
language) sets ``dir="rtl"`` on the page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).parent / "locales"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: str


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "ltr"),
    "fr": Language("fr", "Français", "ltr"),
    "ar": Language("ar", "العربية", "rtl"),
}
DEFAULT = "en"


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalogue for ``code`` (English falls back to the msgids themselves)."""
    po = LOCALES / code / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick(requested: str | None, accept_language: str | None) -> Language:
    """The ``lang`` cookie/parameter if known, else the browser's first known language."""
    if requested in LANGUAGES:
        return LANGUAGES[requested]
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return LANGUAGES[code]
    return LANGUAGES[DEFAULT]
