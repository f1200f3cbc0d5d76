"""``kinlink db``: where the store is and which schema version it has."""

from __future__ import annotations

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kinlink.cli import app
from kinlink.cli._common import open_store
from kinlink.store.database import alembic_config

db_app = typer.Typer(help="The store: location and schema version (migrations run on open).")
app.add_typer(db_app, name="db")


@db_app.command("status")
def status() -> None:
    """Print the store's URL and its schema revision against the newest one."""
    store = open_store()  # opening migrates, so this also upgrades an old store
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    typer.echo(f"store:    {store.display_url}")
    typer.echo(f"schema:   {current} (newest: {head})")


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate the store to the newest schema (also done automatically on every open)."""
    store = open_store()
    typer.echo(f"store at {store.display_url} is at the newest schema")
