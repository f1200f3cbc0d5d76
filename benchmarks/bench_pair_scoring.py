"""The sweep's in-process scoring on one core: one query at a time against many at once.

    .venv/bin/python benchmarks/bench_pair_scoring.py --dir /tmp/bs/k200 --queries 1000

``--dir`` is a store made by ``bench_sweep.py --dir ...`` (its prepared cache and
``model.json``). Takes ``--queries`` stored records as if they were new and times
their candidate pairs both ways: DuckDB's SQL sweep job over every stored key
(``PartitionedCandidates``, the sweep's way until session 14) and the key index
(hashing every stored key once, as a sweep without a prepared cache does; then the
new records' pairs, ``NewPairs``, as every sweep does), checking they are the same
pairs. Then times on one core, over exactly those pairs:

* ``per query``: ``InProcessScorer.score`` (``PairColumns``), each query against its
  candidates: how the sweep scored until session 13, and how real-time matching scores;
* ``batch``: ``InProcessScorer.score_pairs`` (``PairBatch``), slices of
  ``PAIRS_PER_SCORE`` pairs with many queries on the left: how the sweep scores now;
* ``batch pruned``: the same with the sweep's floor (p >= 0.01), so that pairs which
  cannot reach it are dropped part-way (``score_pairs(..., floor=)``, session 15);
* the sweep's task function (``_score_task``) without pruning, with it, and with it and
  explanations (their levels, session 17) of the kept pairs >= 0.3; last, over the
  rows' codes as the prepared cache keeps them (session 16) with every kept pair
  explained: the sweep's default since session 17.

Checks that both ways give the same match weights, and prints the figures. No timing
asserts.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    from kinlink.blocking.key_index import KeyIndex, hash_keys
    from kinlink.blocking.new_pairs import NewPairs, RowFacts
    from kinlink.matching.engine import Engine
    from kinlink.matching.inprocess import InProcessScorer, StoredColumns
    from kinlink.matching.model import load_model
    from kinlink.matching.sweep import inprocess_scoring as ips
    from kinlink.matching.sweep.scoring import DEFAULT_EXPLAIN_PROBABILITY, encode_rows

    model = load_model(args.dir / "model.json")
    engine = Engine("duckdb")

    t = time.perf_counter()
    table = _cached_rows(args.dir / "cache")
    inputs = ips.model_columns(table, ips.store_frequencies(engine, table))
    print(f"read {table.num_rows} prepared rows: {time.perf_counter() - t:.1f}s", flush=True)
    t = time.perf_counter()
    stored = StoredColumns(inputs)
    encode = time.perf_counter() - t
    t = time.perf_counter()
    stored.build_distinct_lists()
    print(f"encode {encode:.1f}s, distinct lists {time.perf_counter() - t:.1f}s", flush=True)
    scorer = InProcessScorer(model.settings_for("duckdb"), stored)

    pks = ips.store_keys(table)
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(table.num_rows, args.queries, replace=False)
    new_ids = [str(k) for k in pks[chosen]]
    t = time.perf_counter()
    sql_pairs = _sql_pairs(engine, table, new_ids)
    print(f"DuckDB's sweep job: {len(sql_pairs)} pairs, {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    index = KeyIndex([hash_keys(table)], table.num_rows)
    print(f"key index: every key hashed and sorted, {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    new_rows = np.sort(chosen)
    pairs = NewPairs(index, hash_keys(table, rows=new_rows), RowFacts.of(table, new_rows), 400)
    built = time.perf_counter() - t
    t = time.perf_counter()
    tasks = [
        pairs.pairs(first, min(first + ips.QUERIES_PER_TASK, len(pairs.queries)))
        for first in range(0, len(pairs.queries), ips.QUERIES_PER_TASK)
    ]
    n = sum(len(task) for task in tasks)
    print(
        f"key index: {n} candidate pairs for {args.queries} queries, "
        f"{built:.1f}s to look up their keys, {time.perf_counter() - t:.1f}s to derive the pairs"
    )
    left = np.concatenate([np.where(x.query_left, x.query, x.other) for x in tasks])
    right = np.concatenate([np.where(x.query_left, x.other, x.query) for x in tasks])
    same = sql_pairs == set(zip(pks[left].tolist(), pks[right].tolist(), strict=True))
    print(f"same pairs both ways: {same}", flush=True)

    rows = inputs.take(pa.array(np.unique(chosen))).to_pylist()
    by_row = dict(zip(np.unique(chosen).tolist(), rows, strict=True))
    t = time.perf_counter()
    per_query = []
    for task in tasks:
        queries, starts = np.unique(task.query, return_index=True)
        starts = np.append(starts, len(task))
        for g, q in enumerate(queries.tolist()):
            others = task.other[starts[g] : starts[g + 1]]
            per_query.append(scorer.score(by_row[q], others).match_weight)
    one = time.perf_counter() - t
    per = 1000 * one / args.queries
    print(f"per query: {one:.1f}s, {n / one:,.0f} pairs/s, {per:.2f} ms/query")

    t = time.perf_counter()
    batched = []
    for task in tasks:
        for lo in range(0, len(task), ips.PAIRS_PER_SCORE):
            span = slice(lo, lo + ips.PAIRS_PER_SCORE)
            batched.append(scorer.score_pairs(task.query[span], task.other[span]).match_weight)
    many = time.perf_counter() - t
    print(f"batch: {many:.1f}s, {n / many:,.0f} pairs/s, x{one / many:.1f}", flush=True)
    same = np.array_equal(np.concatenate(per_query), np.concatenate(batched))
    print(f"same match weights both ways: {same}")

    floor = ips._weight_floor(0.01)
    t = time.perf_counter()
    pruned, reaching = [], []
    for task in tasks:
        for lo in range(0, len(task), ips.PAIRS_PER_SCORE):
            span = slice(lo, lo + ips.PAIRS_PER_SCORE)
            scores = scorer.score_pairs(task.query[span], task.other[span], floor=floor)
            keep = scores.match_weight >= floor
            pruned.append(scores.match_weight[keep])
            reaching.append(lo + scores.positions[keep])
    cut = time.perf_counter() - t
    every = np.concatenate(batched)
    print(
        f"batch pruned at p >= 0.01: {cut:.1f}s, {n / cut:,.0f} pairs/s, x{many / cut:.1f} "
        f"over batch; {sum(len(w) for w in pruned)} pairs reach it"
    )
    full_kept = np.concatenate([w[w >= floor] for w in batched])
    same = np.array_equal(full_kept, np.concatenate(pruned))
    print(f"same pairs and weights >= the floor, pruned or not: {same} ({len(every)} scored)")

    layout = ips.levels_layout(model)
    # the sweep's way since session 16: the rows' codes as the prepared cache keeps
    # them (name_rare counted on the codes)
    t = time.perf_counter()
    encoded = ips.with_rare_names(encode_rows(table))
    from_codes = InProcessScorer(model.settings_for("duckdb"), StoredColumns.from_encoded(encoded))
    print(f"encoded as the cache keeps it: {time.perf_counter() - t:.1f}s", flush=True)
    # (a fresh scorer learns its pruning order on its first calls: it is warmed up on
    # the same pairs first, as the scorer above was by the runs before)
    for task in tasks[:3]:
        from_codes.score_pairs(task.query, task.other, floor=floor)
    runs = (
        (False, False, False, 0.0),
        (False, True, False, 0.0),
        (True, True, False, DEFAULT_EXPLAIN_PROBABILITY),
        (True, True, True, 0.0),
    )
    for explain, prune, decoded, explain_from in runs:
        ips._JOB = ips._Job(
            pairs=pairs,
            scorer=from_codes if decoded else scorer,
            layout=layout,
            pks=pks,
            min_probability=0.01,
            min_weight=floor if prune else None,
            explain=explain,
            explain_min_probability=explain_from,
        )
        t = time.perf_counter()
        results = [
            ips._score_task(ips._Task(first, min(first + ips.QUERIES_PER_TASK, len(pairs.queries))))
            for first in range(0, len(pairs.queries), ips.QUERIES_PER_TASK)
        ]
        took = time.perf_counter() - t
        kept = sum(len(r[0]) for r in results)
        explained = sum(1 for r in results for e in r[4] if e != "[]")
        print(
            f"sweep task function (pairs derived and scored), explanations "
            f"{f'>= {explain_from}' if explain else 'off'}, "
            f"{'pruned' if prune else 'not pruned'}"
            f"{', over the kept codes' if decoded else ''}: {took:.1f}s "
            f"({n / took:,.0f} pairs/s; {kept} kept >= 0.01, {explained} explained)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak RSS {peak:.2f} GB")


def _sql_pairs(engine, table: pa.Table, new_ids: list[str]) -> set[tuple[int, int]]:
    """The pairs of DuckDB's SQL sweep job, as store keys."""
    from kinlink.blocking.candidates import BLOCKING_COLUMNS, PartitionedCandidates

    keys = engine.register(table.select(list(BLOCKING_COLUMNS)), "kinlink_store_keys")
    new = engine.register(pd.DataFrame({"record_id": new_ids}), "kinlink_new")
    job = PartitionedCandidates(
        engine, keys.physical_name, "sweep", 400, new_table=new.physical_name
    )
    out: set[tuple[int, int]] = set()
    try:
        for part in range(job.parts):
            frame = engine.query(
                "select cast(record_id_l as bigint) as l, cast(record_id_r as bigint) as r "
                f"from ({job.part_sql(part)})"
            )
            out.update(zip(frame["l"].tolist(), frame["r"].tolist(), strict=True))
    finally:
        job.close()
        for t in (keys, new):
            t.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
    return out


def _cached_rows(folder: Path) -> pa.Table:
    """The sweep's prepared cache as a sweep reads it: the newest base file and its
    deltas, each record once (its last row)."""
    bases = [p for p in folder.glob("prepared-*.parquet") if ".delta-" not in p.name]
    base = max(bases, key=lambda p: p.stat().st_mtime)
    deltas = sorted(
        folder.glob(f"{base.stem}.delta-*.parquet"),
        key=lambda p: int(p.stem.rsplit("-", 1)[1]),
    )
    table = pa.concat_tables([pq.read_table(p) for p in [base, *deltas]])
    ids = pd.Series(table.column("record_id").to_numpy(zero_copy_only=False))
    last = ~ids.duplicated(keep="last").to_numpy()
    return table if last.all() else table.filter(pa.array(last))


if __name__ == "__main__":
    main()
