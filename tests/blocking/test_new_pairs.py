"""The key index gives the sweep exactly the pairs of the SQL sweep job.

``NewPairs`` must equal :class:`PartitionedCandidates`' ``"sweep"`` job pair for pair,
orientation included, however the store's keys are split into runs and whichever rows
of those runs are no longer current.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinlink.blocking.candidates import BLOCKING_COLUMNS, PartitionedCandidates
from kinlink.blocking.key_index import (
    KeyIndex,
    hash_keys,
    load_run,
    merge_runs,
    run_paths,
    save_run,
    sorted_unique,
)
from kinlink.blocking.new_pairs import NewPairs, RowFacts
from kinlink.datasets.synthetic import generate
from kinlink.matching.engine import Engine
from kinlink.matching.prepare import prepare_records

CAP = 40


@pytest.fixture(scope="module")
def table() -> pa.Table:
    records, _ = generate(seed=5, children=300)
    records = records.replace("", None)
    # some records refuse tracing across agencies, some have no agency
    records.loc[records.index % 7 == 0, "consent_for_tracing"] = "false"
    records.loc[records.index % 11 == 0, "agency"] = None
    prepared = prepare_records(records)
    # record ids whose text order is not their numeric order ("10" < "9")
    prepared["record_id"] = [str(i * 7 % 1000 + 1) for i in range(len(prepared))]
    assert prepared["record_id"].is_unique
    return pa.Table.from_pandas(prepared[list(BLOCKING_COLUMNS)], preserve_index=False)


def _sql_pairs(table: pa.Table, new_ids: list[str]) -> set[tuple[str, str]]:
    engine = Engine("duckdb")
    keys = engine.register(table, "t")
    new = engine.register(pd.DataFrame({"record_id": new_ids}), "n")
    job = PartitionedCandidates(
        engine, keys.physical_name, "sweep", CAP, new_table=new.physical_name
    )
    try:
        frames = [engine.query(job.part_sql(p)) for p in range(job.parts)]
    finally:
        job.close()
    frame = pd.concat(frames)
    return set(zip(frame["record_id_l"], frame["record_id_r"], strict=True))


def _index_pairs(table: pa.Table, new_rows: np.ndarray, index: KeyIndex) -> set[tuple[str, str]]:
    new_keys = hash_keys(table, rows=new_rows)
    pairs = NewPairs(index, new_keys, RowFacts.of(table, new_rows), CAP)
    ids = np.asarray(table.column("record_id").to_pylist(), dtype=object)
    got = pairs.all_pairs()
    left = np.where(got.query_left, got.query, got.other)
    right = np.where(got.query_left, got.other, got.query)
    out = set(zip(ids[left].tolist(), ids[right].tolist(), strict=True))
    assert len(out) == len(got)  # each pair once
    # grouped by query, and split anywhere the same pairs come back
    assert np.all(np.diff(got.query) >= 0)
    half = len(pairs.queries) // 2
    parts = [pairs.pairs(0, half), pairs.pairs(half, len(pairs.queries))]
    assert sum(len(p) for p in parts) == len(got)
    return out


@pytest.mark.parametrize("n_new", [1, 40, 400, 10_000])
def test_one_run_gives_the_sql_pairs(table, n_new):
    rng = np.random.default_rng(n_new)
    n_new = min(n_new, table.num_rows)
    new_rows = np.sort(rng.choice(table.num_rows, n_new, replace=False))
    index = KeyIndex([hash_keys(table)], table.num_rows)
    new_ids = [table.column("record_id")[int(i)].as_py() for i in new_rows]
    expected = _sql_pairs(table, new_ids)
    assert len(expected) > (0 if n_new == 1 else 50)
    assert _index_pairs(table, new_rows, index) == expected


@settings(max_examples=15, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 399), max_size=4, unique=True),
    stale=st.lists(st.integers(0, 399), max_size=30, unique=True),
    seed=st.integers(0, 2**16),
)
def test_runs_with_stale_rows_give_the_sql_pairs(table, cuts, stale, seed):
    """The store as a cache of several files with stale rows in them: runs over the
    files, renumbered to the current table, equal one run over that table."""
    base = table.slice(0, 400)
    # files: the first rows cut at ``cuts``; "stale" rows are left out of the table
    bounds = [0, *sorted(cuts), base.num_rows]
    files = [base.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    current = np.ones(base.num_rows, dtype=bool)
    current[stale] = False
    remap = np.where(current, np.cumsum(current) - 1, -1).astype(np.int32)
    runs, offset = [], 0
    for part in files:
        runs.append(hash_keys(part).remapped(remap, offset))
        offset += part.num_rows
    now = base.filter(pa.array(current))
    rng = np.random.default_rng(seed)
    new_rows = np.sort(rng.choice(now.num_rows, min(25, now.num_rows), replace=False))
    index = KeyIndex(runs, now.num_rows)
    reference = KeyIndex([hash_keys(now)], now.num_rows)
    got = _index_pairs(now, new_rows, index)
    assert got == _index_pairs(now, new_rows, reference)
    merged = merge_runs(runs)
    assert np.array_equal(merged.hashes, reference.runs[0].hashes)
    assert (np.sort(merged.rows) == np.sort(reference.runs[0].rows)).all()
    # the new rows' keys read from the runs are those of their key lists
    from_runs, from_lists = index.keys_of(new_rows), hash_keys(now, rows=new_rows)
    assert np.array_equal(from_runs.hashes, from_lists.hashes)
    assert np.array_equal(from_runs.rows, from_lists.rows)


def test_saved_runs_belong_to_their_file(tmp_path, table):
    source = tmp_path / "prepared.parquet"
    source.write_bytes(b"one")
    run = hash_keys(table.slice(0, 50))
    save_run(run, source, 50)
    loaded = load_run(source, 50)
    assert loaded is not None
    assert np.array_equal(loaded.hashes, run.hashes) and np.array_equal(loaded.rows, run.rows)
    assert load_run(source, 51) is None  # another number of rows
    source.write_bytes(b"another file")  # rewritten: not this run's file any more
    assert load_run(source, 50) is None
    save_run(run, source, 50)
    run_paths(source)[0].write_bytes(b"truncated")
    assert load_run(source, 50) is None


def test_rows_taken_from_a_table_in_many_chunks(table):
    """A million records' keys arrive in many chunks that cannot be concatenated
    (more than 2 GB of strings): the keys of some rows are taken chunk by chunk,
    giving the run of the same rows of the table in one piece."""
    pieces = [table.slice(start, 97) for start in range(0, table.num_rows, 97)]
    chunked = pa.concat_tables(pieces)
    assert chunked.column("block_keys").num_chunks > 3
    last = table.num_rows - 1
    rows = np.array([last, 0, 96, 97, 98, 250, last - 1], dtype=np.int32)
    got = hash_keys(chunked, rows=rows)
    want = hash_keys(table.combine_chunks(), rows=rows)
    assert len(got) > 0
    assert np.array_equal(got.hashes, want.hashes) and np.array_equal(got.rows, want.rows)
    assert set(got.rows) == set(rows)
    with pytest.raises(IndexError):
        hash_keys(chunked, rows=np.array([0, table.num_rows], dtype=np.int32))


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(-(2**62), 2**62) | st.integers(0, 5), max_size=300),
    dtype=st.sampled_from([np.int64, np.int32, np.uint64]),
)
def test_sorted_unique_is_numpys_unique(values: list[int], dtype: type) -> None:
    """The same values and dtype as ``np.unique`` (which it replaces for speed only)."""
    if dtype is not np.int64:
        info = np.iinfo(dtype)
        values = [v for v in values if info.min <= v <= info.max]
    array = np.asarray(values, dtype=dtype)
    got, want = sorted_unique(array), np.unique(array)
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)
    assert np.array_equal(array, np.asarray(values, dtype=dtype))  # input left as it was
