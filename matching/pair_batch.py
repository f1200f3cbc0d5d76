"""Comparison levels evaluated in-process over many pairs of stored records at once.

Why: :class:`~kinlink.matching.inprocess.PairColumns` scores one query against its
candidates, so each of the ~100 level predicates costs a few numpy calls per query.
At a million stored records a sweep's new record meets ~1,200 candidates and the
sweep scored them at ~7 ms a query, most of it the calls' own overhead (measured in
docs/sweep.md). When both sides of every pair are stored rows (a sweep: the new
records are in the store too), the same predicates can run over a whole batch of
pairs in one pass: every primitive is then "a column of left values against a column
of right values", and the per-call overhead is paid once per batch instead of once per
query.

:class:`PairBatch` speaks the same vocabulary as ``PairColumns`` (and so as
:class:`~kinlink.matching.comparisons.SqlFunctions`), with DuckDB's semantics: NULL
compares as false, ``levenshtein`` counts UTF-8 bytes while ``length`` counts code
points. The level predicates in :mod:`kinlink.matching.comparisons` run unchanged on
either; ``tests/matching/test_pair_batch.py`` holds the two to identical gammas and
weights, and ``PairColumns`` is held to Splink's SQL by
``tests/matching/test_realtime_parity.py``.

List membership works on sorted keys instead of per-row loops: the stored lists are
kept (per column, once) as their distinct non-NULL codes in row order and code order,
so ``row * width + code`` is sorted for any batch whose rows are gathered in order,
and "how many distinct codes do the two lists share" is a binary search of one sorted
array in the other followed by a count per pair.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from kinlink.matching.inprocess import StoredColumns

#: Code of a missing value (SQL NULL), as in :mod:`kinlink.matching.inprocess`.
_NULL = -1
#: Pairs a caller scores in one batch: bounds the batch's intermediate arrays (every
#: gathered list column, both sides) and is one worker task's work.
PAIRS_PER_SCORE = 100_000


def column_side(column: str) -> tuple[str, bool]:
    """``given_l`` -> (``given``, True); ``given_r`` -> (``given``, False)."""
    base, _, side = column.rpartition("_")
    if side not in ("l", "r") or not base:
        raise ValueError(f"column {column!r} must end in _l (the left record) or _r (the right)")
    return base, side == "l"


class MemoisedView:
    """What both views of pairs share: every result cached for the view's pairs, so
    the level predicates may repeat sub-expressions freely."""

    _cache: dict[tuple[Any, ...], Any]

    def _memo(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._cache[key] = compute()
        return value

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once for these pairs (a sub-expression several levels share)."""
        return self._memo(("cached", key), compute)


