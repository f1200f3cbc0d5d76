"""Pair completeness: the share of true pairs that blocking lets through, per rule.

Used for ``blocking/README.md`` (``python -m kinlink.blocking.completeness``) and by
tests. Truth is ``record_id, child_id`` (the synthetic generator's ``truth.csv``).
"""

from __future__ import annotations

import argparse
import itertools

import pandas as pd

from kinlink.blocking.candidates import candidate_pairs
from kinlink.blocking.rules import DEFAULT_RULES


def true_pairs(records: pd.DataFrame, truth: pd.DataFrame, link_type: str) -> set[tuple[str, str]]:
    """True pairs of a job: (request, case) for ``link``; sorted (case, case) for ``dedupe``."""
    types = dict(zip(records["record_id"], records["record_type"], strict=True))
    out: set[tuple[str, str]] = set()
    for _, group in truth.groupby("child_id"):
        for a, b in itertools.combinations(sorted(group["record_id"]), 2):
            ta, tb = types.get(a), types.get(b)
            if link_type == "dedupe" and ta == tb == "case":
                out.add((a, b))
            elif link_type == "link" and {ta, tb} == {"case", "tracing_request"}:
                out.add((a, b) if ta == "tracing_request" else (b, a))
    return out


def completeness(pairs: pd.DataFrame, truth_pairs: set[tuple[str, str]]) -> float:
    got = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    got |= {(b, a) for a, b in got}
    return sum(p in got for p in truth_pairs) / max(len(truth_pairs), 1)


def report(
    records: pd.DataFrame, truth: pd.DataFrame, honour_consent: bool = False
) -> pd.DataFrame:
    """Per rule (alone) and all rules together: pairs generated and pair completeness."""
    from kinlink.matching.prepare import prepare_records

    prepared = prepare_records(records)
    rows = []
    for link_type in ("link", "dedupe"):
        truth_pairs = true_pairs(records, truth, link_type)
        for rule in (*DEFAULT_RULES, None):
            codes = rule.code if rule else None
            pairs = candidate_pairs(
                records,
                link_type,
                prepared=prepared,
                rule_codes=codes,
                honour_consent=honour_consent,
            )
            rows.append(
                {
                    "job": link_type,
                    "rule": rule.name if rule else "ALL RULES",
                    "pairs": len(pairs),
                    "pairs_per_record": round(len(pairs) / len(records), 1),
                    "true_pairs": len(truth_pairs),
                    "completeness": round(completeness(pairs, truth_pairs), 4),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--honour-consent", action="store_true")
    args = parser.parse_args()
    from kinlink.datasets.synthetic import generate

    records, truth = generate(seed=args.seed, children=args.children)
    records = records.replace("", None)
    table = report(records, truth, args.honour_consent)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
