"""The store's tables (SQLAlchemy 2 declarative). Changes go through Alembic migrations.

A record's current state lives in ``records``; every state it had before
lives in ``record_versions`` (copied there when it is replaced), so a
correction never destroys what was there before and a reviewer's decision can
always be read against the version it was made on. Keeping only superseded
states there means a first load writes each record once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Metadata root for kinlink's tables."""


class Source(Base):
    """One load of one file: where records came from, and what the load did."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(1000))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(20))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rows_seen: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)


class StoredRecord(Base):
    """The current version of one record, identified by (agency, record_id)."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("agency", "record_id", name="uq_records_agency_record_id"),
        Index("ix_records_type_agency", "record_type", "agency"),
        Index("ix_records_record_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "" when neither the file nor the load named an agency.
    agency: Mapped[str] = mapped_column(String(200), default="")
    record_id: Mapped[str] = mapped_column(String(200))
    record_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class RecordVersion(Base):
    """A superseded state of a record (append-only); the current state is in ``records``."""

    __tablename__ = "record_versions"
    __table_args__ = (UniqueConstraint("record_pk", "version", name="uq_record_versions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_pk: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


import kinlink.store.sweep_schema  # noqa: E402, F401  (registers the sweep tables on Base)
