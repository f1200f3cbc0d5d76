"""The sweep's in-process scoring on one core: one query at a time against many at once.

    .venv/bin/python benchmarks/bench_pair_scoring.py --dir /tmp/bs/k200 --queries 1000

``--dir`` is a store made by ``bench_sweep.py --dir ...`` (its prepared cache and
``model.json``). Takes ``--queries`` stored records as if they were new, generates
their candidate pairs as a sweep does (DuckDB, ``candidate_parts``), and times on one
core, over exactly those pairs:

* ``per query``: ``InProcessScorer.score`` (``PairColumns``), each query against its
  candidates: how the sweep scored until session 13, and how real-time matching scores;
* ``batch``: ``InProcessScorer.score_pairs`` (``PairBatch``), slices of
  ``PAIRS_PER_SCORE`` pairs with many queries on the left: how the sweep scores now;
* the sweep's task function (``_score_task``) without and with explanations of the
  kept pairs >= 0.3, the sweep's default.

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

    from kinlink.matching.engine import Engine
    from kinlink.matching.explain import Explainer
    from kinlink.matching.inprocess import InProcessScorer, StoredColumns
    from kinlink.matching.model import load_model
    from kinlink.matching.sweep import inprocess_scoring as ips
    from kinlink.matching.sweep.run import DEFAULT_EXPLAIN_PROBABILITY

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
    is_new = np.zeros(table.num_rows, dtype=bool)
    is_new[chosen] = True
    t = time.perf_counter()
    new_table = engine.register(pd.DataFrame({"record_id": new_ids}), "kinlink_new")
    parts = list(ips.candidate_parts(table, new_table, engine, 400, pks=pks))
    left = np.concatenate([p[0] for p in parts])
    right = np.concatenate([p[1] for p in parts])
    tasks = ips._tasks(left, right, is_new, ips.QUERIES_PER_TASK)
    n = len(left)
    print(f"{n} candidate pairs for {args.queries} queries: {time.perf_counter() - t:.1f}s")

    rows = inputs.take(pa.array(np.unique(chosen))).to_pylist()
    by_row = dict(zip(np.unique(chosen).tolist(), rows, strict=True))
    t = time.perf_counter()
    per_query = []
    for task in tasks:
        for g, q in enumerate(task.queries.tolist()):
            others = task.others[task.starts[g] : task.starts[g + 1]]
            per_query.append(scorer.score(by_row[q], others).match_weight)
    one = time.perf_counter() - t
    per = 1000 * one / args.queries
    print(f"per query: {one:.1f}s, {n / one:,.0f} pairs/s, {per:.2f} ms/query")

    t = time.perf_counter()
    batched = []
    for task in tasks:
        queries = np.repeat(task.queries, np.diff(task.starts))
        for lo in range(0, len(queries), ips.PAIRS_PER_SCORE):
            span = slice(lo, lo + ips.PAIRS_PER_SCORE)
            batched.append(scorer.score_pairs(queries[span], task.others[span]).match_weight)
    many = time.perf_counter() - t
    print(f"batch: {many:.1f}s, {n / many:,.0f} pairs/s, x{one / many:.1f}", flush=True)
    same = np.array_equal(np.concatenate(per_query), np.concatenate(batched))
    print(f"same match weights both ways: {same}")

    explainer = Explainer(model.splink_settings)
    for explain in (False, True):
        ips._JOB = ips._Job(
            inputs=inputs,
            scorer=scorer,
            explainer=explainer,
            max_gamma=model.max_gammas(),
            pks=pks,
            min_probability=0.01,
            explain=explain,
            explain_min_probability=DEFAULT_EXPLAIN_PROBABILITY,
        )
        t = time.perf_counter()
        results = [ips._score_task(task) for task in tasks]
        took = time.perf_counter() - t
        kept = sum(len(r[0]) for r in results)
        explained = sum(1 for r in results for e in r[4] if e)
        print(
            f"sweep task function, explanations {'on' if explain else 'off'}: {took:.1f}s "
            f"({n / took:,.0f} pairs/s; {kept} kept >= 0.01, {explained} explained)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"peak RSS {peak:.2f} GB")


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
