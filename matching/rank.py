"""Linking tracing requests to cases: score, then rank each request's candidates.

Output contract (``kinlink link``): ``tracing_request_id, case_id, match_probability,
match_weight, rank`` with rank 1 the best, at most ``MAX_CANDIDATES`` per request and
none below ``MIN_LINK_PROBABILITY``. The floor is deliberately low: a caseworker would
rather see a weak candidate ranked 7th than miss the child, and rank (not a cut-off)
is what the review screen shows first.
"""

from __future__ import annotations

import pandas as pd

from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.matching.engine import Engine
from kinlink.matching.model import KinlinkModel, data_fingerprint, train_model
from kinlink.matching.predict import Session
from kinlink.matching.prepare import prepare_records

#: Candidates below this match probability are not listed.
MIN_LINK_PROBABILITY = 1e-7
#: At most this many candidates per tracing request.
MAX_CANDIDATES = 50

#: The columns of Splink's scored pairs that ranking reads.
SCORED_COLUMNS = [
    "record_id_l",
    "record_id_r",
    "record_type_l",
    "match_probability",
    "match_weight",
]

LINK_COLUMNS = ["tracing_request_id", "case_id", "match_probability", "match_weight", "rank"]


def rank_links(scored: pd.DataFrame, max_candidates: int = MAX_CANDIDATES) -> pd.DataFrame:
    """Orient scored pairs request->case, rank by match weight, keep the best few."""
    if scored.empty:
        return pd.DataFrame(columns=LINK_COLUMNS)
    is_tr_left = scored["record_type_l"] == "tracing_request"
    out = pd.DataFrame(
        {
            "tracing_request_id": scored["record_id_l"].where(is_tr_left, scored["record_id_r"]),
            "case_id": scored["record_id_r"].where(is_tr_left, scored["record_id_l"]),
            "match_probability": scored["match_probability"].astype(float),
            "match_weight": scored["match_weight"].astype(float),
        }
    )
    out = out.sort_values(
        ["tracing_request_id", "match_weight", "case_id"], ascending=[True, False, True]
    )
    out["rank"] = out.groupby("tracing_request_id").cumcount() + 1
    out = out[out["rank"] <= max_candidates]
    return out[LINK_COLUMNS].reset_index(drop=True)


def link_records(
    frame: pd.DataFrame,
    model: KinlinkModel | None = None,
    *,
    min_probability: float = MIN_LINK_PROBABILITY,
    max_candidates: int = MAX_CANDIDATES,
    max_block_size: int = MAX_BLOCK_SIZE,
    engine: Engine | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Candidates for every tracing request in ``frame`` among the cases in ``frame``.

    Without a model, one is trained on ``frame`` itself (unsupervised, so no labels are
    needed).
    """
    engine = engine or Engine()
    prepared = prepare_records(frame, progress=progress)
    if model is None:
        from kinlink.matching.default_model import m_source_for

        model = train_model(
            prepared,
            engine=engine,
            m_from=m_source_for(prepared, "link"),
            fingerprint=data_fingerprint(frame),
        )
    session = Session.open(prepared, model, engine)
    del prepared  # the engine holds what scoring reads
    # A tracing request's candidates all fall in one part: ranking part by part keeps
    # only each request's best few in memory.
    parts = list(
        session.score_in_parts(
            "link",
            threshold_match_probability=min_probability,
            columns=SCORED_COLUMNS,
            max_block_size=max_block_size,
            progress=progress,
            reduce=lambda scored: rank_links(scored, max_candidates),
        )
    )
    if not parts:
        return pd.DataFrame(columns=LINK_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["tracing_request_id", "rank"]).reset_index(drop=True)
