import math

import pandas as pd
import pytest

from kinlink.eval.baselines import ExactNameMethod, PrimeroMethod
from kinlink.eval.baselines import primero as pr


def test_exact_links_only_identical_names(tiny):
    links = ExactNameMethod().link(tiny.records)
    assert links[["tracing_request_id", "case_id", "rank"]].values.tolist() == [["t2", "c3", 1]]


def test_exact_dedupe_groups_identical_names_after_normalisation():
    frame = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "record_type": "case",
            "name": ["Ali  HASSAN", "ali hassan", "Ali Hasan", None],
            "name_first": [None, None, None, None],
            "name_middle": None,
            "name_last": None,
        }
    )
    pairs, clusters = ExactNameMethod().dedupe(frame)
    assert pairs[["record_id_l", "record_id_r"]].values.tolist() == [["a", "b"]]
    by = dict(zip(clusters.record_id, clusters.cluster_id, strict=True))
    assert by["a"] == by["b"] != by["c"]
    assert by["d"] not in {by["a"], by["c"]}


def test_primero_bm25_score_by_hand():
    # Two documents, only the sex field. Query "male" against d0 ("male"):
    # idf = ln(1 + (2 - 1 + .5) / (1 + .5)) = ln 2; tf = 1, dl = avgdl = 1:
    # score = boost 10 * ln2 * 1 / (1 + 1.2 * (1 - .75 + .75)) = 10 ln2 / 2.2
    docs = [{"sex": "male"}, {"sex": "female"}]
    hits = pr.search([{"sex": "male"}], docs, queries_are_requests=False)
    assert hits["target"].tolist() == [0]
    assert hits["raw"].iloc[0] == pytest.approx(10 * math.log(2) / 2.2)
    assert hits["score"].iloc[0] == 1.0
    assert bool(hits["likely"].iloc[0])  # a sole hit is "likely" in Primero


def test_primero_double_metaphone_bridges_spellings(tiny):
    links = PrimeroMethod().link(tiny.records)
    t1 = links[links["tracing_request_id"] == "t1"].sort_values("rank")
    # Mohamed ~ Mohammed ~ Muhammad (MHMT) and Ali, Amina: both of K1's cases lead
    assert set(t1["case_id"].head(2)) == {"c1", "c2"}
    assert t1["score"].iloc[0] == 1.0
    assert (t1["score"] > pr.NORMALIZED_THRESHOLD).all()


def test_primero_keeps_top_20_and_drops_low_scores():
    cases = [{"name": f"ali person{i}", "sex": "male"} for i in range(30)]
    cases.append({"name": "zzz", "sex": "female"})
    hits = pr.search([{"name": "ali", "sex": "male"}], cases, queries_are_requests=True)
    assert len(hits) == pr.TOP_N
    assert 30 not in set(hits["target"])  # matches nothing: not a hit at all


def test_primero_drops_hits_at_or_below_a_tenth_of_the_top():
    others = ["omar", "hassan", "yusuf", "bilal", "karim", "tariq", "samir", "nabil"]
    cases = [{"name": "ali", "sex": "male"}] + [{"name": n, "sex": "male"} for n in others]
    # every case matches the sex clause, so all are hits before normalisation ...
    assert len(pr.search([{"sex": "male"}], cases, queries_are_requests=True)) == len(cases)
    # ... but next to a (rare) name match, a sex-only match scores < 0.1 of the top
    hits = pr.search([{"name": "ali", "sex": "male"}], cases, queries_are_requests=True)
    assert hits["target"].tolist() == [0]


def test_primero_dedupe_excludes_self(tiny):
    pairs, clusters = PrimeroMethod().dedupe(tiny.cases)
    assert (pairs["record_id_l"] != pairs["record_id_r"]).all()
    by = dict(zip(clusters.record_id, clusters.cluster_id, strict=True))
    assert set(by) == {"c1", "c2", "c3", "c4"}
