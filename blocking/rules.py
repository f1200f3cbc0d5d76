"""Blocking rules, as data: each rule turns a prepared record into blocking keys.

Two records become a candidate pair when they share a key of any rule, unless that
key is carried by more than ``MAX_BLOCK_SIZE`` records (a "Mohamed born 2015" block
in a region of 500,000 children): such keys are dropped, and the finer rules below
still bring the true pairs together. Keys are computed once in the prepare step and
stored in the ``block_keys`` array column, so DuckDB, Spark and the in-memory
real-time index all block on exactly the same keys. See ``blocking/README.md`` for
the measurements behind the choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

#: Keys carried by more records than this are dropped (see module docstring).
MAX_BLOCK_SIZE = 400

#: Width, in years, of the birth-year buckets that name keys are combined with.
BIRTH_BUCKET_YEARS = 3

Row = Mapping[str, Any]


@dataclass(frozen=True)
class BlockingRule:
    """One blocking rule: a short code (orders rules), a name and a key function."""

    code: str
    name: str
    description: str
    keys: Callable[[Row], Iterable[str]]


def _birth_buckets(row: Row) -> list[str]:
    lo, hi = row.get("by_lo"), row.get("by_hi")
    if lo is None or hi is None or lo != lo or hi != hi:
        return []
    # One year of slack either side so neighbouring buckets overlap: a child born in
    # late 2014 and one "born 2015" still meet.
    first = (int(lo) - 1) // BIRTH_BUCKET_YEARS
    last = (int(hi) + 1) // BIRTH_BUCKET_YEARS
    return [str(b) for b in range(first, last + 1)]


def _ids(row: Row) -> Iterable[str]:
    yield from row.get("ids") or ()
    for phone in row.get("phones") or ():
        yield f"tel:{phone}"


def _given_birth(row: Row) -> Iterable[str]:
    """A phonetic key of the child's *given* name x birth bucket: "Muhamad Ali born
    2015" and "Ali Hassan born 2015" no longer share a block through "ali"."""
    buckets = _birth_buckets(row)
    for key in row.get("given_keys") or ():
        for bucket in buckets:
            yield f"{key}:{bucket}"


def _name_sex_birth(row: Row) -> Iterable[str]:
    """Rescue for a given name not identified (or renamed): any name token's key, sex
    and birth bucket; the sex keeps these blocks about half the size of rule b's old
    any-token form, so fewer reach the cap."""
    buckets = _birth_buckets(row)
    sex = row.get("sex") or "?"
    for key in row.get("name_keys") or ():
        for bucket in buckets:
            yield f"{key}:{sex}:{bucket}"


def _two_keys_birth(row: Row) -> Iterable[str]:
    """Phonetic keys of two tokens x birth bucket: rule d's blocks of common name pairs
    ("Mohamed Ali") reach the cap at scale; the birth bucket splits them."""
    buckets = _birth_buckets(row)
    for key in _token_keys_pair(row):
        for bucket in buckets:
            yield f"{key}:{bucket}"


def _name_pair(row: Row) -> Iterable[str]:
    tokens = row.get("name_all") or ()
    for a, b in combinations(sorted(set(tokens)), 2):
        yield f"{a}|{b}"


def _token_keys_pair(row: Row) -> Iterable[str]:
    """Phonetic keys of two different tokens: two names that *sound* alike, any age."""
    from kinlink.matching.prepare import token_keys

    tokens = sorted(set(row.get("name_all") or ()))
    for a, b in combinations(tokens, 2):
        for ka in token_keys(a):
            for kb in token_keys(b):
                yield f"{ka}|{kb}" if ka <= kb else f"{kb}|{ka}"


def _name_place(row: Row) -> Iterable[str]:
    places = (row.get("place_tokens") or ())[:4]
    for tok in row.get("name_all") or ():
        for place in places:
            yield f"{tok}:{place}"


def _place_pair(row: Row) -> Iterable[str]:
    """Two place tokens (a street and its number, a village and its district): alone
    they say little, but they find pairs whose names were mangled beyond phonetics.
    Common places are dropped by the block-size cap."""
    places = sorted(set((row.get("place_tokens") or ())[:5]))
    for a, b in combinations(places, 2):
        yield f"{a}|{b}"


def _relative_birth(row: Row) -> Iterable[str]:
    buckets = _birth_buckets(row)
    firsts = {
        toks[0]
        for toks in (row.get("mother_tokens"), row.get("father_tokens"))
        if toks is not None and len(toks) > 0
    }
    for tok in firsts:
        for bucket in buckets:
            yield f"{tok}:{bucket}"


def _dob_sex(row: Row) -> Iterable[str]:
    if row.get("dob"):
        yield f"{row['dob']}:{row.get('sex') or '?'}"


DEFAULT_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("a", "identifier", "same UNHCR/ICRC/national ID or telephone", _ids),
    BlockingRule(
        "b",
        "given_key_birth",
        "a phonetic key of the child's given name, and overlapping birth-year buckets",
        _given_birth,
    ),
    BlockingRule("c", "name_pair", "two canonical name tokens in common, any age", _name_pair),
    BlockingRule(
        "d", "name_key_pair", "two phonetic name keys in common, any age", _token_keys_pair
    ),
    BlockingRule("e", "name_place", "a name token and a place token in common", _name_place),
    BlockingRule(
        "f",
        "parent_birth",
        "mother's or father's first name, and overlapping birth-year buckets",
        _relative_birth,
    ),
    BlockingRule("g", "dob_sex", "exact date of birth and sex", _dob_sex),
    BlockingRule("h", "place_pair", "two place tokens in common", _place_pair),
    BlockingRule(
        "i",
        "name_key_sex_birth",
        "a phonetic key of any name token, sex and overlapping birth-year buckets",
        _name_sex_birth,
    ),
    BlockingRule(
        "j",
        "two_keys_birth",
        "phonetic keys of two name tokens, and overlapping birth-year buckets",
        _two_keys_birth,
    ),
)

RULES_BY_CODE: dict[str, BlockingRule] = {r.code: r for r in DEFAULT_RULES}


def block_keys(row: Row, rules: Iterable[BlockingRule] = DEFAULT_RULES) -> list[str]:
    """Every blocking key of one prepared record, prefixed by its rule's code.

    Sorted: the keys come out of sets, whose order changes from one Python process to
    the next (string hashing is salted), and the Spark engine prepares records in
    worker processes; the same record must give the same column everywhere.
    """
    out: list[str] = []
    for rule in rules:
        prefix = rule.code + ":"
        out.extend(sorted({prefix + k for k in rule.keys(row)}))
    return out
