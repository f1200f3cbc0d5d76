"""The store handle: an engine, a session factory, and a migrated schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from kinlink.config import Settings, get_settings
from kinlink.store.database import make_engine, upgrade


class Store:
    """kinlink's persistent store (SQLite by default, PostgreSQL by URL).

    Opening a store migrates its schema to the newest version, so a fresh
    machine needs no separate set-up step.

    Examples:
        >>> store = Store.open()  # doctest: +SKIP
        >>> with store.session() as session:  # doctest: +SKIP
        ...     counts(session)
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Store:
        return cls((settings or get_settings()).resolved_database_url)

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()
