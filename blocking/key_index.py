"""An index of blocking keys kept between sweeps: sorted runs of 64-bit key hashes.

Why: the nightly sweep compares a few thousand new records with a million stored
ones, and every stored record carries ~180 blocking keys. Deriving the candidate
pairs in SQL meant exploding, hashing and semi-joining all 180 million key rows on
every run (~57 s of an incremental sweep at 1M records, docs/sweep.md), although
only the new records' keys changed. Here each record's keys are hashed once, when it
is prepared, and kept on disk next to the prepared rows as a *run*: the hashes in
ascending order with the row each came from. A sweep memory-maps the runs and looks
up only the new records' keys (:mod:`kinlink.blocking.new_pairs`).

A store is covered by several runs (the prepared cache's base file and its deltas,
plus the rows prepared in this run), as the prepared cache is by several files; a
row of a run that is no longer current (its record changed or was deleted) is marked
``-1`` and ignored. A block's size is the number of current rows carrying its key,
over all runs: the same count the SQL path caps.

Hashes are DuckDB's ``hash()`` of the key text, as in
:class:`~kinlink.blocking.candidates.PartitionedCandidates`, so both paths build the
same blocks (two keys colliding merge two blocks on both paths alike). A run records
the DuckDB version that hashed it: another version's run is rebuilt, never mixed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

#: What produced the hashes: a run hashed by anything else is not reused.
HASH_VERSION = f"duckdb-{duckdb.__version__}-hash"

_ROW = np.int32
_HASH = np.uint64


@dataclass(frozen=True)
class KeyRun:
    """Key hashes in ascending order and, for each, the row of the table it came from
    (``-1``: a row that is not current)."""

    hashes: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    def remapped(self, remap: np.ndarray, offset: int = 0) -> KeyRun:
        """The same run with its rows renumbered: row ``r`` becomes ``remap[r + offset]``
        (``-1`` in ``remap``: no longer current). For runs whose rows are all current."""
        return KeyRun(self.hashes, remap[np.asarray(self.rows, dtype=np.int64) + offset])

    def shifted(self, offset: int) -> KeyRun:
        """The same run with ``offset`` added to every current row."""
        if offset == 0:
            return self
        rows = np.where(self.rows >= 0, self.rows.astype(np.int64) + offset, -1)
        return KeyRun(self.hashes, rows.astype(_ROW))


def empty_run() -> KeyRun:
    return KeyRun(np.empty(0, dtype=_HASH), np.empty(0, dtype=_ROW))


def hash_keys(
    table: pa.Table, column: str = "block_keys", rows: np.ndarray | None = None
) -> KeyRun:
    """The run of ``table``'s keys: every element of the list column ``column``,
    hashed, with its row number in ``table`` (of the rows ``rows`` only, if given).

    Hashed and sorted by DuckDB (both cores, no Python object per key): a million
    records carry 180 million keys.
    """
    values = table.column(column)
    numbers = np.arange(table.num_rows, dtype=_ROW)
    if rows is not None and len(rows) < table.num_rows:
        numbers, values = _take(values, np.asarray(rows, dtype=_ROW))
    if len(numbers) == 0:
        return empty_run()
    keys = pa.table({"r": pa.array(numbers), "k": values})
    con = duckdb.connect()
    try:
        con.register("kinlink_keys", keys)
        result = con.execute(
            "select hash(k) as h, r from "
            "(select r, unnest(k) as k from kinlink_keys) "
            "where k is not null order by h, r"
        ).fetchnumpy()
    finally:
        con.close()
    hashes = np.asarray(result["h"]).astype(_HASH, copy=False)
    found = np.asarray(result["r"]).astype(_ROW, copy=False)
    return KeyRun(hashes, found)


def _take(values: pa.ChunkedArray, rows: np.ndarray) -> tuple[np.ndarray, pa.ChunkedArray]:
    """``rows`` (sorted) and their values, taken chunk by chunk.

    ``ChunkedArray.take`` first concatenates the chunks, and a million records' key
    lists hold more than the 2 GB of strings one list<string> array can address
    ("offset overflow while concatenating arrays"); each chunk is under it.
    """
    rows = np.sort(rows)
    if len(rows) and (rows[0] < 0 or rows[-1] >= len(values)):
        raise IndexError(f"rows outside 0..{len(values) - 1}")
    bounds = np.cumsum([0] + [len(c) for c in values.chunks])
    taken = []
    for chunk, lo, hi in zip(values.chunks, bounds[:-1], bounds[1:], strict=True):
        first, last = np.searchsorted(rows, [lo, hi])
        if last > first:
            taken.append(chunk.take(pa.array(rows[first:last] - lo)))
    return rows, pa.chunked_array(taken, type=values.type)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``: the distinct values, ascending, found by sorting.

    Why not ``np.unique``: NumPy 2.4 (the pinned version) finds the distinct values of
    an integer array with a hash table, then sorts them, and that took 30-45 times as
    long as a sort here (9.6M int64: 7.9 s against 0.17 s; 50,000: 12.5 ms against
    0.9 ms; docs/benchmarks.md, session 18). The sweep's candidate pairs and real-time
    matching's candidate rows both go through it.
    """
    ordered = np.sort(values, axis=None)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def merge_runs(runs: list[KeyRun]) -> KeyRun:
    """One run of the current rows of ``runs`` (rows ``-1`` dropped).

    A stable sort of the concatenated runs: NumPy's stable sort is a merge sort that
    finds the runs already sorted, so this is a k-way merge, not a full sort.
    """
    runs = [r for r in runs if len(r)]
    if not runs:
        return empty_run()
    hashes = np.concatenate([r.hashes for r in runs])
    rows = np.concatenate([r.rows for r in runs])
    current = rows >= 0
    if not current.all():
        hashes, rows = hashes[current], rows[current]
    if len(runs) > 1:
        order = np.argsort(hashes, kind="stable")
        hashes, rows = hashes[order], rows[order]
    return KeyRun(np.ascontiguousarray(hashes), np.ascontiguousarray(rows))


