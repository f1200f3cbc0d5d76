"""One-call encoding of a name into the columns the matcher stores.

Why: the matching engine computes these once per record in Python and then
compares them in SQL; bundling them keeps the columns consistent and lets
one cache serve every record with the same written name.

Why the work is organised by unique *token*: names are Zipf-distributed and
combine a small vocabulary of tokens, so most full names of a large caseload
are unique (618,000 of 1,000,000 in the benchmark) while their tokens are
not (under 2,000). Everything expensive (romanisation, normalisation,
nickname lookup, keys) is cached per raw or normalised token; a new full
name only splits, looks up its tokens and applies the name-level rules,
which have a fast path when no token can trigger them.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterable
from dataclasses import dataclass

from kinlink.phonetics.keys import token_keys
from kinlink.phonetics.nicknames import canonical_token
from kinlink.phonetics.orthography import SPECIAL_TOKENS
from kinlink.phonetics.romanize import romanize_token
from kinlink.phonetics.tokens import _token_pieces, name_tokens


@dataclass(frozen=True, slots=True)
class EncodedName:
    """Precomputed forms of one written name.

    ``original`` is kept as written for display; ``tokens`` are normalised
    tokens in written order; ``canonical`` resolves nicknames and variants
    token by token (same length as ``tokens``); ``keys`` is the union of the
    phonetic blocking keys of all tokens.
    """

    original: str
    romanized: str
    tokens: tuple[str, ...]
    canonical: tuple[str, ...]
    keys: frozenset[str]

    @property
    def normalized(self) -> str:
        """Tokens joined by one space (same as ``normalize_name(original)``)."""
        return " ".join(self.tokens)


@functools.lru_cache(maxsize=1 << 16)
def _norm_token(token: str) -> tuple[str, frozenset[str]]:
    """Canonical form and blocking keys of one normalised token."""
    return canonical_token(token), token_keys(token)


@functools.lru_cache(maxsize=1 << 16)
def _raw_token(
    raw: str,
) -> tuple[str, tuple[str, ...], tuple[str, ...], frozenset[str], bool]:
    """Everything one whitespace-free raw token contributes to a name.

    Returns the romanised display form, normalised pieces, their canonical
    forms, the union of their keys, and whether a name-level rule could
    rewrite the pieces (then the name is re-analysed as a whole).
    """
    pieces = _token_pieces(raw)
    infos = [_norm_token(p) for p in pieces]
    keys = frozenset().union(*[i[1] for i in infos])
    special = not SPECIAL_TOKENS.isdisjoint(pieces) or "/" in raw or "." in raw
    return romanize_token(raw), pieces, tuple([i[0] for i in infos]), keys, special


_EMPTY_KEYS: frozenset[str] = frozenset()
_new = object.__new__
_set = object.__setattr__


def _make(
    text: str,
    romanized: str,
    tokens: tuple[str, ...],
    canonical: tuple[str, ...],
    keys: frozenset[str],
) -> EncodedName:
    # The dataclass-generated __init__ of a frozen class goes through
    # object.__setattr__ per field anyway; calling it directly skips one layer
    # (measurable at a million records).
    enc = _new(EncodedName)
    _set(enc, "original", text)
    _set(enc, "romanized", romanized)
    _set(enc, "tokens", tokens)
    _set(enc, "canonical", canonical)
    _set(enc, "keys", keys)
    return enc


@functools.lru_cache(maxsize=1 << 17)
def encode_name(text: str) -> EncodedName:
    """Encode a name (cached by unique input; token work is cached separately)."""
    if not isinstance(text, str):
        raise TypeError("encode_name() expects str")
    raw = text.split()
    parts = list(map(_raw_token, raw))
    romanized = " ".join([p[0] for p in parts if p[0]])
    if any([p[4] for p in parts]):
        # A name-level rule may join, drop or rewrite tokens (Abd al-Rahman,
        # bin, Daw, G/Medhin): take the slow, exact path.
        tokens = name_tokens(text)
        infos = [_norm_token(t) for t in tokens]
        canonical = tuple([i[0] for i in infos])
        keys = frozenset().union(*[i[1] for i in infos])
        return _make(text, romanized, tokens, canonical, keys)
    if len(parts) == 1:
        p = parts[0]
        return _make(text, romanized, p[1], p[2], p[3])
    tokens = ()
    canonical = ()
    for p in parts:
        tokens += p[1]
        canonical += p[2]
    keys = parts[0][3].union(*[p[3] for p in parts[1:]]) if parts else _EMPTY_KEYS
    return _make(text, romanized, tokens, canonical, keys)


def encode_names(texts: Iterable[str]) -> list[EncodedName]:
    """Encode many names at once (the matcher's precompute step).

    Why a batch helper: encoding creates many small objects that the caches
    keep alive, and Python's cyclic garbage collector then rescans the growing
    heap again and again; none of these objects form cycles, so collection is
    paused for the batch (and restored afterwards). Measured 2-3x faster on
    1,000,000 records (docs/phonetics.md).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return list(map(encode_name, texts))
    finally:
        if was_enabled:
            gc.enable()
