"""Stored records' model columns as integer codes: encoded once, kept on disk, merged.

In-process scoring (:mod:`kinlink.matching.inprocess`) reads every string of the
stored records as a code into one vocabulary, and every list column also as each
row's distinct codes, sorted (:class:`~kinlink.matching.pair_batch.DistinctLists`).
Building both for a million records (~88 strings each: one hash pass over 88 million
strings, then a sort of as many codes) was the largest fixed cost of a nightly sweep,
paid again every night for rows that had not changed (docs/sweep.md, session 16).

So the sweep's prepared cache keeps, beside each of its Parquet files, that file's
rows encoded against the file's own vocabulary (:func:`save_encoded`, memory-mapped
back by :func:`load_encoded`), and a sweep merges the files' encodings
(:func:`merge_encoded`): the vocabularies are united in one pass over the distinct
strings only, the base file's codes are kept as they are (its strings come first, so
its codes do not move), the few delta files' codes are renumbered, and rows of
records changed since are dropped. Codes are only names for strings: any numbering
scores the same (``tests/matching/test_encoded.py`` holds a merged encoding to the
scores of one built from the whole table).

Pure numpy/Arrow: no knowledge of the sweep, the cache or the model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinlink.matching.pair_batch import DistinctLists

#: Code of a missing value (SQL NULL), as in :mod:`kinlink.matching.inprocess`.
NULL_CODE = -1
#: Bumped whenever the layout below changes: older files are then rebuilt.
ENCODING_VERSION = 2


@dataclass
class EncodedColumns:
    """A table's columns as codes into ``dictionary`` (row order kept).

    ``lists``: CSR (offsets, codes) per list column; ``scalars``: codes per string
    column; ``numbers``: floats (NaN for NULL) per number column; a column no row
    fills (Arrow's null type) is in all three, as NULL. ``distinct``: each list
    column's :class:`DistinctLists`, when built.
    """

    n: int
    dictionary: pa.Array
    lists: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    distinct: dict[str, DistinctLists] = field(default_factory=dict)
    #: number columns that were integers (decoded back as ints)
    integers: set[str] = field(default_factory=set)

    @property
    def columns(self) -> set[str]:
        return set(self.lists) | set(self.scalars) | set(self.numbers)

    def kinds(self) -> dict[str, tuple[bool, bool, bool]]:
        """Per column: whether it is a list, a string, a number column."""
        return {
            c: (c in self.lists, c in self.scalars, c in self.numbers) for c in sorted(self.columns)
        }

    def build_distinct(self) -> None:
        """Every list column's :class:`DistinctLists`, where missing."""
        width = len(self.dictionary) + 1
        for name, (offsets, flat) in self.lists.items():
            if name not in self.distinct:
                self.distinct[name] = DistinctLists(offsets, flat, width)


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind)


