"""DuckDB and Spark give the same prepared columns, pairs, weights and clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kinlink.matching import Engine, dedupe_records, link_records, prepare_records
from kinlink.matching.spark import pipeline
from kinlink.matching.spark.frames import to_pandas
from kinlink.matching.spark.prepare import prepare_spark

TOLERANCE = 1e-6


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray | list | tuple):
        return [str(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def test_prepared_columns_are_identical(spark_engine: Any, small_records: pd.DataFrame) -> None:
    local = prepare_records(small_records).sort_values("record_id").reset_index(drop=True)
    records = pipeline.to_spark_records(spark_engine, small_records)
    remote = to_pandas(prepare_spark(records)).sort_values("record_id").reset_index(drop=True)
    assert list(remote.columns) == list(local.columns)
    assert len(remote) == len(local)
    for column in local.columns:
        left = [_plain(v) for v in local[column]]
        right = [_plain(v) for v in remote[column]]
        if left != right:
            bad = [(i, a, b) for i, (a, b) in enumerate(zip(left, right, strict=True)) if a != b]
            i, a, b = bad[0]
            same_sets = all(isinstance(x, list) and sorted(x) == sorted(y) for _, x, y in bad)
            raise AssertionError(
                f"prepared column {column} differs on {len(bad)} rows "
                f"(same elements, other order: {same_sets}); first: {local['record_id'][i]} "
                f"{a!r} != {b!r}"
            )


def test_link_pairs_and_weights_are_identical(
    spark_engine: Any, small_records: pd.DataFrame, link_model: Any
) -> None:
    duck = link_records(small_records, link_model, engine=Engine("duckdb"))
    records = pipeline.to_spark_records(spark_engine, small_records)
    spark = to_pandas(
        pipeline.link(spark_engine, records, link_model, min_probability=1e-7, max_candidates=50)
    )
    assert len(duck) > 100
    key = ["tracing_request_id", "case_id"]
    merged = duck.merge(spark, on=key, how="outer", suffixes=("_d", "_s"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    weight_gap = (merged["match_weight_d"] - merged["match_weight_s"]).abs().max()
    prob_gap = (merged["match_probability_d"] - merged["match_probability_s"]).abs().max()
    assert weight_gap <= TOLERANCE
    assert prob_gap <= TOLERANCE
    assert (merged["rank_d"] == merged["rank_s"]).mean() > 0.99  # ties may swap


def test_dedupe_pairs_and_clusters_are_identical(
    spark_engine: Any, small_records: pd.DataFrame
) -> None:
    from kinlink.matching import train_model
    from kinlink.matching.cluster import MIN_PAIR_PROBABILITY
    from kinlink.matching.default_model import m_source_for

    cases = small_records[small_records["record_type"] == "case"]
    prepared = prepare_records(cases)
    model = train_model(
        prepared, engine=Engine("duckdb"), m_from=m_source_for(prepared, "dedupe"), seed=3
    )
    threshold = 0.9
    duck_pairs, duck_clusters = dedupe_records(
        small_records, threshold, model, engine=Engine("duckdb")
    )
    records = pipeline.to_spark_records(spark_engine, small_records)
    spark_pairs, spark_clusters = pipeline.dedupe(
        spark_engine, records, model, threshold=threshold, min_probability=MIN_PAIR_PROBABILITY
    )
    spark_pairs, spark_clusters = to_pandas(spark_pairs), to_pandas(spark_clusters)

    key = ["record_id_l", "record_id_r"]
    merged = duck_pairs.merge(
        spark_pairs, on=key, how="outer", suffixes=("_d", "_s"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    assert (merged["match_weight_d"] - merged["match_weight_s"]).abs().max() <= TOLERANCE

    def groups(frame: pd.DataFrame) -> set[frozenset]:
        return {frozenset(g["record_id"]) for _, g in frame.groupby("cluster_id")}

    assert groups(duck_clusters) == groups(spark_clusters)
    assert any(len(g) > 1 for g in groups(duck_clusters))
