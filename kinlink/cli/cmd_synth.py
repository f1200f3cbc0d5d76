"""``kinlink synth``: a synthetic caseload (record format v1) with its ground truth."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app, exitcodes


@app.command("synth")
def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory for records.csv and truth.csv.")],
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 7,
    children: Annotated[
        int,
        typer.Option(
            "--children",
            min=0,
            help="Distinct children in the output (records are about 1.5 per child).",
        ),
    ] = 2000,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="Progress bar on stderr (default: if a TTY)."
        ),
    ] = None,
) -> None:
    """Generate synthetic cases and tracing requests with ground truth (no real person)."""
    # Imported here so that `kinlink --help` does not pay for pandas and the name tables.
    from kinlink.datasets.synthetic import write_dataset

    show = sys.stderr.isatty() if progress is None else progress
    started = time.perf_counter()
    try:
        records, truth = write_dataset(out, seed, children, progress=show)
    except OSError as err:
        typer.echo(f"kinlink: cannot write to {out}: {err}", err=True)
        raise typer.Exit(exitcodes.BAD_FILE) from None
    with truth.open(encoding="utf-8") as fh:
        n = sum(1 for _ in fh) - 1
    seconds = time.perf_counter() - started
    typer.echo(
        f"wrote {n} records of {children} children to {records} and {truth.name} "
        f"in {seconds:.1f} s",
        err=True,
    )
