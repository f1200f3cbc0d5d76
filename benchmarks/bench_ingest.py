"""Benchmark: loading a 100,000-row CSV into the embedded SQLite store.

Rows are the committed synthetic sample's rows, repeated with fresh record ids
until the requested count, so the content is realistic (every script, every
column the generator fills). Prints rows/s for reading+validating, for
storing, and overall, and the process's peak memory.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from kinlink.ingest import read_records
from kinlink.store import Store, load_result

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "synthetic" / "sample" / "records.csv"


def make_file(path: Path, rows: int) -> None:
    with SAMPLE.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        template = list(reader)
        fields = reader.fieldnames or []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for i in range(rows):
            row = dict(template[i % len(template)])
            row["record_id"] = f"B{i:07d}"
            writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        make_file(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        store = Store(f"sqlite:///{Path(tmp) / 'kinlink.sqlite'}")
        c0, t0 = time.process_time(), time.perf_counter()
        result = read_records(path)
        c1, t1 = time.process_time(), time.perf_counter()
        with store.session() as session:
            summary = load_result(session, result)
        c2, t2 = time.process_time(), time.perf_counter()
        with store.session() as session:
            again = load_result(session, result)
        c3, t3 = time.process_time(), time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(result.records)
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(f"file: {args.rows} rows, {size_mb:.1f} MB CSV")
    # The machine is shared: the load says how much the figures below suffered.
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    # Wall time depends on what else the machine runs; CPU time of this process
    # is the "one core" figure the target is stated in.
    for label, wall, cpu in (
        ("read+validate", t1 - t0, c1 - c0),
        ("store (SQLite, one transaction)", t2 - t1, c2 - c1),
        ("total ingest", t2 - t0, c2 - c0),
    ):
        print(
            f"{label}: wall {wall:.2f} s ({n / wall:,.0f} rows/s); "
            f"CPU {cpu:.2f} s ({n / cpu:,.0f} rows per CPU-second)"
        )
    print(f"inserted {summary.inserted}")
    print(
        f"re-load of the same file: wall {t3 - t2:.2f} s, CPU {c3 - c2:.2f} s "
        f"(unchanged {again.unchanged}, inserted {again.inserted})"
    )
    print(f"peak memory (max RSS): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
