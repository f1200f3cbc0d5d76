"""``kinlink link``: rank cases for every tracing request in a file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import (
    EngineOption,
    ProgressOption,
    fail,
    open_engine,
    progress,
    show_progress,
)


def read_frame(path: Path, on_error: str = "abort", show: bool | None = None) -> pd.DataFrame:
    """Any supported records file as a v1 frame, via ``kinlink.ingest`` (shared by
    ``link``, ``dedupe`` and ``train`` so they judge files exactly like ``ingest``).

    ``show``: the command's ``--progress/--no-progress`` (None: only on a terminal)."""
    from kinlink.ingest import FileProblem, InvalidRows, read_records

    if on_error not in ("abort", "skip"):
        raise fail("--on-error must be 'abort' or 'skip'", exitcodes.USAGE)
    if not path.exists():
        raise fail(f"{path}: no such file", exitcodes.BAD_FILE)
    try:
        with progress(f"reading {path.name}", show=show) as bar:
            result = read_records(path, on_error=on_error, progress=bar.update)  # type: ignore[arg-type]
    except FileProblem as err:
        raise fail(str(err), exitcodes.BAD_FILE) from None
    except InvalidRows as err:
        for error in err.result.errors[:10]:
            typer.echo(f"  {error}", err=True)
        raise fail(
            f"{err.result.rejected_lines} of {err.result.rows_seen} rows are invalid "
            "(fix them, or use --on-error skip to use the valid rows)",
            exitcodes.INVALID_ROWS,
        ) from None
    if result.errors:
        typer.echo(f"kinlink: skipped {result.rejected_lines} invalid rows", err=True)
    return result.to_frame()


def load_model_or_fail(path: Path | None):  # noqa: ANN201 - KinlinkModel | None
    if path is None:
        return None
    from kinlink.matching import load_model

    if not path.exists():
        raise fail(f"{path}: no such model file", exitcodes.NOT_FOUND)
    try:
        return load_model(path)
    except (ValueError, KeyError) as err:
        raise fail(f"{path}: not a kinlink model ({err})", exitcodes.BAD_FILE) from None


def note(message: str) -> None:
    typer.echo(f"kinlink: {message}", err=True)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """CSV, or Parquet when the name ends in ``.parquet`` (on any engine)."""
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def spark_records(engine, path: Path, on_error: str, show: bool | None = None):  # noqa: ANN001, ANN201 - Spark types
    """Records for the Spark engine: Parquet read by Spark, anything else validated here."""
    from kinlink.matching.spark.pipeline import (
        SparkInputError,
        is_parquet,
        read_parquet_records,
        to_spark_records,
    )

    if is_parquet(path):
        if not path.exists():
            raise fail(f"{path}: no such file", exitcodes.BAD_FILE)
        try:
            return read_parquet_records(engine, path)
        except SparkInputError as err:
            raise fail(str(err), exitcodes.BAD_FILE) from None
    return to_spark_records(engine, read_frame(path, on_error, show))


@app.command("link")
def link(
    records: Annotated[
        Path, typer.Option(help="Records file (CSV, XLSX, JSONL or Parquet, format v1).")
    ],
    out: Annotated[
        Path, typer.Option(help="Output of ranked candidates: CSV, or Parquet if *.parquet.")
    ],
    model: Annotated[
        Path | None, typer.Option(help="Model JSON from `kinlink train`; else train on RECORDS.")
    ] = None,
    min_probability: Annotated[
        float, typer.Option(help="Smallest match probability listed.")
    ] = 0.001,
    max_candidates: Annotated[int, typer.Option(help="At most this many per request.")] = 50,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
    engine: EngineOption = None,
    show: ProgressOption = None,
) -> None:
    """Link every tracing request in RECORDS to the cases in RECORDS.

    Writes tracing_request_id,case_id,match_probability,match_weight,rank (rank 1 is
    the best candidate). Records with consent_for_tracing=false are only proposed
    within their own agency.
    """
    from kinlink.matching import link_records

    started = time.monotonic()
    trained = load_model_or_fail(model)
    backend = open_engine(engine)
    if backend.backend == "spark":
        from kinlink.matching.spark import pipeline

        table = spark_records(backend, records, on_error, show)
        if trained is None:
            note("no --model given: training on the records")
        links = pipeline.link(
            backend,
            table,
            trained,
            min_probability=min_probability,
            max_candidates=max_candidates,
        )
        n = pipeline.write(links, out, order_by=["tracing_request_id", "rank"])
        note(f"{n} candidates written to {out} in {time.monotonic() - started:.1f}s (spark)")
        return
    if records.suffix.lower() == ".parquet":
        frame = read_parquet_frame(records)
    else:
        frame = read_frame(records, on_error, show)
    if trained is None:
        note(f"no --model given: training on {len(frame)} records")
    result = link_records(
        frame,
        trained,
        min_probability=min_probability,
        max_candidates=max_candidates,
        engine=backend,
        progress=show_progress(show),
    )
    write_table(result, out)
    n_requests = result["tracing_request_id"].nunique()
    note(
        f"{len(result)} candidates for {n_requests} tracing requests written to {out} "
        f"in {time.monotonic() - started:.1f}s"
    )


def read_parquet_frame(path: Path) -> pd.DataFrame:
    """A Parquet file of v1 records on the DuckDB engine: columns checked, values as text."""
    from kinlink.ingest.columns import RECORD_COLUMNS, REQUIRED_COLUMNS

    if not path.exists():
        raise fail(f"{path}: no such file", exitcodes.BAD_FILE)
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow's errors have no common base worth naming
        raise fail(f"{path}: not a readable Parquet file ({err})", exitcodes.BAD_FILE) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    unknown = sorted(set(frame.columns) - set(RECORD_COLUMNS))
    if missing or unknown:
        raise fail(
            f"{path}: missing column(s) {missing}, unknown column(s) {unknown} (format v1)",
            exitcodes.BAD_FILE,
        )
    if frame["record_id"].duplicated().any():
        raise fail(f"{path}: record_id is not unique", exitcodes.BAD_FILE)
    text = frame.astype("string")
    return text.astype(object).where(text.notna(), None)
