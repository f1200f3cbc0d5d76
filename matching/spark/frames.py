"""pandas <-> Spark frames with an explicit schema.

Spark infers a column's type from its values; a list column that is empty in every
row (no record carries an identifier, say) infers as ``array<null>`` and then fails in
the comparison SQL. The prepared table's types are known, so they are stated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def is_spark_frame(frame: Any) -> bool:
    """A pyspark DataFrame, recognised without importing pyspark."""
    return hasattr(frame, "sparkSession") and hasattr(frame, "schema")


def _first(series: pd.Series) -> Any:
    for value in series:
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            return value
    return None


def spark_schema(frame: pd.DataFrame) -> Any:
    """The Spark schema for a pandas frame of prepared columns (or any plain frame)."""
    from pyspark.sql import types as T

    fields = []
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kind: Any = T.BooleanType()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = T.LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = T.DoubleType()
        else:
            sample = _first(frame[name])
            if isinstance(sample, list | tuple | np.ndarray) or name in ARRAY_COLUMNS:
                kind = T.ArrayType(T.StringType())
            elif isinstance(sample, bool | np.bool_):
                kind = T.BooleanType()
            elif isinstance(sample, int | np.integer):
                kind = T.LongType()
            elif isinstance(sample, float | np.floating):
                kind = T.DoubleType()
            else:
                kind = T.StringType()
        fields.append(T.StructField(str(name), kind, nullable=True))
    return T.StructType(fields)


def _prepared_array_columns() -> frozenset[str]:
    from kinlink.matching.prepare import PREPARED_COLUMNS

    scalar = {
        "record_id",
        "record_type",
        "agency",
        "consent",
        "name_sorted",
        "given_first",
        "rest_sorted",
        "sex",
        "dob",
        "dob_ym",
        "by_lo",
        "by_hi",
        "father_given",
        "origin",
        "sep_date",
        "nationality",
    }
    return frozenset(c for c in PREPARED_COLUMNS if c not in scalar)


#: Prepared columns that are arrays of strings, even when every row has an empty one.
ARRAY_COLUMNS = _prepared_array_columns()


def _plain(value: Any) -> Any:
    """Python values Spark accepts: lists, not numpy arrays; None, not NaN/NA."""
    if isinstance(value, np.ndarray | tuple):
        return [str(v) for v in value]
    if isinstance(value, list):
        return [str(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_spark(spark: Any, frame: pd.DataFrame) -> Any:
    """A Spark DataFrame with the same rows, columns and (stated) types as ``frame``."""
    schema = spark_schema(frame)
    rows = [tuple(_plain(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    return spark.createDataFrame(rows, schema=schema)


def to_pandas(sdf: Any) -> pd.DataFrame:
    """Collect a (small) Spark DataFrame; arrays come back as Python lists."""
    out = sdf.toPandas()
    for field in sdf.schema.fields:
        if field.dataType.typeName() == "array":
            out[field.name] = out[field.name].map(lambda v: list(v) if v is not None else [])
    return out