def _is_string(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def encoded_names(schema: pa.Schema) -> set[str]:
    """The columns :func:`encode_table` encodes (lists, strings, numbers, all-NULL)."""
    return {
        f.name
        for f in schema
        if _is_list(f.type)
        or _is_string(f.type)
        or pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or pa.types.is_null(f.type)
    }


def encode_table(table: pa.Table) -> EncodedColumns:
    """Every column of ``table`` as codes (columns of other types are left out).

    Every string of every column goes through one dictionary pass: one vocabulary for
    the whole table, so cross-column tests (caregiver vs relatives) compare codes, and
    one hash table (column by column, against a vocabulary rebuilt each time, took
    5.2-5.5 s against 0.8-1.4 s for 201,000 records, bench_pair_scoring.py).
    """
    n = table.num_rows
    names, pieces = [], []
    for name in table.column_names:
        kind = table.schema.field(name).type
        column = table.column(name)
        if _is_list(kind):
            names.append(name)
            pieces.append(pc.list_flatten(column))
        elif _is_string(kind):
            names.append(name)
            pieces.append(column)
    chunks = [c for p in pieces for c in p.cast(pa.large_string()).chunks]
    everything = pa.concat_arrays(chunks) if chunks else pa.array([], type=pa.large_string())
    encoded = pc.dictionary_encode(everything)
    del everything
    codes = pc.fill_null(encoded.indices, NULL_CODE).to_numpy(zero_copy_only=False)
    out = EncodedColumns(n, encoded.dictionary.cast(pa.large_string()))
    del encoded
    by_name, start = {}, 0
    for name, piece in zip(names, pieces, strict=True):
        by_name[name] = codes[start : start + len(piece)].astype(np.int64)
        start += len(piece)
    del codes
    for name in table.column_names:
        kind = table.schema.field(name).type
        column = table.column(name)
        if _is_list(kind):
            lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy()
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            out.lists[name] = (offsets, by_name.pop(name))
        elif _is_string(kind):
            out.scalars[name] = by_name.pop(name)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            if pa.types.is_integer(kind):
                out.integers.add(name)
            out.numbers[name] = (
                pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
            )
        elif pa.types.is_null(kind):
            # A column no record fills (e.g. sex in FEBRL): NULL whichever way it is read.
            out.lists[name] = (np.zeros(n + 1, dtype=np.int64), np.empty(0, np.int64))
            out.scalars[name] = np.full(n, NULL_CODE, dtype=np.int64)
            out.numbers[name] = np.full(n, np.nan)
    return out


# -- merging --------------------------------------------------------------------------


def _filter_csr(
    offsets: np.ndarray, flat: np.ndarray, keep: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Lengths and elements of the kept rows (all rows when ``keep`` is None)."""
    lengths = np.diff(offsets)
    if keep is None:
        return lengths, flat[offsets[0] : offsets[-1]]
    return lengths[keep], flat[np.repeat(keep, lengths)]


def _renumber(codes: np.ndarray, remap: np.ndarray | None) -> np.ndarray:
    if remap is None:
        return codes
    return np.where(codes >= 0, remap[np.maximum(codes, 0)], codes)


def _csr(lengths: list[np.ndarray], flats: list[np.ndarray], n: int) -> tuple[np.ndarray, ...]:
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.concatenate(lengths) if lengths else [], out=offsets[1:])
    flat = np.concatenate(flats) if flats else np.empty(0, np.int64)
    return offsets, flat.astype(np.int64, copy=False)


def merge_encoded(parts: Sequence[tuple[EncodedColumns, np.ndarray | None]]) -> EncodedColumns:
    """The encodings of ``parts`` (each with the rows to keep, None: all) stacked in
    order, as one encoding with one vocabulary.

    Raises ``ValueError`` when the parts' columns differ (the caller encodes the
    table instead). The first part's codes are kept: its strings come first in the
    united vocabulary. Its distinct lists are kept too (filtered); the other parts'
    are rebuilt from their renumbered lists, whose order within a row changed.
    """
    if not parts:
        raise ValueError("nothing to merge")
    kinds = parts[0][0].kinds()
    for part, _ in parts[1:]:
        if part.kinds() != kinds or part.integers != parts[0][0].integers:
            raise ValueError("the encodings to merge do not have the same columns")
    # Keep masks as numpy booleans; a mask that keeps every row is no mask.
    masks: list[np.ndarray | None] = []
    for part, keep in parts:
        if keep is not None:
            keep = np.asarray(keep, dtype=bool)
            if len(keep) != part.n:
                raise ValueError(f"a mask of {len(keep)} rows for an encoding of {part.n}")
            if keep.all():
                keep = None
        masks.append(keep)
    if len(parts) == 1:
        dictionary = parts[0][0].dictionary
        remaps: list[np.ndarray | None] = [None]
    else:
        dictionaries = [p.dictionary.cast(pa.large_string()) for p, _ in parts]
        united = pc.dictionary_encode(pa.concat_arrays(dictionaries))
        dictionary = united.dictionary
        indices = united.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        remaps, start = [], 0
        for d in dictionaries:
            remap = indices[start : start + len(d)]
            start += len(d)
            identity = np.array_equal(remap, np.arange(len(d)))
            remaps.append(None if identity else remap)
    n = sum(p.n if m is None else int(m.sum()) for (p, _), m in zip(parts, masks, strict=True))
    out = EncodedColumns(n, dictionary, integers=set(parts[0][0].integers))
    width = len(dictionary) + 1
    first = parts[0][0]
    for name, (is_list, is_scalar, is_number) in kinds.items():
        if is_list:
            lengths, flats = [], []
            for (part, _), keep, remap in zip(parts, masks, remaps, strict=True):
                offsets, flat = part.lists[name]
                kept_lengths, kept = _filter_csr(offsets, flat, keep)
                lengths.append(kept_lengths)
                flats.append(_renumber(kept, remap))
            out.lists[name] = _csr(lengths, flats, n)
        if is_scalar:
            pieces = []
            for (part, _), keep, remap in zip(parts, masks, remaps, strict=True):
                codes = part.scalars[name]
                pieces.append(_renumber(codes if keep is None else codes[keep], remap))
            out.scalars[name] = np.concatenate(pieces).astype(np.int64, copy=False)
        if is_number:
            out.numbers[name] = np.concatenate(
                [
                    part.numbers[name] if keep is None else part.numbers[name][keep]
                    for (part, _), keep in zip(parts, masks, strict=True)
                ]
            ).astype(float, copy=False)
    # Distinct lists: the first part's, filtered, where it has them and kept its codes;
    # the rest from the merged raw lists, row range by row range.
    for name in kinds:
        if not kinds[name][0] or name not in first.distinct or remaps[0] is not None:
            continue
        lengths, flats, clean = [], [], True
        row = 0
        offsets_all, flat_all = out.lists[name]
        for (part, _), keep, remap in zip(parts, masks, remaps, strict=True):
            rows = part.n if keep is None else int(keep.sum())
            if part is first or (remap is None and name in part.distinct):
                d = part.distinct[name]
                kept_lengths, kept = _filter_csr(d.offsets, d.codes, keep)
                clean = clean and d.clean
            else:
                lo, hi = offsets_all[row], offsets_all[row + rows]
                d = DistinctLists(offsets_all[row : row + rows + 1] - lo, flat_all[lo:hi], width)
                kept_lengths, kept = np.diff(d.offsets), d.codes
                clean = clean and d.clean
            lengths.append(kept_lengths)
            flats.append(kept)
            row += rows
        offsets, codes = _csr(lengths, flats, n)
        out.distinct[name] = DistinctLists.from_parts(offsets, codes, clean)
    return out


# -- on disk --------------------------------------------------------------------------


def encoded_paths(source: Path) -> tuple[Path, Path, Path]:
    """The files of the encoding of ``source``: arrays, vocabulary, index."""
    stem = source.with_suffix("")
    return (
        stem.with_name(stem.name + ".enc-arrays.bin"),
        stem.with_name(stem.name + ".enc-strings.arrow"),
        stem.with_name(stem.name + ".enc.json"),
    )


def _arrays(encoded: EncodedColumns) -> Iterator[tuple[str, np.ndarray]]:
    for name, (offsets, flat) in encoded.lists.items():
        yield f"lists/{name}/offsets", offsets
        yield f"lists/{name}/codes", flat
    for name, codes in encoded.scalars.items():
        yield f"scalars/{name}", codes
    for name, values in encoded.numbers.items():
        yield f"numbers/{name}", values
    for name, d in encoded.distinct.items():
        yield f"distinct/{name}/offsets", d.offsets
        yield f"distinct/{name}/codes", d.codes


def save_encoded(encoded: EncodedColumns, source: Path, stamp: dict[str, Any]) -> None:
    """Save ``encoded`` beside ``source`` with ``stamp`` (what ties it to that very file).

    The index is written last: an encoding killed half-way has none and is rebuilt.
    """
    arrays_path, strings_path, index_path = encoded_paths(source)
    index_path.unlink(missing_ok=True)
    entries, offset = [], 0
    tmp = arrays_path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for key, array in _arrays(encoded):
            data = np.ascontiguousarray(array)
            if data.dtype.itemsize != 8:
                raise TypeError(f"{key}: {data.dtype} is not an 8-byte type")
            data.tofile(out)
            entries.append([key, data.dtype.str, offset, len(data)])
            offset += data.nbytes
    os.replace(tmp, arrays_path)
    tmp = strings_path.with_suffix(".tmp")
    table = pa.table({"s": encoded.dictionary.cast(pa.large_string())})
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, strings_path)
    index = {
        **stamp,
        "version": ENCODING_VERSION,
        "n": encoded.n,
        "bytes": offset,
        "arrays": entries,
        "clean": {name: d.clean for name, d in encoded.distinct.items()},
        "integers": sorted(encoded.integers),
    }
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index))
    os.replace(tmp, index_path)


def encoding_saved(source: Path, stamp: dict[str, Any]) -> bool:
    """Whether ``source`` has a saved encoding of this layout that belongs to it (its
    index only: :func:`load_encoded` still checks the arrays)."""
    _, strings_path, index_path = encoded_paths(source)
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(index, dict)
        and index.get("version") == ENCODING_VERSION
        and all(index.get(k) == v for k, v in stamp.items())
        and strings_path.exists()
    )


def load_encoded(source: Path, stamp: dict[str, Any]) -> EncodedColumns | None:
    """The saved encoding of ``source``, memory-mapped (read-only arrays), or ``None``
    when there is none that belongs to this very file (``stamp``) and this layout."""
    arrays_path, strings_path, index_path = encoded_paths(source)
    try:
        index = json.loads(index_path.read_text())
        if index.get("version") != ENCODING_VERSION or any(
            index.get(k) != v for k, v in stamp.items()
        ):
            return None
        if arrays_path.stat().st_size != index["bytes"]:
            return None
        raw = (
            np.memmap(arrays_path, dtype=np.uint8, mode="r")
            if index["bytes"]
            else np.empty(0, np.uint8)
        )
        with pa.memory_map(str(strings_path)) as mapped:
            dictionary = pa.ipc.open_file(mapped).read_all().column("s").combine_chunks()
        out = EncodedColumns(int(index["n"]), dictionary, integers=set(index["integers"]))
        distinct: dict[str, dict[str, np.ndarray]] = {}
        lists: dict[str, dict[str, np.ndarray]] = {}
        for key, dtype, offset, length in index["arrays"]:
            size = np.dtype(dtype).itemsize * length
            array = raw[offset : offset + size].view(np.dtype(dtype))
            kind, _, rest = key.partition("/")
            if kind == "scalars":
                out.scalars[rest] = array
            elif kind == "numbers":
                out.numbers[rest] = array
            else:
                name, _, part = rest.rpartition("/")
                (lists if kind == "lists" else distinct).setdefault(name, {})[part] = array
        for name, a in lists.items():
            out.lists[name] = (a["offsets"], a["codes"])
        for name, a in distinct.items():
            out.distinct[name] = DistinctLists.from_parts(
                a["offsets"], a["codes"], bool(index["clean"][name])
            )
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None
    if any(len(o) != out.n + 1 for o, _ in out.lists.values()) or any(
        len(v) != out.n for v in (*out.scalars.values(), *out.numbers.values())
    ):
        return None
    return out
