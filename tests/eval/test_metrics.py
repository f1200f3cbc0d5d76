"""Metrics checked against cases small enough to compute by hand (worked out in comments)."""

import math

import numpy as np
import pandas as pd
import pytest

from kinlink.eval import metrics as m

# Six records, three children: a1 a2 a3 are child A, b1 b2 child B, c1 child C.
ENTITY = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}


def test_count_true_pairs_dedupe():
    # A: 3 choose 2 = 3, B: 1, C: 0
    assert m.count_true_pairs_dedupe(ENTITY.values()) == 4
    assert m.count_true_pairs_dedupe(["x", "y"]) == 0
    assert m.count_true_pairs_dedupe([]) == 0


def test_count_true_pairs_link():
    # queries A, A, B; targets A, B, B, C -> A: 2*1, B: 1*2, C: no query
    assert m.count_true_pairs_link(["A", "A", "B"], ["A", "B", "B", "C"]) == 4


def test_label_pairs_unknown_entity_is_never_true():
    labels = m.label_pairs(["a1", "a1", "zz", "zz"], ["a2", "b1", "yy", "zz"], ENTITY)
    assert labels.tolist() == [True, False, False, False]


def test_pairwise_prf_hand_case():
    # predicted (a1,a2) true, (a1,a3) true, (b1,c1) false; 4 true pairs in all
    labels = m.label_pairs(["a1", "a1", "b1"], ["a2", "a3", "c1"], ENTITY)
    prf = m.pairwise_prf(labels, n_true=4)
    assert (prf.tp, prf.fp, prf.fn) == (2, 1, 2)
    assert prf.precision == pytest.approx(2 / 3)
    assert prf.recall == pytest.approx(1 / 2)
    assert prf.f1 == pytest.approx(4 / 7)


def test_pairwise_prf_nothing_predicted_scores_zero_not_perfect():
    prf = m.pairwise_prf([], n_true=4)
    assert math.isnan(prf.precision)
    assert prf.recall == 0.0
    assert prf.f1 == 0.0


def test_pairwise_prf_rejects_more_hits_than_truth():
    with pytest.raises(ValueError):
        m.pairwise_prf([True, True], n_true=1)


def test_pairwise_prf_no_truth_recall_undefined():
    prf = m.pairwise_prf([False], n_true=0)
    assert prf.precision == 0.0
    assert math.isnan(prf.recall)


def test_precision_recall_curve_ties_and_missed_pairs():
    # scores 0.9 T, 0.8 F, 0.8 T, 0.3 T, 0.1 F; 4 true pairs (one never scored)
    curve = m.precision_recall_curve([0.8, 0.9, 0.1, 0.8, 0.3], [False, True, False, True, True], 4)
    assert curve.thresholds.tolist() == [0.9, 0.8, 0.3, 0.1]
    np.testing.assert_allclose(curve.precision, [1, 2 / 3, 3 / 4, 3 / 5])
    np.testing.assert_allclose(curve.recall, [1 / 4, 2 / 4, 3 / 4, 3 / 4])
    # AP = .25*1 + .25*2/3 + .25*3/4 + 0*3/5
    assert m.average_precision(curve) == pytest.approx(0.25 + 1 / 6 + 0.1875)
    f1, threshold = m.best_f1(curve)
    assert f1 == pytest.approx(0.75)
    assert threshold == 0.3


def test_average_precision_perfect_ranking_is_one_and_missing_pairs_cost():
    perfect = m.precision_recall_curve([3, 2, 1], [True, True, True], 3)
    assert m.average_precision(perfect) == pytest.approx(1.0)
    # same ranking but a fourth true pair never scored: area is 3/4
    missed = m.precision_recall_curve([3, 2, 1], [True, True, True], 4)
    assert m.average_precision(missed) == pytest.approx(0.75)


def test_empty_curve():
    curve = m.precision_recall_curve([], [], 5)
    assert m.average_precision(curve) == 0.0
    assert m.best_f1(curve)[0] == 0.0


def test_recall_at_k():
    entity = {"q1": "A", "q2": "B", "q3": "C", "ca": "A", "cb": "B", "cx": "X"}
    ranked = pd.DataFrame(
        {
            "tracing_request_id": ["q1", "q1", "q2", "q3"],
            "case_id": ["cx", "ca", "cb", "cx"],
            "rank": [1, 2, 7, 1],
        }
    )
    # q3's child was never registered as a case: not in the denominator
    got = m.recall_at_k(ranked, entity, queries_with_truth=["q1", "q2"], ks=(1, 5, 10))
    assert got == {1: 0.0, 5: 0.5, 10: 1.0}


def test_recall_at_k_query_without_candidates_counts_as_miss():
    entity = {"q1": "A", "ca": "A", "q2": "B", "cb": "B"}
    ranked = pd.DataFrame({"tracing_request_id": ["q1"], "case_id": ["ca"], "rank": [1]})
    assert m.recall_at_k(ranked, entity, ["q1", "q2"], ks=(1,)) == {1: 0.5}


