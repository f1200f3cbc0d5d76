"""Token and name similarity in [0, 1].

Why a custom edit distance: plain Levenshtein charges as much for Mohamed ->
Muhammad (vowel changes, a romanisation artefact) as for Mohamed -> Mohsen
(a different name). Here, in the spirit of Editex, substitutions inside a
phonetic class and insertions of vowels and h/w/y are cheap, so spellings of
one name score high while different consonants cost a full edit. Vowel
insertions are cheap in particular so that Arabic-script names romanised
without short vowels (محمد -> mhmd) still align with Latin spellings.

Names are compared order-free with a one-to-one token alignment: each token
is used at most once, so "Tesfaye Hagos" vs "Tesfaye Gebremedhin Hagos" is a
strong partial match (every token of the shorter name found), while a
different given name leaves one token unmatched and costs its share.
"""

from __future__ import annotations

import functools

from rapidfuzz.distance import JaroWinkler

from kinlink.phonetics.nicknames import canonical_token, is_known
from kinlink.phonetics.orthography import alternative_readings
from kinlink.phonetics.tokens import name_tokens, normalize_name, normalize_token

_VOWELS = frozenset("aeiouy")
_WEAK = frozenset("hwy")
# Consonant classes whose members are often written for one another across
# transliteration systems (Editex groups adapted to name romanisation).
_GROUPS: tuple[frozenset[str], ...] = (
    frozenset("bp"),
    frozenset("fvw"),
    frozenset("ckqg"),
    frozenset("gj"),
    frozenset("dt"),
    frozenset("sztc"),
    frozenset("mn"),
    frozenset("lr"),
    frozenset("jy"),
    frozenset("ksx"),
)
_CLOSE_VOWELS = (frozenset("ou"), frozenset("ei"), frozenset("iy"), frozenset("ae"))
_MAX_EDIT = 40  # characters; longer inputs are cut (names are short, DP is quadratic)


_SEMIVOWELS = frozenset({("u", "w"), ("o", "w"), ("i", "y"), ("e", "y"), ("u", "v")})
# Letters that transliteration systems write for one another (Latin c = k or s,
# German/Slavic j = y, Polish/German w = v).
_SPELLING_TWINS = frozenset(
    {("c", "k"), ("c", "s"), ("k", "q"), ("j", "y"), ("v", "w"), ("s", "z")}
)
# Letter pairs that cross-script transliteration writes for one another, with
# costs chosen on the development half of the Wikidata pairs (docs/phonetics.md):
# Arabic script has no p and no v (ب and ف stand for them), Egyptian and
# Levantine spellings write ج as g, ذ/ظ/ض come out as z in one system and
# d/dh in another, and short o/u and e/i are one Arabic vowel each.
_CROSS_SCRIPT = {
    ("b", "p"): 0.25,
    ("f", "v"): 0.25,
    ("d", "z"): 0.45,
    ("g", "j"): 0.3,
    ("o", "u"): 0.1,
    ("e", "i"): 0.1,
}
_CROSS_SCRIPT.update({(b, a): c for (a, b), c in list(_CROSS_SCRIPT.items())})
VOWEL_INDEL = 0.25
WEAK_INDEL = 0.3
#: Weight of Jaro-Winkler against the weighted edit similarity (it rescues
#: spellings the edit costs do not know, at the price of prefix-sharing negatives).
JW_WEIGHT = 0.85


@functools.lru_cache(maxsize=1 << 12)
def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    cross = _CROSS_SCRIPT.get((a, b))
    if cross is not None:
        return cross
    if (a, b) in _SPELLING_TWINS or (b, a) in _SPELLING_TWINS:
        return 0.15
    if (a, b) in _SEMIVOWELS or (b, a) in _SEMIVOWELS:
        return 0.3
    if a in _VOWELS and b in _VOWELS:
        return 0.2 if any(a in g and b in g for g in _CLOSE_VOWELS) else 0.35
    if any(a in g and b in g for g in _GROUPS):
        return 0.45
    return 1.0


def _indel_cost(c: str) -> float:
    if c in _VOWELS:
        return VOWEL_INDEL
    if c in _WEAK:
        return WEAK_INDEL
    return 1.0


@functools.lru_cache(maxsize=1 << 18)
def _weighted_edit(a: str, b: str) -> float:
    """Weighted edit distance with phonetic class costs (symmetric)."""
    a, b = a[:_MAX_EDIT], b[:_MAX_EDIT]
    prev = [0.0]
    for cb in b:
        prev.append(prev[-1] + _indel_cost(cb))
    for ca in a:
        da = _indel_cost(ca)
        cur = [prev[0] + da]
        for j, cb in enumerate(b, start=1):
            cur.append(
                min(
                    prev[j] + da,
                    cur[j - 1] + _indel_cost(cb),
                    prev[j - 1] + _sub_cost(ca, cb),
                )
            )
        prev = cur
    return prev[-1]


def _edit_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    if a > b:
        a, b = b, a
    dist = _weighted_edit(a, b)
    longest = max(sum(_indel_cost(c) for c in a), sum(_indel_cost(c) for c in b))
    return max(0.0, 1.0 - dist / longest)


