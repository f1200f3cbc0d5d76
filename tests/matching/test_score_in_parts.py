"""Scoring in parts gives the scores of scoring everything at once."""

from __future__ import annotations

import pandas as pd
import pytest

from kinlink.matching.engine import Engine
from kinlink.matching.predict import Session
from kinlink.matching.prepare import prepare_records
from kinlink.matching.rank import SCORED_COLUMNS, rank_links


@pytest.fixture(scope="module")
def session(febrl4_small, link_model) -> Session:
    return Session.open(prepare_records(febrl4_small), link_model, Engine("duckdb"))


def _scores(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["record_id_l", "record_id_r"]).reset_index(drop=True)


@pytest.mark.parametrize("link_type", ["link", "all"])
def test_parts_score_like_one_statement(session, link_type):
    whole = session.score(
        session.candidates_table(link_type), threshold_match_probability=0.001
    ).as_pandas_dataframe()[SCORED_COLUMNS]
    parts = list(
        session.score_in_parts(
            link_type,
            threshold_match_probability=0.001,
            columns=SCORED_COLUMNS,
            join_rows_per_part=30_000,
        )
    )
    assert len(parts) > 1
    got, expected = _scores(parts), _scores([whole])
    assert len(expected) > 500
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)


def test_ranking_part_by_part_is_ranking_all(session):
    whole = session.score(
        session.candidates_table("link"), threshold_match_probability=1e-7
    ).as_pandas_dataframe()
    parts = session.score_in_parts(
        "link",
        threshold_match_probability=1e-7,
        columns=SCORED_COLUMNS,
        join_rows_per_part=30_000,
        reduce=lambda scored: rank_links(scored, 3),
    )
    got = pd.concat(list(parts)).sort_values(["tracing_request_id", "rank"])
    expected = rank_links(whole, 3)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )
