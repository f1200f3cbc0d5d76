"""DuckDB vs Spark (local mode) on the same records: time, peak memory, ratio.

    .venv/bin/python benchmarks/bench_engines.py --children 65000            # ~100k records
    .venv/bin/python benchmarks/bench_engines.py --children 650000 --jobs dedupe

Generates a synthetic caseload (``kinlink synth``'s generator), writes it as Parquet,
trains one model on DuckDB (so both engines score with the same numbers), then runs
the real commands as a user would, each in its own process:

    kinlink dedupe --engine E --records R.parquet --out P.parquet --clusters C.parquet --model M
    kinlink link   --engine E --records R.parquet --out L.parquet --model M

Wall time is measured around the command; peak memory is the largest sum of resident
memory over the command's whole process tree (Python driver, Spark's JVM and its
Python workers), sampled every 0.2 s. It prints the figures and checks that both
engines produced the same number of pairs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil


def _tree_rss(pid: int) -> int:
    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak GB over the process tree, stderr tail) of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, peak / 1e9, err.strip().splitlines()[-1] if err.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=65_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--jobs", default="dedupe,link")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    from kinlink.datasets.synthetic import generate
    from kinlink.matching import Engine, prepare_records, save_model, train_model
    from kinlink.matching.default_model import m_source_for

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kinlink-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    records_path = work / "records.parquet"
    model_path = work / "model.json"
    if not records_path.exists():
        records, _ = generate(seed=args.seed, children=args.children)
        text = records.astype("string")
        text.to_parquet(records_path, index=False)
    n = len(pd.read_parquet(records_path, columns=["record_id"]))
    if not model_path.exists():
        frame = pd.read_parquet(records_path)
        frame = frame.astype(object).where(frame.notna(), None)
        sample = frame.sample(n=min(len(frame), 50_000), random_state=1)
        prepared = prepare_records(sample)
        save_model(
            train_model(prepared, engine=Engine("duckdb"), m_from=m_source_for(prepared, "link")),
            model_path,
        )
    kinlink = str(Path(sys.executable).with_name("kinlink"))
    env = dict(os.environ)
    print(f"{n:,} records ({args.children:,} children, seed {args.seed}); {os.cpu_count()} cores")
    results: dict[tuple[str, str], tuple[float, float, int]] = {}
    for job in args.jobs.split(","):
        for engine in args.engines.split(","):
            out = work / f"{job}-{engine}.parquet"
            cmd = [kinlink, job, "--engine", engine, "--records", str(records_path)]
            cmd += ["--out", str(out), "--model", str(model_path)]
            if job == "dedupe":
                cmd += ["--clusters", str(work / f"clusters-{engine}.parquet")]
            wall, peak, last = run(cmd, env)
            rows = len(pd.read_parquet(out))
            results[(job, engine)] = (wall, peak, rows)
            print(f"{job:6} {engine:6} wall {wall:8.1f} s  peak {peak:5.2f} GB  rows {rows:,}")
            print(f"       {last}")
    for job in args.jobs.split(","):
        if (job, "duckdb") in results and (job, "spark") in results:
            d, s = results[(job, "duckdb")], results[(job, "spark")]
            same = "same" if d[2] == s[2] else f"DIFFERENT ({d[2]} vs {s[2]})"
            print(
                f"{job}: spark/duckdb time x{s[0] / d[0]:.2f}, memory x{s[1] / d[1]:.2f}; "
                f"rows {same}"
            )


if __name__ == "__main__":
    main()
