"""Duplicate cases: score case-case pairs, then cluster at a threshold.

Clusters are connected components of the pairs at or above the threshold (Splink's
clustering on the backend, so it scales to a million records). Every case appears in
exactly one cluster; a case with no duplicate is its own cluster.
"""

from __future__ import annotations

import pandas as pd

from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.matching.engine import Engine
from kinlink.matching.model import KinlinkModel, data_fingerprint, train_model
from kinlink.matching.predict import Session
from kinlink.matching.prepare import prepare_records

#: Default match-probability threshold for calling two cases duplicates.
DEFAULT_THRESHOLD = 0.9
#: Pairs below this probability are not written out at all.
MIN_PAIR_PROBABILITY = 0.01

PAIR_COLUMNS = ["record_id_l", "record_id_r", "match_probability", "match_weight"]


def dedupe_records(
    frame: pd.DataFrame,
    threshold: float | None = None,
    model: KinlinkModel | None = None,
    *,
    min_probability: float = MIN_PAIR_PROBABILITY,
    max_block_size: int = MAX_BLOCK_SIZE,
    engine: Engine | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duplicate pairs among the cases of ``frame``, and clusters at ``threshold``.

    Tracing requests in ``frame`` are ignored (they describe a child, they are not one
    registration of it). Returns ``(pairs, clusters)``.
    """
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    engine = engine or Engine()
    cases = (
        frame[frame["record_type"].fillna("case") == "case"] if "record_type" in frame else frame
    )
    prepared = prepare_records(cases, progress=progress)
    if model is None:
        from kinlink.matching.default_model import m_source_for

        model = train_model(
            prepared,
            engine=engine,
            m_from=m_source_for(prepared, "dedupe"),
            fingerprint=data_fingerprint(cases),
        )
    session = Session.open(prepared, model, engine)
    candidates = session.candidates_table("dedupe", max_block_size)
    scored = session.score(candidates, threshold_match_probability=min(min_probability, threshold))
    clusters_sdf = session.linker.clustering.cluster_pairwise_predictions_at_threshold(
        scored, threshold_match_probability=threshold
    )
    clusters = clusters_sdf.as_pandas_dataframe()[["record_id", "cluster_id"]]
    pairs = scored.as_pandas_dataframe()[PAIR_COLUMNS]
    pairs = pairs.sort_values("match_weight", ascending=False).reset_index(drop=True)
    return pairs, clusters.sort_values(["cluster_id", "record_id"]).reset_index(drop=True)
