"""`kinlink demo`, the README's first command, end to end on the committed sample."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.cli import commands as _commands  # noqa: F401  (registers commands)

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample"


@pytest.mark.slow
def test_demo_loads_links_and_shows_candidates(kinlink_home):
    result = CliRunner().invoke(app, ["demo", "--show", "2"])
    assert result.exit_code == 0, result.output
    assert "synthetic records" in result.output and "tracing request" in result.output
    links = pd.read_csv(kinlink_home / "demo" / "links.csv", dtype=str)
    assert list(links.columns) == [
        "tracing_request_id",
        "case_id",
        "match_probability",
        "match_weight",
        "rank",
    ]
    # Sanity, not the quality bar (that is `kinlink eval`): the best candidate is
    # usually the right child.
    records = pd.read_csv(SAMPLE / "records.csv", dtype=str)
    truth = pd.read_csv(SAMPLE / "truth.csv", dtype=str).set_index("record_id")["child_id"]
    children_with_case = set(truth[records.set_index("record_id")["record_type"] == "case"])
    best = links[links["rank"] == "1"]
    best = best[best["tracing_request_id"].map(truth).isin(children_with_case)]
    right = (best["tracing_request_id"].map(truth) == best["case_id"].map(truth)).mean()
    assert right > 0.6
    # Running it again adds nothing to the store.
    again = CliRunner().invoke(app, ["demo", "--show", "0"])
    assert "0 new" in again.output
