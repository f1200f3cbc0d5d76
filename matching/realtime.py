"""One new record against the stored ones, fast: ``match_record``.

Batch prediction is built for millions of pairs; a caseworker registering one child
needs an answer in milliseconds. :class:`MatchIndex` keeps, in memory, the stored
records' prepared table and an index from blocking key to records (the same keys and
the same block-size cap as batch blocking, so both find the same candidates). A query
prepares the new record with the same code, looks its keys up, and scores the
candidates with one of two scorers that give the same gammas, weights and
explanations (``tests/matching/test_realtime_parity.py``):

* ``"python"`` (default): the comparison levels evaluated in-process over the
  candidates' prepared columns (:mod:`kinlink.matching.inprocess`, each level's
  predicate written next to its SQL in :mod:`kinlink.matching.comparisons`), then the
  model's weights summed as Splink sums them. No SQL is planned per query.
* ``"sql"``: the model's own scoring SQL, captured once from Splink's ``score_pairs``
  and re-run on DuckDB for each query. The reference the in-process scorer is held
  to; DuckDB spends ~130 ms planning that SQL on every query, which is why it is not
  the default.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from kinlink.blocking.key_index import sorted_unique
from kinlink.blocking.rules import MAX_BLOCK_SIZE, block_keys
from kinlink.matching.engine import Engine
from kinlink.matching.explain import Contribution, Explainer
from kinlink.matching.inprocess import InProcessScorer, Scores, StoredColumns, explain_row
from kinlink.matching.model import KinlinkModel, model_input
from kinlink.matching.prepare import TokenFrequencies, prepare_records, prepare_row
from kinlink.matching.rank import MIN_LINK_PROBABILITY

_LEFT, _RIGHT = "kinlink_rt_left", "kinlink_rt_right"
Scorer = Literal["python", "sql"]
SCORERS: tuple[str, ...] = ("python", "sql")
_INPUT_TABLE = re.compile(r"__splink__compare_two_records_(left|right)_([a-z0-9]{8})\b")


def _stored_schema(inputs: pd.DataFrame) -> pa.Schema:
    """The Arrow schema of the stored table, with no column typed NULL.

    A column no stored record fills (no IDs, no sex yet in a small store) would be
    inferred as ``null`` (or ``list<null>``), and a new record that fills it could
    then not be put into that schema at all ("Invalid null value"). Such columns get
    the type prepare gives them: lists of strings, integers, or strings.
    """
    inferred = pa.Schema.from_pandas(inputs, preserve_index=False)
    empty = prepare_row({"record_id": ""})
    fields = []
    for f in inferred:
        kind = f.type
        if pa.types.is_null(kind) or (pa.types.is_list(kind) and pa.types.is_null(kind.value_type)):
            if isinstance(empty.get(f.name), list) or f.name == "name_rare":
                kind = pa.list_(pa.string())
            elif f.name in ("by_lo", "by_hi"):
                kind = pa.int64()
            elif f.name == "consent":
                kind = pa.bool_()
            else:
                kind = pa.string()
        fields.append(pa.field(f.name, kind))
    return pa.schema(fields)


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
    """Stored records, their blocking-key index and a scorer (see the module docstring).

    ``scorer="python"`` (default) scores in-process; ``scorer="sql"`` with the model's
    Splink SQL on DuckDB. Either scorer can also be asked for per call
    (:meth:`score`, :meth:`match`); the other is then built on first use.
    """

    def __init__(
        self,
        stored: pd.DataFrame,
        model: KinlinkModel,
        *,
        prepared: pd.DataFrame | None = None,
        max_block_size: int = MAX_BLOCK_SIZE,
        progress: bool = False,
        scorer: Scorer = "python",
    ) -> None:
        if scorer not in SCORERS:
            raise ValueError(f"scorer must be one of {SCORERS}, not {scorer!r}")
        self.model = model
        self.scorer = scorer
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
        self._arrow = pa.Table.from_pandas(
            self._inputs, schema=_stored_schema(self._inputs), preserve_index=False
        )
        self._record_ids = self.prepared["record_id"].to_numpy()
        self._types = self.prepared["record_type"].to_numpy()
        self._agency = self.prepared["agency"].to_numpy()
        self._consent = self.prepared["consent"].to_numpy()
        self._index = self._build_index(self.prepared["block_keys"])
        self._row_of: dict[str, int] | None = None
        self.explainer = Explainer(model.splink_settings)
        self._columns = self.explainer.value_columns
        self._sql: str | None = None
        self._in_process: InProcessScorer | None = None
        if scorer == "sql":
            self._compile()
        else:
            self._build_in_process()

    def build_scorer(self, scorer: Scorer) -> None:
        """Build ``scorer`` now if it is not built yet (e.g. to time both on one index)."""
        if scorer == "sql" and self._sql is None:
            self._compile()
        elif scorer == "python" and self._in_process is None:
            self._build_in_process()
        elif scorer not in SCORERS:
            raise ValueError(f"scorer must be one of {SCORERS}, not {scorer!r}")

    def _build_in_process(self) -> None:
        """Encode the stored columns and read the model's numbers for in-process scoring."""
        stored = StoredColumns(self._arrow)
        self._in_process = InProcessScorer(self.model.settings_for("duckdb"), stored)
        if len(self._arrow):  # warm up (first-use imports, caches) off the query path
            probe = self._arrow.slice(0, 1).to_pylist()[0]
            self._in_process.score(probe, np.zeros(1, dtype=np.int64))

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

    def run_sql(self, left: pa.Table, right: pa.Table) -> pd.DataFrame:
        """The model's captured scoring SQL over every (left, right) pair (the reference)."""
        if self._sql is None:
            self._compile()
        assert self._sql is not None
        self._con.register(_LEFT, left)
        self._con.register(_RIGHT, right)
        try:
            return self._con.execute(self._sql).df()
        finally:
            self._con.unregister(_LEFT)
            self._con.unregister(_RIGHT)

    def score(
        self,
        prepared: Mapping[str, Any],
        rows: np.ndarray,
        *,
        scorer: Scorer | None = None,
    ) -> tuple[Scores, list[dict[str, Any]] | None]:
        """Score a prepared record against stored ``rows`` (every one, no threshold).

        Returns the scores and, for the SQL scorer, its output rows (what the
        explanations are read from); the in-process scorer builds those rows only for
        the candidates it keeps.
        """
        scorer = scorer or self.scorer
        if scorer == "python":
            if self._in_process is None:
                self._build_in_process()
            assert self._in_process is not None
            return self._in_process.score(self._left_values(prepared), rows), None
        if scorer != "sql":
            raise ValueError(f"scorer must be one of {SCORERS}, not {scorer!r}")
        right = self._arrow.take(pa.array(rows))
        frame = self.run_sql(self._left_table(prepared), right)
        # DuckDB returns the cross join in its own order: back to the order of ``rows``.
        order = {rid: i for i, rid in enumerate(right.column("record_id").to_pylist())}
        frame = frame.iloc[np.argsort([order[r] for r in frame["record_id_r"]], kind="stable")]
        names = self.explainer.comparison_names
        tf = [n for n in names if f"mw_tf_adj_{n}" in frame.columns]
        scores = Scores(
            rows=np.asarray(rows),
            match_weight=frame["match_weight"].to_numpy(dtype=float),
            match_probability=frame["match_probability"].to_numpy(dtype=float),
            gamma={n: frame[f"gamma_{n}"].to_numpy(dtype=np.int64) for n in names},
            mw={n: frame[f"mw_{n}"].to_numpy(dtype=float) for n in names},
            tf_adj={n: frame[f"mw_tf_adj_{n}"].to_numpy(dtype=float) for n in tf},
        )
        return scores, frame.to_dict("records")

    def _left_table(self, prepared: Mapping[str, Any]) -> pa.Table:
        return pa.Table.from_pylist(
            [{c: prepared.get(c) for c in self._arrow.column_names}], schema=self._arrow.schema
        )

    def _left_values(self, prepared: Mapping[str, Any]) -> dict[str, Any]:
        """The query's model columns as the SQL sees them (through the stored schema)."""
        return self._left_table(prepared).to_pylist()[0]

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
        rows = sorted_unique(np.concatenate(hits))
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
        scorer: Scorer | None = None,
    ) -> list[Candidate]:
        prepared = self.prepare(record)
        if record_types is None:
            record_types = ("case",) if prepared["record_type"] == "tracing_request" else None
        rows = self.candidate_rows(prepared, record_types)
        if len(rows) == 0:
            return []
        scores, sql_rows = self.score(prepared, rows, scorer=scorer)
        keep = np.flatnonzero(scores.match_probability >= min_probability)
        ids = self._record_ids[rows[keep]].astype(str)
        # best weight first, ties by record id (as the SQL path always sorted)
        keep = keep[np.lexsort((ids, -scores.match_weight[keep]))][:top_k]
        left = right_rows = None
        if explain and sql_rows is None:
            left = self._left_values(prepared)
            right_rows = self._arrow.take(pa.array(rows[keep])).to_pylist()
        out = []
        for rank, i in enumerate(keep.tolist(), start=1):
            explanation: list[Contribution] = []
            if explain:
                if sql_rows is not None:
                    row = sql_rows[i]
                else:
                    assert left is not None and right_rows is not None
                    row = explain_row(scores, i, left, right_rows[rank - 1], self._columns)
                explanation = self.explainer.contributions(row)
            out.append(
                Candidate(
                    record_id=str(self._record_ids[rows[i]]),
                    record_type=str(self._types[rows[i]]),
                    match_probability=float(scores.match_probability[i]),
                    match_weight=float(scores.match_weight[i]),
                    rank=rank,
                    explanation=explanation,
                )
            )
        return out

    def explain_pair(self, record: Mapping[str, Any], record_id: str) -> list[Contribution] | None:
        """Why ``record`` and the stored record ``record_id`` score as they do; ``None``
        if that record is not in the index (stored after it was built).

        For pairs stored without an explanation (the sweep explains only its likelier
        pairs): the same comparisons and weights as :meth:`match`, for one pair.
        """
        if self._row_of is None:
            self._row_of = {str(r): i for i, r in enumerate(self._record_ids.tolist())}
        row = self._row_of.get(str(record_id))
        if row is None:
            return None
        prepared = self.prepare(record)
        rows = np.array([row])
        scores, sql_rows = self.score(prepared, rows)
        if sql_rows is not None:
            return self.explainer.contributions(sql_rows[0])
        right = self._arrow.take(pa.array(rows)).to_pylist()[0]
        values = explain_row(scores, 0, self._left_values(prepared), right, self._columns)
        return self.explainer.contributions(values)


def match_record(
    record: Mapping[str, Any],
    index: MatchIndex,
    *,
    top_k: int = 10,
    min_probability: float = MIN_LINK_PROBABILITY,
    record_types: Sequence[str] | None = None,
    explain: bool = True,
    scorer: Scorer | None = None,
) -> list[Candidate]:
    """Ranked candidates among the stored records for one new v1 record (a dict).

    A tracing request is matched against cases; a case against every stored record.
    ``scorer`` overrides the index's (``"python"`` or ``"sql"``), e.g. to compare them.
    """
    return index.match(
        record,
        top_k=top_k,
        min_probability=min_probability,
        record_types=record_types,
        explain=explain,
        scorer=scorer,
    )
