"""``kinlink serve --sweep-at/--sweep-every``: the sweep scheduled inside the service.

The schedule's arithmetic is pure (tested over any instant); the scheduler is tested
by letting it start the real ``kinlink sweep`` as a child process on a real store,
and a failing command, and the CLI refuses a bad schedule before serving anything.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from kinlink.cli import _register, app
from kinlink.matching.sweep.schedule import SWEEP_COMMAND, Schedule, SweepScheduler
from kinlink.store import Store
from kinlink.store.sweep_schema import SweepRun

from .conftest import load, sample_frame, sample_records

_register()

_instants = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))


@given(now=_instants, at=st.times())
def test_daily_runs_next_at_that_time_within_a_day(now: dt.datetime, at: dt.time) -> None:
    when = Schedule(at=at).next_run(now)
    assert when.time() == at
    assert now < when <= now + dt.timedelta(days=1)


@given(now=_instants, minutes=st.integers(1, 10_000), ago=st.integers(0, 20_000))
def test_an_interval_counts_from_the_last_start(now: dt.datetime, minutes: int, ago: int) -> None:
    schedule = Schedule(every=dt.timedelta(minutes=minutes))
    assert schedule.next_run(now) == now + dt.timedelta(minutes=minutes)  # none yet
    last = now - dt.timedelta(minutes=ago)
    # a sweep longer than the interval is followed at once, never run twice over
    assert schedule.next_run(now, last) == max(now, last + dt.timedelta(minutes=minutes))


def test_bad_schedules_are_refused() -> None:
    assert Schedule.parse("02:30") == Schedule(at=dt.time(2, 30))
    assert Schedule.parse(None, 90) == Schedule(every=dt.timedelta(minutes=90))
    for bad in ("25:00", "2h30", ""):
        with pytest.raises(ValueError, match="--sweep-at"):
            Schedule.parse(bad)
    with pytest.raises(ValueError):
        Schedule.parse(None, None)
    with pytest.raises(ValueError):
        Schedule(at=dt.time(1), every=dt.timedelta(minutes=5))
    with pytest.raises(ValueError):
        Schedule(every=dt.timedelta(0))


def _soon(seconds: float) -> Schedule:
    """Today (or tomorrow) at ``seconds`` from now: one run, the next a day later."""
    return Schedule(at=(dt.datetime.now() + dt.timedelta(seconds=seconds)).time())


def _wait_for(scheduler: SweepScheduler, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not scheduler.runs and time.monotonic() < deadline:
        time.sleep(0.2)
    scheduler.stop(timeout=5)


def test_the_scheduler_runs_the_real_sweep_as_a_child(kinlink_home, sweep_model) -> None:
    _, model_path = sweep_model
    kinlink_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(model_path, kinlink_home / "model.json")
    store = Store(f"sqlite:///{kinlink_home / 'kinlink.sqlite'}")
    load(store, sample_records(sample_frame(120)))
    scheduler = SweepScheduler(_soon(1.0), (*SWEEP_COMMAND, "--no-cache", "--no-progress"))
    scheduler.start()  # the child reads KINLINK_HOME from this process's environment
    _wait_for(scheduler, timeout=600)
    assert [code for _, code in scheduler.runs] == [0]
    with store.session() as session:
        runs = session.scalars(select(SweepRun)).all()
    store.close()
    assert [r.status for r in runs] == ["succeeded"]  # (the first sweep of a store is full)
    assert runs[0].report["new_records"]["total"] == 120


def test_a_failing_sweep_is_logged_and_the_scheduler_goes_on(caplog) -> None:
    command = (sys.executable, "-c", "import sys; print('sweep locked'); sys.exit(3)")
    scheduler = SweepScheduler(_soon(0.5), command)
    with caplog.at_level("ERROR"):
        scheduler.start()
        _wait_for(scheduler, timeout=60)
    assert [code for _, code in scheduler.runs] == [3]
    assert "exited with 3" in caplog.text and "sweep locked" in caplog.text


def test_serve_refuses_a_bad_schedule_before_serving(kinlink_home) -> None:
    result = CliRunner().invoke(app, ["serve", "--sweep-at", "25:00"])
    assert result.exit_code == 2 and "02:30" in result.output
    result = CliRunner().invoke(app, ["serve", "--sweep-at", "02:30", "--sweep-every", "60"])
    assert result.exit_code == 2 and "not both" in result.output
