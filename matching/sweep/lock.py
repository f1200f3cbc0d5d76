"""One sweep at a time: a lock row with a holder and a heartbeat.

Why a row and not ``flock`` or a PostgreSQL advisory lock: the lock must work the
same on SQLite and PostgreSQL, across machines sharing one PostgreSQL store, and
be visible to an operator (``select * from sweep_lock``). A row alone cannot see
its holder die, so it carries two ways of noticing a dead holder:

* the holder is ``host:pid``: on the same host, a pid that no longer exists is a
  holder that was killed (SIGKILL, power cut), and its lock is taken over at once;
* a heartbeat refreshed every ``heartbeat`` seconds by a background thread: a lock
  whose heartbeat is older than ``lease`` is taken over from any host.

Taking the lock is a compare-and-set ``UPDATE ... WHERE holder IS <what we saw>``,
so two processes racing for a free (or stale) lock cannot both win.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from kinlink.store import Store
from kinlink.store.schema import utcnow
from kinlink.store.sweep_schema import SweepLock

logger = logging.getLogger(__name__)

#: A lock not refreshed for this long is considered abandoned by any host.
DEFAULT_LEASE = dt.timedelta(minutes=10)
#: How often the holder refreshes its heartbeat.
DEFAULT_HEARTBEAT = dt.timedelta(seconds=30)
_LOCK_ID = 1


class SweepLocked(Exception):
    """Another sweep holds the lock; the message says who and since when."""

    def __init__(
        self, holder: str, run_id: int | None, since: dt.datetime | None, note: str = ""
    ) -> None:
        self.holder, self.run_id, self.since = holder, run_id, since
        when = f" since {since:%Y-%m-%d %H:%M:%S} UTC" if since else ""
        run = f" (run {run_id})" if run_id else ""
        super().__init__(f"another sweep is running: {holder}{run}{when}{note}")


def holder_id() -> str:
    """``host:pid`` of this process: who a lock row says is sweeping."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def holder_is_dead(holder: str, host: str | None = None) -> bool:
    """True when ``holder`` ran on this host and its process no longer exists."""
    name, _, pid_text = holder.rpartition(":")
    if name != (host or socket.gethostname()) or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent still has a pid; it is dead all the same."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def is_stale(
    holder: str | None,
    heartbeat_at: dt.datetime | None,
    now: dt.datetime,
    lease: dt.timedelta = DEFAULT_LEASE,
) -> bool:
    """May this lock be taken over? Free, dead holder, or heartbeat older than the lease."""
    if holder is None:
        return True
    if holder_is_dead(holder):
        return True
    heartbeat_at = _aware(heartbeat_at)
    return heartbeat_at is None or now - heartbeat_at > lease


