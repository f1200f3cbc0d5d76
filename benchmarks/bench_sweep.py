"""Speed, memory and cluster quality of ``kinlink sweep`` (prints figures; no asserts).

    .venv/bin/python benchmarks/bench_sweep.py --records 100000 --new 1000,10000

Builds a fresh SQLite store of ``--records`` synthetic records, trains a model on a
sample of them, runs a full sweep (cold: nothing prepared yet), a second full sweep
(warm: prepared rows cached, what ``--full`` after a model change costs), then for
each size in ``--new`` loads that many more records and runs an incremental sweep
(the curve "cost grows with the new records, not the store"). Last, B-cubed
precision/recall/F1 of the sweep's clusters among cases against the generator's
truth (kinlink.eval.metrics.bcubed). Peak memory is the process's max RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def _load(store, frame: pd.DataFrame, tag: str) -> float:
    from kinlink.ingest import RecordV1
    from kinlink.store import load_records

    started = time.perf_counter()
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for start in range(0, len(rows), 50_000):
        batch = [
            RecordV1.model_validate({k: v for k, v in r.items() if v is not None})
            for r in rows[start : start + 50_000]
        ]
        with store.session() as session:
            load_records(
                session,
                batch,
                file_name=f"{tag}-{start}.csv",
                file_sha256=f"{tag}{start}".ljust(64, "0"),
                file_format="csv",
            )
    return time.perf_counter() - started


def _cpu() -> float:
    """CPU seconds of this process, all threads: a fairer figure than wall time on a
    shared 2-core machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _line(name: str, result, seconds: float, cpu: float) -> None:
    r = result.report
    print(
        f"{name}: {seconds:.1f}s wall, {cpu:.1f} CPU-s ({r['new_records']['total']} new of "
        f"{r['stored_records']} stored; {r['pairs']['candidates']} compared, "
        f"{r['pairs']['kept']} kept; {r['clusters']['total']} clusters) "
        f"phases {r['timings']}; peak RSS so far {_rss_gb():.2f} GB",
        flush=True,
    )


def _mark_swept(store, fingerprint: str) -> None:
    """A succeeded run row whose watermark is now: the next sweep is incremental."""
    from kinlink.store.schema import utcnow
    from kinlink.store.sweep_schema import SweepRun

    now = utcnow()
    with store.session() as session:
        session.add(
            SweepRun(
                mode="baseline",
                status="succeeded",
                started_at=now,
                finished_at=now,
                watermark=now,
                holder="bench_sweep.py",
                model_fingerprint=fingerprint,
                report={"note": "benchmark baseline: the base records taken as swept"},
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--new", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--train-sample", type=int, default=20_000)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--max-candidates", type=int, default=50, help="the sweep's per-record cap (0: none)"
    )
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--no-warm", action="store_true", help="skip the second (warm-cache) full sweep"
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="take the base records as already swept instead of sweeping them in full "
        "(a store whose nightly sweeps are up to date; no pairs among them), then run "
        "one incremental sweep with nothing new to fill the prepared cache: measures "
        "incremental sweeps against a store too big to sweep in full here",
    )
    args = parser.parse_args()

    from kinlink.datasets.synthetic import generate
    from kinlink.eval.metrics import bcubed
    from kinlink.matching import prepare_records, train_model
    from kinlink.matching.sweep import SweepOptions, run_sweep
    from kinlink.store import Store

    sizes = [int(s) for s in args.new.split(",") if s]
    wanted = args.records + sum(sizes)
    started = time.perf_counter()
    records, truth = generate(seed=args.seed, children=int(wanted / 1.45) + 10)
    records = records.replace("", None).sample(frac=1.0, random_state=args.seed)
    records = records.head(wanted).reset_index(drop=True)
    print(f"generated {len(records)} records in {time.perf_counter() - started:.1f}s")

    folder = args.dir or Path(tempfile.mkdtemp(prefix="kinlink-bench-sweep-"))
    store = Store(f"sqlite:///{folder / 'kinlink.sqlite'}")
    base = records.head(args.records)
    print(f"load {len(base)}: {_load(store, base, 'base'):.1f}s", flush=True)

    started = time.perf_counter()
    sample = base.sample(min(args.train_sample, len(base)), random_state=1)
    model = train_model(prepare_records(sample), fingerprint="sha256:bench")
    print(f"train on {len(sample)}: {time.perf_counter() - started:.1f}s", flush=True)
    from kinlink.matching.model import save_model

    save_model(model, folder / "model.json")  # for sweeps of more records in later processes

    options = SweepOptions(
        cache_dir=folder / "cache",
        overlap=dt.timedelta(0),
        explain=not args.no_explain,
        max_candidates=args.max_candidates or None,
    )
    if args.baseline:
        _mark_swept(store, model.fingerprint)
        started, cpu = time.perf_counter(), _cpu()
        result = run_sweep(store, model, options)
        _line(
            "warm-up, nothing new (prepares and caches the store)",
            result,
            time.perf_counter() - started,
            _cpu() - cpu,
        )
    fulls = ["full sweep, cold cache"] + ([] if args.no_warm else ["full sweep, warm cache"])
    for name in [] if args.baseline else fulls:
        started, cpu = time.perf_counter(), _cpu()
        result = run_sweep(store, model, SweepOptions(**{**options.__dict__, "full": True}))
        _line(name, result, time.perf_counter() - started, _cpu() - cpu)

    offset = args.records
    for size in sizes:
        batch = records.iloc[offset : offset + size]
        offset += size
        print(f"load {size} new: {_load(store, batch, f'new{size}'):.1f}s", flush=True)
        started, cpu = time.perf_counter(), _cpu()
        result = run_sweep(store, model, options)
        _line(f"incremental, {size} new", result, time.perf_counter() - started, _cpu() - cpu)

    from sqlalchemy import select

    from kinlink.store.schema import StoredRecord
    from kinlink.store.sweep_schema import SweepClusterMember

    with store.session() as session:
        ids = dict(
            session.execute(
                select(StoredRecord.id, StoredRecord.record_id).where(
                    StoredRecord.record_type == "case"
                )
            ).all()
        )
        members = dict(
            session.execute(
                select(SweepClusterMember.record_pk, SweepClusterMember.cluster_id)
            ).all()
        )
    entity = truth.set_index("record_id")["child_id"]
    case_ids = pd.Series(list(ids.values()), index=list(ids.keys()))
    entity_of = pd.Series(entity.reindex(case_ids.values).to_numpy(), index=case_ids.index)
    scores = bcubed(pd.Series(members, dtype=object), entity_of.dropna())
    print(
        f"clusters B-cubed among {len(case_ids)} cases: precision {scores.precision:.3f} "
        f"recall {scores.recall:.3f} F1 {scores.f1:.3f}"
    )
    print(f"peak RSS: {_rss_gb():.2f} GB; store and cache in {folder}")


if __name__ == "__main__":
    main()
