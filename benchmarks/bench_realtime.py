"""Real-time matching: one new record against N stored ones (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_realtime.py --records out/synth/records.csv --queries 200

The stored side is every *case* of the file; the queries are its tracing requests
(they are not in the index, as a newly registered request is not). Without
``--model`` a model is trained on the stored cases first (not timed as part of a
query). Reports the index build, then per query: the number of candidates after
blocking and the latency of ``match_record`` (prepare + key lookup + scoring +
explanations), p50/p95/max, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=Path, required=True, help="record-format v1 CSV")
    parser.add_argument("--model", type=Path, help="trained model JSON (default: train one)")
    parser.add_argument("--prepared", type=Path, help="Parquet cache of the prepared cases")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, help="use only the first N rows of the file")
    args = parser.parse_args()

    from kinlink.matching import MatchIndex, load_model, match_record, prepare_records
    from kinlink.matching.default_model import m_source_for
    from kinlink.matching.model import train_model

    records = pd.read_csv(args.records, dtype=str, keep_default_na=False, nrows=args.limit)
    cases = records[records["record_type"] == "case"]
    t = time.perf_counter()
    if args.prepared and args.prepared.exists():
        prepared = pd.read_parquet(args.prepared)
    else:
        prepared = prepare_records(cases)
        if args.prepared:
            prepared.to_parquet(args.prepared)
    print(f"stored cases: {len(prepared):,} (prepare or load {time.perf_counter() - t:.1f} s)")
    if args.model and args.model.exists():
        model = load_model(args.model)
    else:
        t = time.perf_counter()
        model = train_model(prepared, m_from=m_source_for(prepared, "dedupe"))
        print(f"train: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    index = MatchIndex(None, model, prepared=prepared)
    print(f"index build: {time.perf_counter() - t:.1f} s")

    queries = records[records["record_type"] == "tracing_request"].head(args.queries)
    latencies, candidates = [], []
    for record in queries.to_dict("records"):
        start = time.perf_counter()
        match_record(record, index)
        latencies.append(time.perf_counter() - start)
        candidates.append(len(index.candidate_rows(index.prepare(record), ("case",))))
    ms = np.array(latencies) * 1000
    print(
        f"match_record over {len(ms)} queries: p50 {np.percentile(ms, 50):.0f} ms, "
        f"p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms"
    )
    print(
        f"candidates per query: p50 {np.percentile(candidates, 50):.0f}, "
        f"p95 {np.percentile(candidates, 95):.0f}, max {max(candidates)}"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024:.2f} GB")


if __name__ == "__main__":
    main()
