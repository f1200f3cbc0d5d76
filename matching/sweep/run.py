"""One sweep, start to finish: lock, snapshot, score, write everything at once, report.

The order is what makes a sweep safe to kill at any point:

1. take the lock (:mod:`kinlink.matching.sweep.lock`); mark runs whose process died
   as ``abandoned``;
2. record the run as ``running`` (its own short transaction: visible at once);
3. read a snapshot of the store and do all the heavy work (prepare, block, score,
   explain) outside any write transaction, so the review API keeps working;
4. write pairs, clusters, notifications and the ``succeeded`` status with the new
   watermark in **one** transaction;
5. after the commit: the webhook, then release the lock.

Killed before 4 commits, a run leaves the candidates, clusters and watermark of the
previous successful run untouched; the next run starts from that watermark, so it
covers this run's records as well. Idempotent writes mean re-doing work is harmless.

Watermark: the time the snapshot was read. The next incremental sweep takes
records updated after ``watermark - overlap``: a load that began before the
snapshot but committed after it has ``updated_at`` earlier than the watermark,
and the overlap (default one hour) catches it; the records seen twice are simply
scored again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import select, update

import kinlink
from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.ingest.load import cyclic_gc_paused
from kinlink.matching.cluster import DEFAULT_THRESHOLD, MIN_PAIR_PROBABILITY
from kinlink.matching.default_model import m_source_auto
from kinlink.matching.engine import Engine
from kinlink.matching.explain import ExplanationLayout
from kinlink.matching.model import KinlinkModel, train_model
from kinlink.matching.sweep import lock as locking
from kinlink.matching.sweep.cap import DEFAULT_MAX_CANDIDATES, cap_per_record
from kinlink.matching.sweep.clusters import (
    DEFAULT_JOIN_MEAN,
    DEFAULT_MAX_SIZE,
    assign_ids,
    build_clusters,
)
from kinlink.matching.sweep.notify import (
    DEFAULT_NOTIFY_PROBABILITY,
    add_notifications,
    plan_notifications,
    post_webhook,
    webhook_payload,
)
from kinlink.matching.sweep.report import by_agency
from kinlink.matching.sweep.scoring import (
    PreparedCache,
    engine_frame,
    prepare_store_table,
    prepared_frame,
    score_new,
)
from kinlink.matching.sweep.write import (
    cluster_input,
    current_clusters,
    write_candidates,
    write_clusters,
)
from kinlink.store import Store
from kinlink.store.bulk import bulk_cache, raw_rows
from kinlink.store.schema import StoredRecord, utcnow
from kinlink.store.sweep_schema import SweepRun

logger = logging.getLogger(__name__)

#: Records updated this long before the last watermark are swept again (see module doc).
DEFAULT_OVERLAP = dt.timedelta(hours=1)


@dataclass
class SweepOptions:
    """Knobs of a sweep; the defaults are what ``kinlink sweep`` documents."""

    full: bool = False
    threshold: float = DEFAULT_THRESHOLD
    min_probability: float = MIN_PAIR_PROBABILITY
    notify_probability: float = DEFAULT_NOTIFY_PROBABILITY
    join_mean: float = DEFAULT_JOIN_MEAN
    max_cluster_size: int = DEFAULT_MAX_SIZE
    overlap: dt.timedelta = DEFAULT_OVERLAP
    max_block_size: int = MAX_BLOCK_SIZE
    explain: bool = True
    #: None: every kept pair in-process, ``DEFAULT_EXPLAIN_PROBABILITY`` on Splink's path
    explain_min_probability: float | None = None
    cache_dir: Path | None = None
    webhook_url: str | None = None
    webhook_timeout: float = 10.0
    progress: bool = False
    lease: dt.timedelta = locking.DEFAULT_LEASE
    #: ``duckdb`` or ``spark``; None: KINLINK_ENGINE (scoring and training only: the
    #: store stays where it is, and records travel to the engine as prepared columns).
    engine: str | None = None
    #: Processes scoring an incremental sweep's pairs on DuckDB; None: one per core.
    workers: int | None = None
    #: Links and duplicates kept per new record (the best by weight); None or 0: all.
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES


@dataclass
class SweepResult:
    run_id: int
    report: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


class NoModel(Exception):
    """No model file and too few stored records to train one."""


#: Fewer stored records than this and there is nothing to learn a model from.
MIN_RECORDS_TO_TRAIN = 50


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _set_phase(store: Store, run_id: int, phase: str) -> None:
    """Say where the run is (``sweep_runs.report.phase``), committed at once.

    Operators (``select report from sweep_runs``) and monitoring read it from outside
    the process; so does the kill test, which stops and kills a real ``kinlink sweep``
    at the phase it wants without any hook in this code.
    """
    with store.session() as session:
        session.execute(
            update(SweepRun).where(SweepRun.id == run_id).values(report={"phase": phase})
        )


def _abandon_dead_runs(store: Store, me: str) -> list[int]:
    """Runs left ``running`` by a killed process: mark them so nobody waits for them."""
    with store.session() as session:
        runs = list(
            session.scalars(select(SweepRun).where(SweepRun.status.in_(("running", "committing"))))
        )
        for run in runs:
            if run.holder != me:
                run.status = "abandoned"
                run.finished_at = run.finished_at or utcnow()
                run.error = run.error or "the process running it stopped before it finished"
        return [r.id for r in runs if r.holder != me]


def _snapshot(store: Store) -> pd.DataFrame:
    """Every stored record's key, agency, type, content hash, change time, consent and
    ``record_id``, read as the driver gives them (a million rows through the ORM's
    row processing took seconds more: ``raw_rows``) and converted column by column."""
    with store.session() as session:
        rows = raw_rows(
            session,
            select(
                StoredRecord.id,
                StoredRecord.agency,
                StoredRecord.record_type,
                StoredRecord.content_hash,
                StoredRecord.updated_at,
                StoredRecord.data["consent_for_tracing"].as_string(),
                StoredRecord.record_id,
            ),
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "pk",
            "agency",
            "record_type",
            "content_hash",
            "updated_at",
            "consent",
            "record_id",
        ],
    )
    frame["pk"] = frame["pk"].astype("int64")
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True, format="ISO8601")
    # Same reading as kinlink.store.decisions.refuses_tracing (JSON false only).
    frame["consent"] = ~frame["consent"].astype(str).str.lower().isin({"false", "0"})
    return frame


def _fetcher(store: Store) -> Callable[[Sequence[int]], pd.DataFrame]:
    def fetch(pks: Sequence[int]) -> pd.DataFrame:
        rows: list[tuple[int, dict[str, Any]]] = []
        with store.session() as session:
            for start in range(0, len(pks), 5000):
                chunk = list(pks[start : start + 5000])
                rows.extend(
                    session.execute(
                        select(StoredRecord.id, StoredRecord.data).where(StoredRecord.id.in_(chunk))
                    ).all()
                )
        return engine_frame(rows)

    return fetch


def _layout(model: KinlinkModel) -> ExplanationLayout | None:
    """The model's explanation layout (what its levels-form explanations need), or None
    for a model whose comparisons only Splink's SQL scores (it stores full ones)."""
    from kinlink.matching.sweep.inprocess_scoring import levels_layout

    try:
        return levels_layout(model)
    except ValueError:
        return None


