"""Scoring for the sweep: the new records against every stored one, both directions.

The engine's public API scores a whole frame (``link_records``, ``dedupe_records``)
or one record (``match_record``). The sweep needs the case in between: a batch of
new or changed records against a large store, with the *same* blocking keys,
block-size cap, consent rule, term frequencies and model as a full run, so that
an incremental sweep and ``--full`` agree on every pair they both see. This module
composes the engine's lower-level pieces for that:

* :func:`kinlink.matching.prepare.prepare_records` and ``TokenFrequencies``
  (per-record work, cached on disk by content hash: preparing a million records
  takes minutes, re-reading them takes seconds);
* the new records' candidate pairs with the same keys, the same cap computed over
  *all* records and the same consent condition as a full run: from the key index kept
  beside this cache (:mod:`kinlink.blocking.new_pairs`) on the in-process path, from
  :class:`kinlink.blocking.candidates.PartitionedCandidates`' SQL sweep job otherwise;
* :class:`kinlink.matching.predict.Session` for Splink's prediction with
  explanations, and :class:`kinlink.matching.explain.Explainer`.

Pairs wanted: case-case (duplicates) and tracing request-case (links), never
tracing request-tracing request. Pairs are oriented as the engine does: the
tracing request on the left of a link, the smaller id on the left of a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kinlink.blocking.candidates import CONSENT_CONDITION
from kinlink.blocking.key_index import (
    KeyIndex,
    KeyRun,
    file_stamp,
    hash_keys,
    load_run,
    merge_runs,
    save_run,
)
from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.ingest import RECORD_COLUMNS, text_row
from kinlink.matching.encoded import (
    EncodedColumns,
    encode_table,
    encoding_saved,
    load_encoded,
    merge_encoded,
    save_encoded,
)
from kinlink.matching.engine import Engine
from kinlink.matching.explain import Explainer, ExplanationLayout
from kinlink.matching.model import MODEL_INPUT_EXCLUDE, KinlinkModel
from kinlink.matching.predict import Session
from kinlink.matching.prepare import PREPARED_COLUMNS, TokenFrequencies, prepare_records

logger = logging.getLogger(__name__)

#: Prepared columns kept in the cache: ``name_rare`` depends on every record's token
#: counts, so it is recomputed on each run rather than cached.
_CACHED = [c for c in PREPARED_COLUMNS if c != "name_rare"]
#: Pairs explained per Splink query (bounds the memory of explanations).
EXPLAIN_CHUNK = 20_000
#: On Splink's path, pairs below this are stored without an explanation (the review
#: API computes one when a reviewer opens the pair): the floor of the review screen's
#: "possible" band. The in-process path stores every kept pair's levels: they cost
#: ~150 bytes and no decoding (explaining all of them added ~2 s to a 10k sweep at 1M,
#: docs/sweep.md), where Splink's explanations cost most of a sweep's time.
DEFAULT_EXPLAIN_PROBABILITY = 0.30
#: Records prepared at a time when the cache lacks them.
PREPARE_CHUNK = 100_000
#: Records per Parquet row group of the cache.
ROW_GROUP_SIZE = 100_000
#: Source files whose change invalidates cached prepared rows.
_PREPARE_CODE = ("matching/prepare.py", "blocking/rules.py", "phonetics")
#: What an in-process sweep reads of the stored rows once their key runs and encodings
#: are on disk: which rows are current, and what the pair conditions read of each row
#: (:class:`~kinlink.blocking.new_pairs.RowFacts`).
FACT_COLUMNS = ("record_id", "content_hash", "record_type", "agency", "consent")
#: Prepared columns the scorer does not read as codes (``name_rare`` is derived).
_NOT_ENCODED = ("content_hash", *MODEL_INPUT_EXCLUDE, "name_rare")


class MissingColumns(Exception):
    """The rows read lack columns needed to encode them."""


class _Laps:
    """Logs the time since the previous lap (where a long phase spends its time)."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.clock = time.perf_counter()

    def __call__(self, what: str) -> None:
        now = time.perf_counter()
        logger.info("%s: %s, %.1fs", self.phase, what, now - self.clock)
        self.clock = now


