"""Load benchmark of the review API: 50 concurrent reviewers on 100,000 stored records.

Builds a synthetic store (invented names only), trains the model and computes
real-time candidates for a sample of tracing requests with the real engine,
starts the API with uvicorn on 127.0.0.1, then lets N reviewers each open a
record's candidate page, open one candidate and record a decision, in a loop.
Prints p50/p95 latency per request kind. Bounded: a fixed number of rounds.

A reviewer reads a page before acting: by default each one pauses 1-3 s (uniform,
seeded per reviewer) after every response, which is what 50 people at their desks
do. ``--think 0 0`` removes the pause (every reviewer fires as fast as the server
answers: a saturation test, not a latency one). ``--workers 2`` serves with two
uvicorn processes; on SQLite their audit appends can collide under heavy load (see
docs/benchmarks.md), so the recorded figures use one. ``--workdir`` keeps the
prepared store and model so later runs skip the set-up (each run works on a fresh
copy of the prepared database).

    .venv/bin/python benchmarks/bench_api.py --records 100000 --reviewers 50 --rounds 10
    .venv/bin/python benchmarks/bench_api.py --think 0 0 --workdir /tmp/kb
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from kinlink.api import RealtimeMatcher
from kinlink.config import Settings
from kinlink.ingest import RecordV1
from kinlink.store import Store, load_records
from kinlink.store.accounts import create_agency, create_token, create_user
from kinlink.store.schema import StoredRecord

FIRST = "Amina Fatima Khadija Layla Maryam Zainab Halima Safiya Hawa Nasra Hassan Omar Yusuf "
FIRST += "Ibrahim Ali Musa Idris Bilal Abdi Salim Asha Deka Faisal Hodan Jamal Kaltun Liban"
LAST = "Abdullahi Mohamed Hussein Ahmed Farah Warsame Osman Jama Ismail Nur Aden Hirsi Dahir "
LAST += "Egal Guled Hassan Isse Kahin Mire Noor Roble Samatar Shire Yasin Elmi Gedi Bile"
PLACES = [f"Settlement {i}" for i in range(300)]


def synthetic(n: int, seed: int = 1) -> list[RecordV1]:
    rng = random.Random(seed)
    first, last = FIRST.split(), LAST.split()
    out: list[RecordV1] = []
    previous: dict = {}
    for i in range(n):
        agency = "A" if i % 2 else "B"
        row = {
            "record_id": f"R{i:06d}",
            "record_type": "case",
            "agency": agency,
            "name": f"{rng.choice(first)} {rng.choice(first)} {rng.choice(last)}",
            "sex": rng.choice(["male", "female"]),
            "date_of_birth": f"{rng.randint(2006, 2022)}-{rng.randint(1, 12):02d}-01",
            "mother_name": f"{rng.choice(first)} {rng.choice(last)}",
            "location_origin": rng.choice(PLACES),
            "consent_for_tracing": True,
        }
        if i % 5 == 0 and previous:
            # A relative at the other agency seeks the child registered just before.
            row.update(
                record_type="tracing_request",
                name=previous["name"],
                sex=previous["sex"],
                date_of_birth=previous["date_of_birth"][:4],
                mother_name=previous["mother_name"],
                location_origin=previous["location_origin"],
            )
        out.append(RecordV1.model_validate(row))
        previous = row
    return out


def prepare(folder: Path, n: int, reviewers: int, matched: int) -> tuple[str, list[str], list[str]]:
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    store = Store(url)
    t = time.perf_counter()
    records = synthetic(n)
    with store.session() as session:
        load_records(session, records, file_name="bench", file_sha256="0" * 64, file_format="csv")
    print(f"loaded {n} records in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    tokens = []
    with store.session() as session:
        create_agency(session, "A", "A")
        create_agency(session, "B", "B")
        for i in range(reviewers):
            user = create_user(session, f"rev{i}", None, "supervisor", "A" if i % 2 else "B")
            tokens.append(create_token(session, user, "bench", 1)[1])
    settings = Settings(home=folder, model_path=folder / "model.json")
    matcher = RealtimeMatcher(store, settings)
    t = time.perf_counter()
    matcher.build(catch_up=False)
    print(f"model + index in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    with store.session() as session:
        pks = list(
            session.scalars(
                select(StoredRecord.id)
                .where(StoredRecord.record_type == "tracing_request")
                .order_by(StoredRecord.id)
                .limit(matched)
            )
        )
    t = time.perf_counter()
    matcher.match_pks(pks)
    took = time.perf_counter() - t
    print(
        f"real-time matched {len(pks)} records in {took:.1f}s "
        f"({took / max(len(pks), 1) * 1000:.0f} ms each)",
        file=sys.stderr,
    )
    with store.session() as session:
        rids = [
            r.record_id
            for r in session.scalars(select(StoredRecord).where(StoredRecord.id.in_(pks)))
        ]
    store.close()
    return url, tokens, rids


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


async def reviewer(
    base: str,
    token: str,
    agency: str,
    rids: list[str],
    rounds: int,
    timings: dict[str, list[float]],
    rng: random.Random,
    think: tuple[float, float],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    own = [r for r in rids if (int(r[1:]) % 2 == 1) == (agency == "A")]

    async def pause() -> None:
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        await pause()  # reviewers do not all arrive in the same millisecond
        for _ in range(rounds):
            rid = rng.choice(own)
            t = time.perf_counter()
            r = await client.get(f"/api/v1/records/{rid}/candidates")
            timings["candidate page"].append(time.perf_counter() - t)
            r.raise_for_status()
            items = r.json()["items"]
            if not items:
                continue
            cand = rng.choice(items)
            await pause()
            t = time.perf_counter()
            r = await client.get(f"/api/v1/candidates/{cand['id']}")
            timings["one candidate"].append(time.perf_counter() - t)
            r.raise_for_status()
            await pause()
            t = time.perf_counter()
            r = await client.post(
                f"/api/v1/candidates/{cand['id']}/decisions",
                json={"outcome": rng.choice(["match", "not_match", "unsure"]), "note": "bench"},
            )
            timings["decision"].append(time.perf_counter() - t)
            if r.status_code not in (201, 409):
                r.raise_for_status()
            await pause()


async def run_load(
    base: str, tokens: list[str], rids: list[str], rounds: int, think: tuple[float, float]
) -> dict:
    timings: dict[str, list[float]] = {"candidate page": [], "one candidate": [], "decision": []}
    tasks = [
        reviewer(base, tok, "A" if i % 2 else "B", rids, rounds, timings, random.Random(i), think)
        for i, tok in enumerate(tokens)
    ]
    t = time.perf_counter()
    await asyncio.gather(*tasks)
    timings["_wall"] = [time.perf_counter() - t]
    return timings


def prepared(workdir: Path, args: argparse.Namespace) -> tuple[Path, list[str], list[str]]:
    """The prepared store in ``workdir`` (made once per size), its tokens and matched ids."""
    meta = workdir / f"prepared-{args.records}-{args.reviewers}-{args.matched}.json"
    if meta.exists():
        saved = json.loads(meta.read_text())
        print(f"reusing the prepared store in {workdir}", file=sys.stderr)
        return Path(saved["db"]), saved["tokens"], saved["rids"]
    workdir.mkdir(parents=True, exist_ok=True)
    _url, tokens, rids = prepare(workdir, args.records, args.reviewers, args.matched)
    db = workdir / "bench.sqlite"
    meta.write_text(json.dumps({"db": str(db), "tokens": tokens, "rids": rids}))
    return db, tokens, rids


#: The server as an import string, so uvicorn can start several worker processes.
APP_MODULE = """
from kinlink.api import create_app