def resolve_model(
    model: KinlinkModel | Path,
    prepared: pd.DataFrame | pa.Table,
    content_hashes: pd.Series | None = None,
) -> tuple[KinlinkModel, bool]:
    """The model to score with: loaded, or trained on the store and saved (like real time)."""
    if isinstance(model, KinlinkModel):
        return model, False
    from kinlink.matching.model import load_model, save_model

    if model.exists():
        return load_model(model), False
    if len(prepared) < MIN_RECORDS_TO_TRAIN:
        raise NoModel(
            f"no model at {model} and only {len(prepared)} stored records to train one; "
            "run `kinlink train` or load more records"
        )
    fingerprint = None
    if content_hashes is not None:
        # Names the stored records' content, order-independent (like data_fingerprint).
        digest = hashlib.sha256("".join(sorted(content_hashes)).encode()).hexdigest()
        fingerprint = f"sha256:{digest[:32]}"
    trained = train_model(prepared, fingerprint=fingerprint, m_from=m_source_auto(prepared))
    model.parent.mkdir(parents=True, exist_ok=True)
    save_model(trained, model)
    return trained, True


def run_sweep(
    store: Store,
    model: KinlinkModel | Path,
    options: SweepOptions | None = None,
    *,
    log: Callable[[str], None] = logger.info,
) -> SweepResult:
    """Run one sweep (see module docstring); raises :class:`~.lock.SweepLocked` when busy."""
    options = options or SweepOptions()
    held = locking.acquire(store, lease=options.lease)
    run_id: int | None = None
    try:
        abandoned = _abandon_dead_runs(store, held.holder)
        with store.session() as session:
            previous = session.scalar(
                select(SweepRun)
                .where(SweepRun.status == "succeeded")
                .order_by(SweepRun.id.desc())
                .limit(1)
            )
            full = options.full or previous is None or previous.watermark is None
            since = None if full else _aware(previous.watermark) - options.overlap
            run = SweepRun(
                mode="full" if full else "incremental",
                status="running",
                started_at=utcnow(),
                since=since,
                holder=held.holder,
                threshold=options.threshold,
                report={"phase": "start"},
            )
            session.add(run)
            session.flush()
            run_id = run.id
            previous_model = previous.model_fingerprint if previous is not None else None
        held.set_run(run_id)
        log(f"sweep run {run_id} ({'full' if full else 'incremental'}) started")
        return _run(
            store, held, run_id, full, since, previous_model, abandoned, model, options, log
        )
    except BaseException as err:
        if run_id is not None:
            try:
                with store.session() as session:
                    session.execute(
                        update(SweepRun)
                        .where(SweepRun.id == run_id, SweepRun.status != "succeeded")
                        .values(status="failed", finished_at=utcnow(), error=repr(err)[:2000])
                    )
            except Exception:
                logger.exception("could not record the failure of sweep run %s", run_id)
        raise
    finally:
        try:
            held.release()
        except Exception:
            logger.exception("could not release the sweep lock (it expires by itself)")


