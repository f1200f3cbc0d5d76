"""Speed of scoring candidate pairs (Splink predict over kinlink's dedupe candidates).

    .venv/bin/python benchmarks/bench_scoring.py --records cases.csv [--model m.json]

Prepares the records' cases, generates the dedupe candidate pairs, scores them with
the model and prints pairs, seconds, pairs/s and peak RSS (Linux ru_maxrss). Without
``--model`` a model is trained on the cases first (default m, u and prior from the
data); training is not timed.

A model file keeps the comparison SQL it was trained with, and scoring on the same
dialect uses that SQL as stored. To measure *this* code's comparisons on an older
model, the SQL is re-rendered from the code by default (same levels, same numbers);
``--stored-sql`` scores with the SQL saved in the file instead (the "before" figure
for a model trained before a comparison change).
"""

from __future__ import annotations

import argparse
import copy
import resource
import time
from pathlib import Path
from typing import Any


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def _read(path: str) -> Any:
    import pandas as pd

    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def rendered_from_code(model: Any, dialect: str) -> Any:
    """The model with every level's SQL rendered by this kinlink (labels must match)."""
    from kinlink.matching.model import KinlinkModel, base_settings

    settings = copy.deepcopy(model.splink_settings)
    target = {c["output_column_name"]: c for c in base_settings(dialect)["comparisons"]}
    for comparison in settings.get("comparisons", []):
        levels = comparison["comparison_levels"]
        new = target[comparison["output_column_name"]]["comparison_levels"]
        if [lv.get("label_for_charts") for lv in levels] != [
            lv.get("label_for_charts") for lv in new
        ]:
            raise SystemExit(f"{comparison['output_column_name']}: levels differ from the code")
        for level, rendered in zip(levels, new, strict=True):
            level["sql_condition"] = rendered["sql_condition"]
    settings["sql_dialect"] = dialect
    return KinlinkModel(splink_settings=settings, metadata=model.metadata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", required=True, help="v1 records, CSV or parquet")
    parser.add_argument("--model", help="model JSON (default: train one on the cases)")
    parser.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: all)")
    parser.add_argument("--threshold", type=float, default=0.01, help="match probability")
    parser.add_argument("--stored-sql", action="store_true", help="score with the file's SQL")
    args = parser.parse_args()

    from kinlink.matching.default_model import m_source_for
    from kinlink.matching.engine import Engine
    from kinlink.matching.model import load_model, train_model
    from kinlink.matching.predict import Session
    from kinlink.matching.prepare import prepare_records

    records = _read(args.records)
    if "record_type" in records.columns:
        records = records[records["record_type"].isin(["case", ""])]
    t = time.perf_counter()
    prepared = prepare_records(records)
    print(f"records: {len(prepared)} cases, prepare {time.perf_counter() - t:.1f}s")

    engine = Engine(args.engine, threads=args.threads)
    if args.model:
        model = load_model(Path(args.model))
        print(f"model: {args.model}")
    else:
        t = time.perf_counter()
        model = train_model(prepared, engine=engine, m_from=m_source_for(prepared, "dedupe"))
        print(f"model: trained, {time.perf_counter() - t:.1f}s")
    if not args.stored_sql:
        model = rendered_from_code(model, engine.dialect)
    print(f"comparison SQL: {'as stored in the model' if args.stored_sql else 'this code'}")

    session = Session.open(prepared, model, engine)
    t = time.perf_counter()
    candidates = session.candidates_table("dedupe")
    n_pairs = int(engine.query(f"select count(*) as n from {candidates.physical_name}")["n"][0])
    print(f"candidates: {n_pairs} pairs, {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    scored = session.score(candidates, threshold_match_probability=args.threshold)
    n_kept = int(engine.query(f"select count(*) as n from {scored.physical_name}")["n"][0])
    seconds = time.perf_counter() - t
    print(
        f"score: {n_pairs} pairs in {seconds:.1f}s = {n_pairs / seconds:,.0f} pairs/s "
        f"({n_kept} at p >= {args.threshold}); peak RSS {_rss_gb():.2f} GB"
    )


if __name__ == "__main__":
    main()
