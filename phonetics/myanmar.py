"""Burmese (Myanmar script) names: syllable splitting and conventional romanisation.

Why not ICU ``Myanmar-Latin`` alone: Burmese writes a name without spaces
(အောင်ဆန်းစုကြည်), while Latin records write each syllable as a word
(Aung San Suu Kyi); ICU transliterates the run as one word in a scholarly
scheme (``aungsaannhcukyi``: ဆ -> ``hc``, ဇ -> ``j``, သီ -> ``se``, တင် -> ``tain``)
that is far from how names are spelled in documents. Here the run is first
split into syllables, and each syllable is written in the conventional
romanisation of Burmese names (as in passports, UN and press usage: Aung,
San, Suu, Kyi, Zaw, Htun, Myint, Thida, Thein, Tin, Khin, Soe, Naing, Phyo),
so that the Latin and Myanmar-script forms of a name give the same tokens.

Syllables: a syllable starts at a consonant (or independent vowel) that is
not followed by the asat U+103A or the virama U+1039; a consonant followed
by one of those is the final of the syllable before it (သန့်, ဝင်း, kinzi
င်္ and stacked finals included). Medials (ျ ြ ွ ှ), vowel signs and tone
marks belong to the syllable they follow. Pure table code, total on any input.
"""

from __future__ import annotations

import functools

from anyascii import anyascii

ASAT = "\u103a"
VIRAMA = "\u1039"

# Conventional initials (the vowel carrier အ has no sound of its own).
_INITIAL: dict[str, str] = {
    "က": "k",
    "ခ": "kh",
    "ဂ": "g",
    "ဃ": "g",
    "င": "ng",
    "စ": "s",
    "ဆ": "s",
    "ဇ": "z",
    "ဈ": "z",
    "ဉ": "ny",
    "ည": "ny",
    "ဋ": "t",
    "ဌ": "ht",
    "ဍ": "d",
    "ဎ": "d",
    "ဏ": "n",
    "တ": "t",
    "ထ": "ht",
    "ဒ": "d",
    "ဓ": "d",
    "န": "n",
    "ပ": "p",
    "ဖ": "ph",
    "ဗ": "b",
    "ဘ": "b",
    "မ": "m",
    "ယ": "y",
    "ရ": "y",
    "လ": "l",
    "ဝ": "w",
    "သ": "th",
    "ဟ": "h",
    "ဠ": "l",
    "အ": "",
    "ဿ": "th",
}
# Independent vowels: a whole syllable nucleus (ဦး is the honorific U).
_INDEPENDENT: dict[str, str] = {
    "ဣ": "i",
    "ဤ": "i",
    "ဥ": "u",
    "ဦ": "u",
    "ဧ": "ay",
    "ဩ": "aw",
    "ဪ": "aw",
}
_MEDIAL_Y = frozenset("\u103b\u103c")  # ျ ြ
_MEDIAL_W = "\u103d"  # ွ
_MEDIAL_H = "\u103e"  # ှ
_CREAKY = "\u1037"  # ့ (written -nt after a nasal final: Myint, Nyunt, Thant)
_ANUSVARA = "\u1036"  # ံ
# Vowel signs by their role; ါ and ာ are one vowel.
_VOWEL_SIGN: dict[str, str] = {
    "\u102b": "a",
    "\u102c": "a",
    "\u102d": "i",
    "\u102e": "i",
    "\u102f": "u",
    "\u1030": "u",
    "\u1031": "e",
    "\u1032": "ai",
}
# Final consonant (with asat) -> class of rhyme.
_FINAL_CLASS: dict[str, str] = {
    "က": "k",
    "ဂ": "k",
    "င": "ng",
    "စ": "c",
    "ဇ": "c",
    "ည": "ny",
    "ဉ": "nyin",
    "ဋ": "t",
    "ဍ": "t",
    "တ": "t",
    "ဒ": "t",
    "ပ": "t",
    "ဗ": "t",
    "ဏ": "n",
    "န": "n",
    "မ": "n",
    "ယ": "y",
}
# Rhyme without a final consonant, by vowel (conventional name spellings).
_OPEN_RHYME: dict[str, str] = {
    "": "a",
    "a": "a",
    "i": "i",
    "u": "u",
    "e": "ay",
    "ai": "e",
    "ea": "aw",
    "iu": "o",
}
# Rhyme with a final: (vowel, final class) -> spelling; w marks the medial ွ.
_CLOSED_RHYME: dict[tuple[str, str], str] = {
    ("", "k"): "et",
    ("ea", "k"): "auk",
    ("iu", "k"): "aik",
    ("", "ng"): "in",
    ("ea", "ng"): "aung",
    ("iu", "ng"): "aing",
    ("", "c"): "it",
    ("", "ny"): "i",
    ("", "nyin"): "in",
    ("", "t"): "at",
    ("i", "t"): "eik",
    ("u", "t"): "ok",
    ("w", "t"): "ut",
    ("", "n"): "an",
    ("i", "n"): "ein",
    ("u", "n"): "on",
    ("w", "n"): "un",
    ("", "y"): "e",
}


