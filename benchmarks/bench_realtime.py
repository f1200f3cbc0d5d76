"""Real-time matching: one new record against N stored ones (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_realtime.py --records out/synth/records.csv --queries 200
    .venv/bin/python benchmarks/bench_realtime.py --records R.csv --model M.json \\
        --prepared cases.parquet --scorer both

The stored side is every *case* of the file; the queries are its tracing requests
(they are not in the index, as a newly registered request is not). With ``--store
all`` every record is stored except ``--queries`` cases held out as the queries: a
newly registered case is matched against every stored record, cases and tracing
requests, so this is "one record against all N stored". Without
``--model`` a model is trained on the stored cases first (not timed as part of a
query; saved to ``--model`` when that path does not exist yet). Reports the index
build, then per query and per scorer (``--scorer python|sql|both``; with ``both`` the
two run on the same index, query after query, so both see the same machine load):
the latency of ``match_record`` (prepare + key lookup + scoring + explanations) as
p50/p95/max wall time and p50/p95 process CPU time, the number of candidates after
blocking, where the in-process scorer's time goes, whether both scorers returned the
same candidates, the load average, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _summary(label: str, wall: list[float], cpu: list[float]) -> str:
    ms, cpu_ms = np.array(wall) * 1000, np.array(cpu) * 1000
    return (
        f"{label}: p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
        f"max {ms.max():.1f} ms (CPU p50 {np.percentile(cpu_ms, 50):.1f} ms, "
        f"p95 {np.percentile(cpu_ms, 95):.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=Path, required=True, help="record-format v1 CSV")
    parser.add_argument("--model", type=Path, help="trained model JSON (default: train one)")
    parser.add_argument("--prepared", type=Path, help="Parquet cache of the prepared cases")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, help="use only the first N rows of the file")
    parser.add_argument("--scorer", choices=("python", "sql", "both"), default="both")
    parser.add_argument(
        "--store",
        choices=("cases", "all"),
        default="cases",
        help="cases: store the cases, query the tracing requests; all: store every record "
        "but --queries held-out cases, and query those",
    )
    args = parser.parse_args()

    from kinlink.matching import MatchIndex, load_model, match_record, prepare_records
    from kinlink.matching.default_model import m_source_for
    from kinlink.matching.model import save_model, train_model

    print(f"load average (1, 5, 15 min) at start: {_load()}; cores: {os.cpu_count()}")
    records = pd.read_csv(args.records, dtype=str, keep_default_na=False, nrows=args.limit)
    if args.store == "all":
        held_out = records[records["record_type"] == "case"].head(args.queries)
        stored = records.drop(index=held_out.index)
        queries, query_types = held_out, None
    else:
        stored = records[records["record_type"] == "case"]
        queries = records[records["record_type"] == "tracing_request"].head(args.queries)
        query_types = ("case",)
    del records
    t = time.perf_counter()
    if args.prepared and args.prepared.exists():
        prepared = pd.read_parquet(args.prepared)
    else:
        prepared = prepare_records(stored)
        if args.prepared:
            prepared.to_parquet(args.prepared)
    what = "records" if args.store == "all" else "cases"
    print(f"stored {what}: {len(prepared):,} (prepare or load {time.perf_counter() - t:.1f} s)")
    if args.model and args.model.exists():
        model = load_model(args.model)
    else:
        t = time.perf_counter()
        model = train_model(prepared, m_from=m_source_for(prepared, "dedupe"))
        print(f"train: {time.perf_counter() - t:.1f} s")
        if args.model:
            save_model(model, args.model)
    scorers = ["python", "sql"] if args.scorer == "both" else [args.scorer]
    t = time.perf_counter()
    index = MatchIndex(None, model, prepared=prepared, scorer=scorers[0])
    print(f"index build ({scorers[0]} scorer): {time.perf_counter() - t:.1f} s")
    for scorer in scorers[1:]:
        t = time.perf_counter()
        index.build_scorer(scorer)
        print(f"{scorer} scorer build: {time.perf_counter() - t:.1f} s")

    wall: dict[str, list[float]] = {s: [] for s in scorers}
    cpu: dict[str, list[float]] = {s: [] for s in scorers}
    phases: dict[str, list[float]] = {"prepare+keys": [], "lookup": [], "score": []}
    candidates, differ = [], 0
    for record in queries.to_dict("records"):
        found = {}
        for scorer in scorers:
            start, start_cpu = time.perf_counter(), time.process_time()
            found[scorer] = match_record(record, index, scorer=scorer)
            wall[scorer].append(time.perf_counter() - start)
            cpu[scorer].append(time.process_time() - start_cpu)
        if len(scorers) == 2:
            a, b = ([(c.record_id, round(c.match_weight, 9)) for c in found[s]] for s in scorers)
            differ += a != b
        t0 = time.perf_counter()
        prepared_row = index.prepare(record)
        t1 = time.perf_counter()
        rows = index.candidate_rows(prepared_row, query_types)
        t2 = time.perf_counter()
        if "python" in scorers:
            index.score(prepared_row, rows, scorer="python")
        t3 = time.perf_counter()
        phases["prepare+keys"].append(t1 - t0)
        phases["lookup"].append(t2 - t1)
        phases["score"].append(t3 - t2)
        candidates.append(len(rows))
    for scorer in scorers:
        print(
            _summary(
                f"match_record, {scorer} scorer, {len(wall[scorer])} queries",
                wall[scorer],
                cpu[scorer],
            )
        )
    if "python" in scorers:
        print(
            "in-process, p50/p95 ms: "
            + "; ".join(
                f"{k} {np.percentile(v, 50) * 1000:.1f}/{np.percentile(v, 95) * 1000:.1f}"
                for k, v in phases.items()
            )
        )
    print(
        f"candidates per query: p50 {np.percentile(candidates, 50):.0f}, "
        f"p95 {np.percentile(candidates, 95):.0f}, max {max(candidates)}"
    )
    if len(scorers) == 2:
        print(f"queries whose ranked candidates differ between scorers: {differ}")
    print(f"load average at end: {_load()}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024:.2f} GB")


if __name__ == "__main__":
    main()
