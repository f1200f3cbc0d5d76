"""Phonetic blocking keys.

Why several keys per token: no single code catches every spelling family.
Keys are prefixed by kind so a blocking rule can pick kinds:

* ``s:`` consonant skeleton of the normalised token with consonant classes
  merged (b/p, f/v/w, c/k/q, s/z/sh/ch, d/t/th/dh, j/zh/dzh) and vowels
  dropped except an initial-vowel marker. Works across scripts because
  Arabic script romanises without short vowels (محمد -> mhmd).
* ``h:`` the same skeleton with h dropped too (Hassane/Assane, Ahmat/Amat),
  emitted only when it differs from ``s:`` and keeps at least 3 consonants
  (shorter h-less skeletons make huge blocks).
* ``dm:`` Double Metaphone primary and secondary codes (English-centred
  but strong on Latin spelling noise).
* ``c:`` the canonical token from the curated table (catches nicknames:
  Sasha/Oleksandr, Hamoudi/Muhammad, which no phonetic code links).
* ``x:`` skeletons of alternative tradition readings (Somali x/c) when the
  normalisation could not validate them (Xirsi vs Hirsi, Cilmi vs Ilmi).
* ``dms:`` Daitch-Mokotoff Soundex codes (:mod:`kinlink.phonetics.dmsoundex`),
  only codes with at least 4 coded digits: shorter codes (Sina, Zein -> 460000)
  made the largest blocks of the measured population a third larger, while
  the long ones add Slavic-spelling recall (szcz/shch, tsch/ch, w/v, rz/zh)
  without changing the largest block or the hard-negative collision rate.

Which keys to use was decided by measurement (docs/phonetics.md): recall of
true pairs versus key collisions on hard negatives and block sizes.
"""

from __future__ import annotations

import functools
import re

from metaphone import doublemetaphone

from kinlink.phonetics.dmsoundex import dm_soundex
from kinlink.phonetics.nicknames import canonical_token
from kinlink.phonetics.orthography import alternative_readings

_CLASSES: tuple[tuple[str, str], ...] = (
    ("sh", "s"),
    ("ch", "s"),
    ("zh", "j"),
    ("th", "t"),
    ("dh", "t"),
    ("gh", "g"),
    ("ts", "s"),
    ("tz", "s"),
)
_LETTER = str.maketrans(
    {
        "p": "b",
        "v": "f",
        "w": "f",
        "c": "k",
        "q": "k",
        "z": "s",
        "x": "s",
        "d": "t",
    }
)
_VOWEL_RUN = re.compile(r"[aeiouy]+")
_DUP = re.compile(r"(.)\1+")
_MAX_KEY_TOKEN = 32
#: Daitch-Mokotoff codes with fewer coded digits are not emitted (block sizes).
DMS_MIN_DIGITS = 4


def skeleton(token: str, drop_h: bool = False) -> str:
    """Consonant skeleton with merged classes; initial vowel kept as ``a``."""
    t = token[:_MAX_KEY_TOKEN]
    if not t:
        return ""
    for a, b in _CLASSES:
        t = t.replace(a, b)
    t = t.translate(_LETTER)
    if drop_h:
        t = t.replace("h", "")
    head = "a" if t[:1] in "aeiouy" else ""
    body = _VOWEL_RUN.sub("", t)
    if t[:1] in "aeiouy" and not body:
        return "a"
    return _DUP.sub(r"\1", head + body)


@functools.lru_cache(maxsize=1 << 18)
def token_keys(token: str) -> frozenset[str]:
    """Blocking keys of one normalised token (see module docstring for the kinds)."""
    if not isinstance(token, str):
        raise TypeError("token_keys() expects str")
    t = token[:_MAX_KEY_TOKEN]
    if not t or not t.isascii() or not t.isalpha():
        from kinlink.phonetics.tokens import normalize_token

        t = normalize_token(token)[:_MAX_KEY_TOKEN]
        if not t:
            return frozenset()
    keys: set[str] = set()
    sk = skeleton(t)
    keys.add("s:" + sk)
    skh = skeleton(t, drop_h=True)
    if skh != sk and len(skh.lstrip("a")) >= 3:
        keys.add("h:" + skh)
    primary, secondary = doublemetaphone(t)
    if primary:
        keys.add("dm:" + primary)
    if secondary:
        keys.add("dm:" + secondary)
    keys.add("c:" + canonical_token(t))
    for alt in alternative_readings(t):
        keys.add("x:" + skeleton(alt))
    for code in dm_soundex(t):
        if len(code.rstrip("0")) >= DMS_MIN_DIGITS:
            keys.add("dms:" + code)
    return frozenset(keys)


def name_keys(name: str) -> set[str]:
    """Union of the token keys of every token of a name (any script)."""
    from kinlink.phonetics.tokens import name_tokens

    out: set[str] = set()
    for tok in name_tokens(name):
        out |= token_keys(tok)
    return out
