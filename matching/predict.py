"""Scoring: kinlink's own candidate pairs, scored by Splink's predict.

Splink's blocking cannot cap block sizes, so kinlink generates the candidate pairs
itself (:mod:`kinlink.blocking.candidates`) and hands them to Splink with
``register_blocked_pairs_for_predict``; Splink then computes comparison vectors, term
frequency adjustments and match weights exactly as it would for its own blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kinlink.blocking.candidates import (
    BLOCKING_COLUMNS,
    JOIN_ROWS_PER_PART,
    LinkType,
    PartitionedCandidates,
    candidate_pairs_sql,
)
from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.matching.engine import Engine
from kinlink.matching.model import KinlinkModel, model_input


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

    @classmethod
    def open(
        cls, prepared: pd.DataFrame, model: KinlinkModel, engine: Engine | None = None
    ) -> Session:
        from splink import Linker

        engine = engine or Engine()
        logging.getLogger("splink").setLevel(logging.WARNING)
        # Blocking reads only the keys; Splink reads only the model's columns.
        table = engine.register(prepared[list(BLOCKING_COLUMNS)], "kinlink_keys")
        engine.new_linker_scope()
        linker = Linker(
            engine.register(model_input(prepared), "kinlink_model_input"),
            model.settings_for(engine.dialect),
            log_level=logging.WARNING,
            validate_settings=False,
        )
        return cls(engine=engine, model=model, table=table, linker=linker)

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
