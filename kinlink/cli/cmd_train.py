"""``kinlink train``: (re)build the linkage model from a records file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app
from kinlink.cli._common import EngineOption, ProgressOption, open_engine, show_progress
from kinlink.cli.cmd_link import note, read_frame, read_parquet_frame, spark_records


@app.command("train")
def train(
    records: Annotated[
        Path, typer.Option(help="Records file (CSV, XLSX, JSONL or Parquet, format v1).")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the model JSON.")],
    seed: Annotated[int, typer.Option(help="Seed for u sampling (reproducible models).")] = 42,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
    engine: EngineOption = None,
    show: ProgressOption = None,
) -> None:
    """Train the Fellegi-Sunter model (u by sampling, m by EM) and save it as JSON.

    The JSON holds Splink settings plus kinlink metadata: version, training date and
    the fingerprint of the records it was trained on.
    """
    from kinlink.matching import data_fingerprint, prepare_records, save_model, train_model

    started = time.monotonic()
    backend = open_engine(engine)
    if backend.backend == "spark":
        from kinlink.matching.spark.pipeline import prepared_table

        prepared = prepared_table(backend, spark_records(backend, records, on_error, show))
        model = train_model(prepared, engine=backend, seed=seed)
        n = model.metadata.get("n_records")
    else:
        if records.suffix.lower() == ".parquet":
            frame = read_parquet_frame(records)
        else:
            frame = read_frame(records, on_error, show)
        prepared = prepare_records(frame, progress=show_progress(show))
        model = train_model(
            prepared, engine=backend, fingerprint=data_fingerprint(frame), seed=seed
        )
        n = len(frame)
    save_model(model, out)
    note(
        f"model trained on {n} records ({model.fingerprint}) on {backend.backend}, written "
        f"to {out} in {time.monotonic() - started:.1f}s"
    )