def _first_consonant_penalty(a: str, b: str) -> float:
    """Different first consonant classes signal different names (Hasan/Kasim)."""
    fa, fb = a[:1], b[:1]
    if fa == fb or fa in _VOWELS or fb in _VOWELS or fa in _WEAK or fb in _WEAK:
        return 1.0
    if any(fa in g and fb in g for g in _GROUPS):
        return 0.97
    return 0.9


# Shared compound parts carry no identity: Abdalrahman vs Abdalrahim differ
# only in the attribute, Gebremedhin vs Gebrehiwot only in the second part.
_COMPOUND_PREFIXES = ("abdal", "abu", "gebre", "wolde", "haile", "tekle", "kidane")
_COMPOUND_SUFFIXES = ("aldin", "ula", "ulah")


def _strip_shared(a: str, b: str) -> tuple[str, str]:
    for p in _COMPOUND_PREFIXES:
        if a.startswith(p) and b.startswith(p) and len(a) > len(p) and len(b) > len(p):
            return a[len(p) :], b[len(p) :]
    for s in _COMPOUND_SUFFIXES:
        if a.endswith(s) and b.endswith(s) and len(a) > len(s) and len(b) > len(s):
            return a[: -len(s)], b[: -len(s)]
    return a, b


@functools.lru_cache(maxsize=1 << 18)
def _token_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    ca, cb = canonical_token(a), canonical_token(b)
    if ca == cb:
        return 1.0
    sa, sb = _strip_shared(a, b)
    if (sa, sb) != (a, b):
        return _token_sim(*sorted((sa, sb)))
    edit = max(_edit_similarity(a, b), _edit_similarity(ca, cb))
    jw = JaroWinkler.normalized_similarity(a, b)
    score = max(edit, JW_WEIGHT * jw) * _first_consonant_penalty(a, b)
    # Unvalidated Somali readings (Cilmi ~ Elmi, Xirsi ~ Hirsi), slightly discounted.
    for x, y in ((a, b), (b, a)):
        for alt in alternative_readings(x):
            score = max(score, 0.95 * _edit_similarity(alt, y) * _first_consonant_penalty(alt, y))
    # Two names the curated table knows as different names stay apart (Mohamed/Mohamud).
    if is_known(a) and is_known(b):
        score = min(score, 0.8)
    # An initial ("M.") against a full token with that letter: weak evidence.
    if len(a) == 1 or len(b) == 1:
        score = 0.6 if a[:1] == b[:1] else 0.0
    return min(1.0, max(0.0, score))


def token_similarity(a: str, b: str) -> float:
    """Similarity of two single tokens in [0, 1]; 1.0 for the same canonical name.

    Inputs are normalised first (so raw spellings in any script work too).
    """
    if not isinstance(a, str) or not isinstance(b, str):
        raise TypeError("token_similarity() expects str")
    na = a if (a.isascii() and a.isalpha() and a.islower()) else normalize_token(a)
    nb = b if (b.isascii() and b.isalpha() and b.islower()) else normalize_token(b)
    if not na or not nb:
        return 1.0 if (na == nb and a == b) else (1.0 if na == nb and not a and not b else 0.0)
    if na > nb:
        na, nb = nb, na
    return _token_sim(na, nb)


_MAX_TOKENS = 8  # alignment is quadratic; real names have fewer parts


def _align(ta: tuple[str, ...], tb: tuple[str, ...]) -> float:
    """Greedy one-to-one alignment (best pairs first); score in [0, 1]."""
    pairs = sorted(
        ((_token_sim(*sorted((x, y))), i, j) for i, x in enumerate(ta) for j, y in enumerate(tb)),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for s, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        total += s
    short, long_ = min(len(ta), len(tb)), max(len(ta), len(tb))
    # Mean similarity over the shorter name, discounted for unmatched tokens of the
    # longer one: 2 of 3 tokens found -> x0.87, 1 of 2 -> x0.8.
    return total / short * (0.6 + 0.4 * short / long_)


@functools.lru_cache(maxsize=1 << 16)
def _name_sim(ta: tuple[str, ...], tb: tuple[str, ...]) -> float:
    if ta == tb:
        return 1.0
    score = _align(ta[:_MAX_TOKENS], tb[:_MAX_TOKENS])
    if len(ta) != len(tb):
        # Segmentation disagreement: "Abdul Rahman" vs "Abdulrahman", Burmese
        # syllables written apart in Latin and together in Myanmar script.
        joined = _edit_similarity("".join(ta)[:_MAX_EDIT], "".join(tb)[:_MAX_EDIT])
        score = max(score, 0.95 * joined)
    return min(1.0, max(0.0, score))


def name_similarity(a: str, b: str) -> float:
    """Similarity of two full names in [0, 1]: order-free, one-to-one token alignment.

    Symmetric and reflexive (``name_similarity(x, x) == 1.0`` for any string).
    """
    if not isinstance(a, str) or not isinstance(b, str):
        raise TypeError("name_similarity() expects str")
    if a == b:
        return 1.0
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        if not ta and not tb:
            return 1.0 if normalize_name(a) == normalize_name(b) and a.strip() == b.strip() else 0.0
        return 0.0
    if tb < ta:
        ta, tb = tb, ta
    return _name_sim(ta, tb)
