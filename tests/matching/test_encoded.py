"""Encodings kept on disk and merged (``kinlink.matching.encoded``) are the table's own.

A sweep no longer encodes the whole store each night: it merges the encodings kept
beside the prepared cache's files, dropping rows of changed records. Codes are only
names for strings, so what must hold is that a merged encoding *decodes* to the table
it stands for (every list, string and number, the distinct lists too), and that the
scorer gives the very same numbers on it as on an encoding of that table built in one
pass. Also: what is saved is what is loaded, and an encoding that does not belong to
its file (rewritten, truncated, another layout) is not used.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinlink.blocking.key_index import file_stamp
from kinlink.matching.encoded import (
    EncodedColumns,
    encode_table,
    encoded_names,
    encoded_paths,
    load_encoded,
    merge_encoded,
    save_encoded,
)
from kinlink.matching.engine import Engine
from kinlink.matching.inprocess import InProcessScorer, StoredColumns
from kinlink.matching.realtime import MatchIndex
from kinlink.matching.sweep.inprocess_scoring import (
    model_columns,
    store_frequencies,
    with_rare_names,
)

from .test_realtime_parity import SAMPLE, _random_model


def decoded(encoded: EncodedColumns, name: str) -> list[Any]:
    """A column of ``encoded`` as Python values (None for NULL)."""
    strings = encoded.dictionary.to_pylist()
    if name in encoded.lists and name not in encoded.scalars:
        offsets, flat = encoded.lists[name]
        return [
            [None if c < 0 else strings[c] for c in flat[offsets[i] : offsets[i + 1]].tolist()]
            for i in range(encoded.n)
        ]
    if name in encoded.scalars and name not in encoded.numbers:
        return [None if c < 0 else strings[c] for c in encoded.scalars[name].tolist()]
    return [None if math.isnan(v) else v for v in encoded.numbers[name].tolist()]


def assert_encodes(encoded: EncodedColumns, table: pa.Table) -> None:
    """``encoded`` decodes to ``table`` column by column, distinct lists included."""
    assert encoded.n == table.num_rows
    assert encoded.columns == encoded_names(table.schema)
    strings = encoded.dictionary.to_pylist()
    assert len(set(strings)) == len(strings), "a string with two codes"
    for name in sorted(encoded.columns):
        kind = table.schema.field(name).type
        want = table.column(name).to_pylist()
        if pa.types.is_null(kind):
            assert all(v is None for v in decoded(encoded, name)), name
            continue
        got = decoded(encoded, name)
        if pa.types.is_list(kind):
            want = [v or [] for v in want]
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            want = [None if v is None else float(v) for v in want]
        assert got == want, name
        if name in encoded.distinct:
            d = encoded.distinct[name]
            for i, values in enumerate(want):
                codes = d.codes[d.offsets[i] : d.offsets[i + 1]]
                assert list(codes) == sorted(set(codes.tolist())), f"{name}: row {i} unsorted"
                assert {strings[c] for c in codes} == {v for v in values if v is not None}, name


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex(pd.read_csv(SAMPLE, dtype=str, keep_default_na=False), _random_model(7))


@pytest.fixture(scope="module")
def table(index: MatchIndex) -> pa.Table:
    """The sample's model columns (``name_rare`` left out: the sweep derives it)."""
    return index._arrow.drop(["name_rare"])


def _parts(
    table: pa.Table, cuts: list[int], seed: int
) -> tuple[list[tuple[EncodedColumns, np.ndarray | None]], pa.Table]:
    """The table cut into parts, each encoded alone, some rows of all but the last part
    dropped (as rows of changed records are); and the table of the rows kept."""
    rng = np.random.default_rng(seed)
    parts, kept = [], []
    bounds = [0, *cuts, table.num_rows]
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        piece = table.slice(lo, hi - lo)
        encoded = encode_table(piece)
        encoded.build_distinct()
        keep = rng.random(hi - lo) > 0.2 if k < len(bounds) - 2 else None
        parts.append((encoded, keep))
        kept.append(piece if keep is None else piece.filter(pa.array(keep)))
    return parts, pa.concat_tables(kept)


def test_merged_parts_decode_to_their_rows(table: pa.Table) -> None:
    parts, expected = _parts(table, [150, 260], seed=3)
    merged = merge_encoded(parts)
    assert_encodes(merged, expected)
    # the first part's codes are kept as they were
    first, keep = parts[0]
    assert np.array_equal(
        merged.scalars["given_first"][: int(keep.sum())], first.scalars["given_first"][keep]
    )


def test_merged_parts_score_as_the_whole_table(index: MatchIndex, table: pa.Table) -> None:
    """The scorer's numbers on a merged encoding are those on the table encoded at once."""
    parts, expected = _parts(table, [100, 220, 300], seed=5)
    settings_ = index.model.settings_for("duckdb")
    whole = InProcessScorer(settings_, StoredColumns(expected))
    merged = InProcessScorer(settings_, StoredColumns.from_encoded(merge_encoded(parts)))
    rng = np.random.default_rng(1)
    left = rng.integers(0, expected.num_rows, 20_000)
    right = rng.integers(0, expected.num_rows, 20_000)
    a, b = whole.score_pairs(left, right), merged.score_pairs(left, right)
    assert np.array_equal(a.match_weight, b.match_weight)
    for name in a.gamma:
        assert np.array_equal(a.gamma[name], b.gamma[name]), name
        assert np.array_equal(a.mw[name], b.mw[name]), name
    for name in a.tf_adj:
        assert np.array_equal(a.tf_adj[name], b.tf_adj[name]), name
    # pruned scoring reads the frequencies' ceilings: the same pairs survive
    floor = float(np.quantile(a.match_weight, 0.9))
    pa_, pb = (
        whole.score_pairs(left, right, floor=floor),
        merged.score_pairs(left, right, floor=floor),
    )
    assert np.array_equal(pa_.positions, pb.positions)
    assert np.array_equal(pa_.match_weight, pb.match_weight)
    # and a query's own values look up the same frequencies
    assert whole.tf == merged.tf


