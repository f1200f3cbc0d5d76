"""The harness end to end: hand-checked figures on the tiny set, all methods on FEBRL subsets."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import kinlink.matching
from kinlink.cli import _register, app
from kinlink.eval import kinlink_method
from kinlink.eval.baselines import ExactNameMethod, PrimeroMethod, SplinkTutorialMethod
from kinlink.eval.datasets import load_dataset
from kinlink.eval.harness import evaluate, failures
from kinlink.eval.kinlink_method import KinlinkMethod
from kinlink.eval.report import load_report, write_report


def _method(report, dataset, name):
    ds = next(d for d in report["datasets"] if d["name"] == dataset)
    return next(m for m in ds["methods"] if m["name"] == name)


def test_exact_on_tiny_by_hand(tiny):
    report = evaluate([tiny], [ExactNameMethod()])
    assert failures(report) == []
    exact = _method(report, "tiny", "exact")
    link = exact["link"]
    # t1 misses, t2 hits; t3's child has no case so it is not counted
    assert link["n_requests_with_true_case"] == 2
    assert link["recall_at"] == {"1": 0.5, "5": 0.5, "10": 0.5}
    # true pairs: t1-c1, t1-c2, t2-c3; predicted t2-c3 only
    assert link["n_true_pairs"] == 3
    assert link["at_decision"]["tp"] == 1 and link["at_decision"]["fp"] == 0
    assert link["at_decision"]["recall"] == pytest.approx(1 / 3)
    assert link["by_culture"]["arabic"]["recall_at"]["1"] == 0.0
    assert link["by_culture"]["somali"]["recall_at"]["1"] == 1.0
    dedupe = exact["dedupe"]
    # one true duplicate pair (c1, c2) and exact finds nothing
    assert dedupe["n_true_pairs"] == 1
    assert dedupe["pairwise"]["f1"] == 0.0
    assert dedupe["pairwise"]["precision"] is None  # undefined, shown as n/a
    # B-cubed recall: c1 1/2, c2 1/2, c3 1, c4 1
    assert dedupe["bcubed"]["recall"] == pytest.approx(0.75)
    assert dedupe["bcubed"]["precision"] == 1.0
    assert exact["blocking_link"]["pair_completeness"] == pytest.approx(1 / 3)
    assert exact["blocking_link"]["n_possible_pairs"] == 12
    assert set(exact["resources"]) == {"link", "blocking_link", "dedupe", "blocking_dedupe"}


def test_primero_beats_exact_on_tiny(tiny):
    report = evaluate([tiny], [ExactNameMethod(), PrimeroMethod()])
    primero = _method(report, "tiny", "primero")
    assert primero["link"]["recall_at"]["1"] == 1.0
    assert primero["blocking_link"] == {"applicable": False}


def test_kinlink_unavailable_is_reported_not_faked(tiny, monkeypatch, tmp_path):
    def missing(name, modules=("kinlink.matching",)):
        raise LookupError(f"kinlink.matching has no {name}()")

    monkeypatch.setattr(kinlink_method, "_engine_function", missing)
    report = evaluate([tiny], [KinlinkMethod(), ExactNameMethod()])
    row = _method(report, "tiny", "kinlink")
    assert row["available"] is False
    assert "link_records" in row["reason"]
    assert "link" not in row
    md = write_report(report, tmp_path)["markdown"].read_text()
    assert "unavailable: kinlink.matching has no link_records()" in md


def test_kinlink_adapter_maps_the_engine_contract(tiny, monkeypatch):
    """A fake engine (test double only) checks the adapter's column mapping."""

    def link_records(frame, model=None):
        return pd.DataFrame(
            {
                "tracing_request_id": ["t1", "t1", "t2"],
                "case_id": ["c4", "c1", "c3"],
                "match_probability": [0.9, 0.8, 0.99],
                "match_weight": [3.0, 2.0, 7.0],
                "rank": [1, 2, 1],
            }
        )

    def dedupe_records(frame, threshold=None):
        pairs = pd.DataFrame(
            {
                "record_id_l": ["c2"],
                "record_id_r": ["c1"],
                "match_probability": [0.97],
                "match_weight": [5.0],
            }
        )
        clusters = pd.DataFrame({"record_id": ["c1", "c2", "c3", "c4"], "cluster_id": [1, 1, 2, 3]})
        return pairs, clusters

    monkeypatch.setattr(kinlink.matching, "link_records", link_records, raising=False)
    monkeypatch.setattr(kinlink.matching, "dedupe_records", dedupe_records, raising=False)
    monkeypatch.setattr(kinlink.matching, "DEFAULT_THRESHOLD", 0.85, raising=False)
    method = KinlinkMethod()
    assert method.unavailable_reason() is None
    assert method.link_threshold == 0.85
    report = evaluate([tiny], [method])
    row = _method(report, "tiny", "kinlink")
    assert row["link"]["recall_at"] == {"1": 0.5, "5": 1.0, "10": 1.0}
    # decided at >= 0.85: t1-c4 (false), t2-c3 (true)
    assert (row["link"]["at_decision"]["tp"], row["link"]["at_decision"]["fp"]) == (1, 1)
    assert row["dedupe"]["pairwise"]["f1"] == 1.0
    assert row["dedupe"]["histogram"]["axis"] == "match weight"


