"""The Spark backend: the same linkage, on a cluster (``pip install 'kinlink[spark]'``).

Nothing here is a second implementation of the matcher. Spark runs Splink's own Spark
backend over the *same* prepared columns, blocking SQL, comparisons and model JSON as
DuckDB does; this package only supplies what a backend needs around that:

* :mod:`.session` - a SparkSession with Splink's similarity-function jar, or a clear
  message when pyspark is not installed;
* :mod:`.frames` - pandas <-> Spark conversion with an explicit schema (arrays of
  strings stay arrays, even when a column is empty in every row);
* :mod:`.prepare` - record preparation distributed with ``mapInPandas`` (each record
  normalised once, stored as columns; never a Python UDF per pair);
* :mod:`.pipeline` - link / dedupe / train over files Spark reads (Parquet, CSV),
  writing pairs and clusters as Parquet.

See docs/spark.md.
"""

from kinlink.matching.spark.session import (
    SPARK_EXTRA_HINT,
    SparkUnavailable,
    get_spark_session,
    spark_available,
)

__all__ = ["SPARK_EXTRA_HINT", "SparkUnavailable", "get_spark_session", "spark_available"]
