"""Store: records kept safely, versioned, in SQLite (default) or PostgreSQL.

Public surface: :class:`Store` (open, sessions), the record operations in
:mod:`kinlink.store.records`, and the table classes in :mod:`kinlink.store.schema`.
"""

from kinlink.store.database import StoreUnavailable
from kinlink.store.records import (
    CountRow,
    LoadSummary,
    Version,
    content_hash,
    counts,
    find_records,
    history,
    list_records,
    load_records,
    load_result,
    stored_frame,
)
from kinlink.store.schema import RecordVersion, Source, StoredRecord
from kinlink.store.store import Store

__all__ = [
    "CountRow",
    "LoadSummary",
    "RecordVersion",
    "Source",
    "Store",
    "StoreUnavailable",
    "StoredRecord",
    "Version",
    "content_hash",
    "counts",
    "find_records",
    "history",
    "list_records",
    "load_records",
    "load_result",
    "stored_frame",
]
