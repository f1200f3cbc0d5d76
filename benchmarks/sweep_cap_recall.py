"""What the sweep's per-record cap costs in true pairs, on a ``bench_sweep.py`` store.

    .venv/bin/python benchmarks/bench_sweep.py --records 1000000 --new 10000 \\
        --baseline --no-warm --dir /tmp/bs/m1 --max-candidates 0
    .venv/bin/python benchmarks/sweep_cap_recall.py --dir /tmp/bs/m1 --base 1000000

Reads the pairs an *uncapped* incremental sweep stored (``--max-candidates 0``; records
loaded after the first ``--base`` are the new ones), labels them with the generator's
truth (same seed and size as ``bench_sweep.py``), and prints, for each cap, how many
pairs and how many true pairs a cap of that many links and duplicates per new record
would keep (``kinlink.matching.sweep.cap.cap_per_record``, the sweep's own function),
overall and at the clustering and notification thresholds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--base", type=int, required=True, help="records stored before")
    parser.add_argument("--new", type=int, default=10_000, help="records added after")
    parser.add_argument("--seed", type=int, default=11, help="bench_sweep.py's --seed")
    parser.add_argument("--caps", default="10,20,50,100")
    args = parser.parse_args()

    from sqlalchemy import select

    from kinlink.datasets.synthetic import generate
    from kinlink.matching.sweep.cap import cap_per_record
    from kinlink.store import Store
    from kinlink.store.review_schema import CandidatePair
    from kinlink.store.schema import StoredRecord

    started = time.perf_counter()
    store = Store(f"sqlite:///{args.dir / 'kinlink.sqlite'}")
    with store.session() as session:
        ids = session.execute(
            select(StoredRecord.id, StoredRecord.record_id, StoredRecord.record_type)
        ).all()
        pairs = pd.DataFrame(
            session.execute(
                select(
                    CandidatePair.pair_lo,
                    CandidatePair.pair_hi,
                    CandidatePair.match_probability,
                    CandidatePair.match_weight,
                )
            ).all(),
            columns=["left_pk", "right_pk", "match_probability", "match_weight"],
        )
    print(f"read {len(pairs):,} stored pairs in {time.perf_counter() - started:.0f} s")
    pk = np.array([i for i, _, _ in ids])
    record_type = {i: t for i, _, t in ids}
    order = np.argsort(pk)
    new_pks = set(pk[order][args.base :].tolist())

    wanted = args.base + args.new
    _, truth = generate(seed=args.seed, children=int(wanted / 1.45) + 10)
    child = truth.set_index("record_id")["child_id"]
    entity = dict(zip([i for i, _, _ in ids], child.reindex([r for _, r, _ in ids]), strict=True))
    pairs["true"] = [
        entity[a] == entity[b] for a, b in zip(pairs["left_pk"], pairs["right_pk"], strict=True)
    ]
    print(f"labelled in {time.perf_counter() - started:.0f} s; new records {len(new_pks):,}")

    def line(name: str, frame: pd.DataFrame) -> str:
        parts = [f"{name:<10} pairs {len(frame):>10,}"]
        for cut in (0.01, 0.5, 0.97):
            sub = frame[frame["match_probability"] >= cut]
            parts.append(f"true >= {cut}: {int(sub['true'].sum()):>6,}")
        return "  ".join(parts)

    print(line("no cap", pairs))
    for cap in [int(c) for c in args.caps.split(",")]:
        print(line(f"cap {cap}", cap_per_record(pairs, new_pks, record_type, cap)))


if __name__ == "__main__":
    main()
