"""Duplicate clusters: strongest pair first, no chaining of different children."""

from __future__ import annotations

import pandas as pd

from kinlink.matching.cluster import DEFAULT_THRESHOLD, cluster_pairs


def _prepared(rows: dict[str, tuple[list[str], int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": list(rows),
            "given": [g for g, _, _ in rows.values()],
            "given_keys": [[f"k_{x}" for x in g] for g, _, _ in rows.values()],
            "by_lo": pd.array([lo for _, lo, _ in rows.values()], dtype="Int64"),
            "by_hi": pd.array([hi for _, _, hi in rows.values()], dtype="Int64"),
        }
    )


def _pairs(scores: dict[tuple[str, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [(a, b, p, 0.0) for (a, b), p in scores.items()],
        columns=["record_id_l", "record_id_r", "match_probability", "match_weight"],
    )


def _groups(clusters: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g["record_id"]) for _, g in clusters.groupby("cluster_id")}


def test_threshold_is_above_the_overconfident_band():
    assert 0.95 <= DEFAULT_THRESHOLD < 1.0


def test_a_chain_whose_ends_do_not_match_stays_apart():
    prepared = _prepared({x: (["amina"], 2015, 2015) for x in "abc"} | {"d": (["ali"], 2010, 2010)})
    pairs = _pairs({("a", "b"): 0.999, ("b", "c"): 0.99})
    clusters = cluster_pairs(pairs, prepared, 0.97)
    assert _groups(clusters) == {frozenset("ab"), frozenset("c"), frozenset("d")}
    # every record once, a lone record is its own cluster
    assert sorted(clusters["record_id"]) == list("abcd")
    # when the ends match too, the three are one cluster
    pairs = _pairs({("a", "b"): 0.999, ("b", "c"): 0.99, ("a", "c"): 0.9})
    assert frozenset("abc") in _groups(cluster_pairs(pairs, prepared, 0.97))


def test_clearly_different_children_never_share_a_cluster():
    prepared = _prepared(
        {"a": (["amina"], 2015, 2015), "b": ([], 2015, 2016), "c": (["fatuma"], 2010, 2011)}
    )
    scores = {("a", "b"): 0.999, ("b", "c"): 0.999, ("a", "c"): 0.98}
    groups = _groups(cluster_pairs(_pairs(scores), prepared, 0.97, join_mean=0.0))
    assert not any({"a", "c"} <= g for g in groups)
    # same given name (or overlapping births): the pairs decide
    prepared.loc[2, "given"] = ["amina"]
    prepared.at[2, "given_keys"] = ["k_amina"]
    groups = _groups(cluster_pairs(_pairs(scores), prepared, 0.97, join_mean=0.0))
    assert frozenset("abc") in groups
