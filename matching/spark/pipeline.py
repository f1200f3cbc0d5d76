"""Link and dedupe on Spark, from files to files, without collecting the data.

The steps are the DuckDB path's steps (prepare -> train if needed -> block -> score ->
rank / cluster) on the same :class:`~kinlink.matching.predict.Session`; what differs is
only where the rows live. Inputs: Parquet (read by Spark, any size) or any file
``kinlink ingest`` reads (validated row by row on the driver, then handed to Spark).
Outputs: Parquet written by Spark (a folder of part files), or CSV.

Clustering: the pairs at or above the threshold are few (one per duplicate, not per
candidate), so they, and the weaker pairs among the records they touch, are collected
and clustered by :func:`kinlink.matching.cluster`'s rules on the driver; every record's
cluster id is then joined back in Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.ingest.columns import RECORD_COLUMNS, REQUIRED_COLUMNS
from kinlink.matching.engine import Engine
from kinlink.matching.model import KinlinkModel, train_model
from kinlink.matching.predict import Session
from kinlink.matching.rank import LINK_COLUMNS

PAIR_COLUMNS = ["record_id_l", "record_id_r", "match_probability", "match_weight"]


class SparkInputError(ValueError):
    """An input Spark cannot use as v1 records (missing or unknown columns...)."""


def is_parquet(path: Path) -> bool:
    """A Parquet file, or a folder of Parquet part files as Spark writes them."""
    if path.suffix.lower() == ".parquet":
        return True
    return path.is_dir() and any(path.glob("*.parquet"))


def read_parquet_records(engine: Engine, path: Path) -> Any:
    """v1 records from Parquet, checked for the columns ``kinlink ingest`` requires."""
    frame = engine.spark.read.parquet(str(path))
    columns = set(frame.columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise SparkInputError(f"{path}: missing required column(s) {', '.join(missing)}")
    unknown = sorted(columns - set(RECORD_COLUMNS))
    if unknown:
        raise SparkInputError(
            f"{path}: unknown column(s) {', '.join(unknown)} (record format v1; "
            "rename them or load the file through a column mapping with kinlink ingest)"
        )
    duplicated = frame.groupBy("record_id").count().where("count > 1").limit(5).collect()
    if duplicated:
        ids = ", ".join(str(r["record_id"]) for r in duplicated)
        raise SparkInputError(f"{path}: record_id is not unique (e.g. {ids})")
    return frame


def to_spark_records(engine: Engine, frame: pd.DataFrame) -> Any:
    """A validated pandas frame of v1 records (from kinlink's readers) on Spark."""
    from kinlink.matching.spark.frames import to_spark

    text = frame.astype(object).where(frame.notna(), None)
    return to_spark(engine.spark, text.astype("string").astype(object).where(text.notna(), None))


def prepared_table(engine: Engine, records: Any) -> Any:
    """Prepare on the cluster and keep the result cached: blocking, training and
    scoring all read it."""
    from pyspark import StorageLevel

    from kinlink.matching.spark.prepare import prepare_spark

    prepared = prepare_spark(records).persist(StorageLevel.MEMORY_AND_DISK)
    prepared.count()
    return prepared


def _model(engine: Engine, prepared: Any, job: str, model: KinlinkModel | None) -> KinlinkModel:
    if model is not None:
        return model
    from kinlink.matching.default_model import m_source_for

    return train_model(prepared, engine=engine, m_from=m_source_for(prepared, job))


def link(
    engine: Engine,
    records: Any,
    model: KinlinkModel | None = None,
    *,
    min_probability: float,
    max_candidates: int,
    max_block_size: int = MAX_BLOCK_SIZE,
) -> Any:
    """Ranked candidates per tracing request, as a Spark DataFrame (``LINK_COLUMNS``)."""
    prepared = prepared_table(engine, records)
    model = _model(engine, prepared, "link", model)
    session = Session.open(prepared, model, engine)
    pairs = session.candidates_table("link", max_block_size)
    scored = session.score(pairs, threshold_match_probability=min_probability)
    return engine.spark.sql(
        f"""
        select tracing_request_id, case_id, match_probability, match_weight, rank from (
          select tracing_request_id, case_id, cast(match_probability as double) as
                 match_probability, cast(match_weight as double) as match_weight,
                 row_number() over (partition by tracing_request_id
                                    order by match_weight desc, case_id) as rank
          from (
            select case when record_type_l = 'tracing_request' then record_id_l
                        else record_id_r end as tracing_request_id,
                   case when record_type_l = 'tracing_request' then record_id_r
                        else record_id_l end as case_id,
                   match_probability, match_weight
            from {scored.physical_name}
          )
        ) where rank <= {int(max_candidates)}
        """
    ).select(*LINK_COLUMNS)


def dedupe(
    engine: Engine,
    records: Any,
    model: KinlinkModel | None = None,
    *,
    threshold: float,
    min_probability: float,
    max_block_size: int = MAX_BLOCK_SIZE,
) -> tuple[Any, Any]:
    """``(pairs, clusters)`` as Spark DataFrames: cases only, as ``dedupe_records``."""
    from pyspark.sql import functions as F

    from kinlink.matching.cluster import cluster_pairs
    from kinlink.matching.spark.frames import to_pandas

    cases = records.where(F.coalesce(F.col("record_type"), F.lit("case")) == "case")
    prepared = prepared_table(engine, cases)
    model = _model(engine, prepared, "dedupe", model)
    session = Session.open(prepared, model, engine)
    candidates = session.candidates_table("dedupe", max_block_size)
    scored = session.score(candidates, threshold_match_probability=min(min_probability, threshold))
    pairs = engine.spark.table(scored.physical_name).select(
        "record_id_l",
        "record_id_r",
        F.col("match_probability").cast("double").alias("match_probability"),
        F.col("match_weight").cast("double").alias("match_weight"),
    )
    strong = to_pandas(pairs.where(F.col("match_probability") >= threshold))
    involved = set(strong["record_id_l"]) | set(strong["record_id_r"])
    # Joining two clusters looks at every scored pair between them (the mean), so
    # the pairs among records that some strong pair touches are needed too; a record
    # no strong pair touches stays alone whatever its weaker pairs say.
    ids = F.broadcast(
        engine.spark.createDataFrame([(str(i),) for i in sorted(involved)], "record_id string")
    )
    if involved:
        strong = to_pandas(
            pairs.join(ids.withColumnRenamed("record_id", "record_id_l"), "record_id_l").join(
                ids.withColumnRenamed("record_id", "record_id_r"), "record_id_r"
            )
        )[["record_id_l", "record_id_r", "match_probability", "match_weight"]]
    info = to_pandas(
        prepared.select("record_id", "given", "given_keys", "by_lo", "by_hi").join(ids, "record_id")
    )
    for column in ("by_lo", "by_hi"):
        info[column] = info[column].astype("Int64")
    local = cluster_pairs(strong, info, threshold)
    assigned = local[local["record_id"] != local["cluster_id"]]
    if assigned.empty:
        clusters = prepared.select("record_id", F.col("record_id").alias("cluster_id"))
    else:
        from kinlink.matching.spark.frames import to_spark

        lookup = to_spark(engine.spark, assigned.astype({"cluster_id": str, "record_id": str}))
        clusters = (
            prepared.select("record_id")
            .join(F.broadcast(lookup.withColumnRenamed("cluster_id", "c")), "record_id", "left")
            .select("record_id", F.coalesce("c", "record_id").alias("cluster_id"))
        )
    return pairs, clusters


def write(frame: Any, path: Path, order_by: list[str] | None = None) -> int:
    """Write a Spark DataFrame as Parquet (``.parquet`` or a folder) or CSV; row count."""
    if order_by:
        frame = frame.orderBy(*order_by)
    if path.suffix.lower() == ".parquet":
        frame.write.mode("overwrite").parquet(str(path))
        return frame.sparkSession.read.parquet(str(path)).count()
    from kinlink.matching.spark.frames import to_pandas

    local = to_pandas(frame)
    local.to_csv(path, index=False)
    return len(local)
