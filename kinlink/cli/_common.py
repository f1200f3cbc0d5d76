"""Small helpers shared by CLI commands: opening the store, progress, errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from tqdm import tqdm

from kinlink.cli import exitcodes
from kinlink.store import Store, StoreUnavailable


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
