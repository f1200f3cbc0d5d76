"""Many rows into one table at once, without the ORM's per-row work on the embedded store.

Why: a nightly sweep writes hundreds of thousands of candidate pairs, and SQLAlchemy's
``session.execute(insert(table), rows)`` spent more time on SQLite turning each dict into
parameters than SQLite spent storing it (the 1M sweep's write phase: 48.6 s before, 22-33 s
after; docs/sweep.md, session 15). On SQLite the rows here go straight to sqlite3's
``executemany`` as tuples, each value passed through the column type's own bind processor for the
dialect (the JSON serialiser, the DATETIME text form, booleans as integers): the very
processors the ORM applies, so the stored text is the same
(``tests/store/test_bulk.py`` compares both ways). Other databases keep SQLAlchemy's
``insertmanyvalues``, which already batches well on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_MISSING = object()


class JsonText(str):
    """A JSON document already serialised by the store's own serialiser
    (:func:`kinlink.store.database.json_text`), bound to a JSON column as is.

    Why: a sweep's worker processes explain ~150,000 pairs a night, and handing the
    explanations back as nested dicts (pickled across processes, then serialised in
    the parent) cost more than building them (docs/sweep.md, session 15); serialised
    where they are built, they travel and are stored as one string each. The text is
    exactly what the ORM would have written for the decoded value.
    """

    def decoded(self) -> Any:
        import orjson

        return orjson.loads(str(self))  # orjson refuses str subclasses


def plain_json(value: Any) -> Any:
    """``value`` with :class:`JsonText` decoded, for paths that serialise it themselves."""
    return value.decoded() if isinstance(value, JsonText) else value


#: SQLite page cache during a bulk write, in KiB when negative (64 MiB).
BULK_CACHE = -65536


@contextlib.contextmanager
def bulk_cache(session: Session) -> Iterator[None]:
    """A bigger SQLite page cache for the session's connection while a bulk write runs.

    SQLite's default cache (2 MB) is far smaller than the indexes a large write
    touches, so pages went out to the WAL and were read back mid-write; a bigger cache
    for this write only keeps them until the commit. No-op on other databases.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = {BULK_CACHE}")
    try:
        yield
    finally:
        with contextlib.suppress(DBAPIError):  # never hide the write's own error
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def insert_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, fast: bool | None = None
) -> None:
    """INSERT ``rows`` (every row the same keys, each a column) in the session's
    transaction. ``fast``: force the direct SQLite path on or off (default: on SQLite)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if fast is None:
        fast = dialect.name == "sqlite"
    if not fast:
        session.execute(insert(table), [{k: plain_json(v) for k, v in row.items()} for row in rows])
        return
    names = list(rows[0])
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {unknown}")
    # only the columns whose type converts values (JSON, timestamps) pay a call a row
    converted = [
        (i, process)
        for i, n in enumerate(names)
        if (process := _processor(table.c[n].type.dialect_impl(dialect).bind_processor(dialect)))
    ]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    params = []
    for row in rows:
        values = _values(row, names)
        for i, process in converted:
            values[i] = process(values[i])
        params.append(tuple(values))
    session.connection().exec_driver_sql(sql, params)


def raw_rows(session: Session, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the database driver returns them: plain tuples, no
    type processing (timestamps stay text on SQLite, JSON stays text).

    Why: reading a million records' snapshot through ``session.execute(...).all()``
    spent most of its time building Row objects and parsing each timestamp in Python
    (the 1M sweep's snapshot phase, docs/sweep.md, session 16); a caller that turns the
    columns into pandas parses them once, vectorised. Same SQL, the session's
    transaction.
    """
    result = session.connection().execute(statement)
    try:
        # the DBAPI cursor itself: SQLAlchemy has bound the parameters (JSON paths
        # included) but fetched nothing yet
        return [tuple(row) for row in result.cursor.fetchall()]
    finally:
        result.close()


def _values(row: Mapping[str, Any], names: list[str]) -> list[Any]:
    if len(row) != len(names):
        raise ValueError(f"every row must have the columns {names}; one has {list(row)}")
    return [row[n] for n in names]


def _processor(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``process`` remembering its last scalar argument: the same object in row after
    row (a run's timestamp, its model fingerprint) is converted once. Lists and dicts
    (JSON) are converted every time, as they could change between rows."""
    if process is None:
        return None
    last: list[Any] = [_MISSING, None]

    def run(value: Any) -> Any:
        if isinstance(value, JsonText):  # serialised already, by the same serialiser
            return str(value)
        if value is last[0]:
            return last[1]
        out = process(value)
        if not isinstance(value, list | dict):
            last[0], last[1] = value, out
        return out

    return run
