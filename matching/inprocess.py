"""Comparison levels evaluated in-process: one new record against many stored ones.

Why: the real-time path used to score candidates by re-running the model's Splink
SQL on DuckDB, and DuckDB spent ~130 ms *planning* that 47 KB statement on every
query, before scoring anything. Here the same levels are evaluated with numpy (and
rapidfuzz for edit distances) over the stored records' prepared columns, then the
model's per-level match weights and term-frequency adjustments are summed exactly
as Splink's scoring SQL sums them. No SQL is planned per query.

Each level's in-process predicate is written next to its SQL in
:mod:`kinlink.matching.comparisons` (the ``py=`` of ``_level``); this module only
provides the vocabulary those predicates use (:class:`PairColumns`, whose methods
mirror :class:`~kinlink.matching.comparisons.SqlFunctions` and follow DuckDB's
semantics: NULL compares as false, ``levenshtein`` counts UTF-8 bytes while
``length`` counts code points) and the scorer. ``tests/matching/test_realtime_parity.py``
holds the two paths to identical gammas, weights and explanations.

The left side is always one record (the query), so every primitive is "one value or
one set against a column of candidates": the stored list columns are kept as integer
codes in CSR form (offsets + flat codes over one string vocabulary) and a query only
gathers the candidates' slices.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinlink.matching.encoded import NULL_CODE, EncodedColumns, encode_table
from kinlink.matching.explain import Explainer, ExplanationLayout
from kinlink.matching.pair_batch import (
    DistinctLists,
    MemoisedView,
    PairBatch,
    column_side,
    distinct_inverse,
)

#: Code of a missing value (SQL NULL); a query value absent from the stored
#: vocabulary gets ``_UNKNOWN``, which equals nothing stored.
_NULL, _UNKNOWN = NULL_CODE, -2


class StoredColumns:
    """The stored records' model-input columns, encoded once for in-process scoring.

    List columns become CSR arrays of string codes (one vocabulary for every column,
    so cross-column tests such as caregiver vs relatives compare codes); string
    columns become code arrays; integer columns float arrays with NaN for NULL (exact
    for years). Raw values stay available for the predicates that need the text
    (edit distances, dates), looked up once per distinct value.
    """

    def __init__(self, table: pa.Table | None, encoded: EncodedColumns | None = None) -> None:
        """Encode ``table``, or adopt ``encoded`` (its rows; ``table`` may then be
        None: the scorer needs only the codes)."""
        if encoded is None:
            if table is None:
                raise ValueError("StoredColumns needs a table or its encoding")
            encoded = encode_table(table)
        self.table = table
        self.n = encoded.n
        self._lists = encoded.lists
        self._scalars = encoded.scalars
        self._numbers = encoded.numbers
        self._dictionary = encoded.dictionary  # the strings, for Arrow lookups
        self.strings: list[str] = encoded.dictionary.to_pylist()
        self._codes: dict[str, int] | None = None  # built when a query value is looked up
        # The first element of each list (SQL ``arr[1]``): NULL when empty.
        self._firsts: dict[str, np.ndarray] = {}
        self._distinct: dict[str, DistinctLists] = dict(encoded.distinct)
        self._integers = set(encoded.integers)

    @classmethod
    def from_encoded(cls, encoded: EncodedColumns) -> StoredColumns:
        """Columns encoded before (the sweep keeps them with its prepared cache)."""
        return cls(None, encoded)

    def term_frequencies(self, column: str) -> np.ndarray:
        """Splink's term frequency of each code of a string column (count / non-NULL
        count; 0 for codes the column never holds), indexed by code: from the codes,
        so an encoding needs no table. The floats are Splink's: an exact integer
        count over an exact float total."""
        codes = self.scalar_column(column)
        known = codes[codes >= 0]
        counts = np.bincount(known, minlength=len(self.strings))
        return counts / float(len(known)) if len(known) else counts.astype(float)

    def code(self, value: Any) -> int:
        """A query value's code: ``_NULL`` for None, ``_UNKNOWN`` if never stored."""
        if value is None:
            return _NULL
        return self.codes.get(value, _UNKNOWN)

    @property
    def codes(self) -> dict[str, int]:
        """String -> code, built on first use: the sweep never looks a value up, and
        at a million records the dictionary costs seconds."""
        if self._codes is None:
            self._codes = {s: i for i, s in enumerate(self.strings)}
        return self._codes

    def codes_of(self, values: Sequence[str]) -> np.ndarray:
        """Codes of many values at once (``_UNKNOWN`` for those never stored)."""
        if not values:
            return np.empty(0, dtype=np.int64)
        found = pc.index_in(pa.array(values, type=pa.large_string()), value_set=self._dictionary)
        return pc.fill_null(found, _UNKNOWN).to_numpy(zero_copy_only=False).astype(np.int64)

    def has_list(self, name: str) -> bool:
        return name in self._lists

    def list_column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self._lists[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a list column of the stored table") from None

    def scalar_column(self, name: str) -> np.ndarray:
        try:
            return self._scalars[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a string column of the stored table") from None

    def number_column(self, name: str) -> np.ndarray:
        try:
            return self._numbers[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a number column of the stored table") from None

    def distinct_lists(self, name: str) -> DistinctLists:
        """A list column's distinct non-NULL codes per row (for :class:`PairBatch`)."""
        out = self._distinct.get(name)
        if out is None:
            offsets, flat = self.list_column(name)
            out = self._distinct[name] = DistinctLists(offsets, flat, len(self.strings) + 1)
        return out

    def build_distinct_lists(self) -> None:
        """Every list column's :meth:`distinct_lists` now (before forking workers, so
        they share them instead of each building its own)."""
        for name in self._lists:
            self.distinct_lists(name)

    def first_column(self, name: str) -> np.ndarray:
        out = self._firsts.get(name)
        if out is None:
            offsets, flat = self.list_column(name)
            out = np.full(self.n, _NULL, dtype=np.int64)
            filled = offsets[1:] > offsets[:-1]
            out[filled] = flat[offsets[:-1][filled]]
            self._firsts[name] = out
        return out


class PairColumns(MemoisedView):
    """One query record (``_l``) against some stored rows (``_r``): the predicates' view.

    Methods mirror :class:`~kinlink.matching.comparisons.SqlFunctions` and return
    numpy arrays over the rows (or a scalar for a query-only expression, which numpy
    broadcasts). Boolean results follow SQL's WHEN: a NULL comparison is false. Every
    result is cached for the query, so levels may repeat sub-expressions freely.
    """

    def __init__(self, stored: StoredColumns, rows: np.ndarray, left: Mapping[str, Any]) -> None:
        self.stored = stored
        self.rows = rows
        self.n = len(rows)
        self.left = left
        self._cache: dict[tuple[Any, ...], Any] = {}

    # -- gathering ---------------------------------------------------------------------
    def _gather(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lengths per row, row index per element, code per element) of a list column."""

        def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            offsets, flat = self.stored.list_column(name)
            starts = offsets[self.rows]
            lengths = offsets[self.rows + 1] - starts
            total = int(lengths.sum())
            seg = np.repeat(np.arange(self.n), lengths)
            ends = np.cumsum(lengths)
            pos = np.arange(total) - np.repeat(ends - lengths - starts, lengths)
            return lengths, seg, flat[pos]

        return self._memo(("gather", name), compute)

    def _left_list(self, name: str) -> list[Any]:
        value = self.left.get(name)
        if value is None:
            return []
        return list(value)

    def _left_codes(self, name: str) -> np.ndarray:
        """Distinct codes of the query's list (NULL elements dropped, as SQL ignores them)."""

        def compute() -> np.ndarray:
            codes = {self.stored.code(v) for v in self._left_list(name) if v is not None}
            return np.fromiter(sorted(codes), dtype=np.int64, count=len(codes))

        return self._memo(("left_codes", name), compute)

    def _presence(self, list_r: str, codes: np.ndarray) -> np.ndarray:
        """rows x codes: whether each query code is an element of each row's list."""
        _, seg, vals = self._gather(list_r)
        out = np.zeros((self.n, len(codes)), dtype=bool)
        known = codes[codes >= 0]
        if len(known) and len(vals):
            hit_e, hit_k = np.nonzero(vals[:, None] == known[None, :])
            out[seg[hit_e], np.searchsorted(codes, known)[hit_k]] = True
        return out

    def _scalar_codes(self, column: str) -> np.ndarray | int:
        base, left = column_side(column)
        if left:
            return self.stored.code(self.left.get(base))
        return self._memo(("scalar", base), lambda: self.stored.scalar_column(base)[self.rows])

    # -- the SqlFunctions vocabulary ----------------------------------------------------
    def size(self, column: str) -> np.ndarray | int:
        """``coalesce(array_length(arr), 0)``: elements, repeats included."""
        base, left = column_side(column)
        if left:
            return len(self._left_list(base))
        return self._gather(base)[0]

    def common(self, a: str, b: str) -> np.ndarray:
        """Distinct non-NULL elements two lists share (0 when either is NULL)."""
        (base_a, left_a), (base_b, _) = column_side(a), column_side(b)
        query, stored = (base_a, base_b) if left_a else (base_b, base_a)
        return self._memo(
            ("common", query, stored),
            lambda: self._presence(stored, self._left_codes(query)).sum(axis=1),
        )

    def overlaps(self, a: str, b: str) -> np.ndarray:
        """Whether two lists share a non-NULL element."""
        return self.common(a, b) >= 1

    def contains(self, arr: str, value: str) -> np.ndarray:
        """``coalesce(list_contains(arr, value), false)``."""
        (arr_base, arr_left), (value_base, _) = column_side(arr), column_side(value)
        if arr_left:  # the query's list, a stored value

            def compute() -> np.ndarray:
                codes = self._scalar_codes(value)
                return (codes >= 0) & np.isin(codes, self._left_codes(arr_base))

            return self._memo(("contains_l", arr_base, value_base), compute)
        code = self.stored.code(self.left.get(value_base))

        def compute_r() -> np.ndarray:
            return self._presence(arr_base, np.array([code], dtype=np.int64))[:, 0]

        return self._memo(("contains_r", arr_base, value_base), compute_r)

    def first(self, column: str) -> np.ndarray | int:
        """Codes of ``arr[1]`` (NULL when the list is empty), for :meth:`eq`."""
        base, left = column_side(column)
        if left:
            items = self._left_list(base)
            return self.stored.code(items[0]) if items else _NULL
        return self._memo(("first", base), lambda: self.stored.first_column(base)[self.rows])

    def value(self, column: str) -> np.ndarray | int:
        """Codes of a string column, for :meth:`eq`."""
        return self._scalar_codes(column)

    def eq(self, a: str | np.ndarray | int, b: str | np.ndarray | int) -> np.ndarray:
        """``a = b`` on strings (column names or codes from :meth:`first`/:meth:`value`)."""
        x = self._scalar_codes(a) if isinstance(a, str) else a
        y = self._scalar_codes(b) if isinstance(b, str) else b
        return np.broadcast_to((np.asarray(x) == y) & (np.asarray(x) != _NULL), (self.n,))

    def isnull(self, column: str) -> np.ndarray | bool:
        """``column is null`` for a string or number column."""
        base, left = column_side(column)
        if left:
            value = self.left.get(base)
            return value is None or (isinstance(value, float) and math.isnan(value))
        if base in self.stored._numbers:
            return np.isnan(self.num(column))
        return self._scalar_codes(column) == _NULL

    def num(self, column: str) -> np.ndarray | float:
        """A number column as floats, NaN for NULL (comparisons with NaN are false, as
        SQL's with NULL; use ``np.fmax``/``np.fmin`` for ``greatest``/``least``, which
        skip NULLs)."""
        base, left = column_side(column)
        if left:
            value = self.left.get(base)
            return math.nan if value is None else float(value)
        return self._memo(("num", base), lambda: self.stored.number_column(base)[self.rows])

    def pairwise(
        self, a: str, b: str, fn: Callable[[Any, Any], float], *, stored_first: bool = False
    ) -> np.ndarray:
        """``fn(query value, stored value)`` of two string columns, NaN where either is
        NULL; ``fn`` runs once per distinct stored value (dates, codes repeat).
        ``stored_first`` passes the stored value first (for ``fn(b, a)``-shaped SQL)."""
        (base_a, left_a), (base_b, _) = column_side(a), column_side(b)
        query, stored = (base_a, base_b) if left_a else (base_b, base_a)

        def compute() -> np.ndarray:
            codes = self._scalar_codes(stored + "_r")
            out = np.full(self.n, np.nan)
            mine = self.left.get(query)
            if mine is None or self.n == 0:
                return out
            distinct, inverse = distinct_inverse(codes)
            strings = self.stored.strings
            results = np.array(
                [
                    math.nan
                    if c < 0
                    else float(fn(strings[c], mine) if stored_first else fn(mine, strings[c]))
                    for c in distinct
                ]
            )
            return results[inverse.reshape(-1)]

        return self._memo(("pairwise", query, stored, fn, stored_first), compute)

    def spelling_matched(self, a: str, b: str, threshold: float) -> np.ndarray:
        """How many elements of ``a`` have a partner in ``b`` at edit similarity
        >= ``threshold`` (``SqlFunctions.matched_tokens``): similarity is
        ``1.0 - levenshtein(x, y) / greatest(length(x), length(y), 1)`` with DuckDB's
        units, UTF-8 bytes for the distance and code points for the lengths."""
        (base_a, left_a), (base_b, _) = column_side(a), column_side(b)
        query, stored = (base_a, base_b) if left_a else (base_b, base_a)
        return self._memo(
            ("spelling", base_a, left_a, base_b, threshold),
            lambda: self._spelling(query, stored, left_a, threshold),
        )

    def _spelling(self, query: str, stored: str, count_query: bool, threshold: float) -> np.ndarray:
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cdist

        mine = [v for v in self._left_list(query) if v is not None]
        _, seg, vals = self._gather(stored)
        if not mine or len(vals) == 0:
            return np.zeros(self.n, dtype=np.int64)
        keep = vals >= 0
        seg, vals = seg[keep], vals[keep]
        distinct, inverse = distinct_inverse(vals)
        theirs = [self.stored.strings[c] for c in distinct]
        dist = cdist(
            [s.encode() for s in mine],
            [s.encode() for s in theirs],
            scorer=Levenshtein.distance,
            dtype=np.int64,
        ).astype(float)
        longer = np.maximum.outer(
            np.array([len(s) for s in mine], dtype=float),
            np.array([len(s) for s in theirs], dtype=float),
        )
        close = (1.0 - dist / np.maximum(longer, 1.0)) >= threshold  # len(mine) x len(distinct)
        per_element = close[:, inverse.reshape(-1)]  # len(mine) x elements
        if count_query:
            # each query element (repeats counted) with a close element in the row
            found = np.zeros((len(mine), self.n), dtype=bool)
            hit_q, hit_e = np.nonzero(per_element)
            found[hit_q, seg[hit_e]] = True
            return found.sum(axis=0)
        # each stored element (repeats counted) with a close query element
        return np.bincount(seg, weights=per_element.any(axis=0), minlength=self.n).astype(np.int64)


@dataclass(frozen=True)
class _Level:
    gamma: int
    label: str
    predicate: Callable[[PairColumns], Any] | None  # None: the ELSE level
    match_weight: float
    tf_column: str | None
    tf_weight: float
    tf_log2_u: float
    tf_min_u: float


@dataclass(frozen=True)
class _Comparison:
    name: str
    levels: tuple[_Level, ...]


@dataclass
class Scores:
    """Scored candidates, as the SQL's output columns (one array per column)."""

    rows: np.ndarray
    match_weight: np.ndarray
    match_probability: np.ndarray
    gamma: dict[str, np.ndarray]
    mw: dict[str, np.ndarray]
    tf_adj: dict[str, np.ndarray]
    #: Which of the scored pairs these are, when a floor dropped some (None: all).
    positions: np.ndarray | None = None


def _parsed(splink_settings: Mapping[str, Any]) -> Any:
    """Splink's ``Settings`` object of a model's settings dict."""
    from splink.internals.settings_creator import SettingsCreator

    dialect = splink_settings.get("sql_dialect", "duckdb")
    return SettingsCreator.from_path_or_dict(dict(splink_settings)).get_settings(dialect)


def _comparisons(settings: Any) -> tuple[float, tuple[_Comparison, ...]]:
    """The prior weight and each comparison's levels with their in-process predicates,
    from Splink's ``Settings`` object (:func:`_parsed`)."""
    from splink.internals.misc import prob_to_match_weight

    from kinlink.matching.comparisons import build_comparisons

    dialect = settings._sql_dialect_str
    prior_weight = prob_to_match_weight(settings._probability_two_random_records_match)
    definitions = {c._output_column_name: c._comparison_levels for c in build_comparisons(dialect)}
    comparisons = []
    for comparison in settings.comparisons:
        name = comparison.output_column_name
        defined = definitions.get(name)
        levels = comparison.comparison_levels
        if defined is None or [lv.label_for_charts for lv in levels] != [
            d.label_for_charts for d in defined
        ]:
            raise ValueError(
                f"the model's comparison {name!r} is not one of this kinlink's; it can "
                "only be scored with scorer='sql' (or retrain the model)"
            )
        out = []
        for level, definition in zip(levels, defined, strict=True):
            predicate = getattr(definition, "kinlink_py", None)
            if predicate is None and not level._is_else_level:
                raise ValueError(
                    f"level {level.label_for_charts!r} of {name!r} has no in-process "
                    "predicate (py=) in kinlink.matching.comparisons"
                )
            tf = (
                level._has_tf_adjustments
                and level._tf_adjustment_weight != 0
                and not level._is_else_level
                and level.comparison_vector_value != -1
            )
            out.append(
                _Level(
                    gamma=level.comparison_vector_value,
                    label=level.label_for_charts,
                    predicate=None if level._is_else_level else predicate,
                    match_weight=level._match_weight,
                    tf_column=level._tf_adjustment_input_column_name if tf else None,
                    tf_weight=level._tf_adjustment_weight if tf else 0.0,
                    tf_log2_u=(
                        math.log2(level._u_probability_corresponding_to_exact_match(levels))
                        if tf
                        else 0.0
                    ),
                    tf_min_u=level._tf_minimum_u_value if tf else 0.0,
                )
            )
        comparisons.append(_Comparison(name, tuple(out)))
    return prior_weight, tuple(comparisons)


def explanation_layout(
    splink_settings: Mapping[str, Any], max_gamma: Mapping[str, int]
) -> ExplanationLayout:
    """The :class:`~kinlink.matching.explain.ExplanationLayout` of a model's pairs as this
    scorer scores them (its level weights and term-frequency comparisons)."""
    settings = _parsed(splink_settings)
    _, comparisons = _comparisons(settings)
    weights = {c.name: {lv.gamma: lv.match_weight for lv in c.levels} for c in comparisons}
    tf = {c.name for c in comparisons if any(lv.tf_column for lv in c.levels)}
    return Explainer(splink_settings, settings).layout(weights, tf, max_gamma)


class InProcessScorer:
    """The model's Fellegi-Sunter sum, evaluated with the levels' ``py`` predicates.

    Numbers come from Splink's own objects (``_match_weight``, the exact-match u of
    term-frequency levels, the prior's ``prob_to_match_weight``), so they are the very
    floats Splink writes into its SQL; the sum runs in the SQL's order.
    """

    def __init__(
        self,
        splink_settings: Mapping[str, Any],
        stored: StoredColumns,
        tf_tables: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        """``tf_tables`` (column -> value -> frequency) default to the stored table's own,
        as Splink computes them on the table it scores against."""
        self.prior_weight, self.comparisons = _comparisons(_parsed(splink_settings))
        self._ceilings: dict[str, float] | None = None
        self._order = _PruningOrder(self.comparisons)
        self.stored = stored
        tf_columns = {lv.tf_column for c in self.comparisons for lv in c.levels if lv.tf_column}
        self._tf: dict[str, Mapping[str, float]] | None = None
        self._tf_by_code: dict[str, np.ndarray] = {}
        if tf_tables is None:
            # the stored rows' own frequencies, counted on their codes
            self._tf_by_code = {c: stored.term_frequencies(c) for c in sorted(tf_columns)}
            self._tf_stored = {
                c: _by_row(stored.scalar_column(c), f) for c, f in self._tf_by_code.items()
            }
        else:
            self._tf = {c: tf_tables[c] for c in sorted(tf_columns)}
            # Each stored row's frequency (NaN: NULL, or a value the tables do not hold).
            self._tf_stored = {
                c: _stored_frequencies(stored, c, table) for c, table in self._tf.items()
            }

    @property
    def tf(self) -> dict[str, Mapping[str, float]]:
        """Term-frequency tables (column -> value -> frequency), what a query's own
        values are looked up in; built on first use (the sweep never needs them)."""
        if self._tf is None:
            self._tf = {
                c: {self.stored.strings[i]: float(f[i]) for i in np.flatnonzero(f > 0).tolist()}
                for c, f in self._tf_by_code.items()
            }
        return self._tf

    def score(self, left: Mapping[str, Any], rows: np.ndarray) -> Scores:
        """Gammas, weights and probabilities of ``left`` against stored ``rows``."""
        view = PairColumns(self.stored, rows, left)

        def tf_left(column: str) -> Any:
            return self.tf[column].get(left.get(column), math.nan)  # type: ignore[arg-type]

        return self._sum(view, rows, tf_left)

    def score_pairs(
        self, left_rows: np.ndarray, right_rows: np.ndarray, floor: float | None = None
    ) -> Scores:
        """The same for pairs of stored rows (``left_rows[i]`` with ``right_rows[i]``),
        all at once (:class:`~kinlink.matching.pair_batch.PairBatch`).

        With a ``floor`` (a match weight), pairs that provably cannot reach it are
        dropped part-way (:meth:`_score_pruned`) and the result holds the others only,
        ``Scores.positions`` saying which; their numbers are the unpruned ones, bit for
        bit. Callers still apply their own cut: a few returned pairs fall below it.
        """
        if floor is not None:
            return self._score_pruned(
                np.asarray(left_rows, np.int64), np.asarray(right_rows, np.int64), floor
            )
        view = PairBatch(self.stored, left_rows, right_rows, self.stored.distinct_lists)
        return self._sum(view, view.sides[1], lambda column: self._tf_stored[column][view.sides[0]])

    def _sum(
        self, view: PairColumns | PairBatch, rows: np.ndarray, tf_left: Callable[[str], Any]
    ) -> Scores:
        """Each comparison's first level whose predicate holds, and the weights summed in
        the SQL's order. ``rows``: the right records; ``tf_left(column)``: the left
        records' term frequencies (one value, or one per pair)."""
        levels = {c.name: self._levels(c, view, rows, tf_left) for c in self.comparisons}
        return self._total(rows, levels)

    def _levels(
        self,
        comparison: _Comparison,
        view: PairColumns | PairBatch,
        rows: np.ndarray,
        tf_left: Callable[[str], Any],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One comparison's (gamma, match weight, tf adjustment or None) per pair."""
        n = len(rows)
        gamma = np.empty(n, dtype=np.int64)
        weight = np.empty(n)
        adj = np.zeros(n)
        todo = np.ones(n, dtype=bool)
        for level in comparison.levels:
            if level.predicate is None:
                hit = todo.copy()
            else:
                hit = todo & np.broadcast_to(np.asarray(level.predicate(view), bool), (n,))
            gamma[hit] = level.gamma
            weight[hit] = level.match_weight
            if level.tf_column is not None and hit.any():
                tf_l = np.broadcast_to(np.asarray(tf_left(level.tf_column), float), (n,))
                adj[hit] = _tf_adjustment(
                    level, tf_l[hit], self._tf_stored[level.tf_column][rows[hit]]
                )
            todo &= ~hit
        if todo.any():  # a comparison without an ELSE level: Splink's CASE gives NULL
            raise ValueError(f"comparison {comparison.name!r} left pairs without a level")
        has_tf = any(lv.tf_column for lv in comparison.levels)
        return gamma, weight, adj if has_tf else None

    def _total(
        self,
        rows: np.ndarray,
        levels: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]],
        positions: np.ndarray | None = None,
    ) -> Scores:
        """Weights summed in the SQL's order (the prior, then each comparison's weight
        and its tf adjustment), so the floats are Splink's."""
        total = np.full(len(rows), self.prior_weight)
        gammas, weights, adjustments = {}, {}, {}
        for comparison in self.comparisons:
            gamma, weight, adj = levels[comparison.name]
            gammas[comparison.name], weights[comparison.name] = gamma, weight
            total = total + weight
            if adj is not None:
                adjustments[comparison.name] = adj
                total = total + adj
        return Scores(rows, total, _probability(total), gammas, weights, adjustments, positions)

    def _score_pruned(self, left: np.ndarray, right: np.ndarray, floor: float) -> Scores:
        """``score_pairs`` with pairs dropped once they cannot reach ``floor``.

        Why: nine in ten of a sweep's or a dedupe's candidate pairs end below the
        kept minimum (docs/benchmarks.md). After each comparison a pair's best
        possible total is what it has so far plus every remaining comparison's
        largest contribution to it (:meth:`_pair_ceilings`); a pair whose best is
        below ``floor`` is dropped, and the next comparisons run on fewer pairs. The
        survivors' numbers are then summed as :meth:`_total` sums them, so they are
        the unpruned floats exactly; a small margin keeps rounding in the bound from
        dropping a pair that reaches ``floor``.

        The order of the comparisons changes which hopeless pairs are dropped when,
        never the pairs that reach ``floor`` nor their numbers: cheap comparisons
        that take much off the best possible total go first (:class:`_PruningOrder`,
        learnt from this scorer's earlier calls).
        """
        distinct = self.stored.distinct_lists
        alive = np.arange(len(left))  # positions of the pairs still in the running
        done: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        partial = np.full(len(left), self.prior_weight)
        ceilings = self._pair_ceilings(left, right)
        ahead = sum(ceilings.values())
        view: PairBatch | None = None
        sel: np.ndarray | None = None  # the view covers a superset of ``alive``
        for comparison in self._order.comparisons():
            if len(alive) == 0:  # nothing left to score: the rest are empty columns
                has_tf = any(lv.tf_column for lv in comparison.levels)
                done[comparison.name] = (
                    np.empty(0, np.int64),
                    np.empty(0),
                    np.empty(0) if has_tf else None,
                )
                continue
            if view is None or len(alive) < _REBUILD_SHARE * view.n:
                view, sel = PairBatch(self.stored, left[alive], right[alive], distinct), None
            started = time.perf_counter()
            gamma, weight, adj = self._levels(
                comparison,
                view,
                view.sides[1],
                lambda c, lefts=view.sides[0]: self._tf_stored[c][lefts],
            )
            took = time.perf_counter() - started
            if sel is not None:
                gamma, weight = gamma[sel], weight[sel]
                adj = None if adj is None else adj[sel]
            done[comparison.name] = (gamma, weight, adj)
            gained = weight if adj is None else weight + adj
            ceiling = ceilings.pop(comparison.name)
            self._order.observe(comparison.name, took / view.n, float(np.mean(ceiling - gained)))
            partial = partial + gained
            ahead = ahead - ceiling
            keep = partial + ahead >= floor - _BOUND_MARGIN
            if not keep.all():
                kept = np.flatnonzero(keep)
                alive, partial = alive[kept], partial[kept]
                if isinstance(ahead, np.ndarray):
                    ahead = ahead[kept]
                ceilings = {
                    k: v[kept] if isinstance(v, np.ndarray) else v for k, v in ceilings.items()
                }
                done = {
                    name: (g[kept], w[kept], None if a is None else a[kept])
                    for name, (g, w, a) in done.items()
                }
                sel = kept if sel is None else sel[kept]
        return self._total(right[alive], done, alive)

    def _pair_ceilings(self, left: np.ndarray, right: np.ndarray) -> dict[str, Any]:
        """Each comparison's largest possible contribution to each pair: a number, or
        per pair where a level has a tf adjustment, which the pair's own term
        frequencies fix before any level is evaluated (a common given name cannot
        earn a rare name's bonus). The adjustment is :func:`_tf_adjustment`'s own, so
        the level a pair reaches never scores above it."""
        out: dict[str, Any] = {}
        for comparison in self.comparisons:
            if not any(lv.tf_column for lv in comparison.levels):
                out[comparison.name] = self.ceilings[comparison.name]
                continue
            best = np.full(len(left), -np.inf)
            for level in comparison.levels:
                if level.tf_column is None:
                    np.maximum(best, level.match_weight, out=best)
                    continue
                tf = self._tf_stored[level.tf_column]
                adj = _tf_adjustment(level, tf[left], tf[right])
                np.maximum(best, level.match_weight + adj, out=best)
            out[comparison.name] = best
        return out

    @property
    def ceilings(self) -> dict[str, float]:
        """Each comparison's largest possible contribution: its best level's weight
        plus the largest tf adjustment any stored frequency can give."""
        if self._ceilings is None:
            self._ceilings = {
                c.name: max(self._level_ceiling(lv) for lv in c.levels) for c in self.comparisons
            }
        return self._ceilings

    def _level_ceiling(self, level: _Level) -> float:
        if level.tf_column is None:
            return level.match_weight
        # adjustment = w * (log2 u - log2 g), g = greatest(tf_l, tf_r, min_u) in
        # [lowest, 1], or 0 when both sides are NULL: largest at one end or the other
        by_code = self._tf_by_code.get(level.tf_column)
        if by_code is not None:
            present = by_code[by_code > 0]
            smallest = float(present.min()) if len(present) else 1.0
        else:
            smallest = min(self.tf[level.tf_column].values(), default=1.0)
        lowest = max(smallest, level.tf_min_u)
        ends = [0.0, level.tf_weight * level.tf_log2_u]
        if lowest > 0:
            ends.append(level.tf_weight * (level.tf_log2_u - math.log2(lowest)))
        return level.match_weight + max(ends)


class _PruningOrder:
    """The order :meth:`InProcessScorer._score_pruned` evaluates comparisons in.

    A comparison is worth evaluating early when it is cheap per pair and takes much
    off a hopeless pair's best possible total (its ceiling minus what the pair got).
    Both are measured on the scorer's own calls (the model's weights and the data
    decide; a cheap identifier comparison with a large ceiling goes first on one
    store, the names on another); until a comparison has been seen, the model's
    order holds. The order affects speed only, never results.
    """

    def __init__(self, comparisons: Sequence[_Comparison]) -> None:
        self._comparisons = tuple(comparisons)
        self._seconds: dict[str, float] = {}  # per pair, summed over calls
        self._taken: dict[str, float] = {}  # mean ceiling minus contribution, summed
        self._calls: dict[str, int] = {}
        self._order = self._comparisons

    def comparisons(self) -> tuple[_Comparison, ...]:
        return self._order

    def observe(self, name: str, seconds_per_pair: float, taken: float) -> None:
        self._seconds[name] = self._seconds.get(name, 0.0) + seconds_per_pair
        self._taken[name] = self._taken.get(name, 0.0) + taken
        self._calls[name] = self._calls.get(name, 0) + 1
        if len(self._calls) == len(self._comparisons):
            self._order = tuple(sorted(self._comparisons, key=self._worth, reverse=True))

    def _worth(self, comparison: _Comparison) -> float:
        name = comparison.name
        return self._taken[name] / max(self._seconds[name], 1e-12)


#: Rebuild the batch view over the surviving pairs once fewer than this share of the
#: view's pairs survive (the gathers of later comparisons then touch fewer rows).
_REBUILD_SHARE = 0.7
#: How far below the floor a pair's bound may be before it is dropped: the bound sums
#: the same floats in another order, so it can be off by a few ulps.
_BOUND_MARGIN = 1e-6


def _by_row(codes: np.ndarray, by_code: np.ndarray) -> np.ndarray:
    """Each row's frequency from its code (NaN: NULL)."""
    out = np.full(len(codes), np.nan)
    known = codes >= 0
    out[known] = by_code[codes[known]]
    return out


def _stored_frequencies(
    stored: StoredColumns, column: str, table: Mapping[str, float]
) -> np.ndarray:
    """Each stored row's term frequency in ``column`` (NaN: NULL, or a value the table
    does not hold), looked up once per distinct value through the column's codes
    rather than once per row (a million rows cost seconds in a Python loop)."""
    codes = stored.scalar_column(column)
    by_code = np.full(len(stored.strings) + 1, np.nan)  # the extra last slot: NULL (-1)
    values = list(table)
    found = stored.codes_of(values)
    known = found >= 0
    by_code[found[known]] = np.fromiter(table.values(), dtype=float, count=len(values))[known]
    return by_code[codes]


def _tf_adjustment(level: _Level, tf_l: np.ndarray, tf_r: np.ndarray) -> np.ndarray:
    """``weight * (log2(u_exact) - log2(greatest(tf_l, tf_r, min_u)))``, 0 without tf.

    ``greatest`` skips NULLs (NaN here); both NULL gives no adjustment. The logarithm
    is Python's, taken once per distinct frequency, so the floats are those of the
    per-pair formula.
    """
    a = np.where(np.isnan(tf_l), tf_r, tf_l)
    b = np.where(np.isnan(tf_r), tf_l, tf_r)
    out = np.zeros(len(a))
    known = ~np.isnan(a)
    if known.any():
        biggest = np.maximum(np.maximum(a[known], b[known]), level.tf_min_u)
        distinct, inverse = distinct_inverse(biggest)
        logs = np.array([math.log2(v) for v in distinct.tolist()])
        out[known] = level.tf_weight * (level.tf_log2_u - logs[inverse.reshape(-1)])
    return out


def _probability(weight: np.ndarray) -> np.ndarray:
    """Splink's ``match_probability`` of a match weight, branch for branch."""
    out = np.empty_like(weight)
    pos = weight >= 0
    out[pos] = 1.0 / (1.0 + np.power(2.0, -weight[pos]))
    power = np.power(2.0, weight[~pos])
    out[~pos] = power / (1.0 + power)
    return out


def explain_row(
    scores: Scores,
    i: int,
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    columns: Sequence[str],
) -> dict[str, Any]:
    """One scored pair as the SQL's output row (what ``Explainer.contributions`` reads)."""
    row: dict[str, Any] = {}
    for name, gamma in scores.gamma.items():
        row[f"gamma_{name}"] = int(gamma[i])
        row[f"mw_{name}"] = float(scores.mw[name][i])
    for name, adj in scores.tf_adj.items():
        row[f"mw_tf_adj_{name}"] = float(adj[i])
    for column in columns:
        row[f"{column}_l"] = left.get(column)
        row[f"{column}_r"] = right.get(column)
    row["match_weight"] = float(scores.match_weight[i])
    row["match_probability"] = float(scores.match_probability[i])
    return row
