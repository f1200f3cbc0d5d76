"""The ``kinlink`` command line.

Each command lives in its own module under ``kinlink.cli`` and is registered
here, so that adding a command never means editing another one. Exit codes are
part of the contract with scripts: see :mod:`kinlink.cli.exitcodes`.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kinlink",
    help="Family tracing and record matching for child protection in emergencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from kinlink import __version__

        typer.echo(f"kinlink {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Family tracing and record matching for child protection in emergencies."""


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from kinlink.cli import commands  # noqa: F401


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