def test_rare_names_from_codes_are_the_sweeps(table: pa.Table) -> None:
    encoded = encode_table(table)
    with_rare = with_rare_names(encoded)
    expected = model_columns(table, store_frequencies(Engine("duckdb"), table))
    assert decoded(with_rare, "name_rare") == [
        v or [] for v in expected.column("name_rare").to_pylist()
    ]
    assert_encodes(with_rare, expected.select(sorted(with_rare.columns)))


tokens = st.sampled_from(["mohamed", "ali", "محمد", "Олександр", ""]) | st.text(max_size=4)


@st.composite
def _tables(draw: Any) -> pa.Table:
    n = draw(st.integers(1, 12))
    lists = draw(
        st.lists(st.none() | st.lists(st.none() | tokens, max_size=5), min_size=n, max_size=n)
    )
    strings = draw(st.lists(st.none() | tokens, min_size=n, max_size=n))
    numbers = draw(st.lists(st.none() | st.integers(1900, 2030), min_size=n, max_size=n))
    return pa.table(
        {
            "toks": pa.array(lists, type=pa.list_(pa.string())),
            "name": pa.array(strings, type=pa.string()),
            "year": pa.array(numbers, type=pa.int64()),
            "empty": pa.nulls(n),
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=st.lists(_tables(), min_size=1, max_size=4), data=st.data())
def test_any_parts_merge_to_their_rows(tables: list[pa.Table], data: Any) -> None:
    """Arbitrary text, NULLs, NULL elements and repeats, parts sharing strings or not."""
    parts, kept = [], []
    for t in tables:
        encoded = encode_table(t)
        if data.draw(st.booleans()):
            encoded.build_distinct()
        keep = data.draw(
            st.none() | st.lists(st.booleans(), min_size=t.num_rows, max_size=t.num_rows)
        )
        parts.append((encoded, None if keep is None else np.array(keep, dtype=bool)))
        kept.append(t if keep is None else t.filter(pa.array(keep, type=pa.bool_())))
    merged = merge_encoded(parts)
    merged.build_distinct()
    assert_encodes(merged, pa.concat_tables(kept))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(
        st.none()
        | st.lists(st.none() | st.sampled_from(["ali", "amina", "محمد", "x"]), max_size=4),
        min_size=1,
        max_size=30,
    )
)
def test_rare_names_from_codes_for_any_lists(names: list[Any]) -> None:
    """NULL lists and NULL elements, common tokens and a common NULL (DuckDB counts it)."""
    table = pa.table(
        {
            "record_id": [str(i) for i in range(len(names))],
            "name_all": pa.array(names, type=pa.list_(pa.string())),
        }
    )
    with_rare = with_rare_names(encode_table(table))
    expected = model_columns(table, store_frequencies(Engine("duckdb"), table))
    assert decoded(with_rare, "name_rare") == [
        v or [] for v in expected.column("name_rare").to_pylist()
    ]
    assert_encodes(with_rare, expected)


def test_parts_with_other_columns_do_not_merge(table: pa.Table) -> None:
    a = encode_table(table.slice(0, 10))
    b = encode_table(table.slice(10, 10).drop(["sex"]))
    with pytest.raises(ValueError, match="same columns"):
        merge_encoded([(a, None), (b, None)])


def test_saved_is_loaded_and_only_for_its_file(tmp_path, table: pa.Table) -> None:
    source = tmp_path / "rows.parquet"
    source.write_bytes(b"stand-in for a cache file")
    encoded = encode_table(table)
    encoded.build_distinct()
    save_encoded(encoded, source, file_stamp(source, table.num_rows))
    loaded = load_encoded(source, file_stamp(source, table.num_rows))
    assert loaded is not None
    assert_encodes(loaded, table)
    for name, (offsets, flat) in encoded.lists.items():
        assert np.array_equal(loaded.lists[name][0], offsets)
        assert np.array_equal(loaded.lists[name][1], flat)
        assert loaded.distinct[name].clean == encoded.distinct[name].clean
    # another row count, a rewritten file, a truncated array file, another layout
    assert load_encoded(source, file_stamp(source, table.num_rows - 1)) is None
    arrays, _, index = encoded_paths(source)
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_encoded(source, file_stamp(source, table.num_rows)) is None
    save_encoded(encoded, source, file_stamp(source, table.num_rows))
    with arrays.open("r+b") as f:
        f.truncate(arrays.stat().st_size - 8)
    assert load_encoded(source, file_stamp(source, table.num_rows)) is None
    save_encoded(encoded, source, file_stamp(source, table.num_rows))
    meta = json.loads(index.read_text())
    index.write_text(json.dumps({**meta, "version": meta["version"] + 1}))
    assert load_encoded(source, file_stamp(source, table.num_rows)) is None
    index.unlink()
    assert load_encoded(source, file_stamp(source, table.num_rows)) is None