@pytest.mark.slow
def test_all_methods_on_febrl_subsets(tmp_path):
    datasets = [load_dataset("febrl4-nossid", limit=300), load_dataset("febrl3", limit=150)]
    methods = [KinlinkMethod(), ExactNameMethod(), PrimeroMethod(), SplinkTutorialMethod()]
    report = evaluate(datasets, methods)
    assert failures(report) == []
    splink = _method(report, "febrl4-nossid-300", "splink_tutorial")
    exact = _method(report, "febrl4-nossid-300", "exact")
    # FEBRL4 corrupts names in about half the B records: exact misses them, a model does not
    assert splink["link"]["recall_at"]["10"] > exact["link"]["recall_at"]["10"] + 0.2
    assert 0 < splink["blocking_link"]["pair_completeness"] <= 1
    dd = _method(report, "febrl3-150", "splink_tutorial")["dedupe"]
    assert dd["bcubed"]["f1"] > 0.5
    paths = write_report(report, tmp_path)
    assert load_report(paths["json"]) == json.loads(json.dumps(report))
    assert (tmp_path / "febrl4-nossid-300-link-pr.png").stat().st_size > 0
    assert (tmp_path / "febrl3-150-dedupe-weights.png").stat().st_size > 0
    md = paths["markdown"].read_text()
    assert md.index("**kinlink**") < md.index("**Exact name**")


def test_cli_eval_writes_report(tiny_dir, tmp_path):
    _register()
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "-d",
            str(tiny_dir),
            "-m",
            "exact",
            "-m",
            "primero",
            "-o",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Tracing request → case linkage" in result.stdout
    data = json.loads((out / "report.json").read_text())
    assert [m["name"] for m in data["datasets"][0]["methods"]] == ["exact", "primero"]
    assert np.isclose(data["datasets"][0]["methods"][0]["link"]["recall_at"]["1"], 0.5)


def test_cli_eval_exit_codes(tmp_path):
    _register()
    runner = CliRunner()
    assert runner.invoke(app, ["eval", "-d", str(tmp_path / "missing")]).exit_code == 6
    assert runner.invoke(app, ["eval", "-d", "febrl4", "-m", "nope"]).exit_code == 2


class _MergeAcrossCultures:
    """Test double: clusters c3 (somali) with c4 (arabic), c1 with c2."""

    name = label = "merger"
    score_kind = decision_rule = "test"
    link_threshold = 0.5

    def unavailable_reason(self):
        return None

    def link(self, frame):
        return pd.DataFrame(
            columns=["tracing_request_id", "case_id", "score", "match_weight", "rank"]
        )

    def dedupe(self, frame):
        pairs = pd.DataFrame(
            {
                "record_id_l": ["c1", "c3"],
                "record_id_r": ["c2", "c4"],
                "score": [0.9, 0.8],
                "match_weight": [np.nan, np.nan],
            }
        )
        clusters = pd.DataFrame({"record_id": ["c1", "c2", "c3", "c4"], "cluster_id": [1, 1, 2, 2]})
        return pairs, clusters

    def candidate_pairs(self, frame, task):
        return None


def test_per_culture_bcubed_sees_clusters_crossing_cultures(tiny):
    report = evaluate([tiny], [_MergeAcrossCultures()])
    dd = _method(report, "tiny", "merger")["dedupe"]
    # c3's cluster {c3, c4} holds one other child: precision 1/2 for the somali record
    assert dd["by_culture"]["somali"]["bcubed"]["precision"] == 0.5
    # arabic: c1 1, c2 1, c4 1/2
    assert dd["by_culture"]["arabic"]["bcubed"]["precision"] == pytest.approx(2.5 / 3)
    assert dd["pairwise"]["tp"] == 1 and dd["pairwise"]["fp"] == 1
    # the link stage returned nothing: recall 0, F1 0, not an error
    link = _method(report, "tiny", "merger")["link"]
    assert link["recall_at"]["1"] == 0.0 and link["at_decision"]["f1"] == 0.0


def test_consent_withheld_pairs_leave_every_denominator(tiny):
    """c1 (agency A) and t2 (agency X) refuse consent: their true pairs across agencies
    are out of the figures, for every method, and counted apart."""
    from kinlink.eval.datasets import from_frames

    from .conftest import tiny_frames

    records, truth = tiny_frames()
    agency = {"c1": "A", "c2": "B", "t1": "B", "t2": "X", "c3": "Y", "c4": "A", "t3": "A"}
    records["agency"] = records["record_id"].map(agency)
    records["consent_for_tracing"] = (
        records["record_id"].map({"c1": "false", "t2": "False"}).fillna("true")
    )
    data = from_frames(records, truth, "tiny-consent")
    assert sorted(map(tuple, data.withheld_link_pairs.to_numpy())) == [("t1", "c1"), ("t2", "c3")]
    assert list(map(tuple, data.withheld_dedupe_pairs.to_numpy())) == [("c1", "c2")]
    report = evaluate([data], [ExactNameMethod()])
    assert report["datasets"][0]["withheld_by_consent"] == {"link": 2, "dedupe": 1}
    assert (
        "withheld by consent: 2 linkage pairs, 1 duplicate pairs"
        in (report["datasets"][0]["description"])
    )
    link = _method(report, "tiny-consent", "exact")["link"]
    # only t1-c2 may be proposed; exact's one hit (t2-c3) is withheld: neither tp nor fp
    assert link["n_true_pairs"] == 1
    assert link["n_withheld_by_consent"] == 2
    assert link["n_requests_with_true_case"] == 1
    assert link["n_requests_withheld_by_consent"] == 1
    assert link["recall_at"]["10"] == 0.0
    assert link["at_decision"]["tp"] == 0 and link["at_decision"]["fp"] == 0
    dedupe = _method(report, "tiny-consent", "exact")["dedupe"]
    assert dedupe["n_true_pairs"] == 0 and dedupe["n_withheld_by_consent"] == 1
    blocking = _method(report, "tiny-consent", "exact")["blocking_link"]
    assert blocking["pair_completeness"] == 0.0  # t1-c2 not among exact's candidates
