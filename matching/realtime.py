"""One new record against the stored ones, fast: ``match_record``.

Batch prediction is built for millions of pairs; a caseworker registering one child
needs an answer in milliseconds. :class:`MatchIndex` keeps, in memory, the stored
records' prepared table and an index from blocking key to records (the same keys and
the same block-size cap as batch blocking, so both find the same candidates). A query
prepares the new record with the same code, looks its keys up, and scores the few
hundred candidates with the model's own SQL, captured once from Splink's
``score_pairs`` and re-run directly on the backend connection: same comparisons,
same weights, none of the per-call pipeline overhead.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kinlink.blocking.rules import MAX_BLOCK_SIZE, block_keys
from kinlink.matching.engine import Engine
from kinlink.matching.explain import Contribution, Explainer
from kinlink.matching.model import KinlinkModel, model_input
from kinlink.matching.prepare import TokenFrequencies, prepare_records, prepare_row
from kinlink.matching.rank import MIN_LINK_PROBABILITY

_LEFT, _RIGHT = "kinlink_rt_left", "kinlink_rt_right"
_INPUT_TABLE = re.compile(r"__splink__compare_two_records_(left|right)_([a-z0-9]{8})\b")


@dataclass
class Candidate:
    """A stored record proposed for a new one, with the reasons."""

    record_id: str
    record_type: str
    match_probability: float
    match_weight: float
    rank: int
    explanation: list[Contribution] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "record_type": self.record_type,
            "match_probability": self.match_probability,
            "match_weight": self.match_weight,
            "rank": self.rank,
            "explanation": [c.as_dict() for c in self.explanation],
        }


class MatchIndex:
    """Stored records, their blocking-key index and the compiled scoring SQL."""

    def __init__(
        self,
        stored: pd.DataFrame,
        model: KinlinkModel,
        *,
        prepared: pd.DataFrame | None = None,
        max_block_size: int = MAX_BLOCK_SIZE,
        progress: bool = False,
    ) -> None:
        self.model = model
        self.max_block_size = max_block_size
        self.prepared = (
            prepared if prepared is not None else prepare_records(stored, progress=progress)
        )
        self.prepared = self.prepared.reset_index(drop=True)
        self.frequencies = TokenFrequencies.from_token_lists(self.prepared["name_all"])
        self._inputs = model_input(self.prepared)
        # Candidates are taken from an Arrow copy: a few hundred rows of list columns
        # leave Arrow for DuckDB without the per-cell Python conversion that a pandas
        # slice of object columns costs (which dominated a query at 60k stored records).
        self._arrow = pa.Table.from_pandas(self._inputs, preserve_index=False)
        self._record_ids = self.prepared["record_id"].to_numpy()
        self._types = self.prepared["record_type"].to_numpy()
        self._agency = self.prepared["agency"].to_numpy()
        self._consent = self.prepared["consent"].to_numpy()
        self._index = self._build_index(self.prepared["block_keys"])
        self.explainer = Explainer(model.splink_settings)
        self._compile()

    def _build_index(self, keys: pd.Series) -> dict[str, np.ndarray]:
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, row_keys in enumerate(keys):
            for key in row_keys:
                buckets[key].append(i)
        # A new record joins a block, so blocks already at the cap are over it.
        return {
            k: np.asarray(v, dtype=np.int64)
            for k, v in buckets.items()
            if len(v) < self.max_block_size
        }

    def _compile(self) -> None:
        """Capture the model's pair-scoring SQL once, with kinlink table names."""
        from splink import Linker

        self.engine = Engine("duckdb")  # milliseconds need the embedded engine
        logging.getLogger("splink").setLevel(logging.WARNING)
        sdf = self.engine.register(self._inputs, "kinlink_stored")
        self.linker = Linker(
            sdf,
            self.model.settings_for("duckdb"),
            log_level=logging.WARNING,
            validate_settings=False,
        )
        for column in self.linker._settings_obj._term_frequency_columns:
            self.linker.table_management.compute_tf_table(column.name)
        probe = self._inputs.head(1).to_dict("records")
        scored = self.linker.inference.score_pairs(probe, probe)
        sql = scored.sql_used_to_create
        names = {m.group(0): m.group(1) for m in _INPUT_TABLE.finditer(sql)}
        for physical, side in names.items():
            sql = sql.replace(physical, _LEFT if side == "left" else _RIGHT)
        self._sql = sql
        self._con = self.engine.db_api.duckdb_con

    def prepare(self, record: Mapping[str, Any]) -> dict[str, Any]:
        row = prepare_row(record)
        row["name_rare"] = self.frequencies.rare(row["name_all"])
        row["block_keys"] = block_keys(row)
        return row

    def candidate_rows(
        self, prepared: Mapping[str, Any], record_types: Sequence[str] | None = None
    ) -> np.ndarray:
        """Row numbers of stored records sharing a (non-oversized) key with ``prepared``."""
        hits = [self._index[k] for k in prepared["block_keys"] if k in self._index]
        if not hits:
            return np.empty(0, dtype=np.int64)
        rows = np.unique(np.concatenate(hits))
        if record_types is not None:
            rows = rows[np.isin(self._types[rows], list(record_types))]
        # Consent: no proposals across agencies when either side refused tracing.
        agency = prepared.get("agency")
        same_agency = self._agency[rows] == agency
        ok = same_agency | (self._consent[rows] & bool(prepared.get("consent", True)))
        rows = rows[ok]
        rid = prepared.get("record_id")
        if rid is not None:
            rows = rows[self._record_ids[rows] != rid]
        return rows

    def match(
        self,
        record: Mapping[str, Any],
        *,
        top_k: int = 10,
        min_probability: float = MIN_LINK_PROBABILITY,
        record_types: Sequence[str] | None = None,
        explain: bool = True,
    ) -> list[Candidate]:
        prepared = self.prepare(record)
        if record_types is None:
            record_types = ("case",) if prepared["record_type"] == "tracing_request" else None
        rows = self.candidate_rows(prepared, record_types)
        if len(rows) == 0:
            return []
        left = pa.Table.from_pylist(
            [{c: prepared.get(c) for c in self._arrow.column_names}], schema=self._arrow.schema
        )
        right = self._arrow.take(pa.array(rows))
        self._con.register(_LEFT, left)
        self._con.register(_RIGHT, right)
        try:
            scored = self._con.execute(self._sql).df()
        finally:
            self._con.unregister(_LEFT)
            self._con.unregister(_RIGHT)
        scored = scored[scored["match_probability"] >= min_probability]
        scored = scored.sort_values(["match_weight", "record_id_r"], ascending=[False, True])
        out = []
        for rank, row in enumerate(scored.head(top_k).to_dict("records"), start=1):
            out.append(
                Candidate(
                    record_id=str(row["record_id_r"]),
                    record_type=str(row["record_type_r"]),
                    match_probability=float(row["match_probability"]),
                    match_weight=float(row["match_weight"]),
                    rank=rank,
                    explanation=self.explainer.contributions(row) if explain else [],
                )
            )
        return out


def match_record(
    record: Mapping[str, Any],
    index: MatchIndex,
    *,
    top_k: int = 10,
    min_probability: float = MIN_LINK_PROBABILITY,
    record_types: Sequence[str] | None = None,
    explain: bool = True,
) -> list[Candidate]:
    """Ranked candidates among the stored records for one new v1 record (a dict).

    A tracing request is matched against cases; a case against every stored record.
    """
    return index.match(
        record,
        top_k=top_k,
        min_probability=min_probability,
        record_types=record_types,
        explain=explain,
    )
