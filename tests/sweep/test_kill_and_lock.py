"""`kinlink sweep` as cron runs it: killed mid-run (SIGKILL), and twice at once.

A killed run must leave the previous results exactly as they were, and the next
run must complete its work; a second concurrent run must say so and exit 8.

The sweep has no test hook. The tests drive a real ``kinlink sweep`` process from
outside, the way a debugger steps a program: SIGSTOP it, look at the store, SIGCONT it
for a moment, again, until it is exactly where the test wants it, then SIGKILL it.
Two things are visible from outside without any help from the sweep:

* the phase it is in: ``sweep_runs.report.phase``, committed at each phase for operators
  (``_set_phase``);
* whether it holds SQLite's write lock: another connection's ``BEGIN IMMEDIATE`` with no
  busy timeout fails while a write transaction is open.

In the ``write`` phase the sweep opens exactly one write transaction, the final one
(the only other writer in the process is the lock's heartbeat, a one-row update every
30 s, far apart from these few-second runs), so "phase write, write lock held,
status still running" while stopped means: stopped inside the final transaction.
At every stop the test also checks that a reader sees nothing of the run before it
commits (an early commit of pairs, or of the ``committing`` status, fails it), both
in the killed run and in the next one, which it steps through to its commit.
A run that commits before it was seen inside (the test process kept off the CPU for
the whole transaction) is not an error: 30 more records are loaded and a new run is
tried, a few times at most. The store is the default one, SQLite in WAL mode.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kinlink.cli import exitcodes
from kinlink.store import Store
from kinlink.store.review_schema import CandidatePair, Notification
from kinlink.store.sweep_schema import SweepClusterMember, SweepRun

from .conftest import load, sample_frame, sample_records

KINLINK = str(Path(sys.executable).parent / "kinlink")
TIMEOUT = 120


@pytest.fixture
def swept_home(kinlink_home, sweep_model):
    """A home with a model, 220 records, one successful sweep, and 30 records since."""
    _, model_path = sweep_model
    kinlink_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(model_path, kinlink_home / "model.json")
    frame = sample_frame(250)
    store = Store(f"sqlite:///{kinlink_home / 'kinlink.sqlite'}")
    load(store, sample_records(frame.head(220)))
    done = sweep()
    assert done.returncode == 0, done.stderr
    load(store, sample_records(frame.iloc[220:]), sha="1" * 64)
    yield kinlink_home, store
    store.close()


def sweep(*args: str, wait: bool = True, log: Path | None = None):
    command = [KINLINK, "sweep", "--overlap-minutes", "0", *args]
    if wait:
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert log is not None  # a file, not a pipe: nobody reads stderr while the sweep runs
    with log.open("w") as err:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, text=True)


def state(store: Store) -> tuple:
    with store.session() as session:
        pairs = set(session.execute(select(CandidatePair.pair_lo, CandidatePair.pair_hi)).all())
        members = set(
            session.execute(
                select(SweepClusterMember.record_pk, SweepClusterMember.cluster_id)
            ).all()
        )
        notes = session.scalar(select(func.count()).select_from(Notification))
        succeeded = session.scalar(
            select(func.max(SweepRun.id)).where(SweepRun.status == "succeeded")
        )
    return pairs, members, notes, succeeded


def _stopped(pid: int) -> bool:
    """Has SIGSTOP taken effect (state T)? Signals are delivered asynchronously."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


def _latest_run(store: Store, after: int) -> tuple[int | None, str | None, str | None]:
    """The newest run after run ``after``: id, status and phase, as committed."""
    with store.session() as session:
        run = session.scalar(
            select(SweepRun).where(SweepRun.id > after).order_by(SweepRun.id.desc()).limit(1)
        )
        if run is None:
            return None, None, None
        return run.id, run.status, (run.report or {}).get("phase")


def _write_locked(db: Path) -> bool:
    """Does some connection hold the store's write lock (an open write transaction)?"""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        assert "locked" in str(err), err
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


Condition = Callable[[int | None, str | None, str | None, Callable[[], bool]], bool]


