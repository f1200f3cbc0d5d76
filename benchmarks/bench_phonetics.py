"""Benchmark: encode the names of N Zipf-distributed synthetic records (default 1,000,000).

Run: ``.venv/bin/python benchmarks/bench_phonetics.py [--records N] [--seed S]``

Names are synthetic: 2-4 parts drawn from a Zipf distribution (s=1.1) over the
forms of the curated variant groups and the nickname table, in Latin, Arabic,
Cyrillic, Ge'ez, Myanmar and Devanagari script. Prints records/s, time and peak
memory (max RSS). Caches start cold; generation is not timed. The bar (issue 4:
under 10 s for 1,000,000 records on one core) is checked on CPU time
(``time.process_time``), because the machine is shared and wall time then
measures the other jobs too; wall time is printed for reference.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from kinlink.phonetics import encode_name, encode_names

REPO = Path(__file__).resolve().parent.parent


def _vocabulary() -> list[str]:
    words: list[str] = []
    groups = REPO / "eval" / "data" / "name_variant_groups.tsv"
    with groups.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith("#") and ln.strip()]
    for rec in csv.DictReader(lines, delimiter="\t"):
        words.extend(rec["name"].split())
    table = REPO / "phonetics" / "nicknames.tsv"
    for line in table.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 4 and not line.startswith("#") and parts[0] != "canonical":
            words.append(parts[0])
            words.extend(f for f in parts[3].split(",") if f)
    return sorted(set(words))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    vocab = _vocabulary()
    rng.shuffle(vocab)
    ranks = np.arange(1, len(vocab) + 1)
    probs = 1.0 / ranks**1.1
    probs /= probs.sum()
    n = args.records
    parts = rng.choice([2, 3, 4], size=n, p=[0.3, 0.5, 0.2])
    idx = rng.choice(len(vocab), size=int(parts.sum()), p=probs)
    names: list[str] = []
    pos = 0
    for k in parts:
        names.append(" ".join(vocab[i] for i in idx[pos : pos + k]))
        pos += k
    unique_names = len(set(names))
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    encoded = encode_names(names)
    cpu = time.process_time() - c0
    elapsed = time.perf_counter() - t0
    n_keys = sum(len(e.keys) for e in encoded)
    del encoded
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Second pass: one encode_name call per record with the GC on (warm token
    # caches, cold name cache), as a caller that does not use the batch helper.
    encode_name.cache_clear()
    t1 = time.perf_counter()
    c1 = time.process_time()
    for name in names:
        encode_name(name)
    cpu_single = time.process_time() - c1
    elapsed_single = time.perf_counter() - t1
    print(f"records            {n:,}")
    print(f"unique names       {unique_names:,}")
    print(f"vocabulary         {len(vocab):,} tokens (Zipf s=1.1)")
    print(
        f"encode_names       {cpu:.2f} s CPU  ({n / cpu:,.0f} records/s, cold caches; "
        f"wall {elapsed:.2f} s)"
    )
    print(
        f"encode_name loop   {cpu_single:.2f} s CPU  ({n / cpu_single:,.0f} records/s, GC on, "
        f"warm token caches; wall {elapsed_single:.2f} s)"
    )
    print(f"bar (< 10 s CPU)   {'met' if cpu < 10 else 'NOT met'}")
    print(f"load average       {load_before:.1f} before the run ({os.cpu_count()} cores, shared)")
    print(f"mean keys/record   {n_keys / n:.1f}")
    print(f"peak memory (RSS)  {peak_mib:,.0f} MiB (includes the {n:,} generated names)")
    print(f"python             {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
