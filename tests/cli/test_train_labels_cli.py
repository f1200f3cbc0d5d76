"""``kinlink train --labels``: m-probabilities counted on reviewers' (or true) labels.

The labels are the synthetic sample's own ``truth.csv`` (record_id,child_id,culture),
or the same ids as reviewers' ``record_id,cluster_id``; never real people.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kinlink.cli import _register, app, exitcodes
from kinlink.cli.cmd_link import read_frame
from kinlink.matching import prepare_records, train_model

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample"
N = 600

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """The first N sample records, their truth.csv rows (same format), and the truth."""
    folder = tmp_path_factory.mktemp("labels")
    frame = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False).head(N)
    truth = pd.read_csv(SAMPLE / "truth.csv", dtype=str, keep_default_na=False)
    truth = truth[truth["record_id"].isin(frame["record_id"])]
    records, labels = folder / "records.csv", folder / "truth.csv"
    frame.to_csv(records, index=False)
    truth.to_csv(labels, index=False)
    return records, labels, truth


def train(records: Path, out: Path, *extra: str):
    return runner.invoke(app, ["train", "--records", str(records), "--out", str(out), *extra])


def m_values(model: dict) -> dict[tuple[str, str], float]:
    return {
        (c["output_column_name"], level["label_for_charts"]): level["m_probability"]
        for c in model["splink_settings"]["comparisons"]
        for level in c["comparison_levels"]
        if not level.get("is_null_level")
    }


def test_truth_csv_as_labels_gives_the_library_s_labelled_model(sample, tmp_path):
    records, labels, truth = sample
    out = tmp_path / "model.json"
    result = train(records, out, "--labels", str(labels))
    assert result.exit_code == 0, result.output
    model = json.loads(out.read_text("utf-8"))
    meta = model["kinlink"]
    assert meta["m_source"] == "labels" and meta["em_sessions"] == 0
    sizes = truth["child_id"].value_counts()
    assert meta["labels"]["file"] == "truth.csv" and meta["labels"]["column"] == "child_id"
    assert meta["labels"]["labelled_records"] == N
    assert meta["labels"]["pairs"] == int((sizes * (sizes - 1) // 2).sum()) > 0
    assert "labelled pairs" in result.stderr

    # The same m as train_model(prepared, labels=...) called directly on the same data.
    frame = read_frame(records)  # the records as `kinlink train` reads them
    direct = train_model(
        prepare_records(frame),
        labels=pd.Series(truth["child_id"].to_numpy(), index=truth["record_id"].to_numpy()),
    )
    assert m_values(model) == pytest.approx(m_values(direct.to_json()), abs=1e-9)

    # ... and not what EM gives without labels (the flag is not silently ignored).
    em_out = tmp_path / "em.json"
    assert train(records, em_out).exit_code == 0
    em = json.loads(em_out.read_text("utf-8"))
    assert em["kinlink"]["m_source"] != "labels" and m_values(em) != m_values(model)


def test_cluster_id_labels_with_some_records_unlabelled(sample, tmp_path):
    records, _, truth = sample
    reviewed = truth.rename(columns={"child_id": "cluster_id"})[["record_id", "cluster_id"]]
    reviewed = reviewed.iloc[: N // 2]  # reviewers labelled only half of the records
    labels = tmp_path / "reviewed.csv"
    reviewed.to_csv(labels, index=False)
    out = tmp_path / "model.json"
    result = train(records, out, "--labels", str(labels))
    assert result.exit_code == 0, result.output
    meta = json.loads(out.read_text("utf-8"))["kinlink"]
    assert meta["m_source"] == "labels"
    assert meta["labels"]["column"] == "cluster_id"
    assert meta["labels"]["labelled_records"] == N // 2
    assert meta["labels"]["unlabelled_records"] == N - N // 2


def test_missing_labels_file(sample, tmp_path):
    records, _, _ = sample
    result = train(records, tmp_path / "m.json", "--labels", str(tmp_path / "none.csv"))
    assert result.exit_code == exitcodes.BAD_FILE
    assert "none.csv: no such labels file" in result.stderr
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize(
    "header",
    ["record_id,culture", "id,child_id", "record_id,child_id,cluster_id"],
)
def test_labels_without_the_right_columns(sample, tmp_path, header):
    records, _, _ = sample
    labels = tmp_path / "labels.csv"
    labels.write_text(header + "\n" + ",".join(["KL-0000001"] * len(header.split(","))) + "\n")
    result = train(records, tmp_path / "m.json", "--labels", str(labels))
    assert result.exit_code == exitcodes.BAD_FILE, result.output
    assert "record_id,cluster_id or record_id,child_id" in result.stderr
    assert f"(found: {header})" in result.stderr


def test_unknown_record_ids_are_counted_and_shown(sample, tmp_path):
    records, _, truth = sample
    strangers = pd.DataFrame(
        {"record_id": [f"NOT-{i}" for i in range(7)], "child_id": "CH-X", "culture": "x"}
    )
    labels = tmp_path / "labels.csv"
    pd.concat([truth, strangers]).to_csv(labels, index=False)
    result = train(records, tmp_path / "m.json", "--labels", str(labels))
    assert result.exit_code == exitcodes.INVALID_ROWS, result.output
    assert "7 record id(s) are not in the records trained on" in result.stderr
    assert "NOT-0, NOT-1, NOT-2, NOT-3, NOT-4" in result.stderr
    assert "NOT-5" not in result.stderr


def test_a_record_in_two_clusters_is_refused(sample, tmp_path):
    records, _, truth = sample
    labels = tmp_path / "labels.csv"
    clash = truth.head(1).assign(child_id="CH-OTHER")
    pd.concat([truth, clash]).to_csv(labels, index=False)
    result = train(records, tmp_path / "m.json", "--labels", str(labels))
    assert result.exit_code == exitcodes.INVALID_ROWS, result.output
    assert f"labelled with more than one child_id, e.g. {truth.iloc[0]['record_id']}" in (
        result.stderr
    )


def test_labels_without_any_pair_are_refused(sample, tmp_path):
    records, _, truth = sample
    labels = tmp_path / "labels.csv"
    truth.drop_duplicates("child_id").to_csv(labels, index=False)
    result = train(records, tmp_path / "m.json", "--labels", str(labels))
    assert result.exit_code == exitcodes.BAD_FILE, result.output
    assert "no two records share a child_id" in result.stderr
