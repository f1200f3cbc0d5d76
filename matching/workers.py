"""Scoring shared out over forked worker processes.

Why forked: in-process scoring reads the store's encoded columns (gigabytes at a
million records); workers forked after the encoding read them copy-on-write instead of
receiving a pickled copy each. Each job sets a module-level global that its task
function reads, *before* the first task is submitted (the pool forks then).

Frozen first: a child's garbage collector must not finalise objects it inherited (a
DuckDB object collected in a forked child crashed it), and untouched objects stay
shared pages.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class ForkedPool:
    """Runs ``fn(task)`` in this process (``workers`` 1) or in forked workers, one pool
    for a whole job, with an optional progress bar counting tasks."""

    def __init__(
        self, fn: Callable[[Any], Any], workers: int, progress: bool = False, desc: str = "score"
    ) -> None:
        self.fn = fn
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.bar: Any = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(desc=desc, unit="task")

    def __enter__(self) -> ForkedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            gc.unfreeze()
        if self.bar is not None:
            self.bar.close()

    def run(self, tasks: Sequence[Any]) -> list[Any]:
        """Results of ``tasks``, in task order."""
        if self.bar is not None:
            self.bar.total = (self.bar.total or 0) + len(tasks)
            self.bar.refresh()
        if self.pool is None and self.workers > 1 and len(tasks) > 1:
            gc.collect()
            gc.freeze()
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("fork")
            )
        if self.pool is None:
            out = []
            for task in tasks:
                out.append(self.fn(task))
                if self.bar is not None:
                    self.bar.update()
            return out
        futures = {self.pool.submit(self.fn, task): i for i, task in enumerate(tasks)}
        ordered: list[Any] = [None] * len(tasks)
        for future in as_completed(futures):
            ordered[futures[future]] = future.result()
            if self.bar is not None:
                self.bar.update()
        return ordered
