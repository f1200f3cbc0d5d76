"""Romanisation: any script to Latin, chosen per script of each token.

Why per token: names in humanitarian records mix scripts ("Ahmed محمد"), and
the best tool differs by script. Choices were made by measurement on the
Wikidata transliteration pairs (see docs/phonetics.md):

* Cyrillic: ICU BGN/PCGN rule sets, Ukrainian when the token has a letter
  only Ukrainian uses (і ї є ґ), else Russian. BGN matches how names appear
  in English-language documents (Oleksandr, Dmitriy, Shcherbakov).
* Arabic script (Arabic, Persian, Pashto, Urdu, Rohingya-in-Arabic): a small
  name-oriented table below. ICU's ``ar-ar_Latn/BGN`` leaves letters
  untransliterated in some contexts (initial ي, medial ا) and loses long
  vowels; the table keeps long vowels (ا و ي) as vowels, writes harakat when
  present, and handles the article, so "محمود" becomes "mhmud", close to
  "Mahmoud".
* Myanmar: split into syllables and written in the conventional romanisation
  of Burmese names (:mod:`kinlink.phonetics.myanmar`): Burmese writes a name
  without spaces and ICU ``Myanmar-Latin`` writes it as one scholarly word
  (``aungsaannhcukyi``), while Latin records write Aung San Suu Kyi.
* Ge'ez, Devanagari and other Brahmic scripts: anyascii, which drops the
  inherent/6th-order vowel the way names are usually spelled
  (ተስፋዬ -> tesfaye, राम -> ram), where ICU writes "tasǝfāye", "rāma".
* Everything else: anyascii.

The result keeps case and diacritics of the tool's output; folding to ASCII
happens in :mod:`kinlink.phonetics.orthography`.
"""

from __future__ import annotations

import functools
import unicodedata

import icu
from anyascii import anyascii

from kinlink.phonetics.myanmar import romanize_myanmar
from kinlink.phonetics.scripts import COMMON, script_runs

# Characters that carry no letter: joiners, direction marks, BOM, tatweel, etc.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})
_TATWEEL = "\u0640"

_ICU_IDS = {"uk": "uk-uk_Latn/BGN", "ru": "ru-ru_Latn/BGN"}
_UK_ONLY = frozenset("іїєґІЇЄҐ")


@functools.cache
def _icu(name: str) -> icu.Transliterator:
    return icu.Transliterator.createInstance(_ICU_IDS[name])


# Arabic-script letters -> Latin, tuned for name matching (not a scholarly
# standard). Context-dependent letters (و ي ه ع) are handled in code.
_AR_MAP: dict[str, str] = {
    "ا": "a",
    "آ": "a",
    "أ": "a",
    "إ": "i",
    "ٱ": "a",
    "ء": "",
    "ئ": "i",
    "ؤ": "u",
    "ب": "b",
    "ت": "t",
    "ث": "th",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "z",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ة": "a",
    "ى": "a",
    # Persian / Urdu / Pashto / Sindhi additions
    "پ": "p",
    "چ": "ch",
    "ژ": "zh",
    "گ": "g",
    "ک": "k",
    "ګ": "g",
    "ٹ": "t",
    "ډ": "d",
    "ڈ": "d",
    "ړ": "r",
    "ڑ": "r",
    "ږ": "zh",
    "ښ": "sh",
    "ځ": "dz",
    "څ": "ts",
    "ټ": "t",
    "ڼ": "n",
    "ں": "n",
    "ھ": "h",
    "ۃ": "a",
    "ے": "e",
    "ې": "e",
    "ۍ": "ai",
    "ڤ": "v",
    "ڨ": "g",
    "ﻻ": "la",
    # harakat
    "\u064e": "a",
    "\u064f": "u",
    "\u0650": "i",
    "\u064b": "",
    "\u064c": "",
    "\u064d": "",
    "\u0652": "",
    "\u0670": "a",
}
_AR_YA = frozenset("يیىۍ")
_AR_WAW = frozenset("و")
_AR_VOWEL_LETTERS = frozenset("اآأإٱو") | _AR_YA
_SHADDA = "\u0651"


