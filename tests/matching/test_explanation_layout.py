"""The levels form of an explanation expands to exactly the full one.

A sweep stores each pair's comparison levels and term-frequency adjustments only;
the review service expands them with the model's layout and the two records'
prepared values. Whatever the levels and values (names in any script, NULLs, NaN
adjustments), the expansion must be the dicts the full form would have stored
(``Explainer.contributions`` of the output row, as real-time matching stores them),
after the trip through the store's JSON.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.matching.default_model import default_m_model
from kinlink.matching.explain import Explainer, ExplanationLayout, is_levels
from kinlink.matching.inprocess import explanation_layout
from kinlink.store.database import json_text

MODEL = default_m_model("dedupe")
assert MODEL is not None
LAYOUT = explanation_layout(MODEL.settings_for("duckdb"), MODEL.max_gammas())
EXPLAINER = Explainer(MODEL.splink_settings)
COLUMNS = sorted({c for comparison in LAYOUT.comparisons for c in comparison.columns})

_value = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.lists(st.text(max_size=12), max_size=4),
)


def test_the_layout_is_the_models() -> None:
    assert [c.name for c in LAYOUT.comparisons] == EXPLAINER.comparison_names
    assert EXPLAINER.value_columns == COLUMNS
    assert LAYOUT.tf_comparisons  # the names have term-frequency adjustments
    for comparison in LAYOUT.comparisons:
        assert comparison.max_gamma == MODEL.max_gammas()[comparison.name]
        assert set(comparison.weights) == set(comparison.labels)


def test_layout_round_trips_and_its_key_is_its_content() -> None:
    again = ExplanationLayout.from_json(json.loads(json.dumps(LAYOUT.to_json())))
    assert again == LAYOUT and again.key == LAYOUT.key
    first = LAYOUT.comparisons[0]
    relabelled = dataclasses.replace(first, labels={**first.labels, 0: "something else"})
    other = ExplanationLayout((relabelled, *LAYOUT.comparisons[1:]))
    assert other.key != LAYOUT.key


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_levels_expand_to_the_full_explanation(data: Any) -> None:
    gammas = [data.draw(st.sampled_from(sorted(c.labels))) for c in LAYOUT.comparisons]
    tf = [
        data.draw(st.one_of(st.floats(allow_infinity=False), st.just(0.0)))
        for _ in LAYOUT.tf_comparisons
    ]
    left = {c: data.draw(_value) for c in COLUMNS}
    right = {c: data.draw(_value) for c in COLUMNS}
    stored = orjson.loads(json_text(LAYOUT.levels(gammas, tf)))  # as the store gives it back
    assert is_levels(stored)
    # the output row real-time matching explains (Explainer.contributions reads it)
    row: dict[str, Any] = {}
    for comparison, g in zip(LAYOUT.comparisons, gammas, strict=True):
        row[f"gamma_{comparison.name}"] = g
        row[f"mw_{comparison.name}"] = comparison.weights[g]
    for name, adjustment in zip(LAYOUT.tf_comparisons, tf, strict=True):
        row[f"mw_tf_adj_{name}"] = adjustment
    for column in COLUMNS:
        row[f"{column}_l"], row[f"{column}_r"] = left[column], right[column]
    max_gamma = MODEL.max_gammas()
    want = [
        {**c.as_dict(), "max_gamma": max_gamma[c.comparison]} for c in EXPLAINER.contributions(row)
    ]
    assert LAYOUT.expand(stored, left, right) == want


def test_a_foreign_or_damaged_explanation_is_refused() -> None:
    gammas = [max(c.labels) for c in LAYOUT.comparisons]
    levels = LAYOUT.levels(gammas, [0.0] * len(LAYOUT.tf_comparisons))
    with pytest.raises(ValueError, match="layout"):
        LAYOUT.expand({**levels, "layout": "0" * 16}, {}, {})
    with pytest.raises(ValueError, match="levels"):
        LAYOUT.expand({**levels, "gamma": gammas[:-1]}, {}, {})
    assert not is_levels([]) and not is_levels([{"comparison": "name"}])
