"""Exact name match: the floor.

Two records match when their full names are identical after case folding, Unicode
normalisation and space collapsing (``name``, or first/middle/last joined when
``name`` is missing). This is what a spreadsheet filter or a SQL ``=`` gives an agency
without a matching tool; every other method must beat it on recall without losing
much precision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinlink.eval.baselines._text import full_name
from kinlink.eval.methods import (
    add_rank,
    canonical_pairs,
    empty_links,
    split_link_frame,
)


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    keys = pd.DataFrame(
        {
            "record_id": frame["record_id"].astype(str),
            "key": [full_name(r) for r in frame.to_dict("records")],
        }
    )
    return keys.dropna(subset=["key"])


class ExactNameMethod:
    """Same normalised full name = match (score 1); everything else is unseen."""

    name = "exact"
    label = "Exact name"
    score_kind = "1 for identical names (no ranking beyond registration order)"
    link_threshold = 1.0
    decision_rule = "identical normalised full name"

    def unavailable_reason(self) -> str | None:
        """Always available: needs nothing beyond pandas."""
        return None

    def link(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Every case with the tracing request's exact name, in registration (file) order."""
        requests, cases = split_link_frame(frame)
        joined = _keys(requests).merge(_keys(cases), on="key", suffixes=("_t", "_c"))
        if joined.empty:
            return empty_links()
        links = pd.DataFrame(
            {
                "tracing_request_id": joined["record_id_t"],
                "case_id": joined["record_id_c"],
                "score": 1.0,
                "match_weight": np.nan,
            }
        )
        return add_rank(links)

    def dedupe(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Pairs of cases with the same exact name; clusters are the name groups."""
        keys = _keys(frame)
        pairs = keys.merge(keys, on="key", suffixes=("_l", "_r"))
        pairs = pairs[pairs["record_id_l"] < pairs["record_id_r"]]
        pairs = canonical_pairs(
            pd.DataFrame(
                {
                    "record_id_l": pairs["record_id_l"],
                    "record_id_r": pairs["record_id_r"],
                    "score": 1.0,
                    "match_weight": np.nan,
                }
            )
        )
        ids = frame["record_id"].astype(str)
        key_of = keys.set_index("record_id")["key"]
        cluster = ids.map(key_of)
        cluster = cluster.where(cluster.notna(), "id:" + ids)
        return pairs, pd.DataFrame({"record_id": ids, "cluster_id": "name:" + cluster})

    def candidate_pairs(self, frame: pd.DataFrame, task: str) -> pd.DataFrame | None:
        """Blocking on the exact name is the whole method: candidates = predictions."""
        if task == "link":
            links = self.link(frame)
            return pd.DataFrame(
                {"record_id_l": links["tracing_request_id"], "record_id_r": links["case_id"]}
            )
        pairs, _ = self.dedupe(frame)
        return pairs[["record_id_l", "record_id_r"]]
