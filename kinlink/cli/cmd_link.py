"""``kinlink link``: rank cases for every tracing request in a file."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import fail, progress


def read_frame(path: Path, on_error: str = "abort") -> pd.DataFrame:
    """Any supported records file as a v1 frame, via ``kinlink.ingest`` (shared by
    ``link``, ``dedupe`` and ``train`` so they judge files exactly like ``ingest``)."""
    from kinlink.ingest import FileProblem, InvalidRows, read_records

    if on_error not in ("abort", "skip"):
        raise fail("--on-error must be 'abort' or 'skip'", exitcodes.USAGE)
    if not path.exists():
        raise fail(f"{path}: no such file", exitcodes.BAD_FILE)
    try:
        with progress(f"reading {path.name}") as bar:
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


@app.command("link")
def link(
    records: Annotated[Path, typer.Option(help="Records file (CSV, XLSX or JSONL, format v1).")],
    out: Annotated[Path, typer.Option(help="Output CSV of ranked candidates.")],
    model: Annotated[
        Path | None, typer.Option(help="Model JSON from `kinlink train`; else train on RECORDS.")
    ] = None,
    min_probability: Annotated[
        float, typer.Option(help="Smallest match probability listed.")
    ] = 0.001,
    max_candidates: Annotated[int, typer.Option(help="At most this many per request.")] = 50,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
) -> None:
    """Link every tracing request in RECORDS to the cases in RECORDS.

    Writes tracing_request_id,case_id,match_probability,match_weight,rank (rank 1 is
    the best candidate). Records with consent_for_tracing=false are only proposed
    within their own agency.
    """
    from kinlink.matching import link_records

    started = time.monotonic()
    frame = read_frame(records, on_error)
    trained = load_model_or_fail(model)
    if trained is None:
        note(f"no --model given: training on {len(frame)} records")
    links = link_records(
        frame,
        trained,
        min_probability=min_probability,
        max_candidates=max_candidates,
        progress=sys.stderr.isatty(),
    )
    links.to_csv(out, index=False)
    n_requests = links["tracing_request_id"].nunique()
    note(
        f"{len(links)} candidates for {n_requests} tracing requests written to {out} "
        f"in {time.monotonic() - started:.1f}s"
    )
