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


# -- in-process scoring (the default on DuckDB) against Splink's SQL ---------------------


@pytest.fixture(scope="module")
def sql_session(febrl4_small, link_model) -> Session:
    return Session.open(prepare_records(febrl4_small), link_model, Engine("duckdb"), scorer="sql")


@pytest.mark.parametrize(
    ("link_type", "threshold"), [("link", 1e-7), ("dedupe", 0.01), ("all", None)]
)
@pytest.mark.parametrize("workers", [1, 2])
def test_in_process_parts_score_like_splink(
    session, sql_session, link_type, threshold, workers, monkeypatch
):
    """Pairs, weights and counts as Splink's; with 2 workers, many small forked tasks."""
    from kinlink.matching import predict

    assert session.inputs is not None and sql_session.inputs is None
    monkeypatch.setattr(predict, "PAIRS_PER_SCORE", 700)
    monkeypatch.setattr(session, "workers", workers)
    counted: dict[str, list[int]] = {"python": [], "sql": []}
    got, expected = (
        _scores(
            list(
                s.score_in_parts(
                    link_type,
                    threshold_match_probability=threshold,
                    columns=SCORED_COLUMNS,
                    join_rows_per_part=30_000,
                    counted=counted[name],
                )
            )
        )
        for name, s in (("python", session), ("sql", sql_session))
    )
    assert counted["python"] == counted["sql"] and sum(counted["sql"]) > 0
    assert len(expected) > 10
    pd.testing.assert_frame_equal(
        got[["record_id_l", "record_id_r", "record_type_l"]],
        expected[["record_id_l", "record_id_r", "record_type_l"]],
        check_dtype=False,
    )
    for column in ("match_weight", "match_probability"):
        assert got[column].to_numpy() == pytest.approx(expected[column], abs=1e-9)


def test_columns_only_splink_gives_fall_back_to_splink(session):
    frame = next(
        session.score_in_parts(
            "link", threshold_match_probability=0.5, columns=[*SCORED_COLUMNS, "record_type_r"]
        )
    )
    assert "record_type_r" in frame.columns


def test_link_and_dedupe_write_the_same_either_way(febrl4_small, link_model, monkeypatch):
    """KINLINK_SCORER picks the scorer; both give the same links, pairs and clusters."""
    from kinlink.config import get_settings
    from kinlink.matching import dedupe_records, link_records

    out = {}
    for scorer in ("python", "sql"):
        monkeypatch.setenv("KINLINK_SCORER", scorer)
        get_settings.cache_clear()
        try:
            out[scorer] = (
                link_records(febrl4_small, link_model),
                *dedupe_records(febrl4_small, model=link_model),
            )
        finally:
            get_settings.cache_clear()
    (links_py, pairs_py, clusters_py), (links, pairs, clusters) = out["python"], out["sql"]
    assert len(links) > 100 and len(pairs) > 10
    pd.testing.assert_frame_equal(
        links_py.drop(columns=["match_probability", "match_weight"]),
        links.drop(columns=["match_probability", "match_weight"]),
        check_dtype=False,
    )
    assert links_py["match_weight"].to_numpy() == pytest.approx(links["match_weight"], abs=1e-9)
    key = ["record_id_l", "record_id_r"]
    a, b = pairs_py.sort_values(key), pairs.sort_values(key)
    assert a[key].reset_index(drop=True).equals(b[key].reset_index(drop=True))
    assert a["match_weight"].to_numpy() == pytest.approx(b["match_weight"], abs=1e-9)
    pd.testing.assert_frame_equal(
        clusters_py.sort_values("record_id").reset_index(drop=True),
        clusters.sort_values("record_id").reset_index(drop=True),
    )


def test_a_model_kinlink_cannot_score_in_process_falls_back_to_splink(
    febrl4_small, link_model, caplog
):
    """A model JSON whose levels are not this kinlink's (an older release's, say) is
    still scored, by Splink's SQL, with a warning saying so."""
    import copy
    import logging

    from kinlink.matching.model import KinlinkModel

    settings = copy.deepcopy(link_model.splink_settings)
    sex = next(c for c in settings["comparisons"] if c["output_column_name"] == "sex")
    sex["comparison_levels"][-2]["label_for_charts"] = "an older label"
    model = KinlinkModel(splink_settings=settings, metadata=dict(link_model.metadata))
    session = Session.open(prepare_records(febrl4_small), model, Engine("duckdb"))
    with caplog.at_level(logging.WARNING):
        frames = list(
            session.score_in_parts("link", threshold_match_probability=0.5, columns=SCORED_COLUMNS)
        )
    assert "scoring with Splink's SQL instead" in caplog.text
    assert sum(len(f) for f in frames) > 50
