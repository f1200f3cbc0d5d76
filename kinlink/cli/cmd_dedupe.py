"""``kinlink dedupe``: duplicate cases (across and within agencies) and their clusters."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app
from kinlink.cli.cmd_link import load_model_or_fail, note, read_frame


@app.command("dedupe")
def dedupe(
    records: Annotated[Path, typer.Option(help="Records file (CSV, XLSX or JSONL, format v1).")],
    out: Annotated[Path, typer.Option(help="Output CSV of scored duplicate pairs.")],
    clusters: Annotated[
        Path | None, typer.Option(help="Output CSV of record_id,cluster_id.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Match probability at which pairs are clustered.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Model JSON from `kinlink train`; else train on RECORDS.")
    ] = None,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
) -> None:
    """Find cases registered more than once.

    Writes record_id_l,record_id_r,match_probability,match_weight for pairs with
    probability >= 0.01 and, with --clusters, record_id,cluster_id at --threshold
    (default kinlink.matching.DEFAULT_THRESHOLD). A case with
    consent_for_tracing=false is only paired within its own agency.
    """
    from kinlink.matching import dedupe_records

    started = time.monotonic()
    frame = read_frame(records, on_error)
    trained = load_model_or_fail(model)
    pairs, groups = dedupe_records(frame, threshold, trained, progress=sys.stderr.isatty())
    pairs.to_csv(out, index=False)
    if clusters is not None:
        groups.to_csv(clusters, index=False)
    n_dup = int((groups.groupby("cluster_id")["record_id"].transform("size") > 1).sum())
    note(
        f"{len(pairs)} scored pairs written to {out}; {n_dup} cases in duplicate clusters "
        f"({time.monotonic() - started:.1f}s)"
    )
