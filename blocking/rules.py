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


def _no_dms(keys: Iterable[str]) -> list[str]:
    # Daitch-Mokotoff codes add nothing to these combinations (measured: the same
    # pairs recovered without them) but a fifth of the keys.
    return [k for k in keys if not k.startswith("dms:")]


def _first_keys(tokens: Any) -> list[str]:
    from kinlink.matching.prepare import token_keys

    return _no_dms(token_keys(tokens[0])) if tokens is not None and len(tokens) else []


def _given_place(row: Row) -> Iterable[str]:
    """A key of the child's given name x a key of a place the child came from (origin or
    separation, not where the child is now), any age: "Mohamed born 2015" blocks reach
    the cap, and a birth estimate five years off misses rule b, but "Mohamed from
    Maungdaw" (or Mongdu) is a small block at any age."""
    from kinlink.matching.prepare import token_keys

    places = {k for tok in row.get("place_history") or () for k in _no_dms(token_keys(tok))}
    for given in _no_dms(row.get("given_keys") or ()):
        for place in places:
            yield f"{given}|{place}"


def _given_parent(row: Row) -> Iterable[str]:
    """A key of the child's given name x a key of the mother's or father's first name,
    any age: the child's own name and a parent's name, written by different people."""
    parents = set(_first_keys(row.get("mother_tokens"))) | set(
        _first_keys(row.get("father_tokens"))
    )
    for given in _no_dms(row.get("given_keys") or ()):
        for parent in parents:
            yield f"{given}|{parent}"


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
    BlockingRule(
        "k",
        "given_key_place",
        "a phonetic key of the child's given name and of a place of origin or separation",
        _given_place,
    ),
    BlockingRule(
        "l",
        "given_key_parent",
        "a phonetic key of the child's given name and of a parent's first name",
        _given_parent,
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


_Tokens = tuple[str, ...]


class DefaultKeys:
    """:func:`block_keys` with the default rules, for many prepared records at once.

    The same keys as ``block_keys(row)`` (tested against it), built from caches of the
    pieces that repeat across records: birth buckets; the keys of a name (rules c, d);
    of a name, sex and birth buckets (rules i, j) and, below those, of one phonetic key
    or key pair in some birth buckets; of a given name in birth buckets (b); of a name
    and places (e); of places (h). Names and places are Zipf-distributed, so most
    records hit, and records share one string object per cached key: a million records
    carry 150 million keys, far fewer distinct ones.

    One instance per batch: the caches grow with the batch's distinct values and are
    freed with the instance.
    """

    def __init__(self) -> None:
        from kinlink.matching.prepare import token_keys

        self._token_keys = token_keys
        self._buckets: dict[tuple[Any, Any], _Tokens] = {}
        self._pairs: dict[tuple[str, str], _Tokens] = {}
        self._names: dict[_Tokens, tuple[list[str], list[str], _Tokens]] = {}
        self._pair_buckets: dict[_Tokens, dict[tuple[str, ...], _Tokens]] = {}
        self._i: dict[tuple[_Tokens, str, _Tokens], list[str]] = {}
        self._j: dict[tuple[_Tokens, _Tokens], list[str]] = {}
        self._in_buckets: dict[tuple[str, str, _Tokens], dict[str, _Tokens]] = {}
        self._given: dict[tuple[_Tokens, _Tokens], list[str]] = {}
        self._name_place: dict[_Tokens, dict[str, _Tokens]] = {}
        self._relatives: dict[tuple[Any, ...], list[str]] = {}
        self._place_pairs: dict[_Tokens, list[str]] = {}
        self._given_place: dict[tuple[_Tokens, _Tokens], list[str]] = {}
        self._given_parent: dict[tuple[_Tokens, Any, Any], list[str]] = {}

    def _birth_buckets(self, lo: Any, hi: Any) -> _Tokens:
        key = (lo, hi)
        out = self._buckets.get(key)
        if out is None:
            out = self._buckets[key] = tuple(_birth_buckets({"by_lo": lo, "by_hi": hi}))
        return out

    def _pair_keys(self, a: str, b: str) -> _Tokens:
        """Rule d's keys of one token pair (a < b), prefixed, without duplicates."""
        out = self._pairs.get((a, b))
        if out is None:
            seen: dict[str, None] = {}
            for ka in self._token_keys(a):
                for kb in self._token_keys(b):
                    seen[f"d:{ka}|{kb}" if ka <= kb else f"d:{kb}|{ka}"] = None
            out = self._pairs[(a, b)] = tuple(seen)
        return out

    def _name(self, name_all: _Tokens) -> tuple[list[str], list[str], _Tokens]:
        """Rules c and d of a name, each sorted, and its distinct tokens, sorted."""
        out = self._names.get(name_all)
        if out is None:
            tokens = tuple(sorted(set(name_all)))
            pairs = list(combinations(tokens, 2))
            d_keys: set[str] = set()
            for a, b in pairs:
                d_keys.update(self._pair_keys(a, b))
            c_keys = sorted({f"c:{a}|{b}" for a, b in pairs})
            out = self._names[name_all] = (c_keys, sorted(d_keys), tokens)
        return out

    def _with_buckets(
        self, keys: Iterable[str], buckets: _Tokens, code: str, cut: int, suffix: str
    ) -> list[str]:
        """``code + key[cut:] + suffix + ":" + bucket`` for each key and bucket, sorted.

        Cached per (code, suffix, buckets), then per key: the keys are strings of the
        prepared columns or of ``_pair_keys``, whose hashes Python keeps.
        """
        out: list[str] = []
        cache = self._in_buckets.get((code, suffix, buckets))
        if cache is None:
            cache = self._in_buckets[(code, suffix, buckets)] = {}
        for key in keys:
            part = cache.get(key)
            if part is None:
                stem = code + key[cut:] + suffix
                part = cache[key] = tuple([f"{stem}:{b}" for b in buckets])
            out += part
        out.sort()  # nearly sorted already: keys and buckets come sorted
        return out

    def _name_birth(self, name_all: _Tokens, buckets: _Tokens) -> list[str]:
        """Rule j of a name in some birth buckets, sorted."""
        key = (name_all, buckets)
        out = self._j.get(key)
        if out is None:
            cache = self._pair_buckets.get(buckets)
            if cache is None:
                cache = self._pair_buckets[buckets] = {}
            keys: list[str] = []
            for pair in combinations(self._name(name_all)[2], 2):
                part = cache.get(pair)
                if part is None:
                    # "d:ka|kb" -> "j:ka|kb:bucket", sorted within the pair
                    part = cache[pair] = tuple(
                        sorted(f"j{k[1:]}:{b}" for k in self._pair_keys(*pair) for b in buckets)
                    )
                keys += part
            # Sorted runs, one per pair: dict.fromkeys drops repeats and keeps the runs.
            out = self._j[key] = sorted(dict.fromkeys(keys))
        return out

    def _keys_sex_birth(self, name_keys: _Tokens, sex: str, buckets: _Tokens) -> list[str]:
        """Rule i of a name's keys with its sex and birth buckets, sorted."""
        key = (name_keys, sex, buckets)
        out = self._i.get(key)
        if out is None:
            out = self._i[key] = self._with_buckets(name_keys, buckets, "i:", 0, ":" + sex)
        return out

    def keys(
        self,
        *,
        ids: Iterable[str],
        phones: Iterable[str],
        given_keys: _Tokens,
        name_all: _Tokens,
        name_keys: _Tokens,
        sex: str | None,
        by_lo: Any,
        by_hi: Any,
        mother_first: str | None,
        father_first: str | None,
        place_tokens: _Tokens,
        place_history: _Tokens,
        dob: str | None,
    ) -> list[str]:
        """``block_keys(row)`` of a prepared record given as its fields (lists as tuples)."""
        buckets = self._birth_buckets(by_lo, by_hi)
        out = sorted({"a:" + k for k in _ids({"ids": ids, "phones": phones})})
        # b: given-name keys x birth buckets
        cache_key: Any = (given_keys, buckets)
        part = self._given.get(cache_key)
        if part is None:
            part = self._given[cache_key] = sorted(
                {f"b:{k}:{bucket}" for k in given_keys for bucket in buckets}
            )
        out += part
        c_keys, d_keys, _ = self._name(name_all)
        out += c_keys
        out += d_keys
        # e: name token x place token
        places = place_tokens[:4]
        if places:
            cache = self._name_place.get(places)
            if cache is None:
                cache = self._name_place[places] = {}
            e_keys: list[str] = []
            for tok in name_all:
                tok_part = cache.get(tok)
                if tok_part is None:
                    tok_part = cache[tok] = tuple([f"e:{tok}:{place}" for place in places])
                e_keys += tok_part
            out += sorted(set(e_keys))
        # f: a parent's first name x birth buckets
        cache_key = (mother_first, father_first, buckets)
        part = self._relatives.get(cache_key)
        if part is None:
            firsts = {t for t in (mother_first, father_first) if t is not None}
            part = self._relatives[cache_key] = sorted(
                {f"f:{tok}:{bucket}" for tok in firsts for bucket in buckets}
            )
        out += part
        if dob:
            out.append(f"g:{dob}:{sex or '?'}")
        # h: place pairs
        places = place_tokens[:5]
        part = self._place_pairs.get(places)
        if part is None:
            part = self._place_pairs[places] = sorted(
                {"h:" + k for k in _place_pair({"place_tokens": places})}
            )
        out += part
        if buckets:
            out += self._keys_sex_birth(name_keys, sex or "?", buckets)
            out += self._name_birth(name_all, buckets)
        # k: given-name key x place-of-origin/separation key
        cache_key = (given_keys, place_history)
        part = self._given_place.get(cache_key)
        if part is None:
            part = self._given_place[cache_key] = sorted(
                {
                    "k:" + k
                    for k in _given_place(
                        {"given_keys": given_keys, "place_history": place_history}
                    )
                }
            )
        out += part
        # l: given-name key x a parent's first-name key
        cache_key = (given_keys, mother_first, father_first)
        part = self._given_parent.get(cache_key)
        if part is None:
            row = {
                "given_keys": given_keys,
                "mother_tokens": (mother_first,) if mother_first else None,
                "father_tokens": (father_first,) if father_first else None,
            }
            part = self._given_parent[cache_key] = sorted({"l:" + k for k in _given_parent(row)})
        out += part
        return out
