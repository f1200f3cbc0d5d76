"""Ingest: read agency files into validated record format v1 records.

Public surface: :func:`read_records` (any supported file -> validated
records and row errors), :class:`RecordV1` (the format as a model),
:func:`load_mapping` (column mappings), :func:`records_frame` (the engine's
DataFrame input).
"""

from kinlink.ingest.columns import FORMAT_VERSION, RECORD_COLUMNS, RECORD_TYPES, REQUIRED_COLUMNS
from kinlink.ingest.load import (
    InvalidRows,
    OnError,
    ReadResult,
    RowError,
    read_records,
    records_frame,
    text_row,
)
from kinlink.ingest.mapping import Mapping, load_mapping
from kinlink.ingest.readers import FORMATS, FileProblem
from kinlink.ingest.record import RecordV1

__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "RECORD_COLUMNS",
    "RECORD_TYPES",
    "REQUIRED_COLUMNS",
    "FileProblem",
    "InvalidRows",
    "Mapping",
    "OnError",
    "ReadResult",
    "RecordV1",
    "RowError",
    "load_mapping",
    "read_records",
    "records_frame",
    "text_row",
]
