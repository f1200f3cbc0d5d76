"""Time the prepare step (:func:`kinlink.matching.prepare.prepare_records`) on a file.

    python benchmarks/bench_prepare.py --records /tmp/d/s1m/records.csv [--limit N]

Reads a record-format-v1 CSV (all columns as strings, empty for missing), prepares it
and prints records, wall and CPU seconds of the prepare step, records per CPU-second
and the process's peak RSS (which includes the input frame). CPU time is the
process's own (``time.process_time``), so it is meaningful on a shared machine;
with ``--workers`` above 1 it misses the worker processes' time, which is reported
separately. Last, :func:`~kinlink.matching.prepare.prepare_row` per record on up to
``--rows`` of them (warmed up first): what the review API pays per record to expand a
sweep pair's levels-form explanation (docs/sweep.md, "Levels, not values").
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import pandas as pd


def _peak_rss_mb(who: int) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True, help="record-format-v1 CSV")
    parser.add_argument("--limit", type=int, default=None, help="first N records only")
    parser.add_argument("--workers", type=int, default=None, help="prepare_records(workers=)")
    parser.add_argument("--rows", type=int, default=3000, help="records timed one at a time")
    args = parser.parse_args(argv)

    from kinlink.matching.prepare import prepare_records, prepare_row

    t0 = time.perf_counter()
    frame = pd.read_csv(args.records, dtype=str, keep_default_na=False, nrows=args.limit)
    read_s = time.perf_counter() - t0
    kwargs = {} if args.workers is None else {"workers": args.workers}

    wall0, cpu0 = time.perf_counter(), time.process_time()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    prepared = prepare_records(frame, **kwargs)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (children1.ru_utime + children1.ru_stime) - (
        children0.ru_utime + children0.ru_stime
    )

    n = len(prepared)
    print(f"records            {n:,}")
    print(f"read csv (wall s)  {read_s:.1f}")
    print(f"prepare wall s     {wall:.1f}")
    print(
        f"prepare CPU s      {cpu:.1f}" + (f" (+{child_cpu:.1f} in workers)" if child_cpu else "")
    )
    print(f"records / CPU-s    {n / max(cpu + child_cpu, 1e-9):,.0f}")
    print(f"records / wall-s   {n / max(wall, 1e-9):,.0f}")
    print(f"peak RSS MB        {_peak_rss_mb(resource.RUSAGE_SELF):,.0f}")
    if child_cpu:
        print(f"peak RSS workers   {_peak_rss_mb(resource.RUSAGE_CHILDREN):,.0f} (largest one)")

    rows = [
        {**{k: (v or None) for k, v in r.items()}, "record_id": str(i)}
        for i, r in enumerate(frame.head(args.rows).to_dict("records"))
    ]
    for row in rows[:50]:
        prepare_row(row)
    t = time.perf_counter()
    for row in rows:
        prepare_row(row)
    per = (time.perf_counter() - t) / max(len(rows), 1)
    print(f"prepare_row        {1000 * per:.3f} ms/record ({len(rows):,} records, one at a time)")


if __name__ == "__main__":
    main()