def test_bcubed_hand_case():
    # clusters {a1,a2} {a3,b1,b2} {c1}
    # precision per record: 1, 1, 1/3, 2/3, 2/3, 1 -> (14/3)/6 = 7/9
    # recall per record:  2/3, 2/3, 1/3, 1, 1, 1  -> (14/3)/6 = 7/9
    clusters = {"a1": 1, "a2": 1, "a3": 2, "b1": 2, "b2": 2, "c1": 3}
    prf = m.bcubed(clusters, ENTITY)
    assert prf.precision == pytest.approx(7 / 9)
    assert prf.recall == pytest.approx(7 / 9)
    assert prf.f1 == pytest.approx(7 / 9)
    # moving a3 into the A cluster makes it perfect
    perfect = m.bcubed({**clusters, "a3": 1}, ENTITY)
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)


def test_bcubed_missing_records_are_singletons_and_subset_averages():
    # only a1,a2 clustered; others singletons
    prf = m.bcubed({"a1": "k", "a2": "k"}, ENTITY)
    assert prf.precision == pytest.approx(1.0)
    # recall: a1 2/3, a2 2/3, a3 1/3, b1 1/2, b2 1/2, c1 1 -> 11/3 / 6
    assert prf.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 0.5 + 0.5 + 1) / 6)
    sub = m.bcubed({"a1": "k", "a2": "k"}, ENTITY, records=["b1", "b2"])
    assert (sub.precision, sub.recall) == (pytest.approx(1.0), pytest.approx(0.5))


def test_bcubed_all_in_one_cluster():
    prf = m.bcubed(dict.fromkeys(ENTITY, 0), ENTITY)
    # precision: A records 3/6, B 2/6, C 1/6 -> (9+4+1)/36
    assert prf.precision == pytest.approx(14 / 36)
    assert prf.recall == pytest.approx(1.0)


def test_pair_completeness_and_reduction_ratio():
    assert m.pair_completeness([True, False, True], 4) == 0.5
    assert math.isnan(m.pair_completeness([False], 0))
    assert m.reduction_ratio(3, 10) == pytest.approx(0.7)


def test_cluster_pairwise_prf_hand_case():
    # clusters {a1,a2} {a3,b1,b2} {c1}: implied pairs a1a2 (T), a3b1, a3b2 (F), b1b2 (T)
    clusters = {"a1": 1, "a2": 1, "a3": 2, "b1": 2, "b2": 2, "c1": 3}
    prf = m.cluster_pairwise_prf(clusters, ENTITY)
    assert (prf.tp, prf.fp, prf.fn) == (2, 2, 2)
    assert (prf.precision, prf.recall, prf.f1) == (0.5, 0.5, 0.5)
    # restricted to the B records: pair b1b2 only, found
    sub = m.cluster_pairwise_prf(clusters, ENTITY, records=["b1", "b2"])
    assert (sub.tp, sub.fp, sub.fn) == (1, 0, 0)


def test_cluster_pairwise_prf_all_singletons():
    prf = m.cluster_pairwise_prf({}, ENTITY)
    assert math.isnan(prf.precision)
    assert (prf.recall, prf.f1, prf.fn) == (0.0, 0.0, 4)


def test_withheld_true_pairs_and_cluster_exclusion():
    from kinlink.eval.metrics import consent_withheld, withheld_true_pairs

    assert consent_withheld("False") and consent_withheld(" no ") and consent_withheld("0")
    assert not consent_withheld(None) and not consent_withheld("true")
    assert not consent_withheld(float("nan"))
    frame = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "entity": ["E", "E", "E", "F"],
            "agency": ["X", "X", "Y", "Y"],
            "withheld": [True, False, False, True],
        }
    )
    got = withheld_true_pairs(frame, frame, same_set=True)
    # a-b same agency: allowed; a-c across agencies with a refusing: withheld;
    # b-c both consent: allowed; d has no true partner
    assert list(map(tuple, got.to_numpy())) == [("a", "c")]
    clusters = {"a": 1, "b": 1, "c": 1, "d": 2}
    truth = dict(zip(frame["record_id"], frame["entity"], strict=True))
    plain = m.cluster_pairwise_prf(clusters, truth)
    assert (plain.tp, plain.fp, plain.fn) == (3, 0, 0)
    excluded = m.cluster_pairwise_prf(clusters, truth, excluded_true_pairs=got)
    assert (excluded.tp, excluded.fp, excluded.fn) == (2, 0, 0)
    apart = m.cluster_pairwise_prf({"a": 1, "b": 1, "c": 2, "d": 3}, truth, excluded_true_pairs=got)
    # b-c is the one allowed pair missed; a-c is neither missed nor found
    assert (apart.tp, apart.fp, apart.fn) == (1, 0, 1)
