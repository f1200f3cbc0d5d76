"""Quality metrics for record linkage and deduplication, as pure functions.

Every function here takes plain arrays, Series or mappings and returns numbers, so
each can be checked against a case small enough to compute by hand
(``tests/eval/test_metrics.py``). The harness does the bookkeeping (which pairs a
method proposed, which culture a record belongs to) and calls these.

Conventions, chosen so that a method cannot look good by doing nothing:

* A pair is *true* when both records carry the same ground-truth entity id
  (``child_id`` in the synthetic data, the ``rec-NNNN`` number in FEBRL).
* Recall is always measured against **all** true pairs in the data, not only the
  ones a method happened to score: a true pair lost by blocking counts as missed.
  Hence a precision-recall curve may stop short of recall 1.
* A ratio whose denominator is zero is undefined and returned as ``nan`` (shown
  as "n/a" in reports), never silently as 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

NAN = float("nan")


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else NAN


def _f1(precision: float, recall: float) -> float:
    # A zero on either side makes the harmonic mean zero even if the other is undefined:
    # predicting nothing (precision undefined, recall 0) must score F1 = 0, not n/a.
    if precision == 0 or recall == 0:
        return 0.0
    if math.isnan(precision) or math.isnan(recall):
        return NAN
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 with the counts they came from (counts make reports auditable)."""

    precision: float
    recall: float
    f1: float
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def as_dict(self) -> dict[str, float]:
        """Plain dict for JSON reports."""
        return asdict(self)


def _entity_array(ids: Sequence[Hashable] | pd.Series, entity_of: Mapping | pd.Series) -> pd.Series:
    series = entity_of if isinstance(entity_of, pd.Series) else pd.Series(entity_of, dtype=object)
    return pd.Series(pd.Series(list(ids), dtype=object).map(series), dtype=object)


def label_pairs(
    left_ids: Sequence[Hashable] | pd.Series,
    right_ids: Sequence[Hashable] | pd.Series,
    entity_of: Mapping | pd.Series,
) -> np.ndarray:
    """True where both records of a pair belong to the same entity.

    A record without ground truth never forms a true pair (its entity is unknown).
    """
    left = _entity_array(left_ids, entity_of)
    right = _entity_array(right_ids, entity_of)
    same = (left.to_numpy() == right.to_numpy()) & left.notna().to_numpy()
    return np.asarray(same, dtype=bool)