def _row_keys(record_id: pa.ChunkedArray | pa.Array, content_hash: Any) -> pa.Array:
    """``record_id`` and ``content_hash`` joined (NUL between: neither holds one)."""
    joined = pc.binary_join_element_wise(
        record_id.cast(pa.string()), pc.fill_null(content_hash.cast(pa.string()), ""), "\x00"
    )
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def encodable(table: pa.Table) -> pa.Table:
    """The columns of prepared rows that in-process scoring encodes."""
    return table.drop([c for c in _NOT_ENCODED if c in table.column_names])


def encode_rows(table: pa.Table) -> EncodedColumns:
    """Prepared rows encoded for in-process scoring, distinct lists included."""
    encoded = encode_table(encodable(table))
    encoded.build_distinct()
    return encoded


def engine_frame(rows: Iterable[tuple[int, dict[str, Any]]]) -> pd.DataFrame:
    """Stored records as the engine's v1 text frame, ``record_id`` = the store's key.

    The store's primary key, not the agency's record_id: two agencies may use the
    same record_id for different children (the review API does the same).
    """
    out = []
    for pk, data in rows:
        out.append({**text_row(data), "record_id": str(pk)})
    frame = pd.DataFrame.from_records(out, columns=list(RECORD_COLUMNS))
    return frame.astype(object).where(frame.notna(), None)


