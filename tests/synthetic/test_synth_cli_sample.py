"""The CLI command and the committed sample (which must be what the documented command makes)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinlink.cli import app, exitcodes
from kinlink.cli import cmd_synth as _cmd_synth  # noqa: F401  (registers the command)

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample"


def _commands():
    try:
        from kinlink.cli import commands  # noqa: F401  (all commands, as the console script)
    except Exception:  # another command failing to import is not this test's business
        pytest.skip("other CLI commands do not import")


def test_cli_synth_writes_files(tmp_path):
    _commands()
    result = CliRunner().invoke(
        app, ["synth", "--seed", "3", "--children", "50", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == exitcodes.OK, result.output
    assert (tmp_path / "o" / "records.csv").exists()
    assert (tmp_path / "o" / "truth.csv").exists()


def test_cli_synth_unwritable(tmp_path):
    _commands()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["synth", "--children", "5", "--out", str(blocker / "sub")])
    assert result.exit_code == exitcodes.BAD_FILE


def test_committed_sample_matches_documented_command(tmp_path):
    """README: `kinlink synth --seed 7 --children 2000 --out datasets/synthetic/sample`."""
    from kinlink.datasets.synthetic import write_dataset

    records, truth = write_dataset(tmp_path, 7, 2000)
    assert filecmp.cmp(records, SAMPLE / "records.csv", shallow=False)
    assert filecmp.cmp(truth, SAMPLE / "truth.csv", shallow=False)
