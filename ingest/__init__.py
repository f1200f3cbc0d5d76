"""Ingest: read agency files into validated record format v1 records."""

from kinlink.ingest.columns import FORMAT_VERSION, RECORD_COLUMNS, RECORD_TYPES, REQUIRED_COLUMNS

__all__ = ["FORMAT_VERSION", "RECORD_COLUMNS", "RECORD_TYPES", "REQUIRED_COLUMNS"]
