"""The sweep against a real store: incremental vs full, decisions honoured, stable
clusters, notifications, report, webhook."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from kinlink.ingest import RecordV1
from kinlink.matching.sweep import SweepLocked, SweepOptions, latest_reports, run_sweep
from kinlink.matching.sweep.lock import acquire
from kinlink.store.decisions import decide
from kinlink.store.review_schema import Agency, CandidatePair, Notification, User
from kinlink.store.schema import StoredRecord
from kinlink.store.sweep_schema import SweepClusterMember, SweepRun

from .conftest import load, sample_frame, sample_records


def options(tmp_path, **kw) -> SweepOptions:
    return SweepOptions(cache_dir=tmp_path / "cache", overlap=dt.timedelta(0), **kw)


def clusters_of(session) -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = {}
    for cid, pk in session.execute(
        select(SweepClusterMember.cluster_id, SweepClusterMember.record_pk)
    ):
        out.setdefault(cid, set()).add(pk)
    return {cid: frozenset(m) for cid, m in out.items()}


def candidate_rows(session) -> dict[tuple[int, int], tuple[float, str]]:
    return {
        (c.pair_lo, c.pair_hi): (round(c.match_probability, 6), c.status)
        for c in session.scalars(select(CandidatePair))
    }


def reviewer(session) -> User:
    session.add(Agency(code="SUP", name="Supervisors"))
    user = User(username="rev", role="supervisor", agency="SUP", full_name="Reviewer")
    session.add(user)
    session.flush()
    return user


def test_incremental_equals_full_and_keeps_cluster_ids(store, sweep_model, tmp_path):
    model, _ = sweep_model
    frame = sample_frame()
    first, rest = frame.head(300), frame.iloc[300:]
    load(store, sample_records(first))
    r1 = run_sweep(store, model, options(tmp_path))
    assert r1.report["mode"] == "full" and r1.report["new_records"]["total"] == 300

    # nothing changed: nothing to do, nothing moves
    with store.session() as session:
        before_pairs, before_clusters = candidate_rows(session), clusters_of(session)
    r2 = run_sweep(store, model, options(tmp_path))
    assert r2.report["mode"] == "incremental" and r2.report["new_records"]["total"] == 0
    with store.session() as session:
        assert candidate_rows(session) == before_pairs
        assert clusters_of(session) == before_clusters

    # 100 new records, including a copy of a clustered case registered by another agency
    member = next(iter(next(iter(before_clusters.values())))) if before_clusters else None
    extra = sample_records(rest)
    if member is not None:
        with store.session() as session:
            data = dict(session.get(StoredRecord, member).data)
        data.update(record_id="COPY-1", agency="Another Agency")
        extra.append(RecordV1.model_validate({k: v for k, v in data.items() if v is not None}))
    load(store, extra, sha="1" * 64)
    r3 = run_sweep(store, model, options(tmp_path))
    assert r3.report["new_records"]["total"] == len(extra)
    assert r3.report["prepared_now"] == len(extra)  # the 300 others came from the cache
    with store.session() as session:
        incremental_pairs, incremental_clusters = candidate_rows(session), clusters_of(session)
        copy_pk = session.scalar(select(StoredRecord.id).where(StoredRecord.record_id == "COPY-1"))
    # every earlier cluster keeps its id (it can only have grown)
    for cid, members in before_clusters.items():
        assert members <= incremental_clusters[cid]
    if member is not None:
        assert any({member, copy_pk} <= m for m in incremental_clusters.values())

    # a full sweep finds the same pairs for every new record; pairs of two old records
    # drift a little (term frequencies and name rarity moved with 100 more records),
    # which is what --full is for
    r4 = run_sweep(store, model, options(tmp_path, full=True))
    assert r4.report["mode"] == "full"
    new_ids = {r.record_id for r in extra}
    with store.session() as session:
        full_pairs = candidate_rows(session)
        new_pks = set(
            session.scalars(select(StoredRecord.id).where(StoredRecord.record_id.in_(new_ids)))
        )

    def touching_new(pairs):
        return {k: v for k, v in pairs.items() if new_pks & set(k)}

    assert touching_new(full_pairs) == touching_new(incremental_pairs)
    assert len(full_pairs) == pytest.approx(len(incremental_pairs), rel=0.05)
    with store.session() as session:
        runs = latest_reports(session, 10)
    assert [r.status for r in runs] == ["succeeded"] * 4
    assert runs[0].report["clusters"]["unchanged"] == len(incremental_clusters)


def test_decisions_are_honoured_until_a_record_changes_materially(store, sweep_model, tmp_path):
    model, _ = sweep_model
    load(store, sample_records(sample_frame(250)))
    run_sweep(store, model, options(tmp_path))
    with store.session() as session:
        user = reviewer(session)
        pending = list(
            session.scalars(
                select(CandidatePair)
                .where(CandidatePair.kind == "duplicate", CandidatePair.shareable)
                .order_by(CandidatePair.match_probability.desc())
                .limit(2)
            )
        )
        assert len(pending) == 2
        rejected, confirmed = pending
        decide(session, rejected, "not_match", user)
        decide(session, confirmed, "match", user)
        rejected_key = (rejected.pair_lo, rejected.pair_hi)
        confirmed_key = (confirmed.pair_lo, confirmed.pair_hi)
        notes_before = session.scalar(select(func.count()).select_from(Notification))

    report = run_sweep(store, model, options(tmp_path, full=True)).report
    assert report["pairs"]["kept_not_match"] == 1 and report["pairs"]["kept_match"] == 1
    assert report["pairs"]["new_pending"] == 0
    with store.session() as session:
        rows = candidate_rows(session)
        assert rows[rejected_key][1] == "not_match" and rows[confirmed_key][1] == "match"
        clusters = clusters_of(session).values()
        assert not any(set(rejected_key) <= m for m in clusters)
        assert any(set(confirmed_key) <= m for m in clusters)
        assert session.scalar(select(func.count()).select_from(Notification)) == notes_before

    # a non-material edit (registration date) does not reopen the rejected pair...
    lo = rejected_key[0]
    with store.session() as session:
        data = dict(session.get(StoredRecord, lo).data)
    data["registration_date"] = "2024-01-01"
    load(
        store, [RecordV1.model_validate({k: v for k, v in data.items() if v is not None})], "2" * 64
    )
    report = run_sweep(store, model, options(tmp_path)).report
    assert report["new_records"]["total"] == 1 and report["pairs"]["reopened"] == 0
    with store.session() as session:
        assert candidate_rows(session)[rejected_key][1] == "not_match"
    # ...a material one (where the child is now) does, and notifies
    data["location_current"] = (data.get("location_current") or "") + " camp 4"
    load(
        store, [RecordV1.model_validate({k: v for k, v in data.items() if v is not None})], "3" * 64
    )
    report = run_sweep(store, model, options(tmp_path)).report
    assert report["pairs"]["reopened"] == 1
    with store.session() as session:
        assert candidate_rows(session)[rejected_key][1] == "pending"
        assert candidate_rows(session)[confirmed_key][1] == "match"


def test_lock_refuses_a_second_sweep(store, sweep_model, tmp_path):
    model, _ = sweep_model
    held = acquire(store)
    try:
        with pytest.raises(SweepLocked, match="another sweep is running"):
            run_sweep(store, model, options(tmp_path))
    finally:
        held.release()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SweepRun)) == 0


def test_dead_holder_is_taken_over(store):
    held = acquire(store, holder="elsewhere:1")  # another host: only the lease frees it
    held.release()
    import socket

    ghost = acquire(store, holder=f"{socket.gethostname()}:999999999")
    ghost._stop.set()  # "killed": never releases
    acquire(store).release()  # same host, pid gone: taken over at once


def test_a_sweep_writing_its_results_on_sqlite_is_reported_as_running(tmp_path):
    """Its heartbeat is old (the write transaction blocks it), but it is alive."""
    import sqlite3

    from sqlalchemy import event, update

    from kinlink.store import Store
    from kinlink.store.sweep_schema import SweepLock

    path = tmp_path / "kinlink.sqlite"
    store = Store(f"sqlite:///{path}")
    try:
        held = acquire(store, holder="otherhost:4242")  # another host: only the lease frees it
        held._stop.set()
        with store.session() as session:
            session.execute(
                update(SweepLock).values(
                    heartbeat_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
                )
            )
        # the real thing: another connection holds SQLite's write lock, as the sweep's
        # final transaction does; only the wait for it is shortened (30 s by default)
        store.engine.dispose()
        event.listen(
            store.engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout = 300")
        )
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(SweepLocked, match=r"otherhost:4242.*writing its results"):
                acquire(store)
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        acquire(store).release()  # once the writer is done, the stale lock is taken over
    finally:
        store.close()


@pytest.mark.parametrize("inside", [True, False])
def test_the_heartbeat_during_the_holders_own_write_on_sqlite(tmp_path, caplog, inside):
    """Inside ``writing``: no failed beats logged, and the commit carries a fresh
    heartbeat. Outside it (the control), the thread's beats fail on the held database."""
    import contextlib
    import logging
    import time

    from sqlalchemy import event

    from kinlink.store import Store
    from kinlink.store.sweep_schema import SweepLock, SweepRun

    store = Store(f"sqlite:///{tmp_path / 'kinlink.sqlite'}")
    event.listen(store.engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout = 50"))
    held = acquire(store, heartbeat=dt.timedelta(seconds=0.05))
    caplog.set_level(logging.WARNING, logger="kinlink.matching.sweep.lock")
    try:
        with store.session() as session:
            started = dt.datetime.now(dt.UTC)
            with held.writing(session) if inside else contextlib.nullcontext():
                session.add(SweepRun(mode="full", status="running", holder=held.holder))
                session.flush()  # the transaction now holds SQLite's write lock
                time.sleep(0.6)  # a dozen beats
        failed = [r for r in caplog.records if "could not refresh" in r.getMessage()]
        with store.session() as session:
            beat = session.scalar(select(SweepLock.heartbeat_at))
        beat = beat.replace(tzinfo=dt.UTC) if beat.tzinfo is None else beat
        read_at = dt.datetime.now(dt.UTC)
        if inside:
            assert failed == []
            # fresh when the transaction commits, after the write's 0.6 s
            assert started + dt.timedelta(seconds=0.5) <= beat <= read_at
        else:
            assert failed  # the condition `writing` exists for
        held.release()
        with store.session() as session:  # released: the lock row is free again
            assert session.scalar(select(SweepLock.holder)) is None
    finally:
        held._stop.set()
        store.close()


def test_notifications_report_and_webhook(store, sweep_model, tmp_path):
    model, _ = sweep_model
    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        frame = sample_frame(250)
        load(store, sample_records(frame))
        url = f"http://127.0.0.1:{server.server_port}/hook"
        result = run_sweep(store, model, options(tmp_path, webhook_url=url))
    finally:
        server.shutdown()
    report = result.report
    assert report["webhook"].startswith("ok")
    body = json.loads(received[0])
    assert body["event"] == "kinlink.sweep.finished" and body["run_id"] == result.run_id
    names = {n for n in frame["name"].dropna()}
    assert not any(name in received[0].decode() for name in names)  # counts only
    with store.session() as session:
        notes = list(session.scalars(select(Notification)))
        stored = session.get(SweepRun, result.run_id)
        assert stored.report["webhook"] == report["webhook"]
        assert stored.model_fingerprint == model.fingerprint
    assert report["notifications"] == len(notes) > 0
    assert all(n.kind == "new_candidates" and n.record_pk for n in notes)
    assert set(report["by_agency"]) <= set(frame["agency"])


def test_only_likelier_pairs_are_explained_in_chunks(store, sweep_model, tmp_path, monkeypatch):
    """By default every kept pair is stored with its levels; pairs below an explain
    threshold are stored without an explanation, the others with the same one whether
    explained in one query or in small chunks. The model's layout is stored once."""
    from kinlink.matching.explain import is_levels
    from kinlink.matching.sweep import scoring
    from kinlink.store.review_schema import ExplanationLayout

    model, _ = sweep_model
    load(store, sample_records(sample_frame().head(300)))
    run_sweep(store, model, options(tmp_path, full=True))
    with store.session() as session:
        everything = {
            (c.pair_lo, c.pair_hi): (c.match_probability, c.explanation)
            for c in session.scalars(select(CandidatePair))
        }
    assert everything and all(is_levels(expl) for _, expl in everything.values())

    monkeypatch.setattr(scoring, "EXPLAIN_CHUNK", 7)
    run_sweep(store, model, options(tmp_path, full=True, explain_min_probability=0.5))
    with store.session() as session:
        now = {
            (c.pair_lo, c.pair_hi): (c.match_probability, c.explanation)
            for c in session.scalars(select(CandidatePair))
        }
    assert now.keys() == everything.keys()
    high = [key for key, (p, _) in now.items() if p >= 0.5]
    low = [key for key, (p, _) in now.items() if p < 0.5]
    assert len(high) > 7 and low  # several chunks, and some pairs left unexplained
    for key in high:
        assert now[key][1] == everything[key][1]
    for key in low:
        assert now[key][1] == []
    with store.session() as session:
        layouts = session.scalars(select(ExplanationLayout)).all()
    assert [row.key for row in layouts] == [next(iter(everything.values()))[1]["layout"]]
