"""Connecting to the store: one engine per URL, schema kept current by Alembic.

SQLite (embedded default) and PostgreSQL (production) sit behind the same
SQLAlchemy engine; nothing above this module knows which one is running.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

_MIGRATIONS = Path(__file__).parent / "migrations"


class StoreUnavailable(Exception):
    """The database cannot be reached or opened; the message names the URL (without password)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder on first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json_text)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_text)


def json_text(value: object) -> str:
    """The store's JSON serialiser (the engines' ``json_serializer``)."""
    return _json_text(value)


def _json_text(value: object) -> str:
    # orjson is several times faster than the standard library on the
    # Unicode-heavy records kinlink stores, and writes the same JSON.
    return orjson.dumps(value).decode("utf-8")


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the review API read while a load or sweep writes; foreign keys
    # are off by default in SQLite and the schema relies on them.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config() -> Config:
    """Alembic configuration pointing at kinlink's migrations (usable from code)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it already is."""
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current == head:
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as err:
        safe = engine.url.render_as_string(hide_password=True)
        raise StoreUnavailable(f"cannot open the store at {safe}: {err.orig}") from None