def code_fingerprint() -> str:
    """Hash of the code that produces prepared rows: a changed rule empties the cache."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for name in _PREPARE_CODE:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(file.name.encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class PreparedCache:
    """Prepared rows on disk (Parquet), keyed by store key and content hash.

    Only a cache: it is checked row by row against the store's content hashes and
    thrown away whole when the preparing code changes, so a stale or missing file
    costs time, never correctness.

    A base file plus delta files: a sweep that prepared a few new records appends
    them as a delta instead of rewriting every row (at a million records the rewrite
    was 14 s of each nightly sweep). The deltas are folded back into the base when
    there are ``MAX_DELTAS`` of them or when rows of changed or deleted records make
    up ``COMPACT_STALE`` of the cache. Every file is written under a temporary name
    and renamed, so a killed sweep leaves the files as they were, or one more file.

    Each file has the run of its rows' blocking keys beside it
    (:mod:`kinlink.blocking.key_index`), stamped with the file it belongs to; a missing
    or foreign run is rebuilt from the file's rows on the next load.
    """

    #: Deltas kept before the next save rewrites the base.
    MAX_DELTAS = 8
    #: Share of stale rows (changed or deleted records) that triggers a rewrite.
    COMPACT_STALE = 0.1

    def __init__(self, folder: Path, store_key: str) -> None:
        self.folder = folder
        self.prefix = f"prepared-{hashlib.sha256(store_key.encode()).hexdigest()[:12]}"
        self.path = folder / f"{self.prefix}-{code_fingerprint()}.parquet"
        #: Delta files read by the last :meth:`load`.
        self.deltas = 0
        #: The files read by the last :meth:`load` and their rows, in the order read.
        self.files: list[tuple[Path, int]] = []
        #: The full schema of those files (:meth:`load` may leave ``block_keys`` out).
        self.schema: pa.Schema | None = None
        #: Whether the last :meth:`load` read the fact columns only.
        self.narrow = False

    def _delta_files(self) -> list[Path]:
        found = self.folder.glob(f"{self.path.stem}.delta-*.parquet")
        return sorted(found, key=lambda p: int(p.stem.rsplit("-", 1)[1]))

    def load(self, keys: bool = True, facts_only: bool = False) -> pa.Table | None:
        """Base and deltas, in the order written (a record may appear more than once:
        the caller keeps the rows whose content hash is current).

        ``facts_only``: only the columns of ``FACT_COLUMNS`` when every file's key run
        and encoding are on disk (what an in-process sweep reads of the stored rows
        once it has both: the rest was most of the reading time); ``self.narrow``
        says whether that happened.

        ``keys=False``: without the ``block_keys`` column when every file's key run is
        on disk (otherwise the runs are built from it). At a million records that
        column is 4 of the 5 GB read and most of the reading time, and a sweep scoring
        in-process needs only the runs.
        """
        self.deltas = 0
        self.files = []
        self.schema = None
        self.narrow = False
        if not self.path.exists():
            return None
        paths = [self.path, *self._delta_files()]
        try:
            self.schema = pq.read_schema(self.path)
            columns = None
            rows = _rows_of(paths)
            if not keys and rows is not None and _runs_on_disk(paths, rows):
                columns = [c for c in self.schema.names if c != "block_keys"]
                if facts_only and _encodings_on_disk(paths, rows):
                    columns = [c for c in FACT_COLUMNS if c in self.schema.names]
                    self.narrow = True
            tables = [pq.read_table(self.path, columns=columns)]
        except Exception:  # a truncated file from a killed run: just prepare again
            logger.warning("ignoring unreadable prepared cache %s", self.path)
            self.schema = None
            return None
        self.files.append((self.path, tables[0].num_rows))
        for delta in paths[1:]:
            try:
                tables.append(pq.read_table(delta, columns=columns, schema=self.schema))
            except Exception:  # its rows are prepared again, and the next save rewrites
                logger.warning("ignoring unreadable prepared cache delta %s", delta)
            else:
                self.files.append((delta, tables[-1].num_rows))
        self.deltas = len(tables) - 1
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    def read_keys(self) -> pa.ChunkedArray:
        """The ``block_keys`` of the files of the last :meth:`load`, in its row order
        (for a rewrite of the base after a load without them)."""
        chunks = [pq.read_table(p, columns=["block_keys"]).column(0) for p, _ in self.files]
        return pa.chunked_array([c for col in chunks for c in col.chunks], type=chunks[0].type)

    def save(self, table: pa.Table) -> None:
        """Rewrite the base with ``table`` and remove the deltas."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        # Row groups of 100,000 records: one group of a million records holds over
        # 2 GB of blocking keys in one list column, which Arrow cannot read back.
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE)
        tmp.replace(self.path)  # atomic: a reader sees the old file or the new one
        # the deltas, files of other code versions, and every key run (the base's own
        # is saved after this, by the caller)
        for old in self.folder.glob(f"{self.prefix}-*"):
            if old != self.path:
                old.unlink(missing_ok=True)
        self.deltas = 0

    def add(self, table: pa.Table) -> Path:
        """Append ``table`` (rows prepared now) as a new delta file; its path."""
        files = self._delta_files()
        number = int(files[-1].stem.rsplit("-", 1)[1]) + 1 if files else 1
        path = self.folder / f"{self.path.stem}.delta-{number}.parquet"
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE)
        tmp.replace(path)
        self.deltas += 1
        return path

    def encodings(self, loaded: pa.Table) -> list[EncodedColumns]:
        """The encoding (:mod:`kinlink.matching.encoded`) of each file of the last
        :meth:`load` (``loaded``, what it returned); built and saved where missing
        (``MissingColumns`` when ``loaded`` has the fact columns only)."""
        out, offset = [], 0
        for path, n_rows in self.files:
            encoded = load_encoded(path, file_stamp(path, n_rows))
            if encoded is None and self.narrow:
                raise MissingColumns(f"no encoding of {path.name}, and its rows were not read")
            if encoded is None:
                encoded = encode_rows(loaded.slice(offset, n_rows))
                save_encoded(encoded, path, file_stamp(path, n_rows))
            out.append(encoded)
            offset += n_rows
        return out

    def key_runs(self, loaded: pa.Table) -> list[KeyRun]:
        """The key run of each file of the last :meth:`load` (``loaded``, what it
        returned), rows numbered within the file; built and saved where missing."""
        runs, offset = [], 0
        for path, n_rows in self.files:
            run = load_run(path, n_rows)
            if run is None:
                run = hash_keys(loaded.slice(offset, n_rows))
                save_run(run, path, n_rows)
            runs.append(run)
            offset += n_rows
        return runs


def _rows_of(paths: list[Path]) -> list[int] | None:
    """Each file's row count from its footer, or ``None`` when one is unreadable (the
    full read then finds and reports it)."""
    try:
        return [pq.ParquetFile(p).metadata.num_rows for p in paths]
    except Exception:
        return None


def _encodings_on_disk(paths: list[Path], rows: list[int]) -> bool:
    """Whether every one of ``paths`` (holding ``rows`` rows each) has its valid
    encoding saved beside it."""
    return all(encoding_saved(p, file_stamp(p, n)) for p, n in zip(paths, rows, strict=True))


def _runs_on_disk(paths: list[Path], rows: list[int]) -> bool:
    """Whether every one of ``paths`` (holding ``rows`` rows each) has its valid key run
    saved beside it."""
    return all(load_run(p, n) is not None for p, n in zip(paths, rows, strict=True))


