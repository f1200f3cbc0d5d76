"""Clustering's input read on a sweep store: every duplicate pair against only those it uses.

    .venv/bin/python benchmarks/bench_cluster_input.py --dir /tmp/bs/m1 --threshold 0.97

Times ``write.cluster_input(session)`` (every shareable duplicate pair) and
``write.cluster_input(session, threshold)`` (the pairs among records of a strong or
confirmed pair) on a ``bench_sweep.py`` store, then ``build_clusters`` on each, and
checks that both give the same clusters.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.97)
    args = parser.parse_args()

    from kinlink.matching.sweep import build_clusters
    from kinlink.matching.sweep.write import cluster_input
    from kinlink.store import Store

    store = Store(f"sqlite:///{args.dir / 'kinlink.sqlite'}")
    with store.session() as session:
        started = time.perf_counter()
        every = cluster_input(session)
        middle = time.perf_counter()
        some = cluster_input(session, args.threshold)
        done = time.perf_counter()
    print(
        f"every duplicate pair: {len(every.scores):,} read in {middle - started:.1f} s; "
        f"only those clustering uses: {len(some.scores):,} in {done - middle:.1f} s"
    )
    results = []
    for inputs in (every, some):
        started = time.perf_counter()
        results.append(
            build_clusters(
                inputs.scores,
                threshold=args.threshold,
                confirmed=inputs.confirmed,
                not_match=inputs.not_match,
            )
        )
        print(f"build_clusters: {time.perf_counter() - started:.1f} s")
    print(f"same clusters: {results[0] == results[1]}; clusters {len(results[0][0]):,}")


if __name__ == "__main__":
    main()
