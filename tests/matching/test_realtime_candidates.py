"""Real time and batch find the same candidates.

``MatchIndex.candidate_rows`` looks a new record's blocking keys up in memory; batch
blocking (``kinlink.blocking.candidate_pairs``) self-joins the same keys in SQL. Both
must propose the same cases for a tracing request, consent rule and block-size cap
included, or a caseworker would see different candidates depending on the path.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from kinlink.blocking import candidate_pairs
from kinlink.matching.model import KinlinkModel, base_settings
from kinlink.matching.prepare import prepare_records
from kinlink.matching.realtime import MatchIndex

SAMPLE = Path(__file__).parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def _model() -> KinlinkModel:
    """Candidates do not depend on the numbers; any settings with kinlink's levels do."""
    settings = base_settings("duckdb")
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                level["m_probability"], level["u_probability"] = 0.5, 0.5
    return KinlinkModel(splink_settings=settings, metadata={})


def _index_candidates(index: MatchIndex, request: dict) -> set[str]:
    rows = index.candidate_rows(index.prepare(request), ("case",))
    return set(index.prepared["record_id"].to_numpy()[rows].tolist())


def test_every_request_gets_the_batch_candidates_without_a_cap(sample: pd.DataFrame) -> None:
    """No cap: each request's candidates are exactly its batch link pairs."""
    cases = sample[sample.record_type == "case"]
    no_cap = 10**9
    index = MatchIndex(cases, _model(), max_block_size=no_cap)
    pairs = candidate_pairs(sample, "link", max_block_size=no_cap)
    batch = pairs.groupby("record_id_l")["record_id_r"].agg(set).to_dict()
    requests = sample[sample.record_type == "tracing_request"]
    assert len(requests) > 500
    for request in requests.to_dict("records"):
        assert _index_candidates(index, request) == batch.get(request["record_id"], set())


def test_block_size_cap_agrees(sample: pd.DataFrame) -> None:
    """With a cap, the index's stored cases plus the new request make the batch block."""
    cases = sample[sample.record_type == "case"]
    cap = 12  # small enough that many of the sample's keys reach it
    index = MatchIndex(cases, _model(), max_block_size=cap)
    prepared_cases = prepare_records(cases)
    requests = sample[sample.record_type == "tracing_request"]
    sizes = Counter(k for keys in prepared_cases["block_keys"] for k in keys)
    capped = 0
    for request in requests.sample(25, random_state=2).to_dict("records"):
        one = pd.DataFrame([request], columns=sample.columns)
        frame = pd.concat([cases, one], ignore_index=True)
        prepared = pd.concat(
            [prepared_cases, prepare_records(one, index.frequencies)], ignore_index=True
        )
        pairs = candidate_pairs(frame, "link", max_block_size=cap, prepared=prepared)
        expected = set(pairs["record_id_r"])
        found = _index_candidates(index, request)
        assert found == expected, request["record_id"]
        capped += any(sizes[k] >= cap for k in index.prepare(request)["block_keys"])
    assert capped > 0  # the cap was exercised
