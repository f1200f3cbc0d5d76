"""A sweep's scoring on DuckDB without Splink's SQL: the new records against their
candidates, in-process (incremental and ``--full`` sweeps alike).

Why: at a million stored records, the block mates of 10,000 new records are 97% of
the store (measured: 984,087 of 1,010,000), so handing Splink "only the records
involved" still meant a million-row table of list columns joined twice to 11.6M
candidate pairs: 636 s of scoring and a 19.6 GB peak (docs/sweep.md). Here the
candidate pairs come from the key index kept with the prepared cache
(:mod:`kinlink.blocking.new_pairs`: the pairs of the SQL sweep job of
:class:`~kinlink.blocking.candidates.PartitionedCandidates`, derived from the new
records' keys only; until session 14 that SQL job ran here, re-reading all 180
million stored keys), and the pairs are scored by the real-time path's scorer
(:mod:`kinlink.matching.inprocess`) over the store's model columns encoded once, many
new records' pairs at a time (:class:`~kinlink.matching.pair_batch.PairBatch`; one
record at a time until session 13: ``benchmarks/bench_pair_scoring.py`` compares the
two). That scorer is held to Splink's SQL level by level
(``tests/matching/test_realtime_parity.py``), the batches to it
(``tests/matching/test_pair_batch.py``), and this path to the Splink sweep pair by pair
(``tests/sweep/test_inprocess_sweep.py``).

A pair is scored from its new side. kinlink's comparisons are symmetric (the same
gammas, weights and term-frequency adjustments whichever record is on the left:
checked on 20,533 candidate pairs of all types, and by the test above), so the score
does not depend on which record is the query. Explanations are stored in the levels
form (:meth:`~kinlink.matching.explain.ExplanationLayout.levels`: each comparison's
level and term-frequency adjustment), which the review service expands with the
model's layout and the pair's own left and right records.

New records are shared out over worker processes forked after the encoding, which
they read copy-on-write (``workers``; 1 runs everything in this process); each task
derives its records' pairs and scores them. Measured in
docs/sweep.md: at 1M stored, 10,000 new took 186 s of scoring instead of Splink's 636 s
(session 11), 96 s with batch scoring and the key index (session 14); at 100k stored
the first version was no faster than Splink, whose join is cheap on a small table.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kinlink.blocking.key_index import KeyIndex, hash_keys
from kinlink.blocking.new_pairs import NewPairs, RowFacts
from kinlink.ingest.load import cyclic_gc_paused
from kinlink.matching.encoded import EncodedColumns, encoded_names
from kinlink.matching.engine import Engine
from kinlink.matching.explain import ExplanationLayout
from kinlink.matching.inprocess import InProcessScorer, StoredColumns, explanation_layout
from kinlink.matching.model import MODEL_INPUT_EXCLUDE, KinlinkModel
from kinlink.matching.pair_batch import PAIRS_PER_SCORE, DistinctLists
from kinlink.matching.prepare import TokenFrequencies
from kinlink.matching.workers import ForkedPool, default_workers
from kinlink.store.bulk import JsonText
from kinlink.store.database import json_text

logger = logging.getLogger(__name__)

#: The explanation of a kept pair below the explain threshold (computed when opened).
_NOT_EXPLAINED = JsonText("[]")

#: Fewer queries than this are scored in this process (forking costs more).
MIN_QUERIES_PER_WORKER = 2_000
#: New records per task handed to a worker (a progress bar step). A task derives
#: its records' candidate pairs itself: ~1,200 each at a million stored records,
#: from ~15 times as many key matches, so a task holds some 10 million rows at once.
QUERIES_PER_TASK = 500


def store_keys(table: pa.Table) -> np.ndarray:
    """The store's integer keys (``record_id`` holds them as text), in table order."""
    return np.asarray(table.column("record_id").to_numpy(zero_copy_only=False), dtype=np.int64)


def store_frequencies(engine: Engine, table: pa.Table) -> TokenFrequencies:
    """Name-token counts of the whole store (what ``name_rare`` is judged on), by DuckDB.

    Counted by the engine, not in Python: a million records' token lists as Python
    objects cost gigabytes.
    """
    names = engine.register(table.select(["record_id", "name_all"]), "kinlink_store_names")
    try:
        counts = engine.query(
            "select tok, count(*) as n from (select distinct record_id, tok from "
            f"(select record_id, unnest(name_all) as tok from {names.physical_name})) "
            "group by tok"
        )
    finally:
        names.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
    return TokenFrequencies(
        Counter(dict(zip(counts["tok"], counts["n"].astype(int), strict=True))),
        table.num_rows,
    )