def _romanize_arabic(run: str) -> str:
    chars = [c for c in run if c != _TATWEEL]
    # The article: ال at the start of a longer token.
    out: list[str] = []
    i = 0
    n = len(chars)
    if n > 3 and chars[0] in "اٱ" and chars[1] == "ل":
        # The article is written attached in Arabic script; a hyphen lets the
        # name rules treat it like "al-" in Latin spellings.
        out.append("al-")
        i = 2
    if "".join(chars) in ("الله", "لله"):
        return "allah"
    start = i
    while i < n:
        c = chars[i]
        prev = chars[i - 1] if i > start else ""
        nxt = chars[i + 1] if i + 1 < n else ""
        if c == "ت" and nxt == "ش":
            # Arabic has no /tʃ/; تش is how ch/č/tsch of foreign names is written.
            out.append("ch")
            i += 2
            continue
        if c == _SHADDA:
            # Gemination: doubled letters are collapsed later anyway.
            out.append("")
        elif c in _AR_WAW:
            if i == start or (prev and prev in "اآ") or (nxt and nxt in "اآيو"):
                out.append("w")
            else:
                out.append("u")
        elif c in _AR_YA:
            if c == "ى" and i == n - 1:
                out.append("a")
            elif i == start or (prev and prev in "اآأو") or (nxt and nxt in "اآو"):
                out.append("y")
            else:
                out.append("i")
        elif c == "ع":
            # ʿayn: Latin spellings write it as a vowel next to consonants
            # (عبد -> abd, سعد -> sad, جعفر -> jafr) and drop it next to a
            # long vowel (اسماعيل -> ismail, عادل -> adl).
            if (prev and prev in _AR_VOWEL_LETTERS and i > start + 1) or (nxt and nxt in "اآ"):
                out.append("")
            else:
                out.append("a")
        elif c in "هہ":
            # Final ه after a consonant is the feminine ending in Persian/Pashto
            # spellings (خدیجه -> khadija); elsewhere it is h.
            if i == n - 1 and i - start >= 3 and prev and prev not in _AR_VOWEL_LETTERS:
                out.append("a")
            elif i == start + 1 and prev in _AR_MAP and prev not in _AR_VOWEL_LETTERS:
                # A word cannot start with two consonants: between a first consonant
                # and ه stands an unwritten short vowel that Latin spellings write
                # (زهرا -> zahra, سهراب -> sahrab, مهدی -> mahdi); without it s/z/k/g/d
                # + h read as the digraphs sh, zh, kh, gh, dh. Further in, the cluster
                # is real (مظهر -> mazhar, مشهور -> mashhur).
                out.append("ah")
            else:
                out.append("h")
        elif c in _AR_MAP:
            out.append(_AR_MAP[c])
        elif "\u0660" <= c <= "\u0669":
            out.append(str(ord(c) - 0x0660))
        elif "\u06f0" <= c <= "\u06f9":
            out.append(str(ord(c) - 0x06F0))
        elif unicodedata.category(c)[0] == "M":
            out.append("")
        else:
            out.append(anyascii(c))
        i += 1
    return "".join(out)


def _romanize_run(script: str, run: str) -> str:
    if script in ("Latin", COMMON):
        return run
    if script == "Cyrillic":
        lang = "uk" if any(c in _UK_ONLY for c in run) else "ru"
        return _icu(lang).transliterate(run)
    if script == "Arabic":
        return _romanize_arabic(run)
    if script == "Myanmar":
        # Syllables come out as separate words (spaces), like Latin spellings.
        return romanize_myanmar(run)
    return anyascii(run)


def _clean(text: str) -> str:
    """NFC, invisible characters removed, all whitespace kinds made one space."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ch == _TATWEEL:
            continue
        else:
            kept.append(ch)
    return "".join(kept)


@functools.lru_cache(maxsize=1 << 18)
def romanize_token(token: str) -> str:
    """Romanise one whitespace-free raw token (cached: names are Zipf-distributed).

    Invisible characters are removed first; the result may contain spaces if the
    transliterator produced them.
    """
    cleaned = _clean(token).strip()
    return " ".join(
        "".join(_romanize_run(s, r) for s, r in script_runs(piece)) for piece in cleaned.split()
    )


def romanize(text: str) -> str:
    """Any script to Latin, token by token; whitespace collapsed to single spaces.

    Keeps the casing and diacritics of the transliterator so the result can be
    shown to a caseworker next to the original; use ``normalize_name`` to compare.
    """
    if not isinstance(text, str):
        raise TypeError("romanize() expects str")
    return " ".join(r for r in map(romanize_token, text.split()) if r)
