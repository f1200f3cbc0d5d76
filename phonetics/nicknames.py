"""Curated nickname / diminutive / cross-language table (``nicknames.tsv``).

Why a table: no rule derives Sasha from Oleksandr, Hamoudi from Muhammad or
Paco from Francisco, and rules alone would not merge Mahamat and Mohamed or
Ousmane and Uthman. The table is small, documented (sources in its header)
and loaded once at import; lookups are dictionary hits on normalised tokens.
"""

from __future__ import annotations

import functools
from importlib import resources

from kinlink.phonetics.orthography import abd_compound, base_token, fold_text, somali_reading
from kinlink.phonetics.romanize import romanize


def _normalise_form(form: str) -> str:
    folded = fold_text(romanize(form)).replace(" ", "").replace("/", "")
    if not folded:
        return ""
    base = base_token(folded)
    return abd_compound(base) or base


def _load() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Read the TSV: form -> canonical, canonical -> culture, form -> kind."""
    text = resources.files("kinlink.phonetics").joinpath("nicknames.tsv").read_text("utf-8")
    mapping: dict[str, str] = {}
    culture: dict[str, str] = {}
    kinds: dict[str, str] = {}
    header_seen = False
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        canonical_raw, cult, kind, forms = [*line.split("\t"), "", "", ""][:4]
        canonical = _normalise_form(canonical_raw)
        if not canonical:
            continue
        culture.setdefault(canonical, cult)
        mapping.setdefault(canonical, canonical)
        kinds.setdefault(canonical, "canonical")
        for raw in forms.split(","):
            norms = {_normalise_form(raw)}
            if cult == "arabic" and raw.isascii():
                # Somali spellings (Cali, Xasan) are listed by their Latin reading too.
                norms.add(_normalise_form(somali_reading(fold_text(raw))))
            for norm in sorted(norms):
                if norm and norm not in mapping:
                    mapping[norm] = canonical
                    kinds[norm] = kind
    # Final devoicing: Turkish and Chadian/French spellings write a final d as t
    # (Mehmet, Ahmat, Mahamat), and a spelling of such a form with d is the same
    # name (Mahamad). Only t -> d: the other way would also make Indic names
    # such as Rachit into Rachid.
    for form in sorted(mapping):
        if len(form) >= 4 and form[-1] == "t" and form[-2] in "aeiou":
            twin = form[:-1] + "d"
            if twin not in mapping:
                mapping[twin] = mapping[form]
                kinds[twin] = kinds[form] if kinds[form] != "canonical" else "variant"
    return mapping, culture, kinds


_MAP, _CULTURE, _KIND = _load()

#: Every normalised form the table knows (used to validate tradition readings).
LEXICON: frozenset[str] = frozenset(_MAP)


def is_known(token: str) -> bool:
    """Whether a normalised token is a form in the curated table."""
    return token in _MAP


@functools.lru_cache(maxsize=1 << 18)
def canonical_token(token: str) -> str:
    """Resolve a normalised token to its canonical name; identity if unknown.

    Accepts raw spellings too (Maxamed, Sasha): a token that is not a table
    form is normalised once more before the lookup.
    """
    if not isinstance(token, str):
        raise TypeError("canonical_token() expects str")
    hit = _MAP.get(token)
    if hit is not None:
        return hit
    from kinlink.phonetics.tokens import normalize_token

    norm = normalize_token(token)
    return _MAP.get(norm, norm)


def table_kind(token: str) -> str | None:
    """``"variant"``, ``"nickname"`` or ``"canonical"`` for a table form, else None."""
    return _KIND.get(token)


def culture_of(canonical: str) -> str | None:
    """Naming tradition of a canonical name in the table (documentation column), else None."""
    return _CULTURE.get(canonical)
