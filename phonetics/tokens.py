"""Name tokenisation and normalisation: text in any script -> comparable tokens.

Pipeline (each step cached by unique input, since names are Zipf-distributed):
romanise per script -> fold to ASCII -> expand Ge'ez abbreviations -> per
token: safe rules, then the tradition reading that turns it into a known name
(Somali, French, attached article) -> name-level rules (titles, honorifics,
connectors, Abd-/Abu/-ud-Din compounds, Ge'ez compounds).

Tradition readings are validated against the curated lexicon (or, for
Somali, by letters that only Somali orthography produces) so that Alexander
never becomes "alehander" while Xasan becomes "hasan".
"""

from __future__ import annotations

import functools
import re

from kinlink.phonetics.nicknames import LEXICON
from kinlink.phonetics.orthography import (
    ABBREVIATIONS,
    abd_compound,
    apply_name_rules,
    article_reading,
    base_token,
    din_compound,
    expand_dotted_geez,
    expand_geez_abbreviations,
    fold_text,
    french_reading,
    has_somali_letters,
    somali_reading,
    somali_strong,
)
from kinlink.phonetics.romanize import romanize, romanize_token

_MAX_TOKEN = 64  # longer "tokens" are not names; cap work and cache size


def _resolve(token: str) -> str:
    return abd_compound(token) or token


@functools.lru_cache(maxsize=1 << 18)
def _normalize_folded(folded: str) -> str:
    """Normalise one folded ``[a-z]+`` token: safe rules plus a validated reading."""
    folded = folded[:_MAX_TOKEN]
    if folded.startswith("ghebr"):
        # Tigrinya spelling of the Ge'ez gebre- compounds (Ghebremedhin, Ghebreyesus).
        folded = "g" + folded[2:]
    if folded in ABBREVIATIONS:
        return ABBREVIATIONS[folded]
    base = _resolve(base_token(folded))
    som = _resolve(somali_reading(folded)) if has_somali_letters(folded) else None
    if som is not None and som in LEXICON:
        return som
    if base in LEXICON:
        return base
    if som is not None and somali_strong(folded):
        return din_compound(som) or som
    fr = _resolve(french_reading(folded))
    if fr != base and fr in LEXICON:
        return fr
    art = article_reading(base)
    if art is not None and _resolve(art) in LEXICON:
        return _resolve(art)
    return din_compound(base) or base


@functools.lru_cache(maxsize=1 << 18)
def normalize_token(token: str) -> str:
    """Normalise a single token written in any script (spaces inside are removed)."""
    if not isinstance(token, str):
        raise TypeError("normalize_token() expects str")
    folded = fold_text(romanize(token)).replace(" ", "").replace("/", "")
    return _normalize_folded(folded) if folded else ""


def _pieces_of(roman: str) -> list[str]:
    folded = fold_text(expand_dotted_geez(roman.lower()))
    folded = expand_geez_abbreviations(folded)
    return [p for p in (_normalize_folded(t) for t in folded.split()) if p]


@functools.lru_cache(maxsize=1 << 18)
def _token_pieces(raw: str) -> tuple[str, ...]:
    """Normalised pieces of one whitespace-free raw token (Abdul-Rahman -> 2 pieces)."""
    return tuple(_pieces_of(romanize_token(raw)))


def _crosses_tokens(raw: list[str]) -> bool:
    """Whether an abbreviation spans whitespace ("G. Medhin", "G / Medhin")."""
    return any(t[-1] in "/." or t[0] == "/" for t in raw)


#: "s/o" and "d/o" (son of, daughter of), as South Asian and Afghan forms write the
#: father's name: the patronymic connector "bin" in another spelling. Split on the
#: slash they would be two one-letter "names" and, read as a name chain, a father "d".
_SLASH_CONNECTOR = re.compile(r"(?<!\S)[sd]\s*/\s*o(?:f)?\.?(?!\S)", re.IGNORECASE)


@functools.lru_cache(maxsize=1 << 16)
def _analyse(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    if "/" in text:
        text = _SLASH_CONNECTOR.sub(" bin ", text)
    raw = text.split()
    if ("/" in text or "." in text) and _crosses_tokens(raw):
        toks = _pieces_of(romanize(text))
    else:
        toks = [p for t in raw for p in _token_pieces(t)]
    out, connectors = apply_name_rules(toks)
    return tuple(out), tuple(connectors)


def name_tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens in written order; particles and compounds joined.

    "Abd al-Rahman bin Ali" -> ("abdalrahman", "ali"); "G/Medhin" -> ("gebremedhin",);
    "Daw Aung San" -> ("aung", "san").
    """
    if not isinstance(text, str):
        raise TypeError("name_tokens() expects str")
    return _analyse(text)[0]


def connector_positions(text: str) -> tuple[int, ...]:
    """Indexes of tokens preceded by a patronymic connector (bin, ibn, ould, wad ...)."""
    return _analyse(text)[1]


@functools.lru_cache(maxsize=1 << 16)
def normalize_name(text: str) -> str:
    """Canonical comparable form: lowercase ASCII tokens joined by one space."""
    return " ".join(name_tokens(text))


__all__ = ["base_token", "connector_positions", "name_tokens", "normalize_name", "normalize_token"]
