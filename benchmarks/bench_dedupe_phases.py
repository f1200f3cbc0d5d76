"""Where a ``kinlink dedupe`` run goes, phase by phase, with either scorer.

    .venv/bin/python benchmarks/bench_dedupe_phases.py --records /tmp/rt/s100k/records.csv \\
        --model /tmp/rt/m100k.json --scorer python

Runs the steps ``dedupe_records`` runs, in order, timing each: read, prepare (cases
only), session (Arrow + registration), the capped blocking keys, then for the
in-process scorer the encoding and DuckDB's candidate pairs part by part (generated
once more inside scoring, so scoring's own time is the last line minus that), and
``score_in_parts`` at the written threshold (p >= 0.01). Prints the figures; no
asserts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--scorer", choices=["python", "sql"], default="python")
    args = parser.parse_args()

    from kinlink.blocking.candidates import PartitionedCandidates
    from kinlink.blocking.rules import MAX_BLOCK_SIZE
    from kinlink.matching import load_model
    from kinlink.matching.cluster import MIN_PAIR_PROBABILITY, PAIR_COLUMNS
    from kinlink.matching.engine import Engine
    from kinlink.matching.predict import Session
    from kinlink.matching.prepare import prepare_records

    def step(name: str, started: float, extra: str = "") -> float:
        print(f"{name}: {time.perf_counter() - started:.1f}s {extra}", flush=True)
        return time.perf_counter()

    t = time.perf_counter()
    frame = pd.read_csv(args.records, dtype=str, keep_default_na=False).replace({"": None})
    cases = frame[frame["record_type"].fillna("case") == "case"]
    t = step("read", t, f"({len(cases)} cases)")
    prepared = prepare_records(cases)
    t = step("prepare", t)
    engine = Engine("duckdb")
    session = Session.open(prepared, load_model(args.model), engine, scorer=args.scorer)
    del prepared
    t = step("session", t)
    candidates = PartitionedCandidates(
        engine, session.table.physical_name, "dedupe", MAX_BLOCK_SIZE
    )
    t = step("capped keys", t, f"({candidates.parts} parts)")
    if args.scorer == "python":
        session._in_process_scorer()
        t = step("encoding", t)
        n = sum(len(engine.query(candidates.part_numbers_sql(p))) for p in range(candidates.parts))
        t = step("candidate pairs", t, f"({n} pairs)")
    parts = list(
        session.score_in_parts(
            "dedupe",
            threshold_match_probability=MIN_PAIR_PROBABILITY,
            columns=PAIR_COLUMNS,
            candidates=candidates,
        )
    )
    step("score_in_parts (candidate pairs again + scoring)", t, f"({sum(map(len, parts))} kept)")
    candidates.close()


if __name__ == "__main__":
    main()
