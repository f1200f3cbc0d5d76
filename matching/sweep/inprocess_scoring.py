"""The incremental sweep's scoring without Splink's SQL: each new record against its
candidates, in-process.

Why: at a million stored records, the block mates of 10,000 new records are 97% of
the store (measured: 984,087 of 1,010,000), so handing Splink "only the records
involved" still meant a million-row table of list columns joined twice to 11.6M
candidate pairs: 636 s of scoring and a 19.6 GB peak (docs/sweep.md). Here blocking
stays in DuckDB (the same :class:`~kinlink.blocking.candidates.PartitionedCandidates`
job, so the same pairs), and the pairs are scored by the real-time path's scorer
(:mod:`kinlink.matching.inprocess`), one new record at a time against all its
candidates, over the store's model columns encoded once. That scorer is held to
Splink's SQL level by level (``tests/matching/test_realtime_parity.py``), and this
path to the Splink sweep pair by pair (``tests/sweep/test_inprocess_sweep.py``).

A pair is scored from its new side. kinlink's comparisons are symmetric (the same
gammas, weights and term-frequency adjustments whichever record is on the left:
checked on 20,533 candidate pairs of all types, and by the test above), so the score
does not depend on which record is the query; explanations are still written with the
pair's own left and right values.

Queries are shared out over worker processes forked after the encoding, which they
read copy-on-write (``workers``; 1 runs everything in this process).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kinlink.blocking.candidates import BLOCKING_COLUMNS, PartitionedCandidates
from kinlink.matching.engine import Engine
from kinlink.matching.explain import Explainer
from kinlink.matching.inprocess import InProcessScorer, StoredColumns, explain_row
from kinlink.matching.model import MODEL_INPUT_EXCLUDE, KinlinkModel
from kinlink.matching.prepare import TokenFrequencies

logger = logging.getLogger(__name__)

#: Fewer queries than this are scored in this process (forking costs more).
MIN_QUERIES_PER_WORKER = 2_000
#: Queries per task handed to a worker (a progress bar step).
QUERIES_PER_TASK = 500


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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


def model_columns(table: pa.Table, frequencies: TokenFrequencies) -> pa.Table:
    """The store's model-input columns as Arrow, with ``name_rare`` from ``frequencies``."""
    rare = pa.array(
        [frequencies.rare(tokens or []) for tokens in table.column("name_all").to_pylist()],
        type=pa.list_(pa.string()),
    )
    drop = [c for c in (*MODEL_INPUT_EXCLUDE, "name_rare") if c in table.column_names]
    out = table.drop(drop)
    return out.append_column("name_rare", rare)


