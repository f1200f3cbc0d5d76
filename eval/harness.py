"""Run every method on every data set and score it: the engine behind ``kinlink eval``.

For each data set and each method the harness runs the stages the data set supports
and turns their output into figures with :mod:`kinlink.eval.metrics`:

* ``link`` (tracing request -> case): recall@1/5/10, pairwise P/R/F1 at the method's
  own decision, best F1 over thresholds, PR-AUC;
* ``dedupe`` (duplicates among cases): pairwise and B-cubed P/R/F1 of the method's
  clusters, best F1 and PR-AUC over its scored pairs;
* ``blocking_link`` / ``blocking_dedupe``: pair completeness, number of candidate
  pairs, reduction ratio;
* the same per naming culture, and the time and peak memory of each stage.

The result is a JSON-serialisable dict (:func:`evaluate`), which
:mod:`kinlink.eval.report` renders; plots are drawn from the dict alone, so a
saved ``report.json`` can be re-plotted (the notebook does this).

A method that raises is recorded as failed with its error and the run goes on: one
broken baseline must not hide the others' figures.
"""

from __future__ import annotations

import datetime as dt
import math
import platform
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kinlink.eval import metrics as m
from kinlink.eval.datasets import DEDUPE, LINK, EvalDataset
from kinlink.eval.methods import Method, canonical_pairs
from kinlink.eval.resources import measure

KS = (1, 5, 10)
_PRF_KEYS = ("precision", "recall", "f1")
CURVE_POINTS = 200
HIST_BINS = 40

Progress = Callable[[str], None]


def _clean(value: Any) -> Any:
    """NaN -> None and numpy scalars -> Python, recursively, so the dict is valid JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _curve_summary(scores: np.ndarray, labels: np.ndarray, n_true: int) -> dict[str, Any]:
    curve = m.precision_recall_curve(scores, labels, n_true)
    f1, threshold = m.best_f1(curve)
    idx = np.unique(np.linspace(0, max(curve.thresholds.size - 1, 0), CURVE_POINTS).astype(int))
    keep = idx if curve.thresholds.size else np.array([], dtype=int)
    return {
        "pr_auc": m.average_precision(curve),
        "best_f1": {"f1": f1, "threshold": threshold},
        "curve": {
            "threshold": curve.thresholds[keep].tolist(),
            "precision": curve.precision[keep].tolist(),
            "recall": curve.recall[keep].tolist(),
        },
    }


def _histogram(values: np.ndarray, labels: np.ndarray, axis: str) -> dict[str, Any]:
    finite = np.isfinite(values)
    values, labels = values[finite], labels[finite]
    if values.size == 0:
        return {"axis": axis, "edges": [], "match": [], "non_match": []}
    lo, hi = float(values.min()), float(values.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, HIST_BINS + 1)
    return {
        "axis": axis,
        "constant": hi == lo,  # e.g. exact match: nothing to plot
        "edges": edges.tolist(),
        "match": np.histogram(values[labels], edges)[0].tolist(),
        "non_match": np.histogram(values[~labels], edges)[0].tolist(),
    }


def _score_axis(scores: pd.DataFrame) -> tuple[np.ndarray, str]:
    weights = scores["match_weight"].astype(float).to_numpy()
    if np.isfinite(weights).any():
        return weights, "match weight"
    return scores["score"].astype(float).to_numpy(), "score"


def _drop_pairs(frame: pd.DataFrame, left: str, right: str, pairs: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows whose (left, right) is one of ``pairs`` (in either order).

    Used to take the true pairs consent withholds out of every method's output, so no
    method is rewarded or penalised for a pair kinlink may not propose.
    """
    if not len(pairs) or not len(frame):
        return frame
    gone = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    gone |= {(b, a) for a, b in gone}
    keep = [key not in gone for key in zip(frame[left], frame[right], strict=True)]
    return frame[np.asarray(keep, dtype=bool)]


# -- link -------------------------------------------------------------------------------


