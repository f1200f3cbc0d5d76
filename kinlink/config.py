"""Configuration: one typed object, read from the environment.

Every setting has a safe default for a laptop in a field office (an embedded
SQLite file, no server); production overrides them with ``KINLINK_*``
environment variables (or a ``.env`` file in the working directory).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'kinlink.sqlite'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
