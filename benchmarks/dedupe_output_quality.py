"""Quality of a written ``kinlink dedupe`` output against a synthetic ``truth.csv``.

For runs too big for the evaluation harness (the 1,000,000-record dedupe): reads the
records (for their types), the truth and the pairs file, and prints how many true
case-case pairs were written at all (p >= 0.01), and pairwise precision, recall and
F1 at a few thresholds::

    .venv/bin/python benchmarks/dedupe_output_quality.py --dir /tmp/rt/s1m \\
        --pairs /tmp/rt/out/p1m.csv --clusters /tmp/rt/out/c1m.csv
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd


def true_case_pairs(records: pd.DataFrame, truth: pd.DataFrame) -> set[tuple[str, str]]:
    cases = set(records.loc[records["record_type"] == "case", "record_id"])
    truth = truth[truth["record_id"].isin(cases)]
    out: set[tuple[str, str]] = set()
    for ids in truth.groupby("child_id")["record_id"].apply(sorted):
        out.update(itertools.combinations(ids, 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="kinlink synth output folder")
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--clusters", type=Path)
    parser.add_argument("--thresholds", default="0.5,0.9,0.97,0.99")
    args = parser.parse_args()
    records = pd.read_csv(args.dir / "records.csv", usecols=["record_id", "record_type"], dtype=str)
    truth = pd.read_csv(args.dir / "truth.csv", usecols=["record_id", "child_id"], dtype=str)
    true = true_case_pairs(records, truth)
    pairs = pd.read_csv(args.pairs, dtype={"record_id_l": str, "record_id_r": str})
    written = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    found = len(true & written)
    print(
        f"true case pairs {len(true)}; written {len(pairs)} pairs, holding {found} "
        f"true pairs ({found / max(len(true), 1):.4f})"
    )
    print("| threshold | pairs | precision | recall | F1 |")
    print("|---|---|---|---|---|")
    for threshold in (float(t) for t in args.thresholds.split(",")):
        kept = pairs[pairs["match_probability"] >= threshold]
        got = set(zip(kept["record_id_l"], kept["record_id_r"], strict=True))
        tp = len(got & true)
        p = tp / max(len(got), 1)
        r = tp / max(len(true), 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"| {threshold} | {len(got)} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    if args.clusters:
        clusters = pd.read_csv(args.clusters, dtype=str)
        print(f"clusters {clusters['cluster_id'].nunique()} over {len(clusters)} cases")


if __name__ == "__main__":
    main()
