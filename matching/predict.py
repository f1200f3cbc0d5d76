"""Scoring: kinlink's own candidate pairs, scored with the model Splink trained.

Splink's blocking cannot cap block sizes, so kinlink generates the candidate pairs
itself (:mod:`kinlink.blocking.candidates`). On Spark (and with ``KINLINK_SCORER=sql``)
they go to Splink with ``register_blocked_pairs_for_predict``, and Splink computes
comparison vectors, term-frequency adjustments and match weights exactly as it would
for its own blocks. On DuckDB, by default, ``link`` and ``dedupe`` score them
in-process instead (:meth:`Session.score_in_parts`): the same comparison levels and
the model's own weights evaluated with numpy over many pairs at once
(:class:`~kinlink.matching.pair_batch.PairBatch`), held to Splink's SQL by
``tests/matching/test_score_in_parts.py``. Why: a million records make ~400M candidate
pairs, and Splink's predict scored ~290k pairs/s on this machine's two cores where the
in-process scorer's two workers score ~520k (100,000-record dedupe, docs/benchmarks.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinlink.blocking.candidates import (
    BLOCKING_COLUMNS,
    JOIN_ROWS_PER_PART,
    LinkType,
    PartitionedCandidates,
    candidate_pairs_sql,
)
from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.matching.engine import Engine, as_arrow
from kinlink.matching.model import KinlinkModel, model_input
from kinlink.matching.pair_batch import PAIRS_PER_SCORE
from kinlink.matching.workers import ForkedPool, default_workers

logger = logging.getLogger(__name__)

#: Output columns the in-process scorer can give (others need Splink's SQL).
IN_PROCESS_COLUMNS = frozenset(
    {"record_id_l", "record_id_r", "record_type_l", "match_probability", "match_weight"}
)

#: What in-process scoring workers read: (scorer, match-weight floor or None). Set
#: before the pool forks (see :mod:`kinlink.matching.workers`).
_PAIR_JOB: tuple[Any, float | None] | None = None


def _score_pairs_task(task: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Score one slice of pairs (stored row numbers); the kept ones and their scores."""
    assert _PAIR_JOB is not None
    scorer, floor = _PAIR_JOB
    left, right = task
    if floor is None:
        scores = scorer.score_pairs(left, right)
        return left, right, scores.match_probability, scores.match_weight
    # pairs that cannot reach the floor are dropped part-way; the rest come back
    scores = scorer.score_pairs(left, right, floor=floor)
    left, right = left[scores.positions], right[scores.positions]
    keep = np.flatnonzero(scores.match_weight >= floor)
    return left[keep], right[keep], scores.match_probability[keep], scores.match_weight[keep]