def count_true_pairs_dedupe(entity_ids: Iterable[Hashable]) -> int:
    """Number of unordered pairs of distinct records that share an entity: sum of n*(n-1)/2."""
    sizes = pd.Series(list(entity_ids), dtype=object).dropna().value_counts()
    return int((sizes * (sizes - 1) // 2).sum())


def count_true_pairs_link(
    query_entities: Iterable[Hashable], target_entities: Iterable[Hashable]
) -> int:
    """Number of (query, target) pairs that share an entity: sum over entities of n_q * n_t."""
    q = pd.Series(list(query_entities), dtype=object).dropna().value_counts()
    t = pd.Series(list(target_entities), dtype=object).dropna().value_counts()
    both = q.index.intersection(t.index)
    return int((q[both] * t[both]).sum())


def pairwise_prf(labels: Sequence[bool] | np.ndarray, n_true: int) -> PRF:
    """Pairwise precision / recall / F1 of a set of *predicted* pairs.

    ``labels`` has one entry per distinct predicted pair (True = a true pair);
    ``n_true`` is the number of true pairs in the whole data set.
    """
    arr = np.asarray(labels, dtype=bool)
    tp = int(arr.sum())
    fp = int(arr.size - tp)
    if tp > n_true:
        raise ValueError(f"{tp} true positives but only {n_true} true pairs: duplicated pairs?")
    fn = n_true - tp
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, n_true)
    return PRF(precision, recall, _f1(precision, recall), tp, fp, fn)


@dataclass(frozen=True)
class PRCurve:
    """Precision and recall when keeping every pair scored at or above each threshold.

    One point per distinct score, thresholds in decreasing order.
    """

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray

    @property
    def f1(self) -> np.ndarray:
        """F1 at each threshold."""
        p, r = self.precision, self.recall
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
        return out


def precision_recall_curve(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, n_true: int
) -> PRCurve:
    """Precision-recall curve over all thresholds, recall relative to all ``n_true`` true pairs."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if s.shape != y.shape:
        raise ValueError("scores and labels must have the same length")
    if s.size == 0:
        empty = np.array([], dtype=float)
        return PRCurve(empty, empty, empty)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    # keep the last index of each run of equal scores: "all pairs with score >= t"
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    tp, fp = tp[last], fp[last]
    precision = tp / (tp + fp)
    recall = tp / n_true if n_true else np.full(tp.shape, NAN)
    return PRCurve(s[last], precision, recall)


def average_precision(curve: PRCurve) -> float:
    """Area under the PR curve as step-wise average precision: sum of (R_i - R_{i-1}) * P_i.

    The same definition as scikit-learn's ``average_precision_score`` (no optimistic
    interpolation), except that recall counts true pairs never scored, so recall
    a method never reaches adds nothing to the area.
    """
    if curve.recall.size == 0:
        return 0.0
    if np.isnan(curve.recall).any():
        return NAN
    steps = np.diff(np.r_[0.0, curve.recall])
    return float(np.sum(steps * curve.precision))


def best_f1(curve: PRCurve) -> tuple[float, float]:
    """Highest F1 over thresholds and the (highest) threshold reaching it.

    This is an oracle figure (the threshold is chosen knowing the truth): it shows
    what a method could reach if tuned, next to what it reaches at its own threshold.
    """
    if curve.f1.size == 0:
        return 0.0, NAN
    f1 = curve.f1
    i = int(np.nanargmax(f1))
    return float(f1[i]), float(curve.thresholds[i])


def recall_at_k(
    ranked: pd.DataFrame,
    entity_of: Mapping | pd.Series,
    queries_with_truth: Iterable[Hashable],
    ks: Sequence[int] = (1, 5, 10),
    query_col: str = "tracing_request_id",
    candidate_col: str = "case_id",
    rank_col: str = "rank",
) -> dict[int, float]:
    """Share of queries whose true match appears within the top k candidates.

    The denominator is the queries that *have* a true match in the data (a tracing
    request for a child nobody registered cannot be found, and is not counted).
    ``rank`` is 1-based, as the method ranked its candidates for that query.
    """
    wanted = set(queries_with_truth)
    n = len(wanted)
    if not n:
        return {k: NAN for k in ks}
    hits = ranked.loc[
        label_pairs(ranked[query_col], ranked[candidate_col], entity_of)
        & ranked[query_col].isin(wanted).to_numpy()
    ]
    best_rank = hits.groupby(query_col)[rank_col].min()
    return {k: float((best_rank <= k).sum()) / n for k in ks}


def bcubed(
    cluster_of: Mapping | pd.Series,
    entity_of: Mapping | pd.Series,
    records: Iterable[Hashable] | None = None,
) -> PRF:
    """B-cubed precision / recall / F1 of a clustering (Bagga & Baldwin 1998).

    For each record r with predicted cluster C(r) and true entity T(r):
    precision_r = |C(r) ∩ T(r)| / |C(r)|, recall_r = |C(r) ∩ T(r)| / |T(r)|;
    both are averaged over ``records`` (default: every record with ground truth).
    A record missing from ``cluster_of`` is its own singleton cluster. Cluster and
    entity sizes are always computed over all records with ground truth, so a
    per-culture subset still sees clusters that cross cultures.
    """
    truth = entity_of if isinstance(entity_of, pd.Series) else pd.Series(entity_of, dtype=object)
    truth = truth.dropna()
    clusters = (
        cluster_of if isinstance(cluster_of, pd.Series) else pd.Series(cluster_of, dtype=object)
    )
    ids = truth.index.to_series()
    # str() so that cluster ids of any type compare; unclustered records get a private label
    predicted = ids.map(clusters)
    label = np.where(
        predicted.isna(), "singleton:" + ids.astype(str), "cluster:" + predicted.astype(str)
    )
    frame = pd.DataFrame(
        {"entity": truth.astype(str).to_numpy(), "cluster": label}, index=truth.index
    )
    both = frame.groupby(["cluster", "entity"])["entity"].transform("size")
    c_size = frame.groupby("cluster")["entity"].transform("size")
    t_size = frame.groupby("entity")["entity"].transform("size")
    per_p = both / c_size
    per_r = both / t_size
    if records is not None:
        keep = frame.index.isin(list(records))
        per_p, per_r = per_p[keep], per_r[keep]
    precision = float(per_p.mean()) if len(per_p) else NAN
    recall = float(per_r.mean()) if len(per_r) else NAN
    return PRF(precision, recall, _f1(precision, recall))


def pair_completeness(candidate_labels: Sequence[bool] | np.ndarray, n_true: int) -> float:
    """Share of all true pairs that survive blocking (``candidate_labels``: one per candidate)."""
    return _ratio(int(np.asarray(candidate_labels, dtype=bool).sum()), n_true)


def reduction_ratio(n_candidates: int, n_possible: int) -> float:
    """1 - candidates / all possible pairs: how much work blocking saves."""
    return 1.0 - _ratio(n_candidates, n_possible)


def cluster_pairwise_prf(
    cluster_of: Mapping | pd.Series,
    entity_of: Mapping | pd.Series,
    records: Iterable[Hashable] | None = None,
    excluded_true_pairs: pd.DataFrame | None = None,
) -> PRF:
    """Pairwise precision / recall / F1 of the pairs a clustering implies.

    Two records are predicted duplicates when they share a cluster. Computed from
    counts (sum of n(n-1)/2 over clusters and over cluster-entity cells), so a
    clustering with one huge cluster does not need its pairs listed. With
    ``records`` only pairs of two records from that subset are counted.
    ``excluded_true_pairs`` (``record_id_l, record_id_r``, true pairs, e.g. withheld
    by consent) are counted nowhere: not as true pairs, and not as predicted pairs
    when the clustering puts them together.
    """
    truth = entity_of if isinstance(entity_of, pd.Series) else pd.Series(entity_of, dtype=object)
    truth = truth.dropna()
    if records is not None:
        truth = truth[truth.index.isin(list(records))]
    clusters = (
        cluster_of if isinstance(cluster_of, pd.Series) else pd.Series(cluster_of, dtype=object)
    )
    ids = truth.index.to_series()
    predicted = ids.map(clusters)
    label = np.where(
        predicted.isna(), "singleton:" + ids.astype(str), "cluster:" + predicted.astype(str)
    )
    frame = pd.DataFrame({"entity": truth.astype(str).to_numpy(), "cluster": label})

    def pairs(sizes: pd.Series) -> int:
        return int((sizes * (sizes - 1) // 2).sum())

    n_pred = pairs(frame.groupby("cluster").size())
    n_true = pairs(frame.groupby("entity").size())
    tp = pairs(frame.groupby(["cluster", "entity"]).size())
    if excluded_true_pairs is not None and len(excluded_true_pairs):
        label_of = pd.Series(label, index=truth.index)
        ex = excluded_true_pairs
        ex = ex[ex["record_id_l"].isin(truth.index) & ex["record_id_r"].isin(truth.index)]
        together = int(
            (
                label_of.reindex(ex["record_id_l"]).to_numpy()
                == label_of.reindex(ex["record_id_r"]).to_numpy()
            ).sum()
        )
        n_true -= len(ex)
        tp -= together
        n_pred -= together
    precision = _ratio(tp, n_pred)
    recall = _ratio(tp, n_true)
    return PRF(precision, recall, _f1(precision, recall), tp, n_pred - tp, n_true - tp)


#: Values of ``consent_for_tracing`` that withhold consent (the engine reads it the same way).
CONSENT_FALSE = frozenset({"false", "0", "no", "n"})


def consent_withheld(value: object) -> bool:
    """True when a ``consent_for_tracing`` value says no (missing means consent)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return str(value).strip().lower() in CONSENT_FALSE


