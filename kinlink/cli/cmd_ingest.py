"""``kinlink ingest``: load a file of records into the store."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import ProgressOption, fail, open_store, progress
from kinlink.ingest import FileProblem, InvalidRows, ReadResult, load_mapping, read_records
from kinlink.store import load_result

_SHOWN_ERRORS = 30


@app.command("ingest")
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX (first sheet) or JSON Lines file.")],
    agency: Annotated[
        str | None, typer.Option(help="Agency that supplied the file; fills empty agency cells.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="Column-mapping file (YAML or JSON) for other headers.")
    ] = None,
    on_error: Annotated[
        str,
        typer.Option(
            help="abort: store nothing if any row is invalid. skip: store the valid rows.",
        ),
    ] = "abort",
    encoding: Annotated[str, typer.Option(help="Text encoding of CSV/JSONL files.")] = "utf-8",
    errors_out: Annotated[
        Path | None, typer.Option(help="Write every rejected row's problem to this CSV file.")
    ] = None,
    show: ProgressOption = None,
) -> None:
    """Validate a file of record format v1 and store its records (versioned).

    Exit codes: 0 all rows stored; 3 the file cannot be read; 4 some rows are
    invalid (with --on-error abort nothing was stored, with skip the valid
    rows were); 5 the store cannot be opened.
    """
    if on_error not in ("abort", "skip"):
        raise fail("--on-error must be 'abort' or 'skip'", exitcodes.USAGE)
    try:
        plan = load_mapping(mapping) if mapping else None
        with progress(f"reading {file.name}", show=show) as bar:
            result = read_records(
                file,
                mapping=plan,
                agency=agency,
                encoding=encoding,
                on_error=on_error,  # type: ignore[arg-type]
                progress=bar.update,
            )
    except FileProblem as err:
        raise fail(str(err), exitcodes.BAD_FILE) from None
    except InvalidRows as err:
        _report_errors(err.result, errors_out)
        raise fail(
            f"{err.result.rejected_lines} of {err.result.rows_seen} rows are invalid; "
            "nothing was stored (fix them, or use --on-error skip to store the valid rows)",
            exitcodes.INVALID_ROWS,
        ) from None

    store = open_store()
    with store.session() as session:
        summary = load_result(session, result, agency=agency)
    typer.echo(
        f"{file.name}: {len(result.records)} valid rows -> {summary.inserted} new, "
        f"{summary.updated} updated, {summary.unchanged} unchanged "
        f"(store: {store.display_url})"
    )
    if result.errors:
        _report_errors(result, errors_out)
        typer.echo(
            f"kinlink: {result.rejected_lines} rows rejected and not stored; "
            "the valid rows were stored",
            err=True,
        )
        raise typer.Exit(exitcodes.INVALID_ROWS)


def _report_errors(result: ReadResult, errors_out: Path | None) -> None:
    for error in result.errors[:_SHOWN_ERRORS]:
        typer.echo(f"  {error}", err=True)
    hidden = len(result.errors) - _SHOWN_ERRORS
    if hidden > 0:
        hint = "" if errors_out else " (use --errors-out FILE to get them all)"
        typer.echo(f"  ... and {hidden} more problems{hint}", err=True)
    if errors_out is not None:
        with errors_out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "column", "reason", "value"])
            for e in result.errors:
                writer.writerow([e.line, e.column or "", e.reason, e.value or ""])
        typer.echo(f"  all problems written to {errors_out}", err=True)
