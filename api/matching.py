"""Real-time candidates: the engine's ``match_record`` run on every created or changed record.

The engine's :class:`~kinlink.matching.MatchIndex` holds the stored records in
memory; it is built from the store (record ids replaced by the store's primary
keys, so records of different agencies that share a ``record_id`` never get
confused) and rebuilt in the background when records have changed. After a
rebuild the records written since the previous snapshot are matched again,
so two children registered minutes apart still find each other. The model is
the trained model file (``KINLINK_MODEL_PATH``, default ``<home>/model.json``);
when there is none, one is trained on the stored records and saved there.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from kinlink.config import Settings
from kinlink.ingest import RECORD_COLUMNS, text_row
from kinlink.matching import (
    KinlinkModel,
    MatchIndex,
    load_model,
    match_record,
    prepare_records,
    save_model,
    train_model,
)
from kinlink.matching.default_model import m_source_auto
from kinlink.store import Store
from kinlink.store.decisions import Found, store_candidates
from kinlink.store.review_schema import CandidatePair
from kinlink.store.schema import StoredRecord, utcnow

logger = logging.getLogger(__name__)

#: Fewer stored records than this and there is nothing to learn a model from.
MIN_RECORDS_TO_TRAIN = 50
#: Candidates kept per record (the engine ranks them; the review page shows them all).
TOP_K = 20


def engine_row(pk: int, data: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the engine's v1 text row, keyed by the store's primary key."""
    return {**text_row(data), "record_id": str(pk)}


class RealtimeMatcher:
    """Keeps a MatchIndex over the store and turns engine candidates into stored pairs."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.model: KinlinkModel | None = None
        self.index: MatchIndex | None = None
        self.snapshot_at: dt.datetime | None = None
        self.status = "not built"
        self._max_gamma: dict[str, int] = {}
        self._query_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- building ------------------------------------------------------------------------
    def _frame(self) -> pd.DataFrame:
        with self.store.session() as session:
            rows = [
                engine_row(pk, data)
                for pk, data in session.execute(select(StoredRecord.id, StoredRecord.data))
            ]
        frame = pd.DataFrame.from_records(rows, columns=list(RECORD_COLUMNS))
        return frame.astype(object).where(frame.notna(), None)

    def _model_for(self, prepared: pd.DataFrame) -> KinlinkModel:
        if self.model is not None:
            return self.model
        path = self.settings.resolved_model_path
        if path.exists():
            return load_model(path)
        logger.info("no model at %s: training one on %d stored records", path, len(prepared))
        model = train_model(prepared, m_from=m_source_auto(prepared))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, path)
        return model

    def build(self, *, catch_up: bool = True) -> None:
        """(Re)build the index from the store, then re-match what changed meanwhile."""
        with self._build_lock:
            started = utcnow()
            self._dirty.clear()
            frame = self._frame()
            if (
                len(frame) < MIN_RECORDS_TO_TRAIN
                and self.model is None
                and not (self.settings.resolved_model_path.exists())
            ):
                self.status = f"waiting for data ({len(frame)} records stored)"
                return
            if frame.empty:
                self.status = "no records stored"
                return
            prepared = prepare_records(frame)
            model = self._model_for(prepared)
            index = MatchIndex(frame, model, prepared=prepared)
            previous = self.snapshot_at
            with self._query_lock:
                self.model, self.index = model, index
                self._max_gamma = model.max_gammas()
                self.snapshot_at = started
            self.status = f"ready ({len(frame)} records indexed)"
        if catch_up and previous is not None:
            self.match_changed_since(previous)

    def match_changed_since(self, since: dt.datetime) -> int:
        with self.store.session() as session:
            pks = list(
                session.scalars(select(StoredRecord.id).where(StoredRecord.updated_at >= since))
            )
        return self.match_pks(pks)

    def match_pks(self, pks: Iterable[int]) -> int:
        """Match these stored records again (each in its own short transaction)."""
        n = 0
        for pk in pks:
            with self.store.session() as session:
                record = session.get(StoredRecord, pk)
                if record is not None:
                    self.match_stored(session, record)
                    n += 1
        return n

    def match_unmatched(self, record_type: str | None = None) -> int:
        """Match every record that has no stored candidate pair yet (first start on old data)."""
        with self.store.session() as session:
            paired = select(CandidatePair.left_pk).union(select(CandidatePair.right_pk))
            query = select(StoredRecord.id).where(StoredRecord.id.not_in(paired))
            if record_type is not None:
                query = query.where(StoredRecord.record_type == record_type)
            pks = list(session.scalars(query.order_by(StoredRecord.id)))
        return self.match_pks(pks)

    # -- matching ------------------------------------------------------------------------
    def match_stored(self, session: Any, record: StoredRecord) -> list[CandidatePair] | None:
        """Match one stored record now and store its candidates; ``None`` if no index yet."""
        index = self.index
        if index is None:
            self._dirty.set()
            return None
        query = engine_row(record.id, record.data)
        with self._query_lock:
            found = match_record(query, index, top_k=TOP_K)
        hits = []
        for candidate in found:
            try:
                other = int(candidate.record_id)
            except ValueError:
                continue
            explanation = self._dicts(candidate.explanation)
            hits.append(
                Found(other, candidate.match_probability, candidate.match_weight, explanation)
            )
        self._dirty.set()  # the index does not hold this version of the record yet
        fingerprint = self.model.fingerprint if self.model else None
        return store_candidates(
            session, record, hits, source="realtime", model_fingerprint=fingerprint
        )

    def explain(self, left: StoredRecord, right: StoredRecord) -> list[dict[str, Any]] | None:
        """A stored pair's explanation computed now (left's values first), or ``None``.

        The sweep stores pairs below its explain threshold without one; the review
        screens ask for it here when such a pair is shown. Nothing is written.
        """
        index = self.index
        if index is None:
            return None
        with self._query_lock:
            found = index.explain_pair(engine_row(left.id, left.data), str(right.id))
        if found is None:
            return None
        return self._dicts(found)

    def _dicts(self, contributions: Iterable[Any]) -> list[dict[str, Any]]:
        out = [c.as_dict() for c in contributions]
        for item in out:
            item["max_gamma"] = self._max_gamma.get(item["comparison"], item["gamma"])
        return out

    # -- background refresh ----------------------------------------------------------------
    def start(self, every_seconds: float = 60.0, *, match_existing: bool = False) -> None:
        """Build now (in a thread) and rebuild when records changed, at most once a period.

        ``match_existing`` then matches every record without candidates (a first
        start on records loaded by ``kinlink ingest``).
        """

        def loop() -> None:
            try:
                self.build(catch_up=False)
                if match_existing and self.index is not None:
                    logger.info("matched %d stored records", self.match_unmatched())
            except Exception:  # a broken model must not take the review service down
                logger.exception("building the match index failed")
                self.status = "error (see server log)"
            while not self._stop.wait(every_seconds):
                if self._dirty.is_set():
                    try:
                        self.build()
                    except Exception:
                        logger.exception("rebuilding the match index failed")

        self._thread = threading.Thread(target=loop, name="kinlink-match-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def candidate_count(self) -> int:
        with self.store.session() as session:
            return session.scalar(select(func.count()).select_from(CandidatePair)) or 0
