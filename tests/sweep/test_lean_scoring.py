"""The incremental sweep's lean path scores exactly as the whole-store path.

With the store as Arrow (``prepare_store_table``), ``score_new`` hands Splink only the
new records and their block mates; block sizes, name rarity and term frequencies must
still be the whole store's, or weights would drift with the subset.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from kinlink.matching import predict as predict_module
from kinlink.matching import prepare_records
from kinlink.matching.prepare import PREPARED_COLUMNS
from kinlink.matching.sweep.scoring import prepared_frame, score_new

from .conftest import SAMPLE


@pytest.fixture(scope="module")
def store_frames():
    frame = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False)
    prepared = prepare_records(frame.replace({"": None}))
    table = pa.Table.from_pandas(
        prepared[[c for c in PREPARED_COLUMNS if c != "name_rare"]], preserve_index=False
    )
    return prepared, table


def _scored(prepared, new_ids, model):
    out, n = score_new(prepared, new_ids, model, min_probability=1e-9, explain=True)
    return out.sort_values(["left_pk", "right_pk"]).reset_index(drop=True), n


def test_lean_path_scores_like_the_whole_store(store_frames, sweep_model, monkeypatch):
    model, _ = sweep_model
    prepared, table = store_frames
    # record ids must be store keys (integers) for score_new's output
    prepared = prepared.assign(record_id=[str(i) for i in range(len(prepared))])
    table = table.set_column(0, "record_id", pa.array(prepared["record_id"]))
    new_ids = prepared["record_id"].iloc[::40].tolist()

    seen: list[int] = []
    real_open = predict_module.Session.open.__func__

    def observe(cls, frame, *args, **kwargs):
        seen.append(len(frame))
        return real_open(cls, frame, *args, **kwargs)

    monkeypatch.setattr(predict_module.Session, "open", classmethod(observe))
    whole, n_whole = _scored(prepared, new_ids, model)
    lean, n_lean = _scored(table, new_ids, model)

    assert seen[0] == len(prepared)
    assert seen[1] < len(prepared)  # the lean path scored on a subset
    assert n_lean == n_whole > 0
    assert lean[["left_pk", "right_pk"]].equals(whole[["left_pk", "right_pk"]])
    assert lean["match_weight"].to_numpy() == pytest.approx(whole["match_weight"], abs=1e-9)
    assert [len(e) for e in lean["explanation"]] == [len(e) for e in whole["explanation"]]


def test_prepared_frame_round_trips_the_table(store_frames):
    prepared, table = store_frames
    again = prepared_frame(table)
    assert list(again.columns) == list(PREPARED_COLUMNS)
    assert again["name_rare"].tolist() == prepared["name_rare"].tolist()
    assert again["by_lo"].dtype == prepared["by_lo"].dtype
