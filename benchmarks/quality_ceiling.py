"""How much of the synthetic quality gap could any scorer of kinlink's comparisons close?

    .venv/bin/python benchmarks/quality_ceiling.py --children 5000 --train-seed 101 --test-seed 3

kinlink's Fellegi-Sunter model adds one weight per comparison, as if the comparisons
were independent given match status. On look-alike children (siblings, twins, cousins,
namesakes in one village) they are not. This study asks how far a scorer that is free
of that assumption gets on the *same* candidate pairs and the *same* comparison
levels: a gradient-boosted classifier (scikit-learn's ``HistGradientBoostingClassifier``)
trained on the labelled candidate pairs of one synthetic seed, tested on another.

It is a study, not a method kinlink ships: the classifier learns the generator's
habits from its ground truth, which no real caseload provides (reviewers' decisions
would have to stand in for it). If it is not much better than kinlink's weights, the
errors left are beyond what the comparisons can tell apart, and work belongs in the
comparisons (new evidence), not in the way they are combined.

Features per candidate pair: each comparison's level (categorical), each
term-frequency adjustment and kinlink's match weight; the "context" variant adds the
pair's standing among its records' other candidates (rank by kinlink's weight, gap to
the best weight, candidates within 2 bits of the best). Only pairs kinlink scores at or
above ``--floor`` are re-scored. Figures come from the evaluation harness
(``score_link``) and, for duplicates, the pairwise best F1 over the scored pairs.
Results: docs/matching.md ("How far could the same comparisons go?").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kinlink.eval.datasets import EvalDataset, generate_synthetic
from kinlink.eval.harness import score_link
from kinlink.eval.metrics import (
    best_f1,
    count_true_pairs_dedupe,
    label_pairs,
    precision_recall_curve,
)
from kinlink.matching.default_model import m_source_for
from kinlink.matching.engine import Engine
from kinlink.matching.model import train_model
from kinlink.matching.predict import Session
from kinlink.matching.prepare import prepare_records


def scored_candidates(frame: pd.DataFrame, job: str, cache: Path | None = None) -> pd.DataFrame:
    """Every candidate pair of ``job`` with its comparison levels, tf adjustments and weight.

    ``cache``: a Parquet file to read them from, or to write them to (scoring 5,000
    children's candidates with every column takes minutes).
    """
    if cache is not None and cache.exists():
        return pd.read_parquet(cache)
    engine = Engine()
    prepared = prepare_records(frame)
    model = train_model(prepared, engine=engine, m_from=m_source_for(prepared, job))
    session = Session.open(prepared, model, engine)
    pairs = session.candidates_table(job)
    scored = engine.to_pandas(session.score(pairs, explain=True))
    keep = ["record_id_l", "record_id_r", "record_type_l", "match_weight", "match_probability"]
    keep += [c for c in scored.columns if c.startswith(("gamma_", "mw_tf_adj_"))]
    out = scored[keep].copy()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        out.to_parquet(cache)
    return out


def _features(scored: pd.DataFrame, job: str, context: bool = True) -> pd.DataFrame:
    """Levels (categorical), tf adjustments, kinlink's weight and, with ``context``, the
    pair's standing among the other candidates of its records."""
    x = pd.DataFrame(index=scored.index)
    for c in scored.columns:
        if c.startswith("gamma_"):
            x[c] = scored[c].astype("int64") + 1  # -1 (null) -> 0: categories are >= 0
        elif c.startswith("mw_tf_adj_"):
            x[c] = scored[c].astype(float).fillna(0.0)
    w = x["match_weight"] = scored["match_weight"].astype(float)
    if not context:
        return x
    ends = [_queries(scored)] if job == "link" else [scored["record_id_l"], scored["record_id_r"]]
    for i, end in enumerate(ends):
        best = w.groupby(end).transform("max")
        x[f"rank_{i}"] = w.groupby(end).rank(ascending=False, method="first")
        x[f"gap_to_best_{i}"] = best - w
        x[f"near_best_{i}"] = (w >= best - 2).groupby(end).transform("sum")
    return x


def _shared_odds(scored: pd.DataFrame) -> np.ndarray:
    """Each candidate's odds over 1 + the odds of all its request's candidates: the
    probability that it is *the* child if a request seeks one child (no labels needed)."""
    p = scored["match_probability"].to_numpy(float).clip(1e-12, 1 - 1e-12)
    odds = p / (1 - p)
    total = pd.Series(odds).groupby(_queries(scored).to_numpy()).transform("sum").to_numpy()
    return odds / (1 + total)


def _queries(scored: pd.DataFrame) -> pd.Series:
    left = scored["record_type_l"] == "tracing_request"
    return scored["record_id_l"].where(left, scored["record_id_r"])


def _labels(scored: pd.DataFrame, dataset: EvalDataset) -> np.ndarray:
    return np.asarray(label_pairs(scored["record_id_l"], scored["record_id_r"], dataset.entity_of))


def _links(scored: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    left = scored["record_type_l"] == "tracing_request"
    out = pd.DataFrame(
        {
            "tracing_request_id": _queries(scored),
            "case_id": scored["record_id_r"].where(left, scored["record_id_l"]),
            "score": score,
            "match_weight": score,
        }
    )
    out = out.sort_values(["tracing_request_id", "score"], ascending=[True, False])
    out["rank"] = out.groupby("tracing_request_id").cumcount() + 1
    return out[out["rank"] <= 50].reset_index(drop=True)


def _frame(dataset: EvalDataset, job: str) -> pd.DataFrame:
    return dataset.records if job == "link" else dataset.cases


def _report(
    job: str, name: str, dataset: EvalDataset, scored: pd.DataFrame, score: np.ndarray
) -> None:
    if job == "link":
        fig = score_link(dataset, _links(scored, score), threshold=0.5)
        r = fig["recall_at"]
        print(
            f"  {name:<28} R@1 {r['1']:.3f}  R@10 {r['10']:.3f}  "
            f"best F1 {fig['best_f1']['f1']:.3f}  PR-AUC {fig['pr_auc']:.3f}"
        )
    else:
        n_true = count_true_pairs_dedupe(dataset.cases["record_id"].map(dataset.entity_of))
        curve = precision_recall_curve(score, _labels(scored, dataset), n_true)
        f1, _ = best_f1(curve)
        print(f"  {name:<28} best pairwise F1 {f1:.3f} (true pairs {n_true})")


def _cached(args: argparse.Namespace, job: str, seed: int) -> Path | None:
    return args.cache / f"{job}-{args.children}-{seed}.parquet" if args.cache else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--train-seed", type=int, default=101)
    parser.add_argument("--test-seed", type=int, default=3)
    parser.add_argument("--job", choices=["link", "dedupe", "both"], default="both")
    parser.add_argument("--cache", type=Path, help="directory for the scored candidates")
    parser.add_argument("--floor", type=float, default=1e-3, help="re-score pairs above this")
    args = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier

    train = generate_synthetic(args.children, args.train_seed)
    test = generate_synthetic(args.children, args.test_seed)
    jobs = ["link", "dedupe"] if args.job == "both" else [args.job]
    for job in jobs:
        started = time.perf_counter()
        tr = scored_candidates(_frame(train, job), job, _cached(args, job, args.train_seed))
        te = scored_candidates(_frame(test, job), job, _cached(args, job, args.test_seed))
        y_tr, y_te = _labels(tr, train), _labels(te, test)
        # Only pairs kinlink gives p >= floor are re-scored (the others stay below, in
        # kinlink's order): the classifier's 255 quantile bins of a feature would
        # otherwise lump the few hundred likely pairs of 600,000 candidates into one bin.
        on_tr = (tr["match_probability"] >= args.floor).to_numpy()
        on_te = (te["match_probability"] >= args.floor).to_numpy()
        print(
            f"{job}: {args.children} children; train seed {args.train_seed}: "
            f"{len(tr):,} candidates, {int(on_tr.sum()):,} at p >= {args.floor} with "
            f"{int(y_tr[on_tr].sum()):,} of {int(y_tr.sum()):,} true pairs; test seed "
            f"{args.test_seed}: {len(te):,} candidates, {int(on_te.sum()):,} at p >= "
            f"{args.floor} with {int(y_te[on_te].sum()):,} of {int(y_te.sum()):,} true; "
            f"{time.perf_counter() - started:.0f} s"
        )
        fs = te["match_probability"].to_numpy()
        _report(job, "kinlink (Fellegi-Sunter)", test, te, fs)
        if job == "link":
            _report(job, "kinlink, odds shared", test, te, _shared_odds(te))
        for name, context in (("trees: levels", False), ("trees: levels + context", True)):
            x_tr = _features(tr, job, context)[on_tr]
            x_te = _features(te, job, context)[on_te]
            cat = [c.startswith("gamma_") for c in x_tr.columns]
            clf = HistGradientBoostingClassifier(
                categorical_features=cat, max_iter=300, early_stopping=False, random_state=0
            )
            clf.fit(x_tr, y_tr[on_tr])
            score = fs * 1e-6  # below the floor: kinlink's order, under every re-scored pair
            score[on_te] = 1e-6 + clf.predict_proba(x_te[x_tr.columns])[:, 1]
            _report(job, name, test, te, score)


if __name__ == "__main__":
    main()
