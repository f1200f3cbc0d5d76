"""Matching quality on one data set, with the evaluation harness's own scoring.

    .venv/bin/python benchmarks/quality_matching.py synthetic:2000:1
    .venv/bin/python benchmarks/quality_matching.py synthetic:2000:1 --misses 15
    .venv/bin/python benchmarks/quality_matching.py febrl4-nossid
    .venv/bin/python benchmarks/quality_matching.py febrl3-nossid --skip-link

The data set spec is the harness's (``kinlink.eval.datasets.load_dataset``): a
``kinlink synth`` directory, ``febrl3[-nossid]``, ``febrl4[-nossid]`` or
``synthetic:CHILDREN:SEED``. kinlink runs exactly as the harness runs it
(``link_records(frame)`` and ``dedupe_records(cases)``, each training its own model
on the data unless ``--model`` is given), and the figures come from
``kinlink.eval.harness.score_link`` / ``score_dedupe``, so they are the figures the
evaluation report shows. ``--misses N`` prints N tracing requests whose true case is
not ranked first, with the top two candidates, for reading failures by hand.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def _print_link(fig: dict) -> None:
    r = fig["recall_at"]
    print(
        f"link: requests with a true case {fig['n_requests_with_true_case']}, "
        f"scored pairs {fig['n_scored_pairs']}, recall@1 {_fmt(r['1'])}, "
        f"recall@5 {_fmt(r['5'])}, recall@10 {_fmt(r['10'])}, "
        f"best F1 {_fmt(fig['best_f1']['f1'])}; withheld by consent: "
        f"{fig.get('n_withheld_by_consent', 0)} pairs "
        f"({fig.get('n_requests_withheld_by_consent', 0)} requests)"
    )
    rows = []
    for culture, f in fig["by_culture"].items():
        rr = f["recall_at"]
        n = f["n_requests_with_true_case"]
        rows.append((culture, n, rr["1"], rr["10"], f["best_f1"]["f1"]))
    if rows:
        print(f"  {'culture':<12} {'n':>5} {'r@1':>6} {'r@10':>6} {'bestF1':>6}")
        for c, n, r1, r10, f1 in rows:
            print(f"  {c:<12} {n:>5} {_fmt(r1):>6} {_fmt(r10):>6} {_fmt(f1):>6}")


def _print_dedupe(fig: dict) -> None:
    print(
        f"dedupe: true pairs {fig['n_true_pairs']}, scored pairs {fig['n_scored_pairs']}, "
        f"best F1 {_fmt(fig['best_f1']['f1'])} (weight {fig['best_f1']['threshold']:.2f}), "
        f"clusters pairwise F1 {_fmt(fig['pairwise']['f1'])}, "
        f"B-cubed F1 {_fmt(fig['bcubed']['f1'])}; withheld by consent: "
        f"{fig.get('n_withheld_by_consent', 0)} pairs"
    )
    rows = [(c, f["n_true_pairs"], f["best_f1"]["f1"]) for c, f in fig["by_culture"].items()]
    if rows:
        print("  " + ", ".join(f"{c} {_fmt(f1)} ({n})" for c, n, f1 in rows))


def _misses(dataset, links: pd.DataFrame, n: int) -> None:
    entity = dataset.entity_of
    recs = dataset.records.set_index("record_id")
    cols = ["name", "name_first", "name_last", "sex", "date_of_birth", "age", "estimated"]
    cols += ["mother_name", "father_name", "inquirer_name", "inquirer_relation"]
    cases = set(dataset.cases["record_id"].astype(str))
    case_entities = set(dataset.cases["record_id"].map(entity))
    withheld = dataset.withheld_link_pairs
    gone = set(zip(withheld["record_id_l"], withheld["record_id_r"], strict=True))
    allowed = {
        tr: {c for c in cases if entity.get(c) == entity.get(tr) and (tr, c) not in gone}
        for tr in withheld["record_id_l"].unique()
    }
    links = links.sort_values(["tracing_request_id", "rank"])
    shown = 0
    for tr, group in links.groupby("tracing_request_id"):
        if entity.get(tr) not in case_entities or allowed.get(tr, True) == set():
            continue  # no true case, or consent withholds every one
        top = group.iloc[0]
        if entity.get(top["case_id"]) == entity.get(tr):
            continue
        true_rows = group[group["case_id"].map(entity) == entity.get(tr)]
        true_rank = int(true_rows["rank"].min()) if len(true_rows) else None
        print(f"--- {tr} ({dataset.culture_of.get(tr)}): true case at rank {true_rank}")
        show = [("TR", tr, None)]
        for _, r in group.head(2).iterrows():
            show.append((f"#{int(r['rank'])}", r["case_id"], r["match_weight"]))
        if true_rank is None:
            truth_ids = [i for i in cases if entity.get(i) == entity.get(tr)][:1]
            show += [("true", i, None) for i in truth_ids]
        elif true_rank > 2:
            r = true_rows.iloc[0]
            show.append((f"#{true_rank}", r["case_id"], r["match_weight"]))
        for tag, rid, w in show:
            row = recs.loc[rid]
            vals = " | ".join(str(row[c]) for c in cols if c in row and str(row[c]))
            wtxt = f"{w:6.2f}" if w is not None else "      "
            print(f"  {tag:>5} {wtxt} {vals}")
        shown += 1
        if shown >= n:
            break


def _dedupe_errors(dataset, pairs: pd.DataFrame, n: int) -> None:
    """The n highest-weight pairs of different children, side by side, for reading by hand."""
    entity = dataset.entity_of
    recs = dataset.records.set_index("record_id")
    cols = ["agency", "name", "name_first", "name_last", "sex", "date_of_birth", "age"]
    cols += ["estimated", "mother_name", "father_name", "location_origin", "location_current"]
    wrong = pairs[pairs["record_id_l"].map(entity) != pairs["record_id_r"].map(entity)]
    right = pairs[pairs["record_id_l"].map(entity) == pairs["record_id_r"].map(entity)]
    print(f"dedupe errors: {len(wrong)} pairs of different children scored, {len(right)} true")
    for cut in (0.5, 0.9, 0.97, 0.99, 0.999):
        print(
            f"  p >= {cut}: {int((wrong['score'] >= cut).sum())} wrong, "
            f"{int((right['score'] >= cut).sum())} right"
        )
    for _, p in wrong.sort_values("match_weight", ascending=False).head(n).iterrows():
        print(f"--- weight {p['match_weight']:.2f} p {p['score']:.4f}")
        for rid in (p["record_id_l"], p["record_id_r"]):
            row = recs.loc[rid]
            vals = " | ".join(
                str(row[c]) for c in cols if c in row and str(row[c]) not in ("", "nan", "None")
            )
            print(f"  {entity.get(rid)} {dataset.culture_of.get(rid)}: {vals}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", help="harness data set spec, e.g. synthetic:2000:1")
    parser.add_argument("--model", help="a kinlink model JSON to use instead of training")
    parser.add_argument("--skip-link", action="store_true")
    parser.add_argument("--skip-dedupe", action="store_true")
    parser.add_argument("--misses", type=int, default=0)
    parser.add_argument(
        "--dedupe-errors", type=int, default=0, help="print the N best-scored wrong pairs"
    )
    args = parser.parse_args()

    from kinlink.eval.datasets import load_dataset
    from kinlink.eval.harness import score_dedupe, score_link
    from kinlink.eval.kinlink_method import KinlinkMethod
    from kinlink.matching import load_model

    model = load_model(args.model) if args.model else None
    method = KinlinkMethod(model=model)
    dataset = load_dataset(args.dataset)
    print(f"{dataset.name}: {len(dataset.records)} records, {len(dataset.cases)} cases")
    if not args.skip_link and len(dataset.tracing_requests):
        t = time.perf_counter()
        links = method.link(dataset.records)
        fig = score_link(dataset, links, method.link_threshold)
        _print_link(fig)
        print(f"  ({time.perf_counter() - t:.0f} s)")
        if args.misses:
            _misses(dataset, links, args.misses)
    if not args.skip_dedupe:
        t = time.perf_counter()
        pairs, clusters = method.dedupe(dataset.cases)
        fig = score_dedupe(dataset, pairs, clusters)
        _print_dedupe(fig)
        print(f"  ({time.perf_counter() - t:.0f} s)")
        if args.dedupe_errors:
            _dedupe_errors(dataset, pairs, args.dedupe_errors)


if __name__ == "__main__":
    main()
