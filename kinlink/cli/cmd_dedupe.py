"""``kinlink dedupe``: duplicate cases (across and within agencies) and their clusters."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app
from kinlink.cli._common import EngineOption, ProgressOption, open_engine, show_progress
from kinlink.cli.cmd_link import (
    load_model_or_fail,
    note,
    read_frame,
    read_parquet_frame,
    spark_records,
    write_table,
)


@app.command("dedupe")
def dedupe(
    records: Annotated[
        Path, typer.Option(help="Records file (CSV, XLSX, JSONL or Parquet, format v1).")
    ],
    out: Annotated[
        Path, typer.Option(help="Output of scored duplicate pairs: CSV, or Parquet if *.parquet.")
    ],
    clusters: Annotated[
        Path | None, typer.Option(help="Output of record_id,cluster_id (CSV or *.parquet).")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Match probability at which pairs are clustered.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Model JSON from `kinlink train`; else train on RECORDS.")
    ] = None,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
    engine: EngineOption = None,
    show: ProgressOption = None,
) -> None:
    """Find cases registered more than once.

    Writes record_id_l,record_id_r,match_probability,match_weight for pairs with
    probability >= 0.01 and, with --clusters, record_id,cluster_id at --threshold
    (default kinlink.matching.DEFAULT_THRESHOLD). A case with
    consent_for_tracing=false is only paired within its own agency.
    """
    from kinlink.matching import DEFAULT_THRESHOLD, dedupe_records
    from kinlink.matching.cluster import MIN_PAIR_PROBABILITY

    started = time.monotonic()
    trained = load_model_or_fail(model)
    backend = open_engine(engine)
    if backend.backend == "spark":
        from kinlink.matching.spark import pipeline

        table = spark_records(backend, records, on_error, show)
        pairs_sdf, groups_sdf = pipeline.dedupe(
            backend,
            table,
            trained,
            threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            min_probability=MIN_PAIR_PROBABILITY,
        )
        n = pipeline.write(pairs_sdf, out, order_by=["match_weight"])
        if clusters is not None:
            pipeline.write(groups_sdf, clusters, order_by=["cluster_id", "record_id"])
        note(f"{n} scored pairs written to {out} in {time.monotonic() - started:.1f}s (spark)")
        return
    if records.suffix.lower() == ".parquet":
        frame = read_parquet_frame(records)
    else:
        frame = read_frame(records, on_error, show)
    pairs, groups = dedupe_records(
        frame, threshold, trained, engine=backend, progress=show_progress(show)
    )
    write_table(pairs, out)
    if clusters is not None:
        write_table(groups, clusters)
    n_dup = int((groups.groupby("cluster_id")["record_id"].transform("size") > 1).sum())
    note(
        f"{len(pairs)} scored pairs written to {out}; {n_dup} cases in duplicate clusters "
        f"({time.monotonic() - started:.1f}s)"
    )
