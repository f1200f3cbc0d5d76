"""Cluster logic (pure): safeguards against chains, decisions honoured, stable ids."""

from hypothesis import given
from hypothesis import strategies as st

from kinlink.matching.sweep.clusters import assign_ids, build_clusters


def test_strong_pairs_form_one_cluster():
    scores = {(1, 2): 0.99, (2, 3): 0.97, (1, 3): 0.95}
    groups, stats = build_clusters(scores, threshold=0.9)
    assert groups == [frozenset({1, 2, 3})]
    assert stats.refused_chain == 0


def test_chain_whose_ends_do_not_match_is_not_joined():
    # a-b and b-c are strong, a-c was scored low: plain components would make one child
    scores = {(1, 2): 0.99, (2, 3): 0.95, (1, 3): 0.02}
    groups, stats = build_clusters(scores, threshold=0.9)
    assert groups == [frozenset({1, 2})]
    assert stats.refused_chain == 1
    plain, _ = build_clusters(scores, threshold=0.9, join_mean=0.0)
    assert plain == [frozenset({1, 2, 3})]


def test_not_match_is_never_clustered_even_through_a_third_record():
    scores = {(1, 2): 0.99, (2, 3): 0.99, (1, 3): 0.99}
    groups, stats = build_clusters(scores, threshold=0.9, not_match=[(1, 3)])
    assert len(groups) == 1 and len(groups[0]) == 2
    assert not {1, 3} <= groups[0]
    assert stats.refused_not_match == 1


def test_confirmed_match_joins_below_threshold_and_past_the_chain_check():
    scores = {(1, 2): 0.99, (3, 4): 0.99, (2, 3): 0.2}
    groups, _ = build_clusters(scores, threshold=0.9, confirmed=[(2, 3)])
    assert groups == [frozenset({1, 2, 3, 4})]
    groups, stats = build_clusters(scores, threshold=0.9, confirmed=[(2, 3)], not_match=[(1, 4)])
    assert stats.conflicts == 1 and frozenset({1, 2, 3, 4}) not in groups


def test_size_cap():
    scores = {(i, i + 1): 0.99 for i in range(10)}
    scores.update({(i, j): 0.99 for i in range(11) for j in range(i + 1, 11)})
    groups, stats = build_clusters(scores, threshold=0.9, max_size=4)
    assert max(len(g) for g in groups) <= 4
    assert stats.refused_size > 0


def test_ids_are_inherited_by_the_cluster_sharing_most_members():
    previous = {7: frozenset({1, 2, 3}), 9: frozenset({10, 11})}
    # 7 grows, 9 unchanged, a new group appears
    out = assign_ids(
        [frozenset({1, 2, 3, 4}), frozenset({10, 11}), frozenset({20, 21})], previous, next_id=12
    )
    assert out.clusters == {
        7: frozenset({1, 2, 3, 4}),
        9: frozenset({10, 11}),
        12: frozenset({20, 21}),
    }
    assert out.retired == {} and out.next_id == 13


def test_merge_keeps_the_id_sharing_most_then_the_smallest_and_retires_the_other():
    previous = {5: frozenset({1, 2}), 3: frozenset({8, 9})}
    out = assign_ids([frozenset({1, 2, 8, 9})], previous, next_id=10)
    assert out.clusters == {3: frozenset({1, 2, 8, 9})}  # tie: smaller id
    assert out.retired == {5: 3}
    previous = {5: frozenset({1, 2, 4}), 3: frozenset({8, 9})}
    out = assign_ids([frozenset({1, 2, 4, 8, 9})], previous, next_id=10)
    assert set(out.clusters) == {5} and out.retired == {3: 5}


def test_split_larger_part_keeps_id_and_dissolved_cluster_retires():
    previous = {4: frozenset({1, 2, 3, 5, 6}), 6: frozenset({30, 31})}
    out = assign_ids([frozenset({1, 2, 3}), frozenset({5, 6})], previous, next_id=8)
    assert out.clusters == {4: frozenset({1, 2, 3}), 8: frozenset({5, 6})}
    assert out.retired == {6: None}


pairs = st.dictionaries(
    st.tuples(st.integers(0, 15), st.integers(0, 15)).filter(lambda p: p[0] < p[1]),
    st.floats(0, 1),
    max_size=60,
)


@given(pairs, st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=5))
def test_clusters_are_disjoint_deterministic_and_respect_not_match(scores, rejected):
    rejected = [(a, b) for a, b in rejected if a != b]
    groups, _ = build_clusters(scores, threshold=0.8, not_match=rejected)
    again, _ = build_clusters(
        dict(reversed(list(scores.items()))), threshold=0.8, not_match=rejected
    )
    assert groups == again
    seen = [r for g in groups for r in g]
    assert len(seen) == len(set(seen))
    for a, b in rejected:
        assert not any({a, b} <= g for g in groups)


@given(st.lists(st.frozensets(st.integers(0, 30), min_size=2, max_size=6), max_size=6))
def test_reassigning_the_same_groups_keeps_every_id(groups):
    # make the groups disjoint, as clusters are
    seen: set[int] = set()
    disjoint = []
    for g in groups:
        g = frozenset(g - seen)
        if len(g) > 1:
            disjoint.append(g)
            seen |= g
    first = assign_ids(disjoint, {}, next_id=1)
    second = assign_ids(disjoint, first.clusters, next_id=first.next_id)
    assert second.clusters == first.clusters and second.retired == {}


@given(
    edges=st.dictionaries(
        st.tuples(st.integers(0, 14), st.integers(0, 14)).filter(lambda p: p[0] < p[1]),
        st.sampled_from([0.02, 0.2, 0.5, 0.8, 0.95, 0.97, 0.99, 1.0]),
        max_size=60,
    ),
    decided=st.lists(
        st.tuples(st.integers(0, 14), st.integers(0, 14), st.booleans()).filter(
            lambda d: d[0] < d[1]
        ),
        max_size=6,
    ),
    join_mean=st.sampled_from([0.5, 0.7, 0.95]),
    max_size=st.sampled_from([3, 50]),
)
def test_pairs_among_records_of_strong_or_confirmed_pairs_are_all_clustering_needs(
    edges, decided, join_mean, max_size
):
    """What ``cluster_input(session, threshold)`` reads gives the clusters of every pair."""
    confirmed = [(a, b) for a, b, ok in decided if ok]
    not_match = [(a, b) for a, b, ok in decided if not ok]
    scores = {**edges, **{p: edges.get(p, 0.3) for p in confirmed + not_match}}
    members = {pk for p, s in scores.items() if s >= 0.97 or p in confirmed for pk in p}
    some = {p: s for p, s in scores.items() if p[0] in members and p[1] in members}
    kwargs = {"threshold": 0.97, "join_mean": join_mean, "max_size": max_size}
    assert build_clusters(
        some, confirmed=confirmed, not_match=[p for p in not_match if p in some], **kwargs
    ) == build_clusters(scores, confirmed=confirmed, not_match=not_match, **kwargs)
