"""``kinlink sweep --progress/--no-progress``: a bar only when asked (or on a terminal).

cron and systemd capture stderr into logs, so the default off a terminal is no bar;
an operator running a sweep by hand can still ask for one (or refuse it on a TTY).
"""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from kinlink.cli import _register, app
from kinlink.store import Store

from .conftest import load, sample_frame, sample_records

_register()


@pytest.mark.parametrize("flag", ["--progress", "--no-progress", None])
def test_sweep_progress_flag(flag, kinlink_home, sweep_model):
    _, model_path = sweep_model
    kinlink_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(model_path, kinlink_home / "model.json")
    store = Store(f"sqlite:///{kinlink_home / 'kinlink.sqlite'}")
    load(store, sample_records(sample_frame(120)))
    store.close()
    # --no-cache: every record is prepared in this run, so there is work to show.
    result = CliRunner().invoke(app, ["sweep", "--no-cache", *([flag] if flag else [])])
    assert result.exit_code == 0, result.output
    assert "sweep run" in result.stdout  # the report, on stdout as before
    assert ("prepare:" in result.stderr) is (flag == "--progress"), result.stderr
    assert "prepare:" not in result.stdout