@dataclass
class PreparedStore:
    """What :func:`prepare_store_table` returns."""

    #: every stored record's prepared row, without ``name_rare`` (``record_id`` = the
    #: store's key as text); only ``FACT_COLUMNS`` (without ``content_hash``) when
    #: ``encoded`` came from a facts-only read
    table: pa.Table
    #: how many of them were prepared in this run (the others came from the cache)
    n_prepared: int
    #: the index of their blocking keys, rows numbered in ``table``
    keys: KeyIndex
    #: their encoding for in-process scoring (``encode=True`` with a cache), rows as
    #: in ``table``, ``name_rare`` left out
    encoded: EncodedColumns | None = None


def prepare_store_table(
    snapshot: pd.DataFrame,
    fetch: Callable[[Sequence[int]], pd.DataFrame],
    cache: PreparedCache | None,
    *,
    progress: bool = False,
    keys: bool = True,
    encode: bool = False,
    facts_only: bool | None = None,
) -> PreparedStore:
    """The prepared rows of every stored record as Arrow (without ``name_rare``), how
    many were prepared now, and their key index; :func:`prepared_frame` turns the rows
    into the engine's frame.

    ``snapshot`` has ``pk`` and ``content_hash`` for every record; ``fetch(pks)``
    returns the engine frame of those records (read only for rows the cache lacks).
    Arrow, because an incremental sweep keeps a large store as it is: a million
    prepared rows as pandas lists of Python strings (180 blocking keys per record) ran
    the 24 GB machine out of memory before the first new record was scored.

    ``keys=False``: the table may come without ``block_keys`` (when the cache's key
    runs make them unnecessary; the key index has them), for callers that take blocking
    keys from the index only (:meth:`KeyIndex.keys_of`).

    ``encode=True`` (with a cache): also the rows' encoding for in-process scoring,
    merged from the encodings kept beside the cache's files and the new rows' own
    (:mod:`kinlink.matching.encoded`) rather than built from every row again. The
    table then holds only ``FACT_COLUMNS`` when the cache had every file's encoding
    and key run (``facts_only``, the default with ``encode``): the scorer reads the
    codes, and the explanations decode their values from them. A run that rewrites
    the cache reads every column.
    """
    if facts_only is None:
        facts_only = encode
    wanted = pd.DataFrame(
        {"record_id": snapshot["pk"].astype(str), "content_hash": snapshot["content_hash"]}
    )
    lap = _Laps("prepare")
    cached = cache.load(keys=keys, facts_only=facts_only) if cache is not None else None
    narrow = cache is not None and cache.narrow
    lap("read the cache" + (" (facts only)" if narrow else ""))
    runs: list[KeyRun] = []
    encodings: list[tuple[EncodedColumns, np.ndarray | None]] = []
    stale = 0
    mask = None
    if cached is not None:
        # current rows only: (record, content hash) still wanted, matched by Arrow's
        # hash set on the two joined (a pandas merge of a million rows took seconds)
        current = pc.is_in(
            _row_keys(cached.column("record_id"), cached.column("content_hash")),
            value_set=_row_keys(
                pa.array(wanted["record_id"], type=pa.string()),
                pa.array(wanted["content_hash"], type=pa.string()),
            ),
        )
        mask = pc.fill_null(current, False).to_numpy(zero_copy_only=False)
        if cache.deltas:  # each record once (a delta may repeat a record whose content
            # changed and changed back)
            ids = pd.Series(cached.column("record_id").to_numpy(zero_copy_only=False)[mask])
            mask[mask] = ~ids.duplicated(keep="last").to_numpy()
        stale = int((~mask).sum())
        assert cache is not None
        offsets = np.cumsum([0] + [n for _, n in cache.files])
        if stale:
            remap = np.where(mask, np.cumsum(mask) - 1, -1).astype(np.int32)
            runs = [
                run.remapped(remap, int(offset))
                for run, offset in zip(cache.key_runs(cached), offsets, strict=False)
            ]
        else:
            runs = [
                run.shifted(int(offset))
                for run, offset in zip(cache.key_runs(cached), offsets, strict=False)
            ]
        # (a run that compacts the cache encodes the whole table once it is rewritten)
        compacting = cache.deltas >= cache.MAX_DELTAS or stale > cache.COMPACT_STALE * max(
            len(wanted), 1
        )

        def every_column() -> PreparedStore:
            """The same, reading every column (nothing was written yet)."""
            return prepare_store_table(
                snapshot, fetch, cache, progress=progress, keys=keys, encode=encode,
                facts_only=False,
            )  # fmt: skip

        if narrow and compacting:  # the rewrite needs every column
            return every_column()
        if encode and not compacting:
            try:
                kept_encodings = cache.encodings(cached)
            except MissingColumns:  # an encoding vanished since the load
                return every_column()
            encodings = [
                (encoded, mask[lo:hi] if stale else None)
                for encoded, lo, hi in zip(kept_encodings, offsets[:-1], offsets[1:], strict=True)
            ]
        lap("current rows, key runs and encodings")
        if stale:  # filtering copies the table: a gigabyte or more at 1M
            cached = cached.filter(pa.array(mask))
        have = cached.column("record_id")
        missing = wanted[
            ~pc.fill_null(
                pc.is_in(pa.array(wanted["record_id"], type=pa.string()), value_set=have), False
            ).to_numpy(zero_copy_only=False)
        ]
        n_have = cached.num_rows
    else:
        missing, n_have = wanted, 0
    compact = cache is not None and (
        cached is None
        or cache.deltas >= cache.MAX_DELTAS
        or stale > cache.COMPACT_STALE * max(n_have + len(missing), 1)
    )
    keyless = cached is not None and "block_keys" not in cached.column_names
    if keyless and compact:  # the base is rewritten with every row's keys
        assert cache is not None and cache.schema is not None
        column = cache.read_keys()
        if stale:
            column = column.filter(pa.array(mask))
        cached = cached.append_column("block_keys", column).select(cache.schema.names)
        keyless = False
    # In chunks, each turned into Arrow at once: a million records prepared in one
    # pandas frame held 15 GB of Python lists (nothing cached depends on the batch:
    # name_rare, which does, is not cached).
    lap("stale rows dropped")
    chunks: Iterable[int] = range(0, len(missing), PREPARE_CHUNK)
    if progress and len(missing) > PREPARE_CHUNK:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc="prepare", unit="chunk")
    fresh_parts: list[pa.Table] = []
    schema = cache.schema if cached is not None and cache is not None else None
    for start in chunks:
        todo = missing.iloc[start : start + PREPARE_CHUNK]
        prepared = prepare_records(
            fetch(todo["record_id"].astype(int).tolist()),
            progress=progress and len(missing) <= PREPARE_CHUNK,
        )
        prepared = prepared[_CACHED].merge(todo, on="record_id", how="left")
        fresh_parts.append(pa.Table.from_pandas(prepared, schema=schema, preserve_index=False))
        schema = fresh_parts[0].schema
        del prepared
    lap(f"{len(missing)} records prepared")
    if cached is None and not fresh_parts:
        return PreparedStore(pa.table({}), 0, KeyIndex([], 0))
    fresh = None
    if fresh_parts:
        fresh = pa.concat_tables(fresh_parts) if len(fresh_parts) > 1 else fresh_parts[0]
    n_cached = cached.num_rows if cached is not None else 0
    fresh_run = hash_keys(fresh) if fresh is not None else None
    if fresh_run is not None:
        runs.append(fresh_run.shifted(n_cached))
    if fresh is not None and cache is not None and not compact:
        assert fresh_run is not None
        delta = cache.add(fresh)
        save_run(fresh_run, delta, fresh.num_rows)
        if encode:
            fresh_encoded = encode_rows(fresh)
            save_encoded(fresh_encoded, delta, file_stamp(delta, fresh.num_rows))
            encodings.append((fresh_encoded, None))
    if narrow and fresh is not None:
        assert cached is not None
        fresh = fresh.select(cached.column_names)
    parts = [t for t in (cached, fresh) if t is not None]
    if keyless:
        parts = [t.drop(["block_keys"]) if "block_keys" in t.column_names else t for t in parts]
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    lap("new rows saved")
    encoded = None
    if cache is not None and compact:
        cache.save(table)
        save_run(merge_runs(runs), cache.path, table.num_rows)
        del runs
        # memory-mapped from the file rather than held
        runs = [load_run(cache.path, table.num_rows) or hash_keys(table)]
        if encode:
            encoded = encode_rows(table)
            save_encoded(encoded, cache.path, file_stamp(cache.path, table.num_rows))
    elif encodings:
        try:
            encoded = merge_encoded(encodings)
        except ValueError as error:  # the scorer encodes the table itself
            logger.warning("not using the cached encodings: %s", error)
            if narrow:  # ... which it then needs whole
                return prepare_store_table(
                    snapshot, fetch, cache, progress=progress, keys=keys, encode=False
                )
    lap("cache rewritten" if compact else "encodings merged")
    return PreparedStore(
        table.drop(["content_hash"]),
        len(missing),
        KeyIndex(runs, table.num_rows),
        encoded,
    )


