"""Shared fixtures: stores on both databases kinlink supports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kinlink.store import Store

#: Server used for the PostgreSQL store tests (the project's machines run one here).
PG_ADMIN_URL = os.environ.get(
    "KINLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "datasets" / "synthetic" / "sample"


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # any failure means "not here"; the reason is shown
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(err).__name__}"


_PG_PROBLEM = _postgres_available()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    if _PG_PROBLEM:
        pytest.skip(f"SKIPPED LOUDLY: {_PG_PROBLEM} (run scripts/ensure-system-deps.sh)")
    name = f"kinlink_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kinlink.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
    opened = Store(url)
    yield opened
    opened.close()


@pytest.fixture
def kinlink_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points the CLI's default store at a temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("KINLINK_HOME", str(home))
    monkeypatch.delenv("KINLINK_DATABASE_URL", raising=False)
    from kinlink.config import get_settings

    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
