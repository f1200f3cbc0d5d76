import pandas as pd

from kinlink.eval.methods import add_rank, canonical_pairs, connected_components


def test_add_rank_orders_by_score_within_query_and_keeps_ties_stable():
    links = pd.DataFrame(
        {
            "tracing_request_id": ["t1", "t1", "t1", "t2"],
            "case_id": ["c1", "c2", "c3", "c1"],
            "score": [0.2, 0.9, 0.2, 0.5],
        }
    )
    ranked = add_rank(links)
    got = {(r.tracing_request_id, r.case_id): r.rank for r in ranked.itertuples()}
    assert got == {("t1", "c2"): 1, ("t1", "c1"): 2, ("t1", "c3"): 3, ("t2", "c1"): 1}


def test_canonical_pairs_orders_dedups_and_drops_self():
    pairs = pd.DataFrame(
        {"record_id_l": ["b", "a", "a"], "record_id_r": ["a", "b", "a"], "score": [0.3, 0.7, 1.0]}
    )
    out = canonical_pairs(pairs)
    assert out[["record_id_l", "record_id_r", "score"]].values.tolist() == [["a", "b", 0.7]]


def test_connected_components():
    clusters = connected_components(
        [("a", "b"), ("c", "b"), ("d", "e")], ["a", "b", "c", "d", "e", "f"]
    )
    by = dict(zip(clusters.record_id, clusters.cluster_id, strict=True))
    assert by["a"] == by["b"] == by["c"]
    assert by["d"] == by["e"] != by["a"]
    assert by["f"] not in {by["a"], by["d"]}
