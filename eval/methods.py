"""The one interface every matcher is measured through: kinlink and each baseline.

The harness hands a method a frame of record-format-v1 records and scores what comes
back; it never looks inside. Keeping the contract this small is what makes "kinlink
beside the baselines, on the same data, in the same run" cheap to keep true.

Outputs (pandas DataFrames, ids as strings):

``link(frame)``
    ``tracing_request_id, case_id, score, match_weight, rank`` and optionally
    ``decision``. ``frame`` holds tracing requests and cases; one row per candidate
    case for a tracing request, ``rank`` 1-based within that request. ``score`` is
    whatever the method ranks and thresholds by (a probability for Splink-based
    methods, a relative score for Primero); ``match_weight`` is NaN when the method
    has none. ``decision`` (bool) is the method's own "this is a match" call; when
    absent the harness uses ``score >= link_threshold``.
``dedupe(frame)``
    ``(pairs, clusters)``: ``pairs`` = ``record_id_l, record_id_r, score,
    match_weight`` (every scored pair, for the precision-recall curve), ``clusters`` =
    ``record_id, cluster_id`` (the method's decision; pairwise and B-cubed figures
    come from it). ``frame`` holds cases only.
``candidate_pairs(frame, task)``
    ``record_id_l, record_id_r`` that survive blocking, or ``None`` if the method
    has no blocking stage. ``task`` is ``"link"`` or ``"dedupe"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

LINK_COLUMNS = ("tracing_request_id", "case_id", "score", "match_weight", "rank")
PAIR_COLUMNS = ("record_id_l", "record_id_r", "score", "match_weight")
CLUSTER_COLUMNS = ("record_id", "cluster_id")


@runtime_checkable
class Method(Protocol):
    """What the harness needs from a matcher (see the module docstring for the frames)."""

    name: str
    label: str
    score_kind: str
    link_threshold: float
    decision_rule: str

    def unavailable_reason(self) -> str | None:
        """``None`` when the method can run, else a sentence saying why not."""
        ...

    def link(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rank cases for each tracing request in ``frame``."""
        ...

    def dedupe(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Score pairs of cases and cluster them."""
        ...

    def candidate_pairs(self, frame: pd.DataFrame, task: str) -> pd.DataFrame | None:
        """Pairs that survive blocking, or ``None`` for a method without blocking."""
        ...


# -- helpers shared by the implementations ------------------------------------------


def split_link_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tracing requests, cases) of a mixed frame, index reset."""
    types = frame["record_type"]
    return (
        frame[types == "tracing_request"].reset_index(drop=True),
        frame[types == "case"].reset_index(drop=True),
    )


def add_rank(links: pd.DataFrame) -> pd.DataFrame:
    """1-based rank of each case within its tracing request, best score first.

    Ties keep the order the method produced them in (stable sort), so a method that
    cannot separate candidates is not flattered by the harness.
    """
    out = links.reset_index(drop=True)
    out = out.sort_values(["tracing_request_id", "score"], ascending=[True, False], kind="stable")
    out["rank"] = out.groupby("tracing_request_id").cumcount() + 1
    return out.reset_index(drop=True)


def canonical_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Order each pair's ids (l < r), drop self-pairs, keep the best score per pair."""
    if pairs.empty:
        return pairs.reindex(columns=list(pairs.columns)).reset_index(drop=True)
    out = pairs.copy()
    left = out["record_id_l"].astype(str).to_numpy()
    right = out["record_id_r"].astype(str).to_numpy()
    swap = left > right
    out["record_id_l"] = np.where(swap, right, left)
    out["record_id_r"] = np.where(swap, left, right)
    out = out[out["record_id_l"] != out["record_id_r"]]
    if "score" in out.columns:
        out = out.sort_values("score", ascending=False, kind="stable")
    return out.drop_duplicates(["record_id_l", "record_id_r"]).reset_index(drop=True)


def connected_components(pairs: Iterable[tuple[str, str]], records: Iterable[str]) -> pd.DataFrame:
    """Cluster ``records`` by the connected components of ``pairs`` (union-find).

    This is what a caseworker gets by merging every pair a method calls a match;
    records in no pair are singletons.
    """
    parent: dict[str, str] = {r: r for r in records}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in pairs:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    ids = list(parent)
    return pd.DataFrame({"record_id": ids, "cluster_id": [find(r) for r in ids]})


def empty_links() -> pd.DataFrame:
    """A link result with no rows (and the right columns)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