def prepared_frame(table: pa.Table, frequencies: TokenFrequencies | None = None) -> pd.DataFrame:
    """Prepared rows of :func:`prepare_store_table` as the engine's pandas frame.

    ``frequencies`` judge term rarity (``name_rare``); by default the table's own,
    so pass the whole store's when ``table`` is a subset of it.
    """
    if table.num_rows == 0:
        return pd.DataFrame(columns=list(PREPARED_COLUMNS))
    prepared = table.to_pandas()
    prepared["by_lo"] = prepared["by_lo"].astype("Int64")
    prepared["by_hi"] = prepared["by_hi"].astype("Int64")
    prepared["consent"] = prepared["consent"].astype(bool)
    # Term rarity is judged over the whole store, as a full batch run would.
    if frequencies is None:
        frequencies = TokenFrequencies.from_token_lists(prepared["name_all"])
    prepared["name_rare"] = [frequencies.rare(tokens) for tokens in prepared["name_all"]]
    return prepared[list(PREPARED_COLUMNS)]


def sweep_pairs_sql(
    engine: Engine, prepared_table: str, new_table: str, max_block_size: int = MAX_BLOCK_SIZE
) -> str:
    """SQL for ``record_id_l, record_id_r, rule``: new records against all, each pair once.

    Block sizes are counted over *all* records (so a key is dropped exactly when a
    full run would drop it), but only keys that some new record carries are
    exploded into the join. A pair of two new records is kept once (smaller id on
    the query side); a pair of a new and an old record from the new one's side.
    """
    explode = engine.explode("block_keys", "bkey")
    return f"""
    with flagged as (
        select p.record_id, p.record_type, p.agency, p.consent, p.block_keys,
               n.record_id is not null as is_new
        from {prepared_table} as p left join {new_table} as n on p.record_id = n.record_id
    ),
    nk as (select distinct bkey from (select {explode} from flagged where is_new)),
    ak as (select record_id, record_type, agency, consent, is_new, {explode} from flagged),
    akf as (select ak.* from ak inner join nk on ak.bkey = nk.bkey),
    sizes as (
        select bkey from akf group by bkey
        having count(*) >= 2 and count(*) <= {int(max_block_size)}
    ),
    kk as (select akf.* from akf inner join sizes on akf.bkey = sizes.bkey),
    raw as (
        select l.record_id as a_id, r.record_id as b_id,
               min(l.record_type) as a_type, min(r.record_type) as b_type,
               min(substr(l.bkey, 1, 1)) as rule
        from kk as l inner join kk as r on l.bkey = r.bkey
        where l.is_new
          and l.record_id <> r.record_id
          and (not r.is_new or l.record_id < r.record_id)
          and not (l.record_type = 'tracing_request' and r.record_type = 'tracing_request')
          and ({CONSENT_CONDITION})
        group by l.record_id, r.record_id
    )
    select
        case when (a_type = 'case' and b_type = 'tracing_request')
                  or (a_type = b_type and a_id > b_id) then b_id else a_id end as record_id_l,
        case when (a_type = 'case' and b_type = 'tracing_request')
                  or (a_type = b_type and a_id > b_id) then a_id else b_id end as record_id_r,
        rule
    from raw
    """