def _is_initial(ch: str) -> bool:
    return ch in _INITIAL or ch in _INDEPENDENT


def _killed(text: str, i: int) -> bool:
    """Whether the consonant at ``i`` carries the asat or virama (so it is a final).

    The creaky-tone dot U+1037 is stored before the asat (န့်), so it is skipped.
    """
    j = i + 1
    while j < len(text) and text[j] == _CREAKY:
        j += 1
    return j < len(text) and text[j] in (ASAT, VIRAMA)


def syllables(run: str) -> list[str]:
    """Split a run of Myanmar script into syllables (see module docstring)."""
    out: list[str] = []
    cur: list[str] = []
    for i, ch in enumerate(run):
        if _is_initial(ch) and not _killed(run, i) and cur:
            out.append("".join(cur))
            cur = []
        cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def _vowel_key(signs: list[str]) -> str:
    """Vowel of a syllable from its vowel signs, as a key of the rhyme tables."""
    s = set(signs)
    if "e" in s and "a" in s:
        return "ea"  # ော / ေါ: aw
    if "i" in s and "u" in s:
        return "iu"  # ို: o
    for v in ("e", "ai", "i", "u", "a"):
        if v in s:
            return v
    return ""


@functools.lru_cache(maxsize=1 << 14)
def romanize_syllable(syl: str) -> str:
    """Conventional Latin spelling of one Burmese syllable (lowercase, may be empty)."""
    initial = ""
    medial_y = medial_w = medial_h = creaky = anusvara = False
    signs: list[str] = []
    final: str | None = None
    nucleus: str | None = None
    other: list[str] = []
    for i, ch in enumerate(syl):
        if ch in _INITIAL and i > 0 and _killed(syl, i):
            final = ch
        elif i == 0 and ch in _INITIAL:
            initial = _INITIAL[ch]
        elif i == 0 and ch in _INDEPENDENT:
            nucleus = _INDEPENDENT[ch]
        elif ch in _MEDIAL_Y:
            medial_y = True
        elif ch == _MEDIAL_W:
            medial_w = True
        elif ch == _MEDIAL_H:
            medial_h = True
        elif ch == _CREAKY:
            creaky = True
        elif ch == _ANUSVARA:
            anusvara = True
        elif ch in _VOWEL_SIGN:
            signs.append(_VOWEL_SIGN[ch])
        elif ch in (ASAT, VIRAMA, "\u1038"):
            continue
        elif "\u1040" <= ch <= "\u1049":
            other.append(str(ord(ch) - 0x1040))
        elif ch.isalpha():
            other.append(anyascii(ch).lower())
    if not (syl[:1] in _INITIAL or nucleus is not None or signs or anusvara):
        return "".join(other)  # stray marks only (malformed input)
    onset = initial
    if medial_y:
        onset = "ch" if onset == "kh" else onset + "y"
    if medial_h:
        onset = "sh" if onset in ("y", "yy", "ly") else "h" + onset
    vowel = _vowel_key(signs)
    if nucleus is not None:
        rhyme = nucleus if final is None else nucleus + _INITIAL.get(final, "")
    elif anusvara and final is None:
        rhyme = {"i": "ein", "u": "on"}.get(vowel, "an")
    elif final is None:
        rhyme = _OPEN_RHYME.get(vowel, "a")
        if medial_w:
            onset += "w"
            if vowel == "e":
                rhyme = "e"  # ဆွေ Swe, ရွှေ Shwe, ထွေး Htwe
    else:
        cls = _FINAL_CLASS.get(final, "")
        key_vowel = "w" if medial_w and vowel == "" else vowel
        rhyme = _CLOSED_RHYME.get((key_vowel, cls))
        if rhyme is None:
            if medial_w:
                onset += "w"
            rhyme = _CLOSED_RHYME.get((vowel, cls)) or (
                _OPEN_RHYME.get(vowel, "a") + _INITIAL.get(final, "")
            )
        if creaky and cls in ("n", "ng"):
            rhyme += "t"
    return onset + rhyme + "".join(other)


@functools.lru_cache(maxsize=1 << 14)
def romanize_myanmar(run: str) -> str:
    """A run of Myanmar script as conventional Latin syllables separated by spaces.

    အောင်ဆန်းစုကြည် -> ``aung san su kyi``; မောင်မောင် -> ``maung maung``.
    """
    parts = [romanize_syllable(s) for s in syllables(run)]
    return " ".join(p for p in parts if p)