def common_tokens(frequencies: TokenFrequencies) -> pa.Array:
    """The tokens ``frequencies.rare`` leaves out."""
    return pa.array(
        [t for t, n in frequencies.counts.items() if n >= frequencies.threshold],
        type=pa.string(),
    )


def rare_lists(frequencies: TokenFrequencies, lists: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """``frequencies.rare`` of every list of an Arrow list column (a null list gives
    ``[]``).

    Columnar because the sweep needs it for every stored record each run: a Python
    loop over a million records' token lists cost seconds; this filters the flat
    tokens against the few common ones instead.
    """
    common = common_tokens(frequencies)
    chunks = lists.chunks if isinstance(lists, pa.ChunkedArray) else [lists]
    out = [_drop_tokens(chunk, common) for chunk in chunks]
    return pa.chunked_array(out, type=pa.list_(pa.string()))


def _drop_tokens(lists: pa.Array, common: pa.Array) -> pa.Array:
    """``lists`` without the tokens in ``common``, in order, duplicates kept."""
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    keep = pc.invert(pc.fill_null(pc.is_in(flat, value_set=common), False))
    kept = flat.filter(keep)
    per_row = np.bincount(parents[keep.to_numpy(zero_copy_only=False)], minlength=len(lists))
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(per_row, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), kept.cast(pa.string()))


def model_columns(table: pa.Table, frequencies: TokenFrequencies) -> pa.Table:
    """The store's model-input columns as Arrow, with ``name_rare`` from ``frequencies``."""
    rare = rare_lists(frequencies, table.column("name_all"))
    drop = [c for c in (*MODEL_INPUT_EXCLUDE, "name_rare") if c in table.column_names]
    out = table.drop(drop).append_column("name_rare", rare)
    try:
        # One chunk per column: ``take`` on a table of many chunks (one per Parquet row
        # group) cost ~90 ms a call at 1M records, whatever the rows taken.
        return out.combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowCapacityError):  # a column over 2 GB: stay chunked
        return out


def with_rare_names(encoded: EncodedColumns) -> EncodedColumns:
    """``encoded`` with ``name_rare`` added from its own ``name_all`` codes: what
    :func:`store_frequencies` and :func:`rare_lists` give, from the codes (a token's
    count is the number of rows whose distinct ``name_all`` codes hold it)."""
    encoded.build_distinct()
    names = encoded.distinct["name_all"]
    counts = np.bincount(names.codes, minlength=len(encoded.dictionary))
    threshold = TokenFrequencies(Counter(), encoded.n).threshold
    common = counts >= threshold
    offsets, flat = encoded.lists["name_all"]
    row_of = np.repeat(np.arange(encoded.n), np.diff(offsets))
    # DuckDB counts a NULL element as a token too: common when enough rows hold one
    nulls = flat < 0
    null_common = int(np.count_nonzero(np.bincount(row_of[nulls], minlength=encoded.n))) >= (
        threshold
    )
    # (the extra last slot stands for NULL, so an empty vocabulary indexes too)
    keep = np.where(nulls, not null_common, ~np.append(common, True)[np.where(nulls, -1, flat)])
    lengths = np.bincount(row_of[keep], minlength=encoded.n)
    rare_offsets = np.zeros(encoded.n + 1, dtype=np.int64)
    np.cumsum(lengths, out=rare_offsets[1:])
    out = EncodedColumns(
        encoded.n,
        encoded.dictionary,
        {**encoded.lists, "name_rare": (rare_offsets, flat[keep])},
        encoded.scalars,
        encoded.numbers,
        dict(encoded.distinct),
        set(encoded.integers),
    )
    if names.clean:  # sorted, distinct, no NULL: the rare ones are the same, filtered
        kept = ~common[names.codes]
        per_row = np.bincount(
            np.repeat(np.arange(encoded.n), np.diff(names.offsets))[kept], minlength=encoded.n
        )
        distinct_offsets = np.zeros(encoded.n + 1, dtype=np.int64)
        np.cumsum(per_row, out=distinct_offsets[1:])
        out.distinct["name_rare"] = DistinctLists.from_parts(
            distinct_offsets, names.codes[kept], True
        )
    else:
        out.distinct.pop("name_rare", None)
        out.build_distinct()
    return out