@dataclass
class HeldLock:
    """The lock this process holds; refreshes itself until released."""

    store: Store
    holder: str
    run_id: int | None = None
    heartbeat: dt.timedelta = DEFAULT_HEARTBEAT
    previous_holder: str | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._held_by_write = threading.Event()
        self._beating = threading.Lock()  # a beat in flight finishes before a write starts
        self._thread = threading.Thread(target=self._beat, name="kinlink-sweep-lock", daemon=True)
        self._thread.start()

    def _refresh(self, session: Session) -> None:
        session.execute(
            update(SweepLock)
            .where(SweepLock.id == _LOCK_ID, SweepLock.holder == self.holder)
            .values(heartbeat_at=utcnow())
        )

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat.total_seconds()):
            try:
                with self._beating:
                    if self._held_by_write.is_set():
                        continue
                    with self.store.session() as session:
                        self._refresh(session)
            except Exception as exc:  # a busy database must not kill the sweep; the lease
                # is long. One line, not a traceback.
                logger.warning(
                    "could not refresh the sweep lock's heartbeat (%s); next try in %s",
                    str(exc).splitlines()[0][:200],
                    self.heartbeat,
                )

    @contextlib.contextmanager
    def writing(self, session: Session) -> Iterator[None]:
        """The heartbeat while this holder's own write transaction runs in ``session``.

        Why: on SQLite that transaction holds the whole database, so every refresh from
        the thread's own connection waited out the busy timeout and failed, logging a
        warning per beat for a condition that is expected (a 100k sweep writes for five
        minutes). Nobody can take the lock over meanwhile either: taking it is a write,
        and :func:`acquire` says the holder is writing its results. So on SQLite the
        thread skips its beats and the heartbeat is refreshed inside the transaction
        instead, at its start and as its last statement, so the commit carries a fresh
        heartbeat however long the write took. On PostgreSQL the thread goes on beating
        from its own connection (the write does not touch the lock row), unchanged.
        """
        if session.get_bind().dialect.name != "sqlite":
            yield
            return
        with self._beating:
            self._held_by_write.set()
        try:
            self._refresh(session)
            yield
            self._refresh(session)
        finally:
            self._held_by_write.clear()

    def set_run(self, run_id: int) -> None:
        self.run_id = run_id
        with self.store.session() as session:
            session.execute(
                update(SweepLock)
                .where(SweepLock.id == _LOCK_ID, SweepLock.holder == self.holder)
                .values(run_id=run_id)
            )

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self.store.session() as session:
            session.execute(
                update(SweepLock)
                .where(SweepLock.id == _LOCK_ID, SweepLock.holder == self.holder)
                .values(holder=None, run_id=None, heartbeat_at=None)
            )

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(
    store: Store,
    *,
    lease: dt.timedelta = DEFAULT_LEASE,
    heartbeat: dt.timedelta = DEFAULT_HEARTBEAT,
    holder: str | None = None,
) -> HeldLock:
    """Take the sweep lock or raise :class:`SweepLocked` naming the live holder.

    On SQLite a sweep writing its results holds the database's only write lock for the
    whole final transaction (16 minutes for 100,000 new records against a million), so
    its heartbeat cannot be refreshed and the lock looks stale; taking it over then
    waits for the database and fails. That is a running sweep, and it is reported as one.
    """
    try:
        return _acquire(store, lease, heartbeat, holder or holder_id())
    except OperationalError as exc:
        if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
            raise
        with store.session() as session:  # reading is never blocked (WAL)
            row = session.get(SweepLock, _LOCK_ID)
            found = (row.holder, row.run_id, _aware(row.acquired_at)) if row else (None,) * 3
        raise SweepLocked(
            found[0] or "unknown",
            found[1],
            found[2],
            note="; it is writing its results (the store is locked for writing)",
        ) from None


def _acquire(store: Store, lease: dt.timedelta, heartbeat: dt.timedelta, me: str) -> HeldLock:
    with store.session() as session:
        row = session.get(SweepLock, _LOCK_ID)
        if row is None:  # a store whose lock row was removed by hand
            session.add(SweepLock(id=_LOCK_ID, holder=None))
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
            row = session.get(SweepLock, _LOCK_ID)
        assert row is not None
        seen_holder, seen_beat, seen_run = row.holder, row.heartbeat_at, row.run_id
        now = utcnow()
        if not is_stale(seen_holder, seen_beat, now, lease):
            assert seen_holder is not None
            raise SweepLocked(seen_holder, seen_run, _aware(row.acquired_at))
        guard = (
            SweepLock.holder.is_(None) if seen_holder is None else (SweepLock.holder == seen_holder)
        )
        result = session.execute(
            update(SweepLock)
            .where(SweepLock.id == _LOCK_ID, guard)
            .values(holder=me, run_id=None, acquired_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # someone else won the race between our read and write
            current = session.execute(
                select(SweepLock.holder, SweepLock.run_id, SweepLock.acquired_at).where(
                    SweepLock.id == _LOCK_ID
                )
            ).one()
            raise SweepLocked(current[0] or "unknown", current[1], _aware(current[2]))
    if seen_holder is not None:
        logger.warning("took over the sweep lock from %s (no longer running)", seen_holder)
    return HeldLock(store, me, heartbeat=heartbeat, previous_holder=seen_holder)
