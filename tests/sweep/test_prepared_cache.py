"""The sweep's prepared-row cache: a base file plus deltas, always the current rows.

``prepare_store_table`` must return exactly the rows a run without a cache prepares,
whatever the cache holds (deltas, changed records, a record changed back, a deleted
record, an unreadable delta), and must write only the rows it prepared, folding the
deltas back into the base when there are many.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kinlink.blocking.key_index import load_run, run_paths
from kinlink.matching.sweep.scoring import (
    FACT_COLUMNS,
    PreparedCache,
    encodable,
    prepare_store_table,
)

from ..matching.test_encoded import assert_encodes
from .conftest import sample_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    out = sample_frame().head(120).reset_index(drop=True)
    out = out.astype(object).where(out.notna(), None)
    out["record_id"] = [str(i + 1) for i in range(len(out))]
    return out


class Fetcher:
    """``fetch(pks)`` over a frame of records, counting the records it was asked for."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.asked = 0

    def __call__(self, pks):
        self.asked += len(pks)
        wanted = {str(pk) for pk in pks}
        return self.frame[self.frame["record_id"].isin(wanted)].reset_index(drop=True)


def _snapshot(frame: pd.DataFrame, hashes: dict[str, str] | None = None) -> pd.DataFrame:
    hashes = hashes or {}
    return pd.DataFrame(
        {
            "pk": frame["record_id"].astype(int),
            "content_hash": [hashes.get(r, f"h{r}") for r in frame["record_id"]],
        }
    )


def _sorted(table) -> pd.DataFrame:
    return table.to_pandas().sort_values("record_id").reset_index(drop=True)


def _keys(store) -> list[tuple[int, str]]:
    """Every (key hash, record) of a store's key index, current rows only, sorted."""
    ids = store.table.column("record_id").to_pylist()
    return sorted(
        (int(h), ids[r])
        for run in store.keys.runs
        for h, r in zip(run.hashes.tolist(), run.rows.tolist(), strict=True)
        if r >= 0
    )


#: ``prepare_store_table``'s ``keys``, set per test by the fixture below: every test
#: runs as a Splink sweep (key lists read) and as an in-process one (key runs only).
KEYS = {"read": True}


@pytest.fixture(autouse=True, params=[True, False], ids=["key-lists", "key-runs-only"])
def _keys_read(request):
    KEYS["read"] = request.param


def _check(snapshot, frame, cache) -> tuple[pd.DataFrame, int]:
    """The cached run's table and key index equal an uncached run's; returns the table
    and the prepared count."""
    fetch = Fetcher(frame)
    # the in-process sweep's way (key runs only) also takes the rows' encoding
    encode = not KEYS["read"]
    got = prepare_store_table(snapshot, fetch, cache, keys=KEYS["read"], encode=encode)
    expected = prepare_store_table(snapshot, Fetcher(frame), None)
    if encode and cache is not None:
        # merged from the files' encodings (or encoded after a rewrite): the rows' own,
        # whichever columns of them were read
        assert got.encoded is not None
        ids = expected.table.column("record_id").to_pylist()
        where = {r: i for i, r in enumerate(ids)}
        order = [where[r] for r in got.table.column("record_id").to_pylist()]
        assert_encodes(got.encoded, encodable(expected.table.take(order)))
        if cache.narrow:  # only what the pair conditions read, when the rest is encoded
            NARROW_READS.append(len(order))
            assert set(got.table.column_names) == set(FACT_COLUMNS) - {"content_hash"}
            expected.table = expected.table.select(got.table.column_names)
    else:
        assert got.encoded is None
    if KEYS["read"]:
        assert "block_keys" in got.table.column_names
    elif "block_keys" not in got.table.column_names and "block_keys" in expected.table.column_names:
        expected.table = expected.table.drop(["block_keys"])
    pd.testing.assert_frame_equal(_sorted(got.table), _sorted(expected.table))
    # the keys of any rows, from the index, are those of their key lists
    rows = np.arange(0, expected.table.num_rows, 7)
    ids = np.asarray(expected.table.column("record_id").to_pylist())
    where = {r: i for i, r in enumerate(got.table.column("record_id").to_pylist())}
    mine = got.keys.keys_of(np.array([where[r] for r in ids[rows]], dtype=np.int64))
    theirs = expected.keys.keys_of(rows)
    got_ids = got.table.column("record_id").to_pylist()
    assert sorted(zip(mine.hashes.tolist(), [got_ids[r] for r in mine.rows], strict=True)) == (
        sorted(zip(theirs.hashes.tolist(), ids[theirs.rows].tolist(), strict=True))
    )
    assert fetch.asked == got.n_prepared
    assert _keys(got) == _keys(expected)
    hashes = np.unique(expected.keys.runs[0].hashes)
    assert (got.keys.counts(hashes) == expected.keys.counts(hashes)).all()
    return _sorted(got.table), got.n_prepared


#: Row counts of the checked runs that read the fact columns only.
NARROW_READS: list[int] = []


def _files(cache: PreparedCache) -> list[str]:
    return sorted(p.name for p in cache.folder.glob("*.parquet"))


