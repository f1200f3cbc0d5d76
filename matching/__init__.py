"""Matching: the Splink model, scoring, ranking, clustering and explanations.

Public API (the contract the CLI, the evaluation harness and the review API rely on):

* :func:`link_records` - tracing requests to cases, ranked;
* :func:`dedupe_records` - duplicate cases and their clusters;
* :func:`candidate_pairs` - pairs after blocking (re-exported from ``kinlink.blocking``);
* :func:`train_model`, :func:`save_model`, :func:`load_model` - the model JSON;
* :class:`MatchIndex`, :func:`match_record` - one new record, in milliseconds;
* :func:`prepare_records` - the per-record preparation everything above shares.
"""

from kinlink.blocking.candidates import candidate_pairs
from kinlink.matching.cluster import DEFAULT_THRESHOLD, dedupe_records
from kinlink.matching.engine import Engine
from kinlink.matching.explain import Contribution, Explainer
from kinlink.matching.model import (
    KinlinkModel,
    data_fingerprint,
    load_model,
    save_model,
    train_model,
)
from kinlink.matching.prepare import prepare_records
from kinlink.matching.rank import MAX_CANDIDATES, MIN_LINK_PROBABILITY, link_records
from kinlink.matching.realtime import Candidate, MatchIndex, match_record

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_CANDIDATES",
    "MIN_LINK_PROBABILITY",
    "Candidate",
    "Contribution",
    "Engine",
    "Explainer",
    "KinlinkModel",
    "MatchIndex",
    "candidate_pairs",
    "data_fingerprint",
    "dedupe_records",
    "link_records",
    "load_model",
    "match_record",
    "prepare_records",
    "save_model",
    "train_model",
]
