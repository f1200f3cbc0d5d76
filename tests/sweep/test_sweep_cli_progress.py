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


def _pairs(home) -> list[tuple[int, int, float]]:
    from sqlalchemy import select

    from kinlink.store.review_schema import CandidatePair

    store = Store(f"sqlite:///{home / 'kinlink.sqlite'}")
    try:
        with store.session() as session:
            rows = session.execute(
                select(CandidatePair.pair_lo, CandidatePair.pair_hi, CandidatePair.match_weight)
            ).all()
    finally:
        store.close()
    return sorted((lo, hi, round(w, 9)) for lo, hi, w in rows)


def test_sweep_workers_option_scores_the_same(tmp_path, monkeypatch, sweep_model):
    """``--workers 2`` forks scoring workers and stores exactly the pairs one process does."""
    from kinlink.config import get_settings
    from kinlink.matching import workers as worker_pool
    from kinlink.matching.sweep import inprocess_scoring

    _, model_path = sweep_model
    monkeypatch.setattr(inprocess_scoring, "MIN_QUERIES_PER_WORKER", 1)
    monkeypatch.setattr(inprocess_scoring, "QUERIES_PER_TASK", 10)
    used: list[int] = []
    real = worker_pool.ForkedPool.__init__

    def spy(self, fn, workers, progress=False, desc="score"):
        used.append(workers)
        real(self, fn, workers, progress, desc)

    monkeypatch.setattr(worker_pool.ForkedPool, "__init__", spy)
    monkeypatch.delenv("KINLINK_DATABASE_URL", raising=False)
    frame = sample_frame(200)
    results = []
    for workers in ("1", "2"):
        home = tmp_path / f"home{workers}"
        home.mkdir()
        shutil.copy(model_path, home / "model.json")
        monkeypatch.setenv("KINLINK_HOME", str(home))
        get_settings.cache_clear()
        store = Store(f"sqlite:///{home / 'kinlink.sqlite'}")
        load(store, sample_records(frame.head(120)))
        store.close()
        first = CliRunner().invoke(app, ["sweep", "--overlap-minutes", "0"])
        assert first.exit_code == 0, first.output
        store = Store(f"sqlite:///{home / 'kinlink.sqlite'}")
        load(store, sample_records(frame.iloc[120:]), sha="1" * 64)
        store.close()
        second = CliRunner().invoke(app, ["sweep", "--overlap-minutes", "0", "--workers", workers])
        assert second.exit_code == 0, second.output
        assert "incremental" in second.stdout
        results.append(_pairs(home))
    get_settings.cache_clear()
    assert used[1::2] == [1, 2]  # the incremental sweeps (the full ones use the default)
    assert results[0] == results[1] and len(results[0]) > 0
