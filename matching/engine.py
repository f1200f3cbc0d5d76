"""The engine seam: which Splink database backend runs the SQL.

Everything else in ``kinlink.blocking`` and ``kinlink.matching`` talks to an
:class:`Engine`, never to DuckDB directly, so that the Spark backend (issue 8) is a
second implementation of this class rather than a hunt through the code base. The
only dialect differences kinlink's own SQL needs (exploding an array column) live
here; comparison SQL goes through Splink's level builders, which translate with
sqlglot.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import weakref
from typing import Any, Literal

import pandas as pd

Backend = Literal["duckdb", "spark"]

_counter = itertools.count()


class Engine:
    """A Splink ``DatabaseAPI`` plus the few dialect helpers kinlink's own SQL needs."""

    def __init__(self, backend: Backend | None = None, **options: Any) -> None:
        if backend is None:
            from kinlink.config import get_settings

            backend = get_settings().engine
        self.backend: Backend = backend
        self.spark: Any = None
        self.spill_directory: str | None = None
        if backend == "duckdb":
            import duckdb
            from splink import DuckDBAPI

            con = duckdb.connect(":memory:")
            threads = options.get("threads") or os.environ.get("KINLINK_THREADS")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            memory_limit = options.get("memory_limit") or os.environ.get("KINLINK_MEMORY_LIMIT")
            if memory_limit:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute("SET preserve_insertion_order = false")
            # DuckDB spills what exceeds its memory limit; for an in-memory database it
            # would write into ./.tmp of whatever directory kinlink was started from (a
            # checkout, a cron job's home), tens of GB at scale. One private folder per
            # engine under the system's (or KINLINK_TEMP_DIR's) temporary directory,
            # removed with the engine.
            root = options.get("temp_root") or os.environ.get("KINLINK_TEMP_DIR") or None
            if root:
                os.makedirs(root, exist_ok=True)
            self.spill_directory = tempfile.mkdtemp(prefix="kinlink-duckdb-", dir=root)
            weakref.finalize(self, shutil.rmtree, self.spill_directory, True)
            con.execute("SET temp_directory = ?", [self.spill_directory])
            self.db_api = DuckDBAPI(connection=con)
        elif backend == "spark":
            from kinlink.matching.spark.session import get_spark_session

            self.spark = options.get("spark_session") or get_spark_session()
            from splink import SparkAPI

            # "persist" keeps intermediate tables in the session's cache rather than
            # writing them to a checkpoint folder: right for local mode and for
            # clusters alike, and it leaves no files behind.
            self.db_api = SparkAPI(spark_session=self.spark, break_lineage_method="persist")
        else:
            raise ValueError(f"unknown engine {backend!r}: use duckdb or spark")

    @property
    def dialect(self) -> str:
        """Splink's dialect name, used when building comparison levels and rules."""
        return self.db_api.sql_dialect.sql_dialect_str

    # -- tables -------------------------------------------------------------------------
    def register(self, frame: pd.DataFrame | Any, name: str | None = None) -> Any:
        """Register a table with Splink and return its SplinkDataFrame.

        Names are made unique per engine because Splink refuses to register the same
        name twice.
        """
        table_name = f"{name or 'kinlink_t'}_{next(_counter)}"
        if self.backend == "spark" and isinstance(frame, pd.DataFrame):
            from kinlink.matching.spark.frames import to_spark

            frame = to_spark(self.spark, frame)
        elif isinstance(frame, pd.DataFrame):
            frame = as_arrow(frame)
        return self.db_api.register(frame, table_name=table_name)

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL on the backend and bring the (small) result back as pandas."""
        return self.db_api.query_sql(sql, output_type="pandas")

    def to_pandas(self, table: Any) -> pd.DataFrame:
        """A SplinkDataFrame as pandas, with array columns as Python lists on any backend."""
        if self.backend == "spark":
            from kinlink.matching.spark.frames import to_pandas

            return to_pandas(table.as_spark_dataframe())
        return table.as_pandas_dataframe()

    def materialise(self, sql: str) -> Any:
        """Run SQL on the backend and keep the result there as a SplinkDataFrame."""
        return self.db_api.query_sql(sql, output_type="splink_df")

    def new_linker_scope(self) -> None:
        """Forget Splink's cached intermediate tables before a new Linker starts.

        Splink caches tables such as term-frequency counts by *name* per database API,
        not per linker, so a second linker on the same engine (another table, another
        model) would silently reuse the first one's counts.
        """
        self.db_api._intermediate_table_cache.invalidate_cache()

    # -- dialect helpers ------------------------------------------------------------
    def explode(self, array_expr: str, alias: str) -> str:
        """Select-list expression turning one row per record into one row per element."""
        if self.backend == "duckdb":
            return f"unnest({array_expr}) as {alias}"
        return f"explode({array_expr}) as {alias}"

    def hash_expr(self, expr: str) -> str:
        """A deterministic 64-bit hash, used for reproducible sampling."""
        if self.backend == "duckdb":
            return f"hash({expr})"
        return f"xxhash64({expr})"


def as_arrow(frame: pd.DataFrame) -> Any:
    """A pandas frame as an Arrow table, for DuckDB to scan without Python.

    DuckDB reads a registered pandas frame's object columns (the prepared table's
    lists of strings) through Python on *every* scan: about 16 s per scan of a
    million prepared records, and a partitioned run scans the table once per part.
    Arrow is converted once, in C++, and scanned in place. A frame Arrow cannot type
    (mixed objects in one column) stays pandas: slower, same result.
    """
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return frame
    # A column with no value at all (nobody recorded a phone) infers as Arrow's null
    # type, which DuckDB cannot compare with text: such columns are text (kinlink's
    # prepared columns are text or lists of text unless they have a value to say so).
    fields = []
    for field in table.schema:
        if pa.types.is_null(field.type):
            field = field.with_type(pa.string())
        elif pa.types.is_list(field.type) and pa.types.is_null(field.type.value_type):
            field = field.with_type(pa.list_(pa.string()))
        fields.append(field)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)