def withheld_true_pairs(
    left: pd.DataFrame, right: pd.DataFrame, *, same_set: bool = False
) -> pd.DataFrame:
    """True pairs that the consent rule forbids proposing: ``record_id_l, record_id_r``.

    ``left`` / ``right`` have ``record_id``, ``entity``, ``agency`` and ``withheld``
    (consent said no). A true pair is withheld when its two records are of different
    agencies and either record withheld consent: kinlink never proposes it, by design,
    so the harness takes it out of every method's denominators alike. With
    ``same_set`` (duplicates) each unordered pair appears once, ``record_id_l <
    record_id_r``.
    """
    cols = ["record_id", "entity", "agency", "withheld"]
    lhs = left[cols].dropna(subset=["entity"])
    rhs = right[cols].dropna(subset=["entity"])
    pairs = lhs.merge(rhs, on="entity", suffixes=("_l", "_r"))
    agency_l = pairs["agency_l"].fillna("").astype(str)
    agency_r = pairs["agency_r"].fillna("").astype(str)
    keep = (agency_l != agency_r) & (pairs["withheld_l"] | pairs["withheld_r"])
    keep &= pairs["record_id_l"] != pairs["record_id_r"]
    if same_set:
        keep &= pairs["record_id_l"].astype(str) < pairs["record_id_r"].astype(str)
    return pairs.loc[keep, ["record_id_l", "record_id_r"]].reset_index(drop=True)


def pair_keys(left_ids: Iterable[Hashable], right_ids: Iterable[Hashable]) -> pd.Index:
    """An index of ``(left, right)`` tuples, for set operations on pairs."""
    return pd.MultiIndex.from_arrays([list(left_ids), list(right_ids)]).to_flat_index()