def _link_figures(
    links: pd.DataFrame,
    requests: pd.Series,
    cases: pd.Series,
    entity_of: pd.Series,
    threshold: float,
    withheld: pd.DataFrame,
) -> dict[str, Any]:
    """Figures for one set of tracing requests (all, or one culture's).

    ``links`` no longer holds the true pairs consent withholds; ``withheld`` lists
    them, and they leave the denominators too: a request counts for recall@k only
    if at least one of its true cases may be proposed.
    """
    links = links[links["tracing_request_id"].isin(set(requests))]
    case_entities = cases.map(entity_of)
    withheld = withheld[withheld["record_id_l"].isin(set(requests))]
    cases_per_entity = case_entities.dropna().value_counts()
    true_cases = requests.map(entity_of).map(cases_per_entity).fillna(0).astype(int)
    withheld_per_request = withheld["record_id_l"].value_counts()
    allowed = true_cases - requests.map(withheld_per_request).fillna(0).astype(int)
    with_truth = requests[(allowed > 0).to_numpy()]
    n_true = m.count_true_pairs_link(requests.map(entity_of), case_entities) - len(withheld)
    pairs = links.sort_values("score", ascending=False, kind="stable").drop_duplicates(
        ["tracing_request_id", "case_id"]
    )
    labels = m.label_pairs(pairs["tracing_request_id"], pairs["case_id"], entity_of)
    decided = (
        pairs["decision"].astype(bool).to_numpy()
        if "decision" in pairs
        else (pairs["score"].astype(float) >= threshold).to_numpy()
    )
    recall = m.recall_at_k(links, entity_of, with_truth, KS)
    out: dict[str, Any] = {
        "n_tracing_requests": len(requests),
        "n_requests_with_true_case": len(with_truth),
        "n_requests_withheld_by_consent": int(((true_cases > 0) & (allowed <= 0)).sum()),
        "n_true_pairs": n_true,
        "n_withheld_by_consent": len(withheld),
        "n_scored_pairs": len(pairs),
        "recall_at": {str(k): v for k, v in recall.items()},
        "at_decision": m.pairwise_prf(labels[decided], n_true).as_dict(),
    }
    out.update(_curve_summary(pairs["score"].astype(float).to_numpy(), labels, n_true))
    return out


def score_link(dataset: EvalDataset, links: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """All link figures for one method's output, overall and per culture."""
    entity_of, culture_of = dataset.entity_of, dataset.culture_of
    requests = dataset.tracing_requests["record_id"].astype(str)
    cases = dataset.cases["record_id"].astype(str)
    links = links.copy()
    links["tracing_request_id"] = links["tracing_request_id"].astype(str)
    links["case_id"] = links["case_id"].astype(str)
    links = links[links["case_id"].isin(set(cases))]
    withheld = dataset.withheld_link_pairs
    links = _drop_pairs(links, "tracing_request_id", "case_id", withheld)
    overall = _link_figures(links, requests, cases, entity_of, threshold, withheld)
    pairs = links.drop_duplicates(["tracing_request_id", "case_id"])
    values, axis = _score_axis(pairs)
    overall["histogram"] = _histogram(
        values, m.label_pairs(pairs["tracing_request_id"], pairs["case_id"], entity_of), axis
    )
    by_culture = {}
    for culture in dataset.cultures:
        subset = requests[requests.map(culture_of) == culture]
        if len(subset):
            figures = _link_figures(links, subset, cases, entity_of, threshold, withheld)
            figures.pop("curve")
            by_culture[culture] = figures
    overall["by_culture"] = by_culture
    return overall


# -- dedupe -----------------------------------------------------------------------------


def _dedupe_figures(
    pairs: pd.DataFrame,
    cluster_of: pd.Series,
    records: pd.Series,
    case_truth: pd.Series,
    withheld: pd.DataFrame,
) -> dict[str, Any]:
    """Figures for a subset of the cases; ``case_truth`` covers all cases, so B-cubed
    sees a cluster's members from other cultures too. The true pairs consent
    withholds (``withheld``, already gone from ``pairs``) count nowhere in the
    pairwise figures; B-cubed is per record and left as it is."""
    entity_of = case_truth
    wanted = set(records)
    sub = pairs[pairs["record_id_l"].isin(wanted) & pairs["record_id_r"].isin(wanted)]
    withheld = withheld[withheld["record_id_l"].isin(wanted) & withheld["record_id_r"].isin(wanted)]
    n_true = m.count_true_pairs_dedupe(records.map(entity_of)) - len(withheld)
    labels = m.label_pairs(sub["record_id_l"], sub["record_id_r"], entity_of)
    truth = entity_of[entity_of.index.isin(wanted)]
    out: dict[str, Any] = {
        "n_records": len(records),
        "n_true_pairs": n_true,
        "n_withheld_by_consent": len(withheld),
        "n_scored_pairs": len(sub),
        "n_clusters": int(cluster_of[cluster_of.index.isin(wanted)].nunique()),
        "pairwise": m.cluster_pairwise_prf(
            cluster_of, truth, excluded_true_pairs=withheld
        ).as_dict(),
        "bcubed": {
            k: v
            for k, v in m.bcubed(cluster_of, case_truth, records=records).as_dict().items()
            if k in _PRF_KEYS
        },
    }
    out.update(_curve_summary(sub["score"].astype(float).to_numpy(), labels, n_true))
    return out


def score_dedupe(
    dataset: EvalDataset, pairs: pd.DataFrame, clusters: pd.DataFrame
) -> dict[str, Any]:
    """All deduplication figures for one method's output, overall and per culture.

    Per culture, only pairs of two records of that culture count (a child's records
    share a culture, so every true pair is counted once).
    """
    entity_of, culture_of = dataset.entity_of, dataset.culture_of
    records = dataset.cases["record_id"].astype(str)
    pairs = canonical_pairs(pairs)
    cluster_of = (
        clusters.assign(record_id=clusters["record_id"].astype(str))
        .set_index("record_id")["cluster_id"]
        .astype(str)
    )
    cluster_of = cluster_of[cluster_of.index.isin(set(records))]
    case_truth = entity_of[entity_of.index.isin(set(records))]
    withheld = dataset.withheld_dedupe_pairs
    pairs = _drop_pairs(pairs, "record_id_l", "record_id_r", withheld)
    overall = _dedupe_figures(pairs, cluster_of, records, case_truth, withheld)
    values, axis = _score_axis(pairs)
    overall["histogram"] = _histogram(
        values, m.label_pairs(pairs["record_id_l"], pairs["record_id_r"], entity_of), axis
    )
    by_culture = {}
    for culture in dataset.cultures:
        subset = records[records.map(culture_of) == culture]
        if len(subset):
            figures = _dedupe_figures(pairs, cluster_of, subset, case_truth, withheld)
            figures.pop("curve")
            by_culture[culture] = figures
    overall["by_culture"] = by_culture
    return overall


# -- blocking ---------------------------------------------------------------------------


def score_blocking(
    dataset: EvalDataset, candidates: pd.DataFrame | None, task: str
) -> dict[str, Any]:
    """Pair completeness, candidate count and reduction ratio of one method's blocking."""
    if candidates is None:
        return {"applicable": False}
    entity_of, culture_of = dataset.entity_of, dataset.culture_of
    cand = canonical_pairs(candidates[["record_id_l", "record_id_r"]].astype(str))
    cases = dataset.cases["record_id"].astype(str)
    if task == LINK:
        queries = dataset.tracing_requests["record_id"].astype(str)
        n_possible = len(queries) * len(cases)
        withheld = dataset.withheld_link_pairs
    else:
        queries = cases
        n_possible = len(cases) * (len(cases) - 1) // 2
        withheld = dataset.withheld_dedupe_pairs
    # true pairs consent withholds are out of the measure, as in the link/dedupe figures
    cand = _drop_pairs(cand, "record_id_l", "record_id_r", withheld)
    labels = m.label_pairs(cand["record_id_l"], cand["record_id_r"], entity_of)

    def n_true_for(q: pd.Series) -> int:
        wanted = set(q)
        if task == LINK:
            gone = int(withheld["record_id_l"].isin(wanted).sum())
            return m.count_true_pairs_link(q.map(entity_of), cases.map(entity_of)) - gone
        gone = int(
            (withheld["record_id_l"].isin(wanted) & withheld["record_id_r"].isin(wanted)).sum()
        )
        return m.count_true_pairs_dedupe(q.map(entity_of)) - gone

    out: dict[str, Any] = {
        "applicable": True,
        "n_candidate_pairs": len(cand),
        "n_possible_pairs": n_possible,
        "reduction_ratio": m.reduction_ratio(len(cand), n_possible),
        "pair_completeness": m.pair_completeness(labels, n_true_for(queries)),
    }
    by_culture = {}
    left_culture = cand["record_id_l"].map(culture_of).to_numpy()
    right_culture = cand["record_id_r"].map(culture_of).to_numpy()
    for culture in dataset.cultures:
        q = queries[queries.map(culture_of) == culture]
        in_culture = (left_culture == culture) | (right_culture == culture)
        by_culture[culture] = {
            "pair_completeness": m.pair_completeness(labels & in_culture, n_true_for(q))
        }
    out["by_culture"] = by_culture
    return out


# -- driver -----------------------------------------------------------------------------


def _run_stage(result: dict[str, Any], stage: str, work: Callable[[], Any]) -> tuple[bool, Any]:
    with measure() as cost:
        try:
            value = work()
            ok = True
        except Exception as exc:
            value = None
            ok = False
            result.setdefault("errors", {})[stage] = "".join(
                traceback.format_exception_only(type(exc), exc)
            ).strip()
            result.setdefault("tracebacks", {})[stage] = traceback.format_exc()
    result.setdefault("resources", {})[stage] = cost.as_dict()
    return ok, value


def evaluate_method(
    dataset: EvalDataset, method: Method, progress: Progress | None = None
) -> dict[str, Any]:
    """Run one method on one data set: every stage the data set supports."""
    note = progress or (lambda _stage: None)
    result: dict[str, Any] = {
        "name": method.name,
        "label": method.label,
        "score_kind": method.score_kind,
        "decision_rule": method.decision_rule,
    }
    reason = method.unavailable_reason()
    if reason:
        result["available"] = False
        result["reason"] = reason
        return result
    result["available"] = True
    if LINK in dataset.tasks:
        note(f"{dataset.name}: {method.name} link")
        ok, links = _run_stage(result, "link", lambda: method.link(dataset.records))
        if ok:
            result["link"] = score_link(dataset, links, method.link_threshold)
        note(f"{dataset.name}: {method.name} blocking (link)")
        ok, cand = _run_stage(
            result, "blocking_link", lambda: method.candidate_pairs(dataset.records, LINK)
        )
        if ok:
            result["blocking_link"] = score_blocking(dataset, cand, LINK)
    if DEDUPE in dataset.tasks:
        cases = dataset.cases
        note(f"{dataset.name}: {method.name} dedupe")
        ok, out = _run_stage(result, "dedupe", lambda: method.dedupe(cases))
        if ok:
            pairs, clusters = out
            result["dedupe"] = score_dedupe(dataset, pairs, clusters)
        note(f"{dataset.name}: {method.name} blocking (dedupe)")
        ok, cand = _run_stage(
            result, "blocking_dedupe", lambda: method.candidate_pairs(cases, DEDUPE)
        )
        if ok:
            result["blocking_dedupe"] = score_blocking(dataset, cand, DEDUPE)
    return result


def _withheld_summary(dataset: EvalDataset) -> dict[str, Any]:
    """How many true pairs consent withholds, shown with the data set's description."""
    counts = {}
    parts = []
    if LINK in dataset.tasks:
        counts[LINK] = len(dataset.withheld_link_pairs)
        parts.append(f"{counts[LINK]:,} linkage pairs")
    if DEDUPE in dataset.tasks:
        counts[DEDUPE] = len(dataset.withheld_dedupe_pairs)
        parts.append(f"{counts[DEDUPE]:,} duplicate pairs")
    description = dataset.description or ""
    if parts:
        note = (
            "withheld by consent: " + ", ".join(parts) + " (true pairs across agencies "
            "with consent_for_tracing=false; left out of every method's figures)"
        )
        description = f"{description}; {note}" if description else note
    return {"withheld_by_consent": counts, "description": description}


def _stage_count(datasets: Sequence[EvalDataset], methods: Sequence[Method]) -> int:
    return sum(2 * len(d.tasks) for d in datasets) * len(methods)


def evaluate(
    datasets: Iterable[EvalDataset],
    methods: Sequence[Method],
    progress: bool = False,
    command: str | None = None,
) -> dict[str, Any]:
    """Evaluate ``methods`` on ``datasets``; returns the report dict (JSON-ready)."""
    from tqdm import tqdm

    import kinlink

    datasets = list(datasets)
    bar = tqdm(total=_stage_count(datasets, methods), disable=not progress, unit="stage")

    def note(stage: str) -> None:
        bar.set_description(stage, refresh=False)
        bar.update(1)

    report: dict[str, Any] = {
        "kinlink_version": kinlink.__version__,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.machine(),
        },
        "datasets": [],
    }
    try:
        for dataset in datasets:
            entry: dict[str, Any] = dataset.summary()
            entry.update(_withheld_summary(dataset))
            entry["methods"] = []
            for method in methods:
                entry["methods"].append(evaluate_method(dataset, method, note))
            report["datasets"].append(entry)
    finally:
        bar.close()
    return _clean(report)


def failures(report: dict[str, Any]) -> list[str]:
    """``"<data set>/<method>/<stage>: <error>"`` for every stage that raised."""
    out = []
    for ds in report["datasets"]:
        for method in ds["methods"]:
            for stage, error in (method.get("errors") or {}).items():
                out.append(f"{ds['name']}/{method['name']}/{stage}: {error}")
    return out
