"""``kinlink train``: (re)build the linkage model from a records file."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app
from kinlink.cli.cmd_link import note, read_frame


@app.command("train")
def train(
    records: Annotated[Path, typer.Option(help="Records file (CSV, XLSX or JSONL, format v1).")],
    out: Annotated[Path, typer.Option(help="Where to write the model JSON.")],
    seed: Annotated[int, typer.Option(help="Seed for u sampling (reproducible models).")] = 42,
    on_error: Annotated[str, typer.Option(help="abort | skip invalid rows.")] = "abort",
) -> None:
    """Train the Fellegi-Sunter model (u by sampling, m by EM) and save it as JSON.

    The JSON holds Splink settings plus kinlink metadata: version, training date and
    the fingerprint of the records it was trained on.
    """
    from kinlink.matching import data_fingerprint, prepare_records, save_model, train_model

    started = time.monotonic()
    frame = read_frame(records, on_error)
    prepared = prepare_records(frame, progress=sys.stderr.isatty())
    model = train_model(prepared, fingerprint=data_fingerprint(frame), seed=seed)
    save_model(model, out)
    note(
        f"model trained on {len(frame)} records ({model.fingerprint}) written to {out} "
        f"in {time.monotonic() - started:.1f}s"
    )
