"""The sweep's per-record cap: each new record keeps its best links and duplicates."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kinlink.matching.sweep import SweepOptions, run_sweep
from kinlink.matching.sweep.cap import cap_per_record
from kinlink.store.review_schema import CandidatePair
from kinlink.store.schema import StoredRecord

from .conftest import load, sample_frame, sample_records


def frame(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["left_pk", "right_pk", "match_weight"]).assign(
        match_probability=0.5, explanation=[[] for _ in rows]
    )


def test_each_new_record_keeps_its_best_of_each_kind():
    # 1 and 2 are new cases, 10-14 stored cases, 20-22 stored tracing requests
    types = {1: "case", 2: "case", **dict.fromkeys(range(10, 15), "case")}
    types.update(dict.fromkeys(range(20, 23), "tracing_request"))
    scored = frame(
        [
            (1, 10, 5.0),
            (1, 11, 4.0),
            (1, 12, 3.0),  # third duplicate of 1: dropped
            (20, 1, 1.0),
            (21, 1, 2.0),
            (22, 1, 0.5),  # third link of 1: dropped
            (1, 2, -3.0),  # 1's worst duplicate, but 2's best: kept
            (2, 13, -4.0),
            (2, 14, -5.0),  # 2's third duplicate: dropped
        ]
    )
    out = cap_per_record(scored, {1, 2}, types, 2)
    assert list(zip(out["left_pk"], out["right_pk"], strict=True)) == [
        (1, 10),
        (1, 11),
        (20, 1),
        (21, 1),
        (1, 2),
        (2, 13),
    ]
    assert list(out.columns) == list(scored.columns)
    assert cap_per_record(scored, {1, 2}, types, None) is scored
    assert cap_per_record(scored, {1, 2}, types, 0) is scored


def test_ties_go_to_the_smaller_key():
    types = dict.fromkeys(range(1, 6), "case")
    scored = frame([(1, 5, 1.0), (1, 3, 1.0), (1, 4, 1.0)])
    out = cap_per_record(scored, {1}, types, 2)
    assert sorted(out["right_pk"]) == [3, 4]


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.integers(0, 12),
            st.integers(0, 12),
            st.floats(-20, 20, allow_nan=False, allow_infinity=False),
        ),
        max_size=60,
    ),
    new=st.sets(st.integers(0, 12)),
    tracing=st.sets(st.integers(0, 12), max_size=4),
    k=st.integers(1, 4),
)
def test_a_pair_is_kept_exactly_when_a_new_record_ranks_it_among_its_best(pairs, new, tracing, k):
    seen: set[frozenset[int]] = set()
    rows = []
    for left, right, weight in pairs:
        key = frozenset((left, right))
        if (
            left == right
            or key in seen
            or not (key & new)
            or (left in tracing and right in tracing)
        ):
            continue
        seen.add(key)
        rows.append((left, right, weight))
    types = {pk: "tracing_request" if pk in tracing else "case" for pk in range(13)}
    scored = frame(rows)
    out = cap_per_record(scored, new, types, k)

    def kind(left: int, right: int) -> bool:
        return left in tracing or right in tracing

    def best(record: int, link: bool) -> set[tuple[int, int]]:
        mine = [
            (-w, right if left == record else left, (left, right))
            for left, right, w in rows
            if record in (left, right) and kind(left, right) == link
        ]
        return {pair for *_, pair in sorted(mine)[:k]}

    wanted = set(
        itertools.chain.from_iterable(best(r, link) for r in new for link in (True, False))
    )
    assert set(zip(out["left_pk"], out["right_pk"], strict=True)) == wanted
    kept_rows = [r[:2] for r in rows if r[:2] in wanted]
    assert list(zip(out["left_pk"], out["right_pk"], strict=True)) == kept_rows


def test_a_sweep_stores_at_most_the_cap_per_new_record(store, sweep_model, tmp_path):
    model, _ = sweep_model
    load(store, sample_records(sample_frame(300)))
    options = SweepOptions(
        cache_dir=tmp_path / "cache", overlap=dt.timedelta(0), min_probability=1e-6
    )
    uncapped = run_sweep(store, model, SweepOptions(**{**options.__dict__, "max_candidates": 0}))
    capped = run_sweep(
        store, model, SweepOptions(**{**options.__dict__, "full": True, "max_candidates": 2})
    )
    pairs = capped.report["pairs"]
    assert pairs["max_candidates"] == 2
    assert pairs["above_min_probability"] == uncapped.report["pairs"]["kept"]
    assert 0 < pairs["kept"] < pairs["above_min_probability"]
    with store.session() as session:
        types = dict(session.execute(select(StoredRecord.id, StoredRecord.record_type)).all())
        stored = session.execute(
            select(CandidatePair.pair_lo, CandidatePair.pair_hi, CandidatePair.match_weight)
        ).all()
    assert len(stored) == pairs["kept"]
    # every stored pair is among the best 2 of its kind for one of its records (the full
    # sweep ranks from both sides)
    for lo, hi, weight in stored:
        link = "tracing_request" in (types[lo], types[hi])
        ranks = []
        for me in (lo, hi):
            better = sum(
                1
                for a, b, w in stored
                if me in (a, b)
                and ("tracing_request" in (types[a], types[b])) == link
                and w > weight
            )
            ranks.append(better)
        assert min(ranks) < 2


def test_clustering_reads_only_what_it_can_use_and_builds_the_same_clusters(
    store, sweep_model, tmp_path
):
    """cluster_input(threshold) reads the pairs among records of strong or confirmed
    pairs; the clusters and the safeguards' counts are those of every pair."""
    from kinlink.matching.sweep import build_clusters
    from kinlink.matching.sweep.write import cluster_input
    from kinlink.store.decisions import decide

    from .test_sweep import reviewer

    model, _ = sweep_model
    load(store, sample_records(sample_frame(1500)))
    options = SweepOptions(cache_dir=tmp_path / "cache", overlap=dt.timedelta(0))
    run_sweep(store, model, options)
    threshold = 0.3
    with store.session() as session:
        user = reviewer(session)
        duplicates = session.scalars(
            select(CandidatePair)
            .where(CandidatePair.kind == "duplicate")
            .order_by(CandidatePair.match_probability.desc(), CandidatePair.id)
        ).all()
        strong = [c for c in duplicates if c.match_probability >= threshold]
        weak = [c for c in duplicates if c.match_probability < 0.05]
        assert len(strong) >= 3 and len(weak) >= 3
        decide(session, strong[0], "not_match", user)  # a reviewer splits a strong pair
        decide(session, weak[0], "match", user)  # and joins a weak one
    with store.session() as session:
        every = cluster_input(session)
        some = cluster_input(session, threshold)
    # exactly the pairs among records of a strong or confirmed pair (that this is all
    # build_clusters needs is a property test in test_clusters.py)
    members = {
        pk
        for pair, p in every.scores.items()
        if p >= threshold or pair in set(every.confirmed)
        for pk in pair
    }
    assert some.scores == {pair: p for pair, p in every.scores.items() if members.issuperset(pair)}
    assert len(some.scores) < len(every.scores)
    # the data has weak pairs among those records (what the clusters' checks read)
    assert sum(p < threshold for p in some.scores.values()) > 10
    assert set(some.confirmed) == set(every.confirmed)
    assert set(some.not_match) == {p for p in every.not_match if p in some.scores}
    for join_mean in (0.7, 0.95):
        kwargs = {"threshold": threshold, "join_mean": join_mean}
        assert build_clusters(
            some.scores, confirmed=some.confirmed, not_match=some.not_match, **kwargs
        ) == build_clusters(
            every.scores, confirmed=every.confirmed, not_match=every.not_match, **kwargs
        )
