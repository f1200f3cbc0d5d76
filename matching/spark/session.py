"""A SparkSession fit for Splink, local or on a cluster.

Splink's Spark comparisons call Scala functions (``jaro_winkler``,
``damerau_levenshtein``...) from a jar Splink ships; the jar must be on the session's
classpath before the JVM starts, so the session is built here, once per process.

Where the session comes from, in order:

1. a session that already exists (a notebook, Databricks) or the JVM of
   ``spark-submit``: used as is; the jar must then be passed by the caller
   (``spark-submit --jars``, see docs/spark.md), because a running JVM cannot take it;
2. otherwise a new session on ``KINLINK_SPARK_MASTER``, else ``SPARK_MASTER``, else
   ``local[*]``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

SPARK_EXTRA_HINT = (
    "the Spark engine needs pyspark and Java 17+: pip install 'kinlink[spark]' "
    "(supported: pyspark 4.0.x; see docs/spark.md)"
)

logger = logging.getLogger(__name__)


class SparkUnavailable(RuntimeError):
    """pyspark (or Java) is missing: the message says how to get it."""


def spark_available() -> bool:
    """Whether pyspark can be imported (Java is only checked when a session starts)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def jar_location() -> str:
    """Path of Splink's similarity-function jar for the installed Spark."""
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()


def _master() -> str:
    from kinlink.config import get_settings

    return get_settings().spark_master or os.environ.get("SPARK_MASTER") or "local[*]"


def get_spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The process's SparkSession, created with Splink's jar when none is running."""
    if not spark_available():
        raise SparkUnavailable(SPARK_EXTRA_HINT)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Launched by spark-submit: its JVM is running with the user's --master and
        # --jars; setting them here would override the one and come too late for
        # the other.
        spark = SparkSession.builder.appName("kinlink").getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark
    from kinlink.config import get_settings

    settings = get_settings()
    # Python workers must run this interpreter: they import kinlink.phonetics.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = master or _master()
    builder = (
        SparkSession.builder.master(master)
        .appName("kinlink")
        .config("spark.jars", jar_location())
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        # A laptop: no web UI to bind, and few shuffle partitions (the default 200
        # makes small jobs spend their time scheduling empty tasks).
        cores = os.cpu_count() or 2
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.sql.shuffle.partitions", str(max(4, 2 * cores))
        )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # JVM could not start: most often no Java
        raise SparkUnavailable(f"could not start Spark ({exc}); {SPARK_EXTRA_HINT}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark
