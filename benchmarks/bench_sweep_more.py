"""One incremental sweep, in a fresh process, of N more records on a bench_sweep store.

    .venv/bin/python benchmarks/bench_sweep_more.py --dir /tmp/bs/m1 --new 10000 --seed 77

``--dir`` is a store made by ``bench_sweep.py --dir ...`` (its SQLite file, prepared
cache and ``model.json``). Loads ``--new`` records from another generator seed (their
``record_id``s prefixed with the seed, so they are new children, not updates) and
sweeps them; ``--new 0`` sweeps what is pending (e.g. after a killed run); ``--full``
sweeps every record again (``kinlink sweep --full``, what a model change needs). Prints the
wall and CPU time, the phases, the pair counts and the peak RSS of this process and of
its scoring workers (a fresh process: the figure is the sweep's own, not the
generator's). No asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import resource
import time
from pathlib import Path

from bench_sweep import _cpu, _load


def _gb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--explain-min-probability",
        type=float,
        default=None,
        help="the sweep's explain threshold (default: the sweep's own default)",
    )
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--full", action="store_true", help="a full sweep (every record)")
    parser.add_argument(
        "--max-candidates", type=int, default=50, help="the sweep's per-record cap (0: none)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for name in ("splink", "duckdb", "alembic", "sqlglot"):
        logging.getLogger(name).setLevel(logging.WARNING)

    from kinlink.datasets.synthetic import generate
    from kinlink.matching.model import load_model
    from kinlink.matching.sweep import SweepOptions, run_sweep
    from kinlink.store import Store

    store = Store(f"sqlite:///{args.dir / 'kinlink.sqlite'}")
    if args.new:
        records, _ = generate(seed=args.seed, children=int(args.new / 1.45) + 10)
        records = records.replace("", None).sample(frac=1.0, random_state=args.seed)
        records = records.head(args.new).reset_index(drop=True)
        records["record_id"] = f"s{args.seed}-" + records["record_id"].astype(str)
        print(f"load {args.new}: {_load(store, records, f'more{args.seed}'):.1f}s", flush=True)
    model = load_model(args.dir / "model.json")
    options = SweepOptions(
        cache_dir=args.dir / "cache",
        overlap=dt.timedelta(0),
        progress=True,
        explain=not args.no_explain,
        **(
            {}
            if args.explain_min_probability is None
            else {"explain_min_probability": args.explain_min_probability}
        ),
        workers=args.workers,
        max_candidates=args.max_candidates or None,
        full=args.full,
    )
    started, cpu = time.perf_counter(), _cpu()
    report = run_sweep(store, model, options).report
    print(
        f"sweep: {time.perf_counter() - started:.1f}s wall, {_cpu() - cpu:.1f} CPU-s in this "
        f"process; phases {report['timings']}; {report['pairs']['candidates']} pairs "
        f"compared, {report['pairs']['kept']} kept; peak RSS {_gb(resource.RUSAGE_SELF):.2f} GB "
        f"(workers {_gb(resource.RUSAGE_CHILDREN):.2f} GB)",
        flush=True,
    )


if __name__ == "__main__":
    main()
