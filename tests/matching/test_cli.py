import pandas as pd
import pytest
from typer.testing import CliRunner

from kinlink.cli import _register, app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runner():
    _register()
    return CliRunner()


def test_train_link_dedupe_commands(tmp_path, runner, febrl4_small):
    records = tmp_path / "records.csv"
    febrl4_small.sample(500, random_state=0).to_csv(records, index=False)
    model = tmp_path / "model.json"
    res = runner.invoke(
        app, ["train", "--records", str(records), "--out", str(model), "--on-error", "skip"]
    )
    assert res.exit_code == 0, res.output
    links = tmp_path / "links.csv"
    res = runner.invoke(
        app,
        [
            *("link", "--records", str(records), "--out", str(links)),
            *("--model", str(model), "--on-error", "skip"),
        ],
    )
    assert res.exit_code == 0, res.output
    out = pd.read_csv(links)
    assert list(out.columns) == [
        "tracing_request_id",
        "case_id",
        "match_probability",
        "match_weight",
        "rank",
    ]
    pairs, clusters = tmp_path / "pairs.csv", tmp_path / "clusters.csv"
    res = runner.invoke(
        app,
        [
            "dedupe",
            "--records",
            str(records),
            "--out",
            str(pairs),
            "--clusters",
            str(clusters),
            "--model",
            str(model),
            "--threshold",
            "0.8",
            "--on-error",
            "skip",
        ],
    )
    assert res.exit_code == 0, res.output
    assert list(pd.read_csv(clusters).columns) == ["record_id", "cluster_id"]


def test_missing_file_and_model_exit_codes(tmp_path, runner):
    res = runner.invoke(app, ["link", "--records", str(tmp_path / "no.csv"), "--out", "x.csv"])
    assert res.exit_code == 3
    records = tmp_path / "r.csv"
    records.write_text("record_id,record_type\n1,case\n")
    res = runner.invoke(
        app,
        [
            "link",
            "--records",
            str(records),
            "--out",
            str(tmp_path / "o.csv"),
            "--model",
            str(tmp_path / "none.json"),
        ],
    )
    assert res.exit_code == 6
