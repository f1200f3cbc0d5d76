"""SQLite: record timestamps written by the old fast ingest path, rewritten as the ORM writes them.

Why: SQLite has no timestamp type; SQLAlchemy stores a ``DateTime`` as text,
``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC in kinlink), and compares and sorts the text.
From commit 2a47e93 until 3a13e7c the bulk insert of new records
(``kinlink.store.records._insert_sqlite``) handed the timezone-aware datetime to
sqlite3's default adapter instead, which writes ``YYYY-MM-DD HH:MM:SS[.ffffff]+00:00``.
Rows stored by that version keep that text, and then:

* a text comparison in SQL, such as the review service's catch-up
  ``records.updated_at >= :since``, is wrong at the boundary: ``...:45+00:00`` sorts
  *before* ``...:45.000000`` (``+`` < ``.``), so a record stored at exactly ``since``
  is missed; ``>`` wrongly admits equal instants written with microseconds;
* reading them back gives timezone-aware datetimes where every other row gives naive
  ones (the API then shows two timestamp forms, and Python comparisons of the two
  kinds raise ``TypeError``).

The sweep compares ``updated_at`` after parsing (pandas, in UTC) and was not affected.

Only the columns that path wrote are touched: ``records.created_at`` and
``records.updated_at``, and ``record_versions.created_at``, which is copied from
``records.updated_at`` (``INSERT ... SELECT``) when a record changes. Everything else
was always written through SQLAlchemy; the audit log in particular is hash-chained
and must never be rewritten. Values are parsed, converted to UTC and formatted by the
SQLite dialect's own ``DateTime`` processor, so the text is exactly what the ORM
writes. A value that does not parse as a timestamp is left as it is (and logged).

PostgreSQL: nothing to do. The columns are ``timestamp with time zone`` and the fast
path only ever ran on SQLite.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

#: (table, column) the old SQLite fast path wrote (or copied) as ``...+00:00`` text.
COLUMNS = (
    ("records", "created_at"),
    ("records", "updated_at"),
    ("record_versions", "created_at"),
)
#: Length of the ORM's text form, ``YYYY-MM-DD HH:MM:SS.ffffff``; anything else is old.
_ORM_LENGTH = 26
_BATCH = 5000


def _orm_text(value: str, formatter: object) -> str | None:
    """``value`` as the ORM writes it (UTC), or None when it is not a timestamp."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # kinlink only ever stores UTC
        parsed = parsed.replace(tzinfo=dt.UTC)
    return formatter(parsed.astimezone(dt.UTC))  # type: ignore[operator]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    formatter = sa.DateTime(timezone=True).dialect_impl(bind.dialect).bind_processor(bind.dialect)
    assert formatter is not None, "SQLite's DateTime always has a text processor"
    for table, column in COLUMNS:
        rows = bind.execute(
            sa.text(
                f"SELECT rowid, {column} FROM {table} WHERE typeof({column}) = 'text' "
                f"AND (length({column}) != {_ORM_LENGTH} OR substr({column}, 11, 1) != ' ')"
            )
        ).all()
        changes, unreadable = [], []
        for rowid, value in rows:
            new = _orm_text(value, formatter)
            if new is None:
                unreadable.append(rowid)
            elif new != value:
                changes.append({"rowid": rowid, "value": new})
        statement = sa.text(f"UPDATE {table} SET {column} = :value WHERE rowid = :rowid")
        for start in range(0, len(changes), _BATCH):
            bind.execute(statement, changes[start : start + _BATCH])
        if changes:
            logger.info("%s.%s: %d timestamps rewritten", table, column, len(changes))
        if unreadable:
            logger.warning(
                "%s.%s: %d values are not timestamps and were left as they are (rowid %s)",
                table,
                column,
                len(unreadable),
                unreadable[:5],
            )


def downgrade() -> None:
    """Nothing to undo: the rewritten text is the one every kinlink version reads."""