class KeyIndex:
    """The runs covering one table: block sizes and block members by key hash."""

    def __init__(self, runs: list[KeyRun], n_rows: int) -> None:
        self.runs = [r for r in runs if len(r)]
        self.n_rows = n_rows
        # Hashes of rows no longer current, per run (few: the prepared cache is
        # compacted when they pass a tenth of it), to take them out of block sizes.
        self._stale = [r.hashes[r.rows < 0] for r in self.runs]

    def ranges(self, hashes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per run, where each of ``hashes`` starts and ends (``lo``, ``hi``)."""
        return [
            (
                np.searchsorted(run.hashes, hashes, side="left"),
                np.searchsorted(run.hashes, hashes, side="right"),
            )
            for run in self.runs
        ]

    def counts(
        self, hashes: np.ndarray, ranges: list[tuple[np.ndarray, np.ndarray]] | None = None
    ) -> np.ndarray:
        """Current rows carrying each of ``hashes``: the size of its block."""
        ranges = ranges if ranges is not None else self.ranges(hashes)
        total = np.zeros(len(hashes), dtype=np.int64)
        for (lo, hi), stale in zip(ranges, self._stale, strict=True):
            total += hi - lo
            if len(stale):
                total -= np.searchsorted(stale, hashes, side="right") - np.searchsorted(
                    stale, hashes, side="left"
                )
        return total

    def keys_of(self, rows: np.ndarray) -> KeyRun:
        """The run of the keys of ``rows`` (current rows of the table): the same as
        :func:`hash_keys` of those rows, read from the index instead of the key lists,
        so the table need not hold them."""
        wanted = np.zeros(self.n_rows + 1, dtype=bool)  # the last slot: stale rows (-1)
        wanted[np.asarray(rows, dtype=np.int64)] = True
        wanted[-1] = False
        found = []
        for run in self.runs:
            mask = wanted[run.rows]
            found.append(KeyRun(run.hashes[mask], run.rows[mask]))
        run = merge_runs(found)
        # rows within one hash ascending, as hash_keys orders them
        order = np.lexsort((run.rows, run.hashes))
        return KeyRun(run.hashes[order], run.rows[order])


# -- on disk ---------------------------------------------------------------------------


def file_stamp(source: Path, n_rows: int) -> dict[str, object]:
    """What ties a saved run to the file it was built from: a run is reused only while
    that file is the very one (rewritten files get a new inode or mtime)."""
    stat = source.stat()
    return {
        "source": source.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "inode": stat.st_ino,
        "rows": n_rows,
        "hash": HASH_VERSION,
    }


def run_paths(source: Path) -> tuple[Path, Path, Path]:
    """The files of the run built from ``source``: hashes, rows, stamp."""
    stem = source.with_suffix("")
    return (
        stem.with_name(stem.name + ".keys-hashes.npy"),
        stem.with_name(stem.name + ".keys-rows.npy"),
        stem.with_name(stem.name + ".keys.json"),
    )


def save_run(run: KeyRun, source: Path, n_rows: int) -> None:
    """Save ``run`` (rows numbered within ``source``, which holds ``n_rows`` rows).

    The stamp is written last: a run killed half-way has no valid stamp and is
    rebuilt on the next load.
    """
    hashes_path, rows_path, stamp_path = run_paths(source)
    stamp_path.unlink(missing_ok=True)
    for path, array in ((hashes_path, run.hashes), (rows_path, run.rows)):
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, array)
        os.replace(tmp, path)
    tmp = stamp_path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**file_stamp(source, n_rows), "keys": len(run)}))
    os.replace(tmp, stamp_path)


def load_run(source: Path, n_rows: int) -> KeyRun | None:
    """The saved run of ``source``, memory-mapped, or ``None`` when there is none that
    belongs to this very file (missing, from another file, another hash, truncated)."""
    hashes_path, rows_path, stamp_path = run_paths(source)
    try:
        stamp = json.loads(stamp_path.read_text())
        keys = stamp.pop("keys")
        if stamp != file_stamp(source, n_rows):
            return None
        hashes = np.load(hashes_path, mmap_mode="r")
        rows = np.load(rows_path, mmap_mode="r")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(hashes) != keys or len(rows) != keys or hashes.dtype != _HASH or rows.dtype != _ROW:
        return None
    return KeyRun(hashes, rows)
