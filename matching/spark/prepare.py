"""Record preparation on Spark: each record normalised once, in Python workers.

The prepared columns (romanised name tokens, phonetic keys, birth-year intervals,
blocking keys) are computed by the very functions the DuckDB path uses
(:func:`kinlink.matching.prepare.prepare_row`, :func:`kinlink.blocking.rules.block_keys`),
batch by batch with ``mapInPandas``, and stored as columns. Pairs are then compared in
SQL over those columns, so no Python runs per pair.

One input is global: which name tokens are common (``name_rare`` needs the count of
records carrying each token). That is a Spark aggregation between two passes; only the
common tokens (a few thousand at most: a token is common when at least 0.2% of records
carry it) travel to the workers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd

#: Columns the second pass adds.
SECOND_PASS = ("name_rare", "block_keys")


def _prepared_schema() -> Any:
    from pyspark.sql import types as T

    from kinlink.matching.prepare import PREPARED_COLUMNS
    from kinlink.matching.spark.frames import ARRAY_COLUMNS

    fields = []
    for name in PREPARED_COLUMNS:
        if name in ARRAY_COLUMNS:
            kind: Any = T.ArrayType(T.StringType())
        elif name == "consent":
            kind = T.BooleanType()
        elif name in ("by_lo", "by_hi"):
            kind = T.LongType()
        else:
            kind = T.StringType()
        fields.append(T.StructField(name, kind, True))
    return T.StructType(fields)


def _first_pass(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    from kinlink.matching.prepare import _as_records, prepare_row, prepared_frame

    for batch in batches:
        out = prepared_frame(prepare_row(r) for r in _as_records(batch))
        out["name_rare"] = [[] for _ in range(len(out))]
        out["block_keys"] = [[] for _ in range(len(out))]
        yield out


def _lists(value: Any) -> Any:
    """Arrow hands arrays to pandas as numpy arrays; the Python functions want lists."""
    if value is None:
        return []
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _second_pass(frequencies: Any) -> Any:
    from kinlink.blocking.rules import block_keys
    from kinlink.matching.spark.frames import ARRAY_COLUMNS

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            for name in ARRAY_COLUMNS:
                batch[name] = batch[name].map(_lists)
            records = batch.astype(object).where(batch.notna(), None).to_dict("records")
            rare, keys = [], []
            for row in records:
                row["name_rare"] = frequencies.rare(row["name_all"])
                rare.append(row["name_rare"])
                keys.append(block_keys(row))
            batch["name_rare"] = rare
            batch["block_keys"] = keys
            batch["by_lo"] = batch["by_lo"].astype("Int64")
            batch["by_hi"] = batch["by_hi"].astype("Int64")
            yield batch

    return run


def prepare_spark(records: Any) -> Any:
    """The prepared table (a Spark DataFrame) for a Spark DataFrame of v1 records.

    Equal, row for row, to :func:`kinlink.matching.prepare_records` on the same
    records (tested in tests/spark).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from kinlink.ingest.columns import RECORD_COLUMNS
    from kinlink.matching.prepare import (
        COMMON_TOKEN_SHARE,
        PREPARED_COLUMNS,
        RARE_MIN_COUNT,
        TokenFrequencies,
    )

    present = [c for c in RECORD_COLUMNS if c in records.columns]
    source = records.select(*[F.col(c).cast("string").alias(c) for c in present])
    schema = _prepared_schema()
    first = source.mapInPandas(_first_pass, schema).persist(StorageLevel.MEMORY_AND_DISK)
    n = first.count()
    threshold = max(RARE_MIN_COUNT, COMMON_TOKEN_SHARE * max(n, 1))
    common = (
        first.select(F.explode(F.array_distinct("name_all")).alias("token"))
        .groupBy("token")
        .count()
        .where(F.col("count") >= threshold)
        .collect()
    )
    frequencies = TokenFrequencies(Counter({r["token"]: int(r["count"]) for r in common}), n)
    prepared = first.mapInPandas(_second_pass(frequencies), schema)
    return prepared.select(*PREPARED_COLUMNS)
