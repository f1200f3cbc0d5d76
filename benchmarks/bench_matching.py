"""Speed and memory of kinlink's engine on synthetic data (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_matching.py --children 20000 --queries 200

Measures: prepare, train, dedupe (candidates + predict + cluster), link, and the
real-time path (MatchIndex build, then match_record latency p50/p95). Peak memory is
the process's max RSS (Linux ru_maxrss). 1M-record runs are this script with a large
--children; they are benchmark runs, never tests.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    from kinlink.datasets.synthetic import generate
    from kinlink.matching import (
        MatchIndex,
        dedupe_records,
        link_records,
        match_record,
        prepare_records,
        train_model,
    )

    records, _ = generate(seed=args.seed, children=args.children)
    records = records.replace("", None)
    print(f"records: {len(records)} ({args.children} children)")
    t = time.perf_counter()
    prepared = prepare_records(records)
    print(f"prepare: {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    model = train_model(prepared)
    print(f"train: {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    pairs, _clusters = dedupe_records(records, model=model)
    print(
        f"dedupe (prepare+candidates+predict+cluster): {time.perf_counter() - t:.1f}s, "
        f"{len(pairs)} pairs"
    )
    t = time.perf_counter()
    links = link_records(records, model)
    print(f"link: {time.perf_counter() - t:.1f}s, {len(links)} candidates")
    cases = records[records.record_type == "case"]
    t = time.perf_counter()
    index = MatchIndex(cases, model)
    print(f"MatchIndex build ({len(cases)} cases): {time.perf_counter() - t:.1f}s")
    queries = records[records.record_type == "tracing_request"].head(args.queries)
    latencies = []
    for record in queries.to_dict("records"):
        t = time.perf_counter()
        match_record(record, index)
        latencies.append(time.perf_counter() - t)
    lat = np.array(latencies) * 1000
    print(f"match_record: p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms")
    print(f"peak RSS: {_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
