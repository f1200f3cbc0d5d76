"""Wall time and peak memory of one stage, for the report's "time and memory" table.

Peak memory is the process's peak resident set size (VmHWM) during the stage. On
Linux the kernel lets a process reset that peak (``echo 5 > /proc/self/clear_refs``),
so each stage gets its own peak even though stages run one after another in the
same process; this includes memory DuckDB allocates outside Python, which
``tracemalloc`` would miss. Elsewhere the figure is the process's peak so far
(``getrusage``), and the report says so.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class StageCost:
    """Seconds, peak RSS and RSS at start (MiB) of one stage."""

    seconds: float = 0.0
    peak_rss_mib: float = float("nan")
    start_rss_mib: float = float("nan")
    peak_is_per_stage: bool = False

    def as_dict(self) -> dict[str, object]:
        """Plain dict for JSON reports."""
        return asdict(self)


def _status_kib(field: str) -> float | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+)\s+kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return float(match.group(1)) if match else None


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _peak_kib_fallback() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else float(peak)


@contextmanager
def measure() -> Iterator[StageCost]:
    """Measure the ``with`` block; the yielded :class:`StageCost` is filled in on exit."""
    cost = StageCost()
    start_rss = _status_kib("VmRSS")
    cost.peak_is_per_stage = _reset_peak() and start_rss is not None
    if start_rss is not None:
        cost.start_rss_mib = start_rss / 1024
    started = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - started
        peak = _status_kib("VmHWM") if cost.peak_is_per_stage else None
        cost.peak_rss_mib = (peak if peak is not None else _peak_kib_fallback()) / 1024
