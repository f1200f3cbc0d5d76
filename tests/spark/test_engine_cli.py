"""The --engine spark contract: files in and out, models across engines, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

from kinlink.cli import _register, app
from kinlink.cli.exitcodes import BAD_FILE, ENGINE_UNAVAILABLE, OK
from kinlink.matching import Engine, link_records, load_model, save_model, train_model
from kinlink.matching.spark import pipeline
from kinlink.matching.spark.frames import to_pandas

_register()


def test_a_model_trained_on_spark_scores_on_duckdb(
    spark_engine: Any, small_records: pd.DataFrame, tmp_path: Path
) -> None:
    prepared = pipeline.prepared_table(
        spark_engine, pipeline.to_spark_records(spark_engine, small_records)
    )
    model = train_model(prepared, engine=spark_engine, seed=1)
    assert model.splink_settings["sql_dialect"] == "spark"
    assert model.metadata["n_records"] == len(small_records)
    save_model(model, tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json")
    on_duckdb = link_records(small_records, loaded, engine=Engine("duckdb"))
    on_spark = to_pandas(
        pipeline.link(
            spark_engine,
            pipeline.to_spark_records(spark_engine, small_records),
            loaded,
            min_probability=1e-7,
            max_candidates=50,
        )
    )
    key = ["tracing_request_id", "case_id"]
    merged = on_duckdb.merge(on_spark, on=key, suffixes=("_d", "_s"))
    assert len(merged) == len(on_duckdb) == len(on_spark) > 0
    assert (merged["match_weight_d"] - merged["match_weight_s"]).abs().max() <= 1e-6


def test_cli_link_and_dedupe_read_and_write_parquet(
    spark_engine: Any, small_records: pd.DataFrame, link_model: Any, tmp_path: Path
) -> None:
    """Training on Spark is covered above; here a model file keeps the test short."""
    source = tmp_path / "records.parquet"
    small_records.to_parquet(source, index=False)
    model = tmp_path / "model.json"
    save_model(link_model, model)
    runner = CliRunner()
    links = tmp_path / "links.parquet"
    result = runner.invoke(
        app,
        [
            "link",
            "--engine",
            "spark",
            "--records",
            str(source),
            "--out",
            str(links),
            "--model",
            str(model),
        ],
    )
    assert result.exit_code == OK, result.output
    written = pd.read_parquet(links)
    assert list(written.columns) == [
        "tracing_request_id",
        "case_id",
        "match_probability",
        "match_weight",
        "rank",
    ]
    assert written.groupby("tracing_request_id")["rank"].min().eq(1).all()

    pairs, clusters = tmp_path / "pairs.parquet", tmp_path / "clusters.csv"
    result = runner.invoke(
        app,
        [
            "dedupe",
            "--engine",
            "spark",
            "--records",
            str(source),
            "--out",
            str(pairs),
            "--clusters",
            str(clusters),
        ],
    )
    assert result.exit_code == OK, result.output
    assert list(pd.read_parquet(pairs).columns) == [
        "record_id_l",
        "record_id_r",
        "match_probability",
        "match_weight",
    ]
    grouped = pd.read_csv(clusters)
    n_cases = int((small_records["record_type"] == "case").sum())
    assert list(grouped.columns) == ["record_id", "cluster_id"] and len(grouped) == n_cases


def test_parquet_with_unknown_columns_is_refused(
    spark_engine: Any, small_records: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "bad.parquet"
    small_records.assign(favourite_colour="blue").to_parquet(source, index=False)
    result = CliRunner().invoke(
        app, ["link", "--engine", "spark", "--records", str(source), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == BAD_FILE
    assert "favourite_colour" in result.output


def test_without_pyspark_the_message_says_how_to_install_it(tmp_path: Path) -> None:
    """A fresh interpreter in which ``import pyspark`` fails, as on a plain install."""
    records = tmp_path / "r.csv"
    records.write_text("record_id,record_type\n1,case\n", encoding="utf-8")
    script = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from kinlink.cli import main\n"
        f"sys.argv = ['kinlink', 'link', '--engine', 'spark', '--records', {str(records)!r},"
        f" '--out', {str(tmp_path / 'o.csv')!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == ENGINE_UNAVAILABLE, done.stderr
    assert "pip install 'kinlink[spark]'" in done.stderr
    assert "Traceback" not in done.stderr
