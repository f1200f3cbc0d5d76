"""Benchmark: generating 1,000,000 synthetic records (records.csv + truth.csv).

The generator is driven by the number of children; records are about 1.5 per child, so the
default 655,000 children give a little over a million records. Prints the time to simulate
and to write, records/s overall, the output size and the process's peak memory (peak RSS:
the whole dataset is held in memory before the shuffle that hides generation order).

    .venv/bin/python benchmarks/bench_synth.py [--children 655000] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from pathlib import Path

from kinlink.datasets.synthetic import simulate, write_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=655_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the files")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = simulate(args.seed, args.children, progress=args.progress)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        records_path, truth_path = write_csv(data, out)
        t2 = time.perf_counter()
        size = records_path.stat().st_size + truth_path.stat().st_size
    n = len(data)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"python            {platform.python_version()} on {platform.machine()}")
    print(f"children          {args.children:,}")
    print(f"records           {n:,}  ({n / max(1, args.children):.3f} per child)")
    print(f"simulate          {t1 - t0:8.1f} s")
    print(f"write csv         {t2 - t1:8.1f} s")
    print(f"total             {t2 - t0:8.1f} s")
    print(f"records/s         {n / (t2 - t0):8,.0f}")
    print(f"output            {size / 2**20:8.1f} MiB")
    print(f"peak RSS          {peak_mib:8.0f} MiB")


if __name__ == "__main__":
    main()
