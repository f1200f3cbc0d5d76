"""Configuration: one typed object, read from the environment.

Every setting has a safe default for a laptop in a field office (an embedded
SQLite file, no server); production overrides them with ``KINLINK_*``
environment variables (or a ``.env`` file in the working directory).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kinlink"


class Settings(BaseSettings):
    """kinlink's settings; each field is the environment variable ``KINLINK_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KINLINK_", env_file=".env", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Folder for the embedded database, trained models and run outputs.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store. Default: sqlite:///<home>/kinlink.sqlite. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/dbname"
        ),
    )

    # -- review service (kinlink serve) -------------------------------------------
    session_minutes: int = Field(
        default=480, ge=5, description="A login session ends this long after it starts."
    )
    token_days: int = Field(
        default=90, ge=1, description="Default lifetime of an API token for machine clients."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per username, within the window, before 429."
    )
    login_max_failures_per_ip: int = Field(
        default=30, ge=1, description="Failed logins from one address, within the window."
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="Window over which failed logins are counted."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Send the session cookie over HTTPS only (set true behind TLS).",
    )
    model_path: Path | None = Field(
        default=None,
        description=(
            "Trained matching model (JSON) used for real-time candidates. Default: "
            "<home>/model.json, trained from the stored records when absent."
        ),
    )
    match_on_write: bool = Field(
        default=True,
        description="Match a record against the store as soon as it is created or changed.",
    )

    # -- matching engine -------------------------------------------------------------
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description=(
            "Where batch linkage runs (link, dedupe, train, sweep): the embedded DuckDB, "
            "or Apache Spark (pip install 'kinlink[spark]'). Real-time matching in the "
            "review service always uses DuckDB."
        ),
    )
    scorer: Literal["python", "sql"] = Field(
        default="python",
        description=(
            "How link and dedupe score candidate pairs on DuckDB: in-process with numpy "
            "(python; the same levels and weights, about twice as fast) or by Splink's "
            "SQL (sql, the reference). Spark always runs Splink's SQL."
        ),
    )
    spark_master: str | None = Field(
        default=None,
        description="Spark master URL for --engine spark. Default: $SPARK_MASTER, else local[*].",
    )
    spark_driver_memory: str = Field(
        default="4g",
        description="Spark driver memory when kinlink starts the session (local mode: all of it).",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'kinlink.sqlite'}"

    @property
    def resolved_model_path(self) -> Path:
        return self.model_path or self.home / "model.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