@contextlib.contextmanager
def sweeping(log: Path, *args: str) -> Iterator[subprocess.Popen]:
    """A background ``kinlink sweep``, killed (and reaped) however the test ends."""
    process = sweep(*args, wait=False, log=log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()  # SIGKILL works on a stopped process too
        process.wait(timeout=30)


def stop_when(
    process: subprocess.Popen, store: Store, log: Path, after: int, condition: Condition
) -> int | None:
    """Step ``process`` (SIGSTOP, look, SIGCONT) until ``condition`` holds while it is
    stopped; return its run's id and leave it stopped there. None: the run committed
    before the condition was ever seen (it ran past the point within one slice).

    ``condition(run_id, status, phase, locked)`` sees the process's run (the newest
    after run ``after``; None before it is created) as committed, and ``locked()``
    says whether the write lock is held. Slices are short in the score phase (2 ms)
    and shorter in the write phase (0.5 ms): the final transaction takes some 25 ms of
    a run here, so it is seen stopped many times over unless this process is itself
    kept off the CPU for that long (a busy machine): the caller then tries again.
    """
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the sweep ended first:\n{log.read_text()}")
        process.send_signal(signal.SIGSTOP)
        while not _stopped(process.pid):
            time.sleep(0.0001)
        run_id, status, phase = _latest_run(store, after)
        if condition(run_id, status, phase, lambda: _write_locked(store_path(store))):
            assert run_id is not None
            return run_id
        process.send_signal(signal.SIGCONT)
        if status == "succeeded":
            return None
        time.sleep({"score": 0.002, "write": 0.0005}.get(phase or "", 0.02))
    raise AssertionError(f"the sweep never reached the wanted point:\n{log.read_text()}")


def store_path(store: Store) -> Path:
    database = store.engine.url.database
    assert database, store.engine.url
    return Path(database)


def nothing_before_the_commit(store: Store, before: tuple) -> Condition:
    """Holds nowhere; checks at every stop that the run shows nothing before it commits.

    Its status goes from ``running`` to ``succeeded`` in one step (``committing`` is
    written inside the final transaction, so it must never be seen), and while it is
    writing, a reader sees the previous pairs, clusters and notifications only.
    """

    def condition(run_id, status, phase, locked) -> bool:
        assert status in (None, "running", "succeeded"), f"run {run_id} is seen {status}"
        if status == "running" and phase == "write":
            assert state(store) == before, "part of the run is visible before it committed"
        return False

    return condition


def in_final_transaction(store: Store, before: tuple, deep: int) -> Condition:
    """Stopped inside the final transaction (write phase, write lock held) for the
    ``deep``-th time, having checked :func:`nothing_before_the_commit` at every stop."""
    check = nothing_before_the_commit(store, before)
    seen = 0

    def condition(run_id, status, phase, locked) -> bool:
        nonlocal seen
        check(run_id, status, phase, locked)
        seen += status == "running" and phase == "write" and locked()
        return seen >= deep

    return condition


def running(run_id, status, phase, locked) -> bool:
    return status == "running"


#: Runs tried before giving up on stopping one inside its final transaction.
ATTEMPTS = 5
#: Stops inside the final transaction before the kill (each lets it run ~0.5 ms).
DEEP = 3


def test_killed_inside_the_final_transaction_leaves_previous_results(swept_home):
    home, store = swept_home
    more = sample_frame(250 + 30 * ATTEMPTS).iloc[250:]
    for attempt in range(ATTEMPTS):
        before = state(store)
        log = home / f"killed-{attempt}.log"
        with sweeping(log) as process:
            inside = in_final_transaction(store, before, DEEP)
            run_id = stop_when(process, store, log, before[3], inside)
            if run_id is None:  # it committed first: 30 more records, and try again
                process.wait(timeout=TIMEOUT)
                batch = more.iloc[30 * attempt : 30 * (attempt + 1)]
                load(store, sample_records(batch), sha=f"{attempt + 2}" * 64)
                continue
            # stopped inside the final transaction, holding the write lock: the review
            # API can still read, and sees the previous results only
            assert _write_locked(store_path(store))
            with store.session() as session:
                count = session.scalar(select(func.count()).select_from(CandidatePair))
            assert count == len(before[0])
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
            break
    else:
        raise AssertionError(f"no run of {ATTEMPTS} was stopped inside its final transaction")
    assert not _write_locked(store_path(store))  # SQLite rolled the transaction back
    assert state(store) == before  # nothing of the killed run is visible
    with store.session() as session:
        killed = session.get(SweepRun, run_id)
        assert killed.status == "running" and killed.watermark is None
        assert killed.report == {"phase": "write"}  # its "committing" never committed

    # The next sweep completes the work. Stepped through like the killed one, all the
    # way to its commit, it shows nothing of its work before then either.
    log = home / "next.log"
    with sweeping(log, "--json") as process:
        check = nothing_before_the_commit(store, before)
        assert stop_when(process, store, log, run_id, check) is None
        assert process.wait(timeout=TIMEOUT) == 0, log.read_text()
    pairs, _members, _notes, succeeded = state(store)
    assert succeeded > run_id and pairs > before[0]  # the new records' pairs are there now
    with store.session() as session:
        assert session.get(SweepRun, run_id).status == "abandoned"
        report = session.get(SweepRun, succeeded).report
    assert report["new_records"]["total"] == 30
    assert any("killed" in w for w in report["warnings"])


def test_second_sweep_is_refused_then_a_killed_holder_is_taken_over(swept_home):
    home, store = swept_home
    log = home / "first.log"
    with sweeping(log) as first:
        # stopped while it runs (it holds the lock); a stopped process is alive
        assert stop_when(first, store, log, state(store)[3], running) is not None
        second = sweep()
        assert second.returncode == exitcodes.SWEEP_RUNNING == 8
        assert "another sweep is running" in second.stderr
        assert "nothing done" in second.stderr
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    third = sweep()  # the holder's pid is gone: its lock is taken over at once
    assert third.returncode == 0, third.stderr
    assert "sweep run" in third.stdout and "30 new or changed records" in third.stdout
    history = sweep("--history", "3")
    assert history.returncode == 0 and "abandoned" in history.stdout
