"""The incremental sweep's in-process path scores exactly as Splink over the whole store.

With the store as Arrow (``prepare_store_table``), ``score_new`` scores each new record
against its candidates in-process (``matching/sweep/inprocess_scoring.py``); the pairs,
weights and explanations must be those of Splink's prediction over the whole store,
with the whole store's block sizes, name rarity and term frequencies, whichever side
of a pair is new and however many worker processes share the queries.
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pytest

from kinlink.matching import prepare_records
from kinlink.matching.explain import is_levels
from kinlink.matching.prepare import PREPARED_COLUMNS, prepare_row
from kinlink.matching.sweep import inprocess_scoring
from kinlink.matching.sweep.scoring import encode_rows, prepared_frame, score_new
from kinlink.store.bulk import JsonText
from kinlink.store.database import json_text

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def store_frames():
    frame = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False)
    prepared = prepare_records(frame.replace({"": None}))
    table = pa.Table.from_pandas(
        prepared[[c for c in PREPARED_COLUMNS if c != "name_rare"]], preserve_index=False
    )
    return prepared, table


def _scored(prepared, new_ids, model, **kwargs):
    out, n = score_new(
        prepared,
        new_ids,
        model,
        min_probability=1e-9,
        explain=True,
        explain_min_probability=0.0,
        **kwargs,
    )
    return out.sort_values(["left_pk", "right_pk"]).reset_index(drop=True), n


@pytest.mark.parametrize(
    ("workers", "new_every", "encoded"),
    [(1, 40, False), (2, 40, False), (2, 1, False), (2, 40, True)],
)
def test_in_process_path_scores_like_splink_on_the_whole_store(
    store_frames, sweep_model, monkeypatch, workers, new_every, encoded
):
    """``encoded``: the store's codes given (as the prepared cache keeps them).

    The explanations come back in the levels form; expanded with the model's layout
    and each record's values from ``prepare_row`` (as the review service expands
    them), they are Splink's."""
    model, _ = sweep_model
    prepared, table = store_frames
    raw = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False)
    values = [
        prepare_row({**{k: (v or None) for k, v in row.items()}, "record_id": str(i)})
        for i, row in enumerate(raw.to_dict("records"))
    ]
    layout = inprocess_scoring.levels_layout(model)
    # record ids must be store keys (integers) for score_new's output
    prepared = prepared.assign(record_id=[str(i) for i in range(len(prepared))])
    table = table.set_column(0, "record_id", pa.array(prepared["record_id"]))
    # every 40th record new: pairs with the new record on either side, and new-new
    # pairs; every record new: a full sweep; both in many tasks of 7 new records
    if new_every == 1:  # a smaller store: Splink explains every pair of the reference
        prepared, table = prepared.head(300), table.slice(0, 300)
    new_ids = prepared["record_id"].iloc[::new_every].tolist()
    monkeypatch.setattr(inprocess_scoring, "MIN_QUERIES_PER_WORKER", 1)
    monkeypatch.setattr(inprocess_scoring, "QUERIES_PER_TASK", 7)

    whole, n_whole = _scored(prepared, new_ids, model)
    extra = {"encoded": encode_rows(table)} if encoded else {}
    fast, n_fast = _scored(table, new_ids, model, workers=workers, **extra)

    assert n_fast == n_whole > 0
    assert fast[["left_pk", "right_pk"]].equals(whole[["left_pk", "right_pk"]])
    assert fast["match_weight"].to_numpy() == pytest.approx(whole["match_weight"], abs=1e-9)
    assert fast["match_probability"].to_numpy() == pytest.approx(
        whole["match_probability"], abs=1e-9
    )
    new = set(new_ids)
    if new_every != 1:
        assert (~whole["left_pk"].astype(str).isin(new)).any()  # new on the right
    assert (whole["left_pk"].astype(str).isin(new) & whole["right_pk"].astype(str).isin(new)).any()
    for left, right, text, theirs in zip(
        fast["left_pk"], fast["right_pk"], fast["explanation"], whole["explanation"], strict=True
    ):
        # the workers hand explanations back serialised, as the store will hold them
        assert isinstance(text, JsonText)
        assert text == json_text(text.decoded())
        assert is_levels(text.decoded())
        mine = layout.expand(text.decoded(), values[int(left)], values[int(right)])
        assert len(mine) == len(theirs) > 0
        for a, b in zip(mine, theirs, strict=True):
            assert (a["comparison"], a["level"], a["gamma"], a["max_gamma"]) == (
                b["comparison"],
                b["level"],
                b["gamma"],
                b["max_gamma"],
            )
            assert (a["values_l"], a["values_r"]) == (b["values_l"], b["values_r"])
            assert math.isclose(a["match_weight"], b["match_weight"], abs_tol=1e-9)
            assert math.isclose(a["tf_adjustment"], b["tf_adjustment"], abs_tol=1e-9)


def test_prepared_frame_round_trips_the_table(store_frames):
    prepared, table = store_frames
    again = prepared_frame(table)
    assert list(again.columns) == list(PREPARED_COLUMNS)
    assert again["name_rare"].tolist() == prepared["name_rare"].tolist()
    assert again["by_lo"].dtype == prepared["by_lo"].dtype
