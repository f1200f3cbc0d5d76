"""Many pairs at once (``InProcessScorer.score_pairs``) score exactly as one query at a time.

``PairBatch`` evaluates the same level predicates as ``PairColumns`` over a batch of
pairs of stored rows, with different records on the left. ``PairColumns`` is held to
Splink's SQL by ``test_realtime_parity.py``; here the batch is held to ``PairColumns``,
pair by pair: the same gamma for every comparison and the same weights, on the sample's
candidate pairs and on hypothesis-drawn prepared rows (NULL and empty lists, repeats,
arbitrary Unicode, edit similarity at its boundary).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.matching.inprocess import InProcessScorer, Scores, StoredColumns
from kinlink.matching.realtime import MatchIndex

from .test_realtime_parity import SAMPLE, _edge_rows, _prepared_rows, _random_model


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    """Every sample record stored, a model with a weight on every level."""
    idx = MatchIndex(pd.read_csv(SAMPLE, dtype=str, keep_default_na=False), _random_model(7))
    idx._compile()
    return idx


def _assert_batch_equals_queries(
    scorer: InProcessScorer, table: pa.Table, left: np.ndarray, right: np.ndarray
) -> None:
    batch = scorer.score_pairs(left, right)
    rows = table.to_pylist()
    for q in np.unique(left).tolist():
        mine = np.flatnonzero(left == q)
        one = scorer.score(rows[q], right[mine])
        _assert_equal(batch, mine, one, f"left row {q}")


def _assert_equal(batch: Scores, where: np.ndarray, one: Scores, label: str) -> None:
    for name, gamma in one.gamma.items():
        assert np.array_equal(batch.gamma[name][where], gamma), f"{name}: {label}"
        assert np.array_equal(batch.mw[name][where], one.mw[name]), f"{name}: {label}"
    for name, adj in one.tf_adj.items():
        assert np.array_equal(batch.tf_adj[name][where], adj), f"tf {name}: {label}"
    assert np.array_equal(batch.match_weight[where], one.match_weight), label
    assert np.array_equal(batch.match_probability[where], one.match_probability), label


def sample_pairs(index: MatchIndex, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """60 sample records against their candidates and 40 unrelated records each,
    shuffled: (left rows, right rows)."""
    rng = np.random.default_rng(seed)
    left, right = [], []
    for q in rng.choice(len(index.prepared), 60, replace=False).tolist():
        keys = {"block_keys": index.prepared["block_keys"].iloc[q]}
        record = index._arrow.slice(q, 1).to_pylist()[0]
        rows = np.concatenate(
            [index.candidate_rows({**record, **keys}), rng.choice(len(index.prepared), 40)]
        )
        left.append(np.full(len(rows), q))
        right.append(rows)
    order = rng.permutation(sum(len(r) for r in right))
    return np.concatenate(left)[order], np.concatenate(right)[order]


def test_sample_candidates_in_one_batch(index: MatchIndex) -> None:
    """60 sample records against their candidates and unrelated records, shuffled."""
    scorer = index._in_process
    assert scorer is not None
    lefts, rights = sample_pairs(index, 11)
    assert len(lefts) > 3_000
    _assert_batch_equals_queries(scorer, index._arrow, lefts, rights)
    # the batch reaches most levels (a guard on coverage, not a parity condition)
    batch = scorer.score_pairs(lefts, rights)
    assert sum(len(np.unique(g)) for g in batch.gamma.values()) >= 55


def _every_pair(scorer: InProcessScorer, table: pa.Table) -> None:
    n = table.num_rows
    left, right = np.divmod(np.arange(n * n), n)
    _assert_batch_equals_queries(scorer, table, left, right)


def test_edge_rows_in_one_batch(index: MatchIndex) -> None:
    table = pa.Table.from_pylist(_edge_rows(index._arrow.schema), schema=index._arrow.schema)
    assert index._in_process is not None
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(table), tf_tables=index._in_process.tf
    )
    _every_pair(scorer, table)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_prepared_rows_drawn_directly_in_one_batch(index: MatchIndex, data: Any) -> None:
    schema = index._arrow.schema
    table = pa.Table.from_pylist(data.draw(_prepared_rows(schema)), schema=schema)
    assert index._in_process is not None
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(table), tf_tables=index._in_process.tf
    )
    _every_pair(scorer, table)


def test_empty_batch(index: MatchIndex) -> None:
    scorer = index._in_process
    assert scorer is not None
    empty = np.empty(0, dtype=np.int64)
    scores = scorer.score_pairs(empty, empty)
    assert len(scores.match_weight) == 0


def test_levels_expand_to_the_long_way_s_explanations(index: MatchIndex) -> None:
    """A scored pair's levels (what the sweep stores), expanded with the model's layout
    and the two rows, give exactly the dicts of ``contributions(explain_row(...))`` with
    ``max_gamma`` (real-time matching's), which the parity tests hold to Splink's
    explain-mode output: the layout's per-level weights are the scorer's."""
    import orjson

    from kinlink.matching.inprocess import explain_row, explanation_layout
    from kinlink.store.database import json_text

    scorer = index._in_process
    assert scorer is not None
    layout = explanation_layout(index.model.settings_for("duckdb"), index.model.max_gammas())
    rows = index._arrow.to_pylist()
    rng = np.random.default_rng(2)
    left = rng.choice(len(rows), 400)
    right = rng.choice(len(rows), 400)
    scores = scorer.score_pairs(left, right)
    max_gamma = index.model.max_gammas()
    for i in range(len(left)):
        a, b = rows[int(left[i])], rows[int(right[i])]
        expected = [
            {**c.as_dict(), "max_gamma": max_gamma.get(c.comparison, c.gamma)}
            for c in index.explainer.contributions(explain_row(scores, i, a, b, index._columns))
        ]
        levels = layout.levels(
            [int(scores.gamma[c.name][i]) for c in layout.comparisons],
            [float(scores.tf_adj[name][i]) for name in layout.tf_comparisons],
        )
        got = layout.expand(orjson.loads(json_text(levels)), a, b)
        assert got == expected
        assert [list(d) for d in got] == [list(d) for d in expected]  # same key order