def app():
    return create_app(start_matcher=False)
"""


def serve(folder: Path, db: Path, model: Path, workers: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "bench_app.py").write_text(APP_MODULE)
    env = {
        **os.environ,
        "KINLINK_DATABASE_URL": f"sqlite:///{db}",
        "KINLINK_HOME": str(folder),
        "KINLINK_MODEL_PATH": str(model),
        "PYTHONPATH": str(folder),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench_app:app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(command, env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--matched", type=int, default=400, help="records given real-time candidates"
    )
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 3.0),
        metavar=("MIN", "MAX"),
        help="seconds a reviewer reads each page (uniform, seeded); 0 0 for none",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared store here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kinlink-bench-") as tmp:
        folder = Path(tmp)
        source = args.workdir or folder / "prepared"
        db, tokens, rids = prepared(source, args)
        run_db = folder / "run.sqlite"
        shutil.copy(db, run_db)  # every run starts from the same decisions (none)
        server, base = serve(folder, run_db, source / "model.json", args.workers)
        try:
            timings = asyncio.run(run_load(base, tokens, rids, args.rounds, tuple(args.think)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    wall = timings.pop("_wall")[0]
    total = sum(len(v) for v in timings.values())
    low, high = args.think
    think = "no think time" if high <= 0 else f"think {low:g}-{high:g} s"
    print(
        f"\n{args.records} records, {args.reviewers} concurrent reviewers, "
        f"{args.rounds} rounds, {think}, {args.workers} worker(s): "
        f"{total} requests in {wall:.1f}s ({total / wall:.0f} req/s)"
    )
    print(f"{'request':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, values in timings.items():
        if values:
            print(
                f"{name:<16}{len(values):>6}{percentile(values, 50) * 1000:>10.0f}"
                f"{percentile(values, 95) * 1000:>10.0f}{statistics.mean(values) * 1000:>10.0f}"
            )


if __name__ == "__main__":
    main()