def test_deltas_changes_and_compaction(tmp_path, frame):
    cache = PreparedCache(tmp_path, "sqlite:///store")
    first = frame.head(60)
    _, prepared = _check(_snapshot(first), frame, cache)
    assert prepared == 60 and _files(cache) == [cache.path.name]
    base_written = os.stat(cache.path).st_mtime_ns
    keys_written = run_paths(cache.path)[2].stat().st_mtime_ns

    # 20 new records: prepared now, appended as a delta; the base is not rewritten
    _, prepared = _check(_snapshot(frame.head(80)), frame, cache)
    assert prepared == 20 and len(_files(cache)) == 2
    assert os.stat(cache.path).st_mtime_ns == base_written
    # the base's key run is read back, not rebuilt; the delta got its own
    assert run_paths(cache.path)[2].stat().st_mtime_ns == keys_written
    delta = next(cache.folder.glob("*.delta-1.parquet"))
    assert load_run(delta, 20) is not None

    # nothing new: nothing prepared, nothing written
    NARROW_READS.clear()
    got, prepared = _check(_snapshot(frame.head(80)), frame, cache)
    assert prepared == 0 and len(_files(cache)) == 2
    # an in-process sweep does not read the key lists when every file has its run,
    # nor any column but the facts when every file has its encoding too
    assert ("block_keys" in got.columns) == KEYS["read"]
    assert len(NARROW_READS) == (0 if KEYS["read"] else 1)

    # 3 records changed: prepared again (a new delta); each appears once
    changed = {r: f"changed{r}" for r in ("5", "6", "70")}
    _, prepared = _check(_snapshot(frame.head(80), changed), frame, cache)
    assert prepared == 3 and len(_files(cache)) == 3
    # ...and changed back: the first version is current again, found in the cache
    _, prepared = _check(_snapshot(frame.head(80)), frame, cache)
    assert prepared == 0

    # one record deleted: dropped from the result, no rewrite for so few stale rows
    got, prepared = _check(_snapshot(frame.head(80).drop(index=[10])), frame, cache)
    assert prepared == 0 and "11" not in set(got["record_id"])

    # deltas pile up to MAX_DELTAS, then the next save folds them into the base
    n = 80
    while cache.deltas < cache.MAX_DELTAS:
        n += 4
        _check(_snapshot(frame.head(n)), frame, cache)
    n += 4
    _check(_snapshot(frame.head(n)), frame, cache)
    assert _files(cache) == [cache.path.name] and cache.deltas == 0
    # one key run again, the base's, for all its rows; the deltas' runs are gone
    assert load_run(cache.path, n) is not None
    assert sorted(p.name for p in cache.folder.glob("*.keys.json")) == [
        run_paths(cache.path)[2].name
    ]
    # the files keep every row's key lists, whether this run read them or not
    assert "block_keys" in pq.read_schema(cache.path).names
    assert pq.read_table(cache.path, columns=["block_keys"]).column(0).null_count == 0


def test_a_row_written_twice_is_read_once(tmp_path, frame):
    """Not something a sweep writes (it prepares only rows the cache lacks), but a
    repeated row would double a record's pairs, so loading does not trust it."""
    cache = PreparedCache(tmp_path, "sqlite:///store")
    _check(_snapshot(frame.head(60)), frame, cache)
    cache.add(cache.load().slice(0, 5))
    got, prepared = _check(_snapshot(frame.head(60)), frame, cache)
    assert prepared == 0 and len(got) == 60


def test_many_stale_rows_rewrite_the_base(tmp_path, frame):
    cache = PreparedCache(tmp_path, "sqlite:///store")
    _check(_snapshot(frame), frame, cache)
    _check(_snapshot(frame.head(100)), frame, cache)  # 20 of 120 deleted: over 10%
    assert cache.load().num_rows == 100 and _files(cache) == [cache.path.name]


def test_an_unreadable_delta_is_prepared_again(tmp_path, frame, caplog):
    cache = PreparedCache(tmp_path, "sqlite:///store")
    _check(_snapshot(frame.head(60)), frame, cache)
    _check(_snapshot(frame.head(90)), frame, cache)
    delta = next(p for p in tmp_path.glob("*.delta-*.parquet"))
    delta.write_bytes(delta.read_bytes()[:100])  # a truncated file
    with caplog.at_level(logging.WARNING):
        _, prepared = _check(_snapshot(frame.head(90)), frame, cache)
    assert prepared == 30 and "unreadable prepared cache delta" in caplog.text


def test_a_damaged_encoding_is_built_again(tmp_path, frame):
    """An encoding whose index looks fine but whose arrays are cut short is not used:
    the rows are read whole and encoded again (and the cache stays right)."""
    from kinlink.matching.encoded import encoded_paths

    cache = PreparedCache(tmp_path, "sqlite:///store")
    if KEYS["read"]:  # a Splink sweep neither needs nor keeps encodings
        _check(_snapshot(frame.head(60)), frame, cache)
        _check(_snapshot(frame.head(90)), frame, cache)
        assert not list(tmp_path.glob("*.enc*"))
        return
    _check(_snapshot(frame.head(60)), frame, cache)
    _check(_snapshot(frame.head(90)), frame, cache)
    delta = next(p for p in tmp_path.glob("*.delta-*.parquet"))
    arrays = encoded_paths(delta)[0]
    arrays.write_bytes(arrays.read_bytes()[:64])
    NARROW_READS.clear()
    _, prepared = _check(_snapshot(frame.head(90)), frame, cache)
    assert prepared == 0 and NARROW_READS == []
    # rebuilt: the next run reads the facts only again
    assert arrays.stat().st_size > 64
    _check(_snapshot(frame.head(90)), frame, cache)
    assert len(NARROW_READS) == 1