def _gather(offsets: np.ndarray, flat: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """(lengths per pair, pair index per element, value per element) of CSR ``rows``."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    seg = np.repeat(np.arange(len(rows)), lengths)
    ends = np.cumsum(lengths)
    pos = np.arange(int(ends[-1]) if len(ends) else 0)
    pos += (starts - (ends - lengths))[seg]
    return lengths, seg, flat[pos]


class DistinctLists:
    """Each stored row's list as its distinct non-NULL codes, sorted, in CSR form.

    Built once per list column from :class:`StoredColumns`' CSR (repeats and NULLs
    included, as ``size`` counts them): what ``common`` and ``contains`` compare.
    ``clean`` says the column had no NULL element and no repeat (true of every list
    prepare makes today), so these lists are the raw ones reordered and can stand in
    for them where order does not matter (sizes, spelling).
    """

    def __init__(self, offsets: np.ndarray, flat: np.ndarray, width: int) -> None:
        n = len(offsets) - 1
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
        keep = flat >= 0
        keys = rows[keep] * width + flat[keep]
        # Already in row order with a few codes per row out of order: the stable sort
        # (timsort, which merges the sorted runs) is much quicker here than the
        # default introsort (the 1M store's lists: 5.6 -> 3.5 s, bench_pair_scoring.py;
        # np.unique's hashing was slower still).
        keys.sort(kind="stable")
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        self.clean = bool(keep.all() and first.all())
        if not first.all():
            keys = keys[first]
        self.codes = keys % width
        self.offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // width, minlength=n), out=self.offsets[1:])

    @classmethod
    def from_parts(cls, offsets: np.ndarray, codes: np.ndarray, clean: bool) -> DistinctLists:
        """Lists built before (kept on disk by :mod:`kinlink.matching.encoded`)."""
        out = cls.__new__(cls)
        out.offsets, out.codes, out.clean = offsets, codes, clean
        return out


class PairBatch(MemoisedView):
    """Pairs of stored rows (``left_rows[i]``, ``right_rows[i]``): the predicates' view.

    Methods mirror ``PairColumns`` and return numpy arrays over the pairs. Every
    result is cached for the batch, so levels may repeat sub-expressions freely.
    """

    def __init__(
        self,
        stored: StoredColumns,
        left_rows: np.ndarray,
        right_rows: np.ndarray,
        distinct: Callable[[str], DistinctLists],
    ) -> None:
        if len(left_rows) != len(right_rows):
            raise ValueError("left_rows and right_rows must have the same length")
        self.stored = stored
        self.sides = (np.asarray(left_rows, np.int64), np.asarray(right_rows, np.int64))
        self.n = len(left_rows)
        self._distinct = distinct
        # one more than the largest code: keys row * width + code never collide
        self._width = len(stored.strings) + 1
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _rows(self, left: bool) -> np.ndarray:
        return self.sides[0] if left else self.sides[1]

    def _raw(self, base: str, left: bool) -> tuple[np.ndarray, ...]:
        """(lengths, pair per element, code per element) of a list, repeats and NULLs
        kept (in some order within each pair)."""
        if self._distinct(base).clean:
            return self._distinct_gather(base, left)

        def compute() -> tuple[np.ndarray, ...]:
            offsets, flat = self.stored.list_column(base)
            return _gather(offsets, flat, self._rows(left))

        return self._memo(("raw", base, left), compute)

    def _distinct_gather(self, base: str, left: bool) -> tuple[np.ndarray, ...]:
        def compute() -> tuple[np.ndarray, ...]:
            lists = self._distinct(base)
            return _gather(lists.offsets, lists.codes, self._rows(left))

        return self._memo(("distinct", base, left), compute)

    def _keys(self, base: str, left: bool) -> np.ndarray:
        """Sorted ``pair * width + code`` of a list's distinct codes."""

        def compute() -> np.ndarray:
            _, seg, codes = self._distinct_gather(base, left)
            return seg * self._width + codes

        return self._memo(("keys", base, left), compute)

    def _scalar(self, column: str) -> np.ndarray:
        base, left = column_side(column)
        return self._memo(
            ("scalar", base, left), lambda: self.stored.scalar_column(base)[self._rows(left)]
        )

    # -- the SqlFunctions vocabulary ----------------------------------------------------
    def size(self, column: str) -> np.ndarray:
        """``coalesce(array_length(arr), 0)``: elements, repeats included."""
        base, left = column_side(column)
        return self._raw(base, left)[0]

    def common(self, a: str, b: str) -> np.ndarray:
        """Distinct non-NULL elements two lists share (0 when either is NULL)."""
        (base_a, left_a), (base_b, left_b) = column_side(a), column_side(b)

        def compute() -> np.ndarray:
            shared = _shared(self._keys(base_a, left_a), self._keys(base_b, left_b))
            return np.bincount(shared // self._width, minlength=self.n)

        return self._memo(("common", *sorted([(base_a, left_a), (base_b, left_b)])), compute)

    def overlaps(self, a: str, b: str) -> np.ndarray:
        """Whether two lists share a non-NULL element."""
        return self.common(a, b) >= 1

    def contains(self, arr: str, value: str) -> np.ndarray:
        """``coalesce(list_contains(arr, value), false)``."""
        (arr_base, arr_left), (value_base, value_left) = column_side(arr), column_side(value)

        def compute() -> np.ndarray:
            # one key per pair, so sorted; a NULL (-1) is the key of no code
            probe = np.arange(self.n, dtype=np.int64) * self._width + self._scalar(value)
            out = np.zeros(self.n, dtype=bool)
            out[_shared(probe, self._keys(arr_base, arr_left)) // self._width] = True
            return out

        return self._memo(("contains", arr_base, arr_left, value_base, value_left), compute)

    def first(self, column: str) -> np.ndarray:
        """Codes of ``arr[1]`` (NULL when the list is empty), for :meth:`eq`."""
        base, left = column_side(column)
        return self._memo(
            ("first", base, left), lambda: self.stored.first_column(base)[self._rows(left)]
        )

    def value(self, column: str) -> np.ndarray:
        """Codes of a string column, for :meth:`eq`."""
        return self._scalar(column)

    def eq(self, a: str | np.ndarray, b: str | np.ndarray) -> np.ndarray:
        """``a = b`` on strings (column names or codes from :meth:`first`/:meth:`value`)."""
        x = self._scalar(a) if isinstance(a, str) else a
        y = self._scalar(b) if isinstance(b, str) else b
        return (x == y) & (x != _NULL)

    def isnull(self, column: str) -> np.ndarray:
        """``column is null`` for a string or number column."""
        base, _ = column_side(column)
        if base in self.stored._numbers:
            return np.isnan(self.num(column))
        return self._scalar(column) == _NULL

    def num(self, column: str) -> np.ndarray:
        """A number column as floats, NaN for NULL (see ``PairColumns.num``)."""
        base, left = column_side(column)
        return self._memo(
            ("num", base, left), lambda: self.stored.number_column(base)[self._rows(left)]
        )

    def pairwise(
        self, a: str, b: str, fn: Callable[[Any, Any], float], *, stored_first: bool = False
    ) -> np.ndarray:
        """``fn(left's a, right's b)`` (``PairColumns``: query value first), NaN where
        either is NULL; ``fn`` runs once per distinct pair of values. ``stored_first``
        passes the right value first."""
        (base_a, left_a), (base_b, _) = column_side(a), column_side(b)
        query, stored = (base_a, base_b) if left_a else (base_b, base_a)

        def compute() -> np.ndarray:
            x = self.stored.scalar_column(query)[self.sides[0]]
            y = self.stored.scalar_column(stored)[self.sides[1]]
            out = np.full(self.n, np.nan)
            known = np.flatnonzero((x >= 0) & (y >= 0))
            if len(known) == 0:
                return out
            combos, inverse = distinct_inverse(x[known] * self._width + y[known])
            strings = self.stored.strings
            results = np.array(
                [
                    float(fn(strings[c % self._width], strings[c // self._width]))
                    if stored_first
                    else float(fn(strings[c // self._width], strings[c % self._width]))
                    for c in combos.tolist()
                ]
            )
            out[known] = results[inverse.reshape(-1)]
            return out

        return self._memo(("pairwise", query, stored, fn, stored_first), compute)

    def spelling_matched(self, a: str, b: str, threshold: float) -> np.ndarray:
        """How many elements of ``a`` (repeats counted) have a partner in ``b`` at edit
        similarity >= ``threshold`` (``PairColumns.spelling_matched``)."""
        (base_a, left_a), (base_b, left_b) = column_side(a), column_side(b)
        return self._memo(
            ("spelling", base_a, left_a, base_b, left_b, threshold),
            lambda: self._spelling(base_a, left_a, base_b, left_b, threshold),
        )

    def _spelling(
        self, base_a: str, left_a: bool, base_b: str, left_b: bool, threshold: float
    ) -> np.ndarray:
        _, seg_a, vals_a = self._raw(base_a, left_a)
        _, seg_b, vals_b = self._raw(base_b, left_b)
        keep_a, keep_b = vals_a >= 0, vals_b >= 0
        seg_a, vals_a, seg_b, vals_b = seg_a[keep_a], vals_a[keep_a], seg_b[keep_b], vals_b[keep_b]
        if len(vals_a) == 0 or len(vals_b) == 0:
            return np.zeros(self.n, dtype=np.int64)
        # every element of a against every element of b in the same pair
        n_b = np.bincount(seg_b, minlength=self.n)
        start_b = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(n_b, out=start_b[1:])
        per_a = n_b[seg_a]
        element = np.repeat(np.arange(len(vals_a)), per_a)
        ends = np.cumsum(per_a)
        pos_b = np.repeat(start_b[seg_a] - (ends - per_a), per_a) + np.arange(int(ends[-1]))
        close = self._close(vals_a[element], vals_b[pos_b], threshold)
        found = np.zeros(len(vals_a), dtype=bool)
        found[element[close]] = True
        return np.bincount(seg_a, weights=found, minlength=self.n).astype(np.int64)

    def _close(self, x: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
        """Edit similarity >= ``threshold`` of code pairs, computed once per distinct pair."""
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cpdist

        if len(x) == 0:
            return np.zeros(0, dtype=bool)
        combos, inverse = distinct_inverse(x * self._width + y)
        strings = self.stored.strings
        first = [strings[c] for c in (combos // self._width).tolist()]
        second = [strings[c] for c in (combos % self._width).tolist()]
        dist = cpdist(
            [s.encode() for s in first],
            [s.encode() for s in second],
            scorer=Levenshtein.distance,
            dtype=np.int64,
        ).astype(float)
        longer = np.maximum(
            np.fromiter(map(len, first), dtype=float, count=len(first)),
            np.fromiter(map(len, second), dtype=float, count=len(second)),
        )
        return ((1.0 - dist / np.maximum(longer, 1.0)) >= threshold)[inverse.reshape(-1)]


def distinct_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` without the sort: pandas' hash-based
    factorize is linear where ``np.unique`` argsorts (the sweep's task function on 11.7M
    pairs: 73.3 -> 62.2 s, benchmarks/bench_pair_scoring.py, docs/benchmarks.md). The
    distinct values come in first-seen order, which no caller depends on: each maps its
    results back through the inverse."""
    import pandas as pd

    inverse, distinct = pd.factorize(values, sort=False, use_na_sentinel=False)
    return np.asarray(distinct), np.asarray(inverse, dtype=np.int64)


def _shared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The keys in both ``a`` and ``b``: two sorted arrays, each without repeats.

    A stable sort of the two concatenated is a linear merge of two runs (three times
    quicker here than a binary search of one in the other), after which a key in both
    sits next to itself.
    """
    merged = np.concatenate([a, b])
    merged.sort(kind="stable")
    same = merged[1:] == merged[:-1]
    return merged[1:][same]


_MISSING = object()