def _run(
    store: Store,
    held: locking.HeldLock,
    run_id: int,
    full: bool,
    since: dt.datetime | None,
    previous_model: str | None,
    abandoned: list[int],
    model_source: KinlinkModel | Path,
    options: SweepOptions,
    log: Callable[[str], None],
) -> SweepResult:
    clock = time.monotonic()
    timings: dict[str, float] = {}
    started_at = utcnow()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 3)
        clock = now

    # -- snapshot ------------------------------------------------------------------------
    _set_phase(store, run_id, "snapshot")
    watermark = utcnow()
    snapshot = _snapshot(store)
    if full:
        new_mask = pd.Series(True, index=snapshot.index)
    else:
        assert since is not None
        new_mask = snapshot["updated_at"] > pd.Timestamp(since)
    new = snapshot[new_mask]
    lap("snapshot")
    log(f"{len(new)} new or changed records of {len(snapshot)} stored")

    # -- prepare -------------------------------------------------------------------------
    _set_phase(store, run_id, "prepare")
    cache = None
    if options.cache_dir is not None:
        cache = PreparedCache(options.cache_dir, store.display_url)
    # On DuckDB the store stays Arrow and the pairs are scored in-process
    # (sweep.inprocess_scoring), with blocking keys from the key index only; Spark, or
    # a model still to be trained, need every prepared row as pandas for Splink.
    engine = Engine(options.engine)  # type: ignore[arg-type]
    lean = engine.backend == "duckdb" and (
        isinstance(model_source, KinlinkModel) or Path(model_source).exists()
    )
    store_table = prepare_store_table(
        snapshot, _fetcher(store), cache, progress=options.progress, keys=not lean, encode=lean
    )
    table, n_prepared = store_table.table, store_table.n_prepared
    prepared: pd.DataFrame | pa.Table = table if lean else prepared_frame(table)
    key_index = store_table.keys if lean else None
    encoded = store_table.encoded
    del table, store_table
    lap("prepare")
    model, trained = resolve_model(model_source, prepared, snapshot["content_hash"])
    if trained:
        lap("train")

    warnings: list[str] = []
    if abandoned:
        warnings.append(f"runs {abandoned} had been killed; this run covers their work")
    if not full and previous_model != model.fingerprint:
        warnings.append(
            "the model changed since the last sweep: run `kinlink sweep --full` to rescore "
            "every pair with it"
        )

    # -- score ---------------------------------------------------------------------------
    _set_phase(store, run_id, "score")
    layout = _layout(model)
    scored, n_candidates = score_new(
        prepared,
        new["pk"].astype(str).tolist(),
        model,
        engine=engine,
        min_probability=options.min_probability,
        max_block_size=options.max_block_size,
        explain=options.explain,
        explain_min_probability=options.explain_min_probability,
        progress=options.progress,
        workers=options.workers,
        key_index=key_index,
        encoded=encoded,
        layout=layout,
    )
    del key_index, encoded
    agency = dict(zip(snapshot["pk"].tolist(), snapshot["agency"].tolist(), strict=True))
    record_type = dict(zip(snapshot["pk"].tolist(), snapshot["record_type"].tolist(), strict=True))
    n_scored = len(scored)
    scored = cap_per_record(scored, set(new["pk"].tolist()), record_type, options.max_candidates)
    lap("score")
    cap = (
        f"at most {options.max_candidates} links and duplicates per new record"
        if options.max_candidates
        else "no per-record cap"
    )
    log(
        f"{n_candidates} candidate pairs compared, {n_scored} at or above "
        f"{options.min_probability}, {len(scored)} kept ({cap})"
    )
    consent = dict(zip(snapshot["pk"].tolist(), snapshot["consent"].tolist(), strict=True))
    del prepared

    # -- write, all at once ----------------------------------------------------------------
    _set_phase(store, run_id, "write")
    # The collector paused: the pairs, decisions and clusters of a 10k run are millions
    # of acyclic objects, and its full passes cost ~4 s of the write phase at 1M stored
    # (seed 117, docs/sweep.md), finding nothing.
    with store.session() as session, held.writing(session), cyclic_gc_paused():
        # First statement is a write: on SQLite it takes the write lock now, so the
        # decisions read below cannot change before this transaction commits.
        session.execute(
            update(SweepRun)
            .where(SweepRun.id == run_id)
            .values(status="committing", report={"phase": "commit"})
        )
        now = utcnow()
        with bulk_cache(session):
            written = write_candidates(
                session,
                scored,
                swept=None if full else new["pk"].tolist(),
                record_type=record_type,
                agency=agency,
                consent=consent,
                model_fingerprint=model.fingerprint,
                now=now,
                layout=layout,
            )
        lap("write_pairs")
        inputs = cluster_input(session, options.threshold)
        groups, stats = build_clusters(
            inputs.scores,
            threshold=options.threshold,
            confirmed=inputs.confirmed,
            not_match=inputs.not_match,
            join_mean=options.join_mean,
            max_size=options.max_cluster_size,
        )
        previous_clusters, next_id = current_clusters(session)
        assignment = assign_ids(groups, previous_clusters, next_id)
        cluster_changes = write_clusters(session, assignment, previous_clusters, run_id)
        lap("clusters")
        record_ids = dict(zip(snapshot["pk"].tolist(), snapshot["record_id"].tolist(), strict=True))
        planned = plan_notifications(
            written.new_pending,
            agency,
            record_ids,
            min_probability=options.notify_probability,
        )
        n_notifications = add_notifications(session, planned)
        lap("notify")
        members = [pk for m in assignment.clusters.values() for pk in m]
        finished = utcnow()
        report: dict[str, Any] = {
            "run_id": run_id,
            "mode": "full" if full else "incremental",
            "started_at": started_at.isoformat(),
            "finished_at": finished.isoformat(),
            "seconds": round((finished - started_at).total_seconds(), 3),
            "since": since.isoformat() if since else None,
            "watermark": watermark.isoformat(),
            "stored_records": len(snapshot),
            "prepared_now": n_prepared,
            "model": {
                "fingerprint": model.fingerprint,
                "kinlink_version": model.metadata.get("kinlink_version"),
                "splink_version": model.metadata.get("splink_version"),
                "trained_at": model.metadata.get("trained_at"),
                "trained_by_this_run": trained,
            },
            "threshold": options.threshold,
            "new_records": {
                "total": len(new),
                "cases": int((new["record_type"] == "case").sum()),
                "tracing_requests": int((new["record_type"] == "tracing_request").sum()),
            },
            "pairs": {
                "candidates": n_candidates,
                "above_min_probability": n_scored,
                "kept": len(scored),
                "min_probability": options.min_probability,
                "max_candidates": options.max_candidates,
                "inserted": written.inserted,
                "updated": written.updated,
                "removed": written.removed,
                "status": written.status,
                "new_pending": len(written.new_pending),
                "new_pending_links": sum(p.kind == "link" for p in written.new_pending),
                "new_pending_duplicates": sum(p.kind == "duplicate" for p in written.new_pending),
                "kept_not_match": written.kept_not_match,
                "kept_match": written.kept_match,
                "reopened": written.reopened,
            },
            "clusters": {
                "total": len(assignment.clusters),
                "records": len(members),
                "largest": max((len(m) for m in assignment.clusters.values()), default=0),
                **cluster_changes.__dict__,
                **stats.as_dict(),
                "join_mean": options.join_mean,
                "max_size": options.max_cluster_size,
            },
            "notifications": n_notifications,
            "by_agency": by_agency(
                zip(new["agency"].tolist(), new["record_type"].tolist(), strict=True),
                [(p.lo, p.hi) for p in written.new_pending],
                members,
                agency,
            ),
            "timings": timings,
            "warnings": warnings,
        }
        session.execute(
            update(SweepRun)
            .where(SweepRun.id == run_id)
            .values(
                status="succeeded",
                finished_at=finished,
                watermark=watermark,
                model_fingerprint=model.fingerprint,
                model_version=str(model.metadata.get("kinlink_version") or kinlink.__version__),
                report=report,
            )
        )
    # the report (and timings) then written, then the commit
    lap("commit")
    log(f"sweep run {run_id} committed")

    # -- after the commit ------------------------------------------------------------------
    if options.webhook_url:
        report["webhook"] = post_webhook(
            options.webhook_url, webhook_payload(report), options.webhook_timeout
        )
    # what came after the report was written: the commit's time, the webhook's answer
    with store.session() as session:
        session.execute(update(SweepRun).where(SweepRun.id == run_id).values(report=report))
    return SweepResult(run_id, report, timings)