@dataclass
class _Job:
    """What every worker reads: the encoded store (set before forking, read
    copy-on-write) and the run's settings. Each task brings its own pairs."""

    pairs: NewPairs
    scorer: InProcessScorer
    #: explanations are stored in its levels form (the values come from the records)
    layout: ExplanationLayout
    pks: np.ndarray
    min_probability: float
    #: ``min_probability`` as a match weight, the scorer's floor (None: keep all)
    min_weight: float | None
    explain: bool
    explain_min_probability: float


@dataclass
class _Task:
    """New records ``pairs.queries[first:last]``, whose candidate pairs the task derives
    and scores."""

    first: int
    last: int


_JOB: _Job | None = None


def _score_task(task: _Task) -> tuple[Any, ...]:
    """Score one task's pairs; kept pairs (left pk, right pk, p, w) and explanations.

    The pairs are scored many queries at a time (``InProcessScorer.score_pairs``), in
    slices of ``PAIRS_PER_SCORE`` to bound the batch's intermediate arrays.
    """
    # A task builds many small lists and strings, and collections kept walking every
    # one already built (docs/sweep.md, rows (‡‡)). They hold no cycles and die with
    # the task once pickled, so the collector is paused here only: paused in the
    # parent, which keeps them, it only moved the collection later.
    with cyclic_gc_paused():
        return _score_task_pairs(task)


