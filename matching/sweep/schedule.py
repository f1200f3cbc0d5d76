"""The nightly sweep scheduled inside ``kinlink serve`` (``--sweep-at`` / ``--sweep-every``).

For deployments without cron or systemd (a laptop at a field office, a container with
one process): the review service starts ``kinlink sweep`` itself, at a daily time or on
an interval. Each run is a **child process** running exactly the command an operator
would (same store, same settings from the environment, same lock, same report), so
the sweep's memory and forked workers never live inside the web server, the API stays
usable while it runs (issue 7), and a crashed sweep cannot take the service down. A
sweep already running (started by cron, or by hand) makes the child exit with the
lock's message; the scheduler logs it and waits for the next slot.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

#: ``python -c`` entry point of the CLI (the console script may not be on PATH).
SWEEP_COMMAND = (sys.executable, "-c", "from kinlink.cli import main; main()", "sweep")


@dataclass(frozen=True)
class Schedule:
    """When to sweep: every day at ``at`` (server local time), or every ``every``."""

    at: dt.time | None = None
    every: dt.timedelta | None = None

    def __post_init__(self) -> None:
        if (self.at is None) == (self.every is None):
            raise ValueError("give a daily time or an interval, not both and not neither")
        if self.every is not None and self.every <= dt.timedelta(0):
            raise ValueError("the interval must be positive")

    @classmethod
    def parse(cls, at: str | None = None, every_minutes: float | None = None) -> Schedule:
        """From the CLI's ``--sweep-at HH:MM`` or ``--sweep-every MINUTES``."""
        if at is not None:
            try:
                return cls(at=dt.time.fromisoformat(at.strip()))
            except ValueError as err:
                raise ValueError(f"--sweep-at wants a time such as 02:30, not {at!r}") from err
        if every_minutes is None:
            raise ValueError("give a daily time or an interval")
        return cls(every=dt.timedelta(minutes=every_minutes))

    def next_run(self, now: dt.datetime, last_start: dt.datetime | None = None) -> dt.datetime:
        """The next time to start a sweep after ``now`` (naive local times).

        An interval counts from the last start (from ``now`` before the first), so a
        sweep longer than the interval is followed at once by the next, never by two.
        """
        if self.every is not None:
            return max(now, (last_start or now) + self.every)
        assert self.at is not None
        today = dt.datetime.combine(now.date(), self.at)
        return today if today > now else today + dt.timedelta(days=1)


@dataclass
class SweepScheduler:
    """A daemon thread that runs ``command`` as a child process on ``schedule``."""

    schedule: Schedule
    command: Sequence[str] = SWEEP_COMMAND
    clock: Callable[[], dt.datetime] = dt.datetime.now
    #: (started, exit code) of every run, newest last.
    runs: list[tuple[dt.datetime, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kinlink-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop scheduling (a sweep already started finishes on its own)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        last: dt.datetime | None = None
        while not self._stop.is_set():
            when = self.schedule.next_run(self.clock(), last)
            logger.info("next scheduled sweep at %s", when.isoformat(timespec="seconds"))
            if self._stop.wait(max((when - self.clock()).total_seconds(), 0.0)):
                return
            last = self.clock()
            code = self._run_once()
            self.runs.append((last, code))

    def _run_once(self) -> int:
        try:
            done = subprocess.run(list(self.command), capture_output=True, text=True)
        except OSError as err:  # the interpreter vanished, no memory to fork...
            logger.error("could not start the scheduled sweep: %s", err)
            return -1
        if done.returncode == 0:
            logger.info("scheduled sweep finished:\n%s", done.stdout.strip())
        else:
            logger.error(
                "scheduled sweep exited with %d:\n%s",
                done.returncode,
                (done.stderr or done.stdout).strip()[-4000:],
            )
        return done.returncode
