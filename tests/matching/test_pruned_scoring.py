"""Scoring with a floor (``score_pairs(..., floor=w)``) drops only pairs that cannot reach it.

The pruned scorer stops evaluating a pair once its weight so far plus the largest
contribution every remaining comparison could add is below the floor. Here it is held
to the unpruned scorer: every pair at or above the floor comes back, with exactly the
unpruned gammas, weights and probability (the same floats, summed in the same order),
on the sample's candidates, on edge rows and on hypothesis-drawn prepared rows.
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

from .test_pair_batch import sample_pairs
from .test_realtime_parity import SAMPLE, _edge_rows, _prepared_rows, _random_model


@pytest.fixture(scope="module", params=[7, 19])
def index(request: pytest.FixtureRequest) -> MatchIndex:
    """Every sample record stored, a model with random weights on every level."""
    idx = MatchIndex(
        pd.read_csv(SAMPLE, dtype=str, keep_default_na=False), _random_model(request.param)
    )
    idx._compile()
    return idx


def _scorer(index: MatchIndex) -> InProcessScorer:
    assert index._in_process is not None
    return index._in_process


def _assert_pruned_agrees(
    scorer: InProcessScorer, left: np.ndarray, right: np.ndarray, floor: float
) -> Scores:
    full = scorer.score_pairs(left, right)
    pruned = scorer.score_pairs(left, right, floor=floor)
    assert pruned.positions is not None
    where = pruned.positions
    assert np.all(np.diff(where) > 0), "positions come back in input order"
    reaching = np.flatnonzero(full.match_weight >= floor)
    assert np.isin(reaching, where).all(), "a pair at or above the floor was dropped"
    assert np.array_equal(pruned.rows, right[where])
    assert np.array_equal(pruned.match_weight, full.match_weight[where])
    assert np.array_equal(pruned.match_probability, full.match_probability[where])
    for name, gamma in full.gamma.items():
        assert np.array_equal(pruned.gamma[name], gamma[where]), name
        assert np.array_equal(pruned.mw[name], full.mw[name][where]), name
    assert pruned.tf_adj.keys() == full.tf_adj.keys()
    for name, adj in full.tf_adj.items():
        assert np.array_equal(pruned.tf_adj[name], adj[where]), name
    return pruned


@pytest.mark.parametrize("quantile", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_sample_pairs_pruned_at_quantiles(index: MatchIndex, quantile: float) -> None:
    scorer = _scorer(index)
    left, right = sample_pairs(index, 3)
    weights = scorer.score_pairs(left, right).match_weight
    floor = float(np.quantile(weights, quantile))
    pruned = _assert_pruned_agrees(scorer, left, right, floor)
    if quantile >= 0.9:
        # a guard that the bound bites (not a parity condition): at a high floor
        # most pairs are dropped before the end
        assert len(pruned.match_weight) < 0.8 * len(left)


def test_floor_beyond_every_ceiling_drops_everything(index: MatchIndex) -> None:
    scorer = _scorer(index)
    left, right = sample_pairs(index, 5)
    best = scorer.prior_weight + sum(scorer.ceilings.values())
    pruned = scorer.score_pairs(left, right, floor=best + 1.0)
    assert len(pruned.match_weight) == 0
    assert pruned.positions is not None and len(pruned.positions) == 0
    assert set(pruned.gamma) == set(scorer.score_pairs(left[:1], right[:1]).gamma)


def test_lowest_floor_keeps_everything(index: MatchIndex) -> None:
    scorer = _scorer(index)
    left, right = sample_pairs(index, 6)
    pruned = _assert_pruned_agrees(scorer, left, right, -np.inf)
    assert len(pruned.match_weight) == len(left)


def test_ceilings_bound_every_contribution(index: MatchIndex) -> None:
    scorer = _scorer(index)
    left, right = sample_pairs(index, 8)
    full = scorer.score_pairs(left, right)
    per_pair = scorer._pair_ceilings(left, right)
    for name, weight in full.mw.items():
        contribution = weight + full.tf_adj.get(name, 0.0)
        assert contribution.max() <= scorer.ceilings[name], name
        assert np.all(contribution <= per_pair[name]), name
        assert np.all(per_pair[name] <= scorer.ceilings[name]), name


def test_edge_rows_pruned(index: MatchIndex) -> None:
    table = pa.Table.from_pylist(_edge_rows(index._arrow.schema), schema=index._arrow.schema)
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(table), tf_tables=_scorer(index).tf
    )
    n = table.num_rows
    left, right = np.divmod(np.arange(n * n), n)
    weights = scorer.score_pairs(left, right).match_weight
    for floor in np.quantile(weights, [0.25, 0.75, 0.95]).tolist():
        _assert_pruned_agrees(scorer, left, right, floor)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_prepared_rows_drawn_directly_pruned(index: MatchIndex, data: Any) -> None:
    schema = index._arrow.schema
    table = pa.Table.from_pylist(data.draw(_prepared_rows(schema)), schema=schema)
    scorer = InProcessScorer(
        index.model.settings_for("duckdb"), StoredColumns(table), tf_tables=_scorer(index).tf
    )
    n = table.num_rows
    left, right = np.divmod(np.arange(n * n), n)
    weights = scorer.score_pairs(left, right).match_weight
    floor = float(weights[data.draw(st.integers(0, len(weights) - 1))])
    _assert_pruned_agrees(scorer, left, right, floor)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_keeps_the_same_pairs(index: MatchIndex, seed: int) -> None:
    """The order the comparisons are evaluated in (learnt from earlier calls) decides
    only when hopeless pairs are dropped: any order keeps every pair reaching the floor."""
    scorer = _scorer(index)
    left, right = sample_pairs(index, 9)
    floor = float(np.quantile(scorer.score_pairs(left, right).match_weight, 0.9))
    learnt = scorer._order._order
    rng = np.random.default_rng(seed)
    try:
        scorer._order._order = tuple(learnt[i] for i in rng.permutation(len(learnt)))
        _assert_pruned_agrees(scorer, left, right, floor)
    finally:
        scorer._order._order = learnt