SCORED_COLUMNS = [
    "left_pk",
    "right_pk",
    "match_probability",
    "match_weight",
    "explanation",
]


def score_new(
    prepared: pd.DataFrame | pa.Table,
    new_ids: Sequence[str],
    model: KinlinkModel,
    *,
    min_probability: float,
    max_block_size: int = MAX_BLOCK_SIZE,
    engine: Engine | None = None,
    explain: bool = True,
    explain_min_probability: float | None = None,
    progress: bool = False,
    workers: int | None = None,
    key_index: KeyIndex | None = None,
    encoded: EncodedColumns | None = None,
    layout: ExplanationLayout | None = None,
) -> tuple[pd.DataFrame, int]:
    """Scored pairs (``SCORED_COLUMNS``) of the new records against all, and the pair count.

    Only pairs at or above ``min_probability`` come back; the count is of every
    candidate pair blocking proposed (for the report). Explanations are computed for
    pairs at or above ``explain_min_probability`` only (None: every pair in-process,
    where they are levels; ``DEFAULT_EXPLAIN_PROBABILITY`` on Splink's path, where they
    cost three quarters of a sweep's time and most of its memory, measured in
    docs/sweep.md, and are computed ``EXPLAIN_CHUNK`` pairs at a time); the review
    API computes a missing one when a reviewer opens the pair. The others get an
    empty list.

    ``prepared`` as an Arrow table (:func:`prepare_store_table`, DuckDB engine) is the
    incremental sweep's lean path: the pairs are scored in-process
    (:mod:`kinlink.matching.sweep.inprocess_scoring`, ``workers`` processes) instead of
    by Splink's SQL over the whole store, with the same results; ``key_index`` (from
    :func:`prepare_store_table`) gives it the candidates without re-deriving every
    stored record's keys (built from ``prepared`` when not given), and ``encoded``
    (also from there) the rows' codes without encoding them again; ``layout`` is the
    model's explanation layout for that path's levels (built here when not given).
    """
    if len(new_ids) == 0 or len(prepared) == 0:
        return pd.DataFrame(columns=SCORED_COLUMNS), 0
    engine = engine or Engine()
    if isinstance(prepared, pa.Table) and engine.backend != "duckdb":
        prepared = prepared_frame(prepared)
    if isinstance(prepared, pa.Table):
        from kinlink.matching.sweep.inprocess_scoring import score_new_in_process

        return score_new_in_process(
            prepared,
            new_ids,
            model,
            min_probability=min_probability,
            max_block_size=max_block_size,
            engine=engine,
            explain=explain,
            explain_min_probability=explain_min_probability or 0.0,
            workers=workers,
            progress=progress,
            key_index=key_index,
            encoded=encoded,
            layout=layout,
        )
    new_table = engine.register(pd.DataFrame({"record_id": list(new_ids)}), "kinlink_new")
    counted: list[int] = []
    session = Session.open(prepared, model, engine)
    parts = list(
        session.score_in_parts(
            "sweep",
            threshold_match_probability=min_probability,
            columns=["record_id_l", "record_id_r", "match_probability", "match_weight"],
            max_block_size=max_block_size,
            new_table=new_table.physical_name,
            counted=counted,
            progress=progress,
        )
    )
    n_candidates = sum(counted)
    if n_candidates == 0:
        return pd.DataFrame(columns=SCORED_COLUMNS), 0
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["match_probability"] >= min_probability].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "left_pk": frame["record_id_l"].astype(int).to_numpy(),
            "right_pk": frame["record_id_r"].astype(int).to_numpy(),
            "match_probability": frame["match_probability"].astype(float).to_numpy(),
            "match_weight": frame["match_weight"].astype(float).to_numpy(),
        }
    )
    explanations: list[list[dict[str, Any]]] = [[] for _ in range(len(out))]
    if explain_min_probability is None:
        explain_min_probability = DEFAULT_EXPLAIN_PROBABILITY
    wanted = np.flatnonzero(out["match_probability"].to_numpy() >= explain_min_probability)
    if explain and len(wanted):
        explainer = Explainer(model.splink_settings)
        max_gamma = model.max_gammas()
        position = {
            (left, right): i
            for i, (left, right) in enumerate(
                zip(frame["record_id_l"].tolist(), frame["record_id_r"].tolist(), strict=True)
            )
        }
        for start in range(0, len(wanted), EXPLAIN_CHUNK):
            chunk = frame.iloc[wanted[start : start + EXPLAIN_CHUNK]]
            kept = session.register_pairs(chunk[["record_id_l", "record_id_r"]])
            for row in session.score(kept, explain=True).as_pandas_dataframe().to_dict("records"):
                items = [c.as_dict() for c in explainer.contributions(row)]
                for item in items:
                    item["max_gamma"] = max_gamma.get(item["comparison"], item["gamma"])
                explanations[position[(row["record_id_l"], row["record_id_r"])]] = items
    out["explanation"] = explanations
    return out, n_candidates