def _score_task_pairs(task: _Task) -> tuple[Any, ...]:
    job = _JOB
    assert job is not None
    pairs = job.pairs.pairs(task.first, task.last)
    out_l, out_r, out_p, out_w = [], [], [], []
    explanations: list[JsonText] = []
    for lo in range(0, len(pairs), PAIRS_PER_SCORE):
        span = slice(lo, lo + PAIRS_PER_SCORE)
        query, others, query_left = pairs.query[span], pairs.other[span], pairs.query_left[span]
        # pairs that cannot reach the kept minimum are dropped part-way
        scores = job.scorer.score_pairs(query, others, floor=job.min_weight)
        if scores.positions is not None:
            at = scores.positions
            query, others, query_left = query[at], others[at], query_left[at]
        keep = np.flatnonzero(scores.match_probability >= job.min_probability)
        if len(keep) == 0:
            continue
        q_pk, o_pk = job.pks[query[keep]], job.pks[others[keep]]
        out_l.append(np.where(query_left[keep], q_pk, o_pk))
        out_r.append(np.where(query_left[keep], o_pk, q_pk))
        out_p.append(scores.match_probability[keep])
        out_w.append(scores.match_weight[keep])
        explained = (
            keep[scores.match_probability[keep] >= job.explain_min_probability]
            if job.explain
            else keep[:0]
        )
        # the explained pairs' levels, one list per pair: comparisons in layout order
        gammas = np.stack([scores.gamma[c.name][explained] for c in job.layout.comparisons])
        per_pair = gammas.T.tolist()
        tf_names = job.layout.tf_comparisons
        tfs = (
            np.stack([scores.tf_adj[name][explained] for name in tf_names]).T.tolist()
            if tf_names
            else [[] for _ in per_pair]
        )
        position = {i: j for j, i in enumerate(explained.tolist())}
        for i in keep.tolist():
            j = position.get(i)
            if j is None:
                explanations.append(_NOT_EXPLAINED)
                continue
            # serialised here: strings cross back to the parent and into the store
            # far cheaper than objects (docs/sweep.md, session 15)
            explanations.append(JsonText(json_text(job.layout.levels(per_pair[j], tfs[j]))))
    if not out_l:
        empty = np.empty(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, empty, [], len(pairs)
    return (
        np.concatenate(out_l),
        np.concatenate(out_r),
        np.concatenate(out_p),
        np.concatenate(out_w),
        explanations,
        len(pairs),
    )


def levels_layout(model: KinlinkModel) -> ExplanationLayout:
    """The layout of the levels-form explanations this path stores for ``model``'s pairs."""
    return explanation_layout(model.settings_for("duckdb"), model.max_gammas())


def _weight_floor(min_probability: float) -> float | None:
    """The match weight of ``min_probability`` (None when every pair is kept)."""
    if min_probability <= 0.0:
        return None
    if min_probability >= 1.0:
        return math.inf
    return math.log2(min_probability / (1.0 - min_probability))


def score_new_in_process(
    table: pa.Table,
    new_ids: Sequence[str],
    model: KinlinkModel,
    *,
    min_probability: float,
    max_block_size: int,
    engine: Engine | None = None,
    explain: bool = True,
    explain_min_probability: float = 0.0,
    workers: int | None = None,
    progress: bool = False,
    key_index: KeyIndex | None = None,
    encoded: EncodedColumns | None = None,
    layout: ExplanationLayout | None = None,
) -> tuple[pd.DataFrame, int]:
    """Scored pairs (``scoring.SCORED_COLUMNS``) of the new records against the store,
    and the number of candidate pairs: what :func:`~.scoring.score_new` returns.

    ``table`` is the store's prepared rows as Arrow (:func:`~.scoring.prepare_store_table`,
    ``record_id`` = the store's key as text), ``key_index`` the index of their blocking
    keys (built here from ``table`` when not given: the cost the prepared cache saves),
    ``encoded`` their codes without ``name_rare`` (encoded here when not given: the
    cost the encodings kept with the cache save).
    """
    global _JOB
    columns = ["left_pk", "right_pk", "match_probability", "match_weight", "explanation"]
    if len(new_ids) == 0 or table.num_rows == 0:
        return pd.DataFrame(columns=columns), 0
    engine = engine or Engine("duckdb")
    pks = store_keys(table)
    new_rows = np.flatnonzero(np.isin(pks, np.asarray(list(new_ids), dtype=np.int64)))
    if key_index is None:
        key_index = KeyIndex([hash_keys(table)], table.num_rows)
    pairs = NewPairs(
        key_index,
        key_index.keys_of(new_rows),  # the table may come without its key lists
        RowFacts.of(table, new_rows),
        max_block_size,
    )
    # the table may hold only the rows' facts (the encoding has the rest): what it
    # has must be encoded
    if encoded is not None and (
        encoded.n != table.num_rows
        or not encoded_names(table.schema) - {*MODEL_INPUT_EXCLUDE, "name_rare"} <= encoded.columns
    ):
        if not encoded_names(table.schema) - {"record_id", "record_type", "agency"}:
            raise ValueError("the table holds the rows' facts only and the encoding is not theirs")
        logger.warning("the given encoding is not of this table's rows: encoding again")
        encoded = None
    if encoded is not None:
        # no copy of the store as Arrow: explanations are levels, the values the records'
        encoded = with_rare_names(encoded)
        stored = StoredColumns.from_encoded(encoded)
    else:
        stored = StoredColumns(model_columns(table, store_frequencies(engine, table)))
    stored.build_distinct_lists()  # before the workers fork: they share them
    _JOB = _Job(
        pairs=pairs,
        scorer=InProcessScorer(model.settings_for("duckdb"), stored),
        layout=layout or levels_layout(model),
        pks=pks,
        min_probability=min_probability,
        min_weight=_weight_floor(min_probability),
        explain=explain,
        explain_min_probability=explain_min_probability,
    )
    workers = workers if workers is not None else default_workers()
    if len(pairs.queries) < MIN_QUERIES_PER_WORKER * 2:
        workers = 1
    tasks = [
        _Task(first, min(first + QUERIES_PER_TASK, len(pairs.queries)))
        for first in range(0, len(pairs.queries), QUERIES_PER_TASK)
    ]
    logger.info("%d new records with candidates in %d tasks", len(pairs.queries), len(tasks))
    try:
        with ForkedPool(_score_task, workers, progress) as scoring:
            results = scoring.run(tasks)
    finally:
        _JOB = None
    n_candidates = sum(r[5] for r in results)
    kept = [r for r in results if len(r[0])]
    if not kept:
        return pd.DataFrame(columns=columns), n_candidates
    out = pd.DataFrame(
        {
            "left_pk": np.concatenate([r[0] for r in kept]),
            "right_pk": np.concatenate([r[1] for r in kept]),
            "match_probability": np.concatenate([r[2] for r in kept]),
            "match_weight": np.concatenate([r[3] for r in kept]),
        }
    )
    out["explanation"] = [e for r in kept for e in r[4]]
    return out, n_candidates
