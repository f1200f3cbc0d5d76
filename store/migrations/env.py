"""Alembic environment: runs kinlink's migrations on the connection it is handed.

kinlink calls Alembic from code (:func:`kinlink.store.database.upgrade`), passing an
open connection in ``config.attributes["connection"]``; the ``alembic`` command
line works too with ``-x url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import kinlink.store.review_schema  # noqa: F401  (registers the review tables on Base)
from kinlink.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
