"""``kinlink eval``: measure kinlink and the baselines on a data set, write a report.

One command answers "how good is kinlink, on data like ours, against what we use
today?": it runs kinlink and every baseline on the same records and writes
``report.md``, ``report.json`` and PNG plots to ``--out``.
"""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

import typer

from kinlink.cli import app, exitcodes


def _methods(names: list[str] | None) -> list[object]:
    from kinlink.eval.kinlink_method import all_methods

    methods = all_methods()
    if not names:
        return methods
    by_name = {m.name: m for m in methods}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        typer.echo(
            f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(by_name)}", err=True
        )
        raise typer.Exit(exitcodes.USAGE)
    return [by_name[n] for n in names]


def _quiet_splink() -> None:
    """Show only Splink's errors: training prints dozens of "level not observed" warnings
    per model that would bury the report (``--verbose`` shows them).

    Splink installs its own stderr handler only when its logger has none, and every
    ``Linker`` re-sets the logger's level, so a handler of ours with level ERROR is
    what sticks (a logger filter would miss records from Splink's child loggers).
    """
    splink_logger = logging.getLogger("splink")
    if any(getattr(h, "_kinlink_eval", False) for h in splink_logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    handler._kinlink_eval = True  # type: ignore[attr-defined]
    splink_logger.addHandler(handler)
    splink_logger.propagate = False


@app.command("eval")
def eval_command(
    dataset: list[str] = typer.Option(
        ...,
        "--dataset",
        "-d",
        help=(
            "Data set to evaluate on (repeatable): a directory written by `kinlink synth`, "
            "febrl3, febrl4, febrl3-nossid, febrl4-nossid, or synthetic:CHILDREN[:SEED] "
            "to generate one in memory."
        ),
    ),
    out: Path = typer.Option(
        Path("out/eval"), "--out", "-o", help="Directory for report.md, report.json and plots."
    ),
    method: list[str] | None = typer.Option(
        None,
        "--method",
        "-m",
        help="Only these methods (repeatable): kinlink, exact, primero, splink_tutorial.",
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="FEBRL only: evaluate on a random subset of N entities."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for --limit sampling and synthetic:N."),
    require_kinlink: bool = typer.Option(
        False,
        "--require-kinlink",
        help="Fail (exit 1) instead of reporting baselines only when kinlink cannot run.",
    ),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar on stderr (default: if a TTY)."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show Splink's training messages (hidden by default)."
    ),
) -> None:
    """Evaluate kinlink against the baselines and write a Markdown/JSON/PNG report."""
    from kinlink.eval.datasets import DatasetError, load_dataset
    from kinlink.eval.harness import evaluate, failures
    from kinlink.eval.report import write_report

    methods = _methods(method)
    if not verbose:
        _quiet_splink()
    datasets = []
    for spec in dataset:
        try:
            datasets.append(load_dataset(spec, limit=limit, seed=seed))
        except DatasetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exitcodes.NOT_FOUND if exc.not_found else exitcodes.BAD_FILE) from exc
    for m in methods:
        reason = m.unavailable_reason()
        if reason:
            typer.echo(f"warning: {m.label} unavailable: {reason}", err=True)
            if require_kinlink and m.name == "kinlink":
                raise typer.Exit(exitcodes.INTERNAL_ERROR)
    show = sys.stderr.isatty() if progress is None else progress
    command = "kinlink " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = evaluate(datasets, methods, progress=show, command=command)
    paths = write_report(report, out)
    typer.echo(paths["markdown"].read_text("utf-8"))
    typer.echo(f"report written to {paths['markdown']} and {paths['json']}", err=True)
    failed = failures(report)
    for line in failed:
        typer.echo(f"error: {line}", err=True)
    if failed:
        raise typer.Exit(exitcodes.INTERNAL_ERROR)
