"""The evaluator's notebook is executed here, small, so that it cannot rot."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "evaluate_kinlink.ipynb"


@pytest.mark.slow
def test_evaluation_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("KINLINK_NB_CHILDREN", "60")
    monkeypatch.setenv("KINLINK_NB_SEED", "3")
    # kinlink's engine trains a model: keep to the fast methods plus kinlink itself
    monkeypatch.setenv("KINLINK_NB_METHODS", "kinlink,exact,primero")
    monkeypatch.setenv("KINLINK_NB_OUT", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=dict(os.environ))
    assert (tmp_path / "report.md").exists()
    assert (tmp_path / "report.json").exists()
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())
