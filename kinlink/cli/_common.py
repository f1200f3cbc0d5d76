"""Small helpers shared by CLI commands: opening the store, progress, errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from tqdm import tqdm

from kinlink.cli import exitcodes
from kinlink.store import Store, StoreUnavailable

if TYPE_CHECKING:
    from kinlink.matching.engine import Engine

#: ``--engine`` on link, dedupe, train and sweep (default: KINLINK_ENGINE, else duckdb).
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="duckdb (embedded, default) or spark (pip install 'kinlink\\[spark]'); "
        "default: KINLINK_ENGINE.",
    ),
]

#: ``--progress/--no-progress`` on every command that does long work (ingest, link,
#: dedupe, train, sweep, like synth and eval). None (the default) means "a bar only
#: when stderr is a terminal", so logs and pipes stay clean unless someone asks.
ProgressOption = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: if a TTY)."),
]


def show_progress(flag: bool | None) -> bool:
    """The ``--progress/--no-progress`` choice, or "is stderr a terminal" when not given."""
    return sys.stderr.isatty() if flag is None else flag


def fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` to stderr and return the Exit to raise (``raise fail(...)``)."""
    typer.echo(f"kinlink: {message}", err=True)
    return typer.Exit(code)


def open_store() -> Store:
    try:
        return Store.open()
    except StoreUnavailable as err:
        raise fail(str(err), exitcodes.STORE_UNAVAILABLE) from None


@contextmanager
def progress(
    description: str,
    total: int | None = None,
    unit: str = "rows",
    *,
    show: bool | None = None,
) -> Iterator[tqdm]:
    """A progress bar on stderr: ``show`` as chosen on the command line, else only to a
    person at a terminal (see :func:`show_progress`)."""
    bar = tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        disable=not show_progress(show),
        leave=False,
    )
    try:
        yield bar
    finally:
        bar.close()


def open_engine(name: str | None) -> Engine:
    """The engine named on the command line (or in KINLINK_ENGINE), or a clear exit."""
    from kinlink.config import get_settings
    from kinlink.matching.engine import Engine
    from kinlink.matching.spark.session import SparkUnavailable

    name = name or get_settings().engine
    if name not in ("duckdb", "spark"):
        raise fail(f"--engine must be duckdb or spark, not {name!r}", exitcodes.USAGE)
    try:
        return Engine(name)  # type: ignore[arg-type]
    except SparkUnavailable as err:
        raise fail(str(err), exitcodes.ENGINE_UNAVAILABLE) from None