def candidate_rows(
    table: pa.Table, new_table: Any, engine: Engine, max_block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers in ``table`` of every candidate pair's left and right record.

    The pairs of the sweep job (oriented as the engine orients them); ``record_id``
    is the store's integer key as text.
    """
    keys = engine.register(table.select(list(BLOCKING_COLUMNS)), "kinlink_store_keys")
    candidates = PartitionedCandidates(
        engine, keys.physical_name, "sweep", max_block_size, new_table=new_table.physical_name
    )
    lefts, rights = [], []
    try:
        for part in range(candidates.parts):
            pairs = candidates.part(part)
            frame = engine.query(
                "select cast(record_id_l as bigint) as l, cast(record_id_r as bigint) as r "
                f"from {pairs.physical_name}"
            )
            pairs.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
            lefts.append(frame["l"].to_numpy(np.int64))
            rights.append(frame["r"].to_numpy(np.int64))
    finally:
        candidates.close()
        keys.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
    pks = np.asarray(table.column("record_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    order = np.argsort(pks, kind="stable")
    left = np.concatenate(lefts) if lefts else np.empty(0, np.int64)
    right = np.concatenate(rights) if rights else np.empty(0, np.int64)
    return order[np.searchsorted(pks, left, sorter=order)], order[
        np.searchsorted(pks, right, sorter=order)
    ]


@dataclass
class _Job:
    """What a worker reads (set before forking, read copy-on-write)."""

    inputs: pa.Table
    scorer: InProcessScorer
    explainer: Explainer
    max_gamma: dict[str, int]
    columns: list[str]
    pks: np.ndarray
    queries: np.ndarray  # query row per group
    starts: np.ndarray  # group boundaries into the arrays below
    others: np.ndarray  # the other record's row, per pair
    query_left: np.ndarray  # whether the query is the pair's left record
    min_probability: float
    explain: bool
    explain_min_probability: float


_JOB: _Job | None = None


def _row(job: _Job, i: int) -> dict[str, Any]:
    return job.inputs.slice(int(i), 1).to_pylist()[0]


def _score_groups(first: int, last: int) -> tuple[np.ndarray, ...] | Any:
    """Score the queries ``first..last-1`` of the job; kept pairs and explanations."""
    job = _JOB
    assert job is not None
    out_l, out_r, out_p, out_w = [], [], [], []
    explanations: list[list[dict[str, Any]]] = []
    for g in range(first, last):
        q = int(job.queries[g])
        span = slice(int(job.starts[g]), int(job.starts[g + 1]))
        others, query_left = job.others[span], job.query_left[span]
        left = _row(job, q)
        scores = job.scorer.score(left, others)
        keep = np.flatnonzero(scores.match_probability >= job.min_probability)
        if len(keep) == 0:
            continue
        q_pk, o_pk = job.pks[q], job.pks[others[keep]]
        lefts = np.where(query_left[keep], q_pk, o_pk)
        out_l.append(lefts)
        out_r.append(np.where(query_left[keep], o_pk, q_pk))
        out_p.append(scores.match_probability[keep])
        out_w.append(scores.match_weight[keep])
        for i in keep.tolist():
            if not job.explain or scores.match_probability[i] < job.explain_min_probability:
                explanations.append([])
                continue
            other = _row(job, int(others[i]))
            pair_left, pair_right = (left, other) if query_left[i] else (other, left)
            row = explain_row(scores, i, pair_left, pair_right, job.columns)
            items = [c.as_dict() for c in job.explainer.contributions(row)]
            for item in items:
                item["max_gamma"] = job.max_gamma.get(item["comparison"], item["gamma"])
            explanations.append(items)
    if not out_l:
        empty = np.empty(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, empty, []
    return (
        np.concatenate(out_l),
        np.concatenate(out_r),
        np.concatenate(out_p),
        np.concatenate(out_w),
        explanations,
    )


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
) -> tuple[pd.DataFrame, int]:
    """Scored pairs (``scoring.SCORED_COLUMNS``) of the new records against the store,
    and the number of candidate pairs: what :func:`~.scoring.score_new` returns.

    ``table`` is the store's prepared rows as Arrow (:func:`~.scoring.prepare_store_table`,
    ``record_id`` = the store's key as text).
    """
    global _JOB
    columns = ["left_pk", "right_pk", "match_probability", "match_weight", "explanation"]
    if len(new_ids) == 0 or table.num_rows == 0:
        return pd.DataFrame(columns=columns), 0
    engine = engine or Engine("duckdb")
    new_table = engine.register(pd.DataFrame({"record_id": list(new_ids)}), "kinlink_new")
    try:
        left, right = candidate_rows(table, new_table, engine, max_block_size)
        frequencies = store_frequencies(engine, table)
    finally:
        new_table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
    n_candidates = len(left)
    if n_candidates == 0:
        return pd.DataFrame(columns=columns), 0

    # Each pair is scored from a new record's side (the left one when both are new).
    pks = np.asarray(table.column("record_id").to_numpy(zero_copy_only=False), dtype=np.int64)
    is_new = np.zeros(table.num_rows, dtype=bool)
    is_new[np.isin(pks, np.asarray(list(new_ids), dtype=np.int64))] = True
    query_left = is_new[left]
    query = np.where(query_left, left, right)
    other = np.where(query_left, right, left)
    del left, right
    order = np.argsort(query, kind="stable")
    query, other, query_left = query[order], other[order], query_left[order]
    del order
    queries, starts = np.unique(query, return_index=True)
    starts = np.append(starts, len(query)).astype(np.int64)
    del query
    logger.info(
        "%d candidate pairs of %d new records, scored in-process", n_candidates, len(queries)
    )

    inputs = model_columns(table, frequencies)
    explainer = Explainer(model.splink_settings)
    _JOB = _Job(
        inputs=inputs,
        scorer=InProcessScorer(model.settings_for("duckdb"), StoredColumns(inputs)),
        explainer=explainer,
        max_gamma=model.max_gammas(),
        columns=explainer.value_columns,
        pks=pks,
        queries=queries,
        starts=starts,
        others=other,
        query_left=query_left,
        min_probability=min_probability,
        explain=explain,
        explain_min_probability=explain_min_probability,
    )
    try:
        tasks = [
            (start, min(start + QUERIES_PER_TASK, len(queries)))
            for start in range(0, len(queries), QUERIES_PER_TASK)
        ]
        workers = workers if workers is not None else default_workers()
        workers = max(1, min(workers, len(queries) // MIN_QUERIES_PER_WORKER, len(tasks)))
        results = _run_tasks(tasks, workers, progress)
    finally:
        _JOB = None
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


def _run_tasks(tasks: list[tuple[int, int]], workers: int, progress: bool) -> list[Any]:
    """Results of every task, in task order; forked workers when ``workers`` > 1."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc="score", unit="task")
    try:
        if workers == 1:
            results = []
            for first, last in tasks:
                results.append(_score_groups(first, last))
                if bar is not None:
                    bar.update()
            return results
        # fork: the workers inherit the encoded store without pickling it. Frozen
        # first: a child's garbage collector must not finalise objects it inherited
        # (a DuckDB connection collected in a forked child crashed it), and untouched
        # objects stay shared pages.
        context = multiprocessing.get_context("fork")
        gc.collect()
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(_score_groups, *task): i for i, task in enumerate(tasks)}
                ordered: list[Any] = [None] * len(tasks)
                for future in as_completed(futures):
                    ordered[futures[future]] = future.result()
                    if bar is not None:
                        bar.update()
        finally:
            gc.unfreeze()
        return ordered
    finally:
        if bar is not None:
            bar.close()
