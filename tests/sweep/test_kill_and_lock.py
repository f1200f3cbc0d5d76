"""`kinlink sweep` as cron runs it: killed mid-run (SIGKILL), and twice at once.

A killed run must leave the previous results exactly as they were, and the next
run must complete its work; a second concurrent run must say so and exit 8.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
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


def sweep(*args: str, pause: str | None = None, wait: bool = True):
    env = {**os.environ, "KINLINK_SWEEP_TEST_PAUSE": pause or ""}
    command = [KINLINK, "sweep", "--overlap-minutes", "0", *args]
    if wait:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


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


def wait_for_phase(store: Store, process: subprocess.Popen, phase: str) -> int:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        with store.session() as session:
            run = session.scalar(select(SweepRun).order_by(SweepRun.id.desc()).limit(1))
            if (
                run is not None
                and run.status == "running"
                and (run.report or {}).get("phase") == phase
            ):
                return run.id
        time.sleep(0.2)
    raise AssertionError(f"the sweep never reached phase {phase!r}")


def test_killed_inside_the_final_transaction_leaves_previous_results(swept_home):
    _home, store = swept_home
    before = state(store)
    process = sweep(pause="commit:90", wait=False)
    try:
        run_id = wait_for_phase(store, process, "write")
        time.sleep(2)  # now inside the final transaction, paused, holding the write lock
        # the review API can still read while the sweep's transaction is open
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(CandidatePair)) == len(before[0])
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert state(store) == before  # nothing of the killed run is visible
    with store.session() as session:
        killed = session.get(SweepRun, run_id)
        assert killed.status == "running" and killed.watermark is None

    done = sweep("--json")
    assert done.returncode == 0, done.stderr
    pairs, _members, _notes, succeeded = state(store)
    assert succeeded > run_id and pairs > before[0]  # the new records' pairs are there now
    with store.session() as session:
        assert session.get(SweepRun, run_id).status == "abandoned"
        report = session.get(SweepRun, succeeded).report
    assert report["new_records"]["total"] == 30
    assert any("killed" in w for w in report["warnings"])


def test_second_sweep_is_refused_then_a_killed_holder_is_taken_over(swept_home):
    _home, store = swept_home
    first = sweep(pause="score:90", wait=False)
    try:
        wait_for_phase(store, first, "score")
        second = sweep()
        assert second.returncode == exitcodes.SWEEP_RUNNING == 8
        assert "another sweep is running" in second.stderr
        assert "nothing done" in second.stderr
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    third = sweep()  # the holder's pid is gone: its lock is taken over at once
    assert third.returncode == 0, third.stderr
    assert "sweep run" in third.stdout and "30 new or changed records" in third.stdout
    history = sweep("--history", "3")
    assert history.returncode == 0 and "abandoned" in history.stdout
