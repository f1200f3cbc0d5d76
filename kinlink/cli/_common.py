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
def progress(description: str, total: int | None = None, unit: str = "rows") -> Iterator[tqdm]:
    """A progress bar on stderr, shown only to a person at a terminal."""
    bar = tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
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