@dataclass
class Session:
    """A prepared table registered on an engine, with a Splink linker for one model.

    Kept together because the candidate SQL, Splink's predict and the explanation
    re-scoring all read the same registered table. The session holds the engine's
    copies, not the caller's pandas frame: a caller that needs only a few prepared
    columns afterwards can let the rest go (at a million records the pandas lists
    are gigabytes).
    """

    engine: Engine
    model: KinlinkModel
    table: Any
    linker: Any
    #: The model's input columns as Arrow (DuckDB), what in-process scoring reads;
    #: None where only Splink's SQL can score (Spark, or ``scorer="sql"``).
    inputs: Any = None
    #: Processes scoring in-process (None: one per core).
    workers: int | None = None
    _scorer: Any = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        prepared: pd.DataFrame,
        model: KinlinkModel,
        engine: Engine | None = None,
        *,
        scorer: str | None = None,
    ) -> Session:
        """``scorer``: ``python`` (in-process, DuckDB only) or ``sql``; default from
        ``KINLINK_SCORER`` (``python``)."""
        from splink import Linker

        from kinlink.config import get_settings

        engine = engine or Engine()
        scorer = scorer or get_settings().scorer
        logging.getLogger("splink").setLevel(logging.WARNING)
        # Blocking reads only the keys; Splink reads only the model's columns.
        table = engine.register(prepared[list(BLOCKING_COLUMNS)], "kinlink_keys")
        engine.new_linker_scope()
        inputs: Any = model_input(prepared)
        if engine.backend == "duckdb" and isinstance(inputs, pd.DataFrame):
            inputs = as_arrow(inputs)  # DuckDB scans it in place: no second copy
        linker = Linker(
            engine.register(inputs, "kinlink_model_input"),
            model.settings_for(engine.dialect),
            log_level=logging.WARNING,
            validate_settings=False,
        )
        in_process = scorer == "python" and not isinstance(inputs, pd.DataFrame)
        return cls(
            engine=engine,
            model=model,
            table=table,
            linker=linker,
            inputs=inputs if in_process and engine.backend == "duckdb" else None,
        )

    def candidates_table(self, link_type: LinkType, max_block_size: int = MAX_BLOCK_SIZE) -> Any:
        """Materialise the candidate pairs on the backend (they can be tens of millions)."""
        sql = candidate_pairs_sql(self.engine, self.table.physical_name, link_type, max_block_size)
        return self.engine.materialise(sql)

    def score_in_parts(
        self,
        link_type: LinkType,
        *,
        threshold_match_probability: float,
        columns: list[str],
        max_block_size: int = MAX_BLOCK_SIZE,
        join_rows_per_part: int = JOIN_ROWS_PER_PART,
        progress: bool = False,
        reduce: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
        new_table: str | None = None,
        counted: list[int] | None = None,
        candidates: PartitionedCandidates | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Candidates and scores, one part at a time (see ``PartitionedCandidates``).

        Yields each part's scored pairs at or above the threshold (``columns`` of
        Splink's output, after ``reduce`` if given), so that neither the candidate
        pairs nor the scores of a million records are ever held at once. ``new_table``
        is for the sweep's job (``link_type="sweep"``); ``counted``, if given, gets
        each part's number of candidate pairs appended (for reports). ``candidates``,
        if given, are used instead of this session's table's (the caller closes them).
        """
        owned = candidates is None
        if candidates is None:
            candidates = PartitionedCandidates(
                self.engine,
                self.table.physical_name,
                link_type,
                max_block_size,
                join_rows_per_part=join_rows_per_part,
                new_table=new_table,
            )
        try:
            parts: Any = range(candidates.parts)
            if progress and candidates.parts > 1:
                from tqdm import tqdm

                parts = tqdm(parts, desc=f"{link_type} parts", unit="part", disable=False)
            in_process = (
                self.inputs is not None
                and link_type != "sweep"
                and set(columns) <= IN_PROCESS_COLUMNS
            )
            if in_process:
                try:
                    self._in_process_scorer()
                except ValueError as exc:  # a model whose comparisons kinlink does not define
                    logger.warning("scoring with Splink's SQL instead: %s", exc)
                    in_process = False
            if in_process:
                yield from self._in_process_parts(
                    candidates, parts, threshold_match_probability, columns, reduce, counted
                )
                return
            for part in parts:
                pairs = candidates.part(part)
                if counted is not None:
                    counted.append(
                        int(
                            self.engine.query(f"select count(*) as n from {pairs.physical_name}")[
                                "n"
                            ][0]
                        )
                    )
                scored = self.score(pairs, threshold_match_probability=threshold_match_probability)
                frame = self.engine.to_pandas(scored)[columns]
                for table in (scored, pairs):
                    table.drop_table_from_database_and_remove_from_cache(
                        force_non_splink_table=True
                    )
                yield reduce(frame) if reduce is not None else frame
        finally:
            if owned:
                candidates.close()

    def _score_part_in_process(
        self,
        candidates: PartitionedCandidates,
        part: int,
        pool: ForkedPool,
        columns: list[str],
        rows: np.ndarray,
    ) -> tuple[pd.DataFrame, int]:
        """One part's pairs scored in-process: Splink's output ``columns`` and rows
        (pairs whose match weight reaches the threshold's, as Splink filters), and the
        number of candidate pairs."""
        _, ids, types = self._in_process_scorer()
        numbers = self.engine.query(candidates.part_numbers_sql(part))
        left = rows[numbers["rid_l"].to_numpy(np.int64)]
        right = rows[numbers["rid_r"].to_numpy(np.int64)]
        del numbers
        tasks = [
            (left[lo : lo + PAIRS_PER_SCORE], right[lo : lo + PAIRS_PER_SCORE])
            for lo in range(0, len(left), PAIRS_PER_SCORE)
        ]
        results = pool.run(tasks)
        a = np.concatenate([r[0] for r in results]) if results else np.empty(0, np.int64)
        b = np.concatenate([r[1] for r in results]) if results else np.empty(0, np.int64)
        frame = pd.DataFrame(
            {
                "record_id_l": ids[a],
                "record_id_r": ids[b],
                "record_type_l": types[a],
                "match_probability": (
                    np.concatenate([r[2] for r in results]) if results else np.empty(0)
                ),
                "match_weight": np.concatenate([r[3] for r in results]) if results else np.empty(0),
            }
        )
        return frame[columns], len(left)

    def _in_process_parts(
        self,
        candidates: PartitionedCandidates,
        parts: Any,
        threshold_match_probability: float | None,
        columns: list[str],
        reduce: Callable[[pd.DataFrame], pd.DataFrame] | None,
        counted: list[int] | None,
    ) -> Iterator[pd.DataFrame]:
        """``score_in_parts`` scored in-process, on ``workers`` forked processes."""
        from splink.internals.misc import threshold_args_to_match_weight

        global _PAIR_JOB
        scorer, _, _ = self._in_process_scorer()
        rows = self._rows_of_numbers(candidates)
        _PAIR_JOB = (scorer, threshold_args_to_match_weight(threshold_match_probability, None))
        try:
            with ForkedPool(_score_pairs_task, self.workers or default_workers()) as pool:
                for part in parts:
                    frame, n = self._score_part_in_process(candidates, part, pool, columns, rows)
                    if counted is not None:
                        counted.append(n)
                    yield reduce(frame) if reduce is not None else frame
        finally:
            _PAIR_JOB = None

    def _in_process_scorer(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """The in-process scorer over :attr:`inputs` (built once), with each row's
        ``record_id`` and ``record_type``."""
        if self._scorer is None:
            from kinlink.matching.inprocess import InProcessScorer, StoredColumns

            stored = StoredColumns(self.inputs)
            stored.build_distinct_lists()  # before workers fork: they share them
            ids = np.asarray(self.inputs.column("record_id").to_pylist(), dtype=object)
            types = (
                np.asarray(self.inputs.column("record_type").to_pylist(), dtype=object)
                if "record_type" in self.inputs.column_names
                else np.full(len(ids), None, dtype=object)
            )
            # term frequencies: the stored table's own, as Splink counts them on the
            # table it was given
            scorer = InProcessScorer(self.model.settings_for("duckdb"), stored)
            self._scorer = (scorer, ids, types)
        return self._scorer

    def _rows_of_numbers(self, candidates: PartitionedCandidates) -> np.ndarray:
        """Row in :attr:`inputs` of each of ``candidates``' record numbers (``rid``),
        -1 for numbers no record has."""
        _, ids, _ = self._in_process_scorer()
        nodes = self.engine.query(f"select rid, record_id from {candidates.nodes.physical_name}")
        position = pd.Index(ids).get_indexer(nodes["record_id"])
        if (position < 0).any():
            raise ValueError("candidate records missing from the model's input table")
        out = np.full(int(nodes["rid"].max()) + 1 if len(nodes) else 1, -1, dtype=np.int64)
        out[nodes["rid"].to_numpy(np.int64)] = position
        return out

    def score(
        self,
        pairs_table: Any,
        *,
        threshold_match_probability: float | None = None,
        explain: bool = False,
    ) -> Any:
        """Score a table of ``record_id_l, record_id_r, rule`` pairs; a SplinkDataFrame.

        With ``explain`` the output keeps every comparison's gamma level, Bayes factors
        and the compared values (what :mod:`kinlink.matching.explain` turns into
        per-comparison contributions).
        """
        blocked = self.engine.materialise(
            f"select rule as match_key, record_id_l as join_key_l, record_id_r as join_key_r "
            f"from {pairs_table.physical_name}"
        )
        settings = self.linker._settings_obj
        saved = (
            settings._retain_matching_columns,
            settings._retain_intermediate_calculation_columns,
        )
        if explain:
            settings._retain_matching_columns = True
            settings._retain_intermediate_calculation_columns = True
        try:
            self.linker.table_management.register_blocked_pairs_for_predict(blocked)
            return self.linker.inference.predict(
                threshold_match_probability=threshold_match_probability, warning_mode="never"
            )
        finally:
            # The prediction is materialised: the renamed copy of the pairs can go.
            blocked.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
            settings._retain_matching_columns, settings._retain_intermediate_calculation_columns = (
                saved
            )

    def register_pairs(self, pairs: pd.DataFrame) -> Any:
        """Put a pandas frame of pairs on the backend (for re-scoring a chosen few)."""
        frame = pairs[["record_id_l", "record_id_r"]].copy()
        frame["rule"] = pairs["rule"] if "rule" in pairs.columns else "-"
        return self.engine.register(frame, "kinlink_pairs")
