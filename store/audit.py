"""The audit log: who saw or changed which children's records, when, from where.

Each entry carries the SHA-256 of its own content and of the entry before it
(``prev_hash``), starting from a fixed genesis value. Changing, removing or
reordering any entry breaks every hash after it, which :func:`verify` finds;
the database triggers of migration 0002 already refuse UPDATE and DELETE, so a
broken chain means someone went around them. ``seq`` is unique and gap-free,
so two writers can never both extend the same entry (the chain cannot fork).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kinlink.store.database import make_engine
from kinlink.store.review_schema import AuditEntry
from kinlink.store.schema import utcnow
from kinlink.store.store import Store

GENESIS = "0" * 64
#: Any constant will do; it names kinlink's audit lock among PostgreSQL advisory locks.
_PG_LOCK_KEY = 0x6B696E6C
_local_lock = threading.RLock()
_writers: dict[str, sessionmaker[Session]] = {}


@dataclass(frozen=True)
class Event:
    """What happened, before it gets its place in the chain."""

    actor: str
    action: str
    record_ids: Sequence[str] = ()
    agency: str | None = None
    client_ip: str | None = None
    detail: dict[str, Any] | None = None


def _when(value: dt.datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_digest(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    agency: str | None,
    action: str,
    record_ids: Sequence[str],
    client_ip: str | None,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one entry's content chained to the previous hash (canonical JSON)."""
    payload = json.dumps(
        {
            "seq": seq,
            "at": _when(at),
            "actor": actor,
            "agency": agency,
            "action": action,
            "record_ids": list(record_ids),
            "client_ip": client_ip,
            "detail": detail,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(session: Session, event: Event) -> AuditEntry:
    """Add ``event`` at the end of the chain, in the session's transaction.

    On PostgreSQL a transaction-scoped advisory lock serialises writers across
    processes; on SQLite the database's write lock does. Either way the unique
    ``seq`` would turn a race into an error that :func:`record` retries, never
    into a fork.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        # Take SQLite's write lock *before* reading the head: a write statement that
        # touches no row still starts a write transaction, so a second process waits
        # here (busy timeout) instead of reading the same head and failing on ``seq``
        # (seen with two uvicorn workers under load). Row triggers do not fire.
        session.execute(text("DELETE FROM audit_log WHERE 0"))
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    detail = json.loads(json.dumps(event.detail or {}, default=str))
    record_ids = [str(r) for r in event.record_ids]
    fields = {
        "seq": seq,
        "at": at,
        "actor": event.actor,
        "agency": event.agency,
        "action": event.action,
        "record_ids": record_ids,
        "client_ip": event.client_ip,
        "detail": detail,
        "prev_hash": prev,
    }
    # The hash covers exactly the stored fields, so build them once for both.
    entry = AuditEntry(**fields, entry_hash=entry_digest(**fields))
    session.add(entry)
    session.flush()
    return entry


def _writer(store: Store) -> sessionmaker[Session]:
    """Sessions on a connection pool of the audit log's own.

    A request holds a connection of the store's pool while it writes its audit
    entry; taking the entry's connection from the same pool would let busy
    requests wait on each other for ever (hold one, wait for another). Writers
    are serialised by a lock, so this pool rarely needs more than one connection.
    """
    with _local_lock:
        found = _writers.get(store.url)
        if found is None:
            found = _writers[store.url] = sessionmaker(make_engine(store.url))
        return found


def record(store: Store, event: Event, attempts: int = 5) -> int:
    """Append ``event`` in its own committed transaction; returns its ``seq``.

    A separate transaction keeps the chain's critical section short (a slow
    request never holds the audit lock) and means a view is logged even if
    the response fails to reach the client.
    """
    sessions = _writer(store)
    for attempt in range(attempts):
        try:
            with _local_lock, sessions.begin() as session:
                return append(session, event).seq
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head_hash: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def iter_entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session, max_problems: int = 50) -> VerifyResult:
    """Recompute the chain from the first entry; list every place it breaks."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in iter_entries(session):
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"seq {entry.seq}: expected seq {expected_seq} (entries missing)")
        if entry.prev_hash != prev:
            problems.append(f"seq {entry.seq}: prev_hash does not match the previous entry")
        digest = entry_digest(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            agency=entry.agency,
            action=entry.action,
            record_ids=entry.record_ids,
            client_ip=entry.client_ip,
            detail=entry.detail,
            prev_hash=entry.prev_hash,
        )
        if digest != entry.entry_hash:
            problems.append(f"seq {entry.seq}: content does not match its hash (altered)")
        prev = entry.entry_hash
        expected_seq = entry.seq + 1
        if len(problems) >= max_problems:
            break
    return VerifyResult(count, prev, problems)


def entries(
    session: Session,
    *,
    record_id: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Most recent entries first, optionally about one record or by one actor."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    rows = list(session.scalars(query.limit(limit if record_id is None else limit * 20)))
    if record_id is not None:
        rows = [r for r in rows if record_id in r.record_ids][:limit]
    return rows


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0
