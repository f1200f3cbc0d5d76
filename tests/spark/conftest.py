"""Spark in local mode (``local[2]``), shared by the Spark tests.

The Spark tests need pyspark (``pip install 'kinlink[spark]'``, which ``make test``
installs) and Java 17; without them they are skipped with the reason shown.
"""

from __future__ import annotations

import shutil
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark not installed: pip install 'kinlink[spark]'")
if shutil.which("java") is None:
    pytest.skip("no Java on PATH: the Spark engine needs Java 17+", allow_module_level=True)


@pytest.fixture(scope="session")
def spark_engine() -> Any:
    from kinlink.matching.engine import Engine
    from kinlink.matching.spark.session import get_spark_session

    session = get_spark_session(master="local[2]", conf={"spark.driver.memory": "2g"})
    return Engine("spark", spark_session=session)


@pytest.fixture(scope="session")
def small_records() -> pd.DataFrame:
    """A small synthetic caseload (every culture), as v1 text."""
    from kinlink.datasets.synthetic import generate

    records, _ = generate(seed=5, children=220)
    text = records.astype("string")
    return text.astype(object).where(text.notna(), None)


@pytest.fixture(scope="session")
def link_model(small_records: pd.DataFrame) -> Any:
    """One model trained on DuckDB: parity is about scoring, not about sampling."""
    from kinlink.matching import Engine, prepare_records, train_model
    from kinlink.matching.default_model import m_source_for

    prepared = prepare_records(small_records)
    return train_model(
        prepared, engine=Engine("duckdb"), m_from=m_source_for(prepared, "link"), seed=3
    )
