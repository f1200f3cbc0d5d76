"""``--progress/--no-progress`` on the commands that do long work (link, dedupe, train).

The contract (README, CONTRIBUTING): a bar on stderr only for a person at a terminal,
unless the command line says otherwise. Output files and their columns do not change.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kinlink.cli import _register, app

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample"
KINLINK = str(Path(sys.executable).parent / "kinlink")
#: What the bars write: the reading bar (kinlink.cli) and prepare's (kinlink.matching).
READING, PREPARE = "reading records.csv", "prepare:"

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """300 synthetic records and a model trained on them (quietly, by the CLI itself)."""
    folder = tmp_path_factory.mktemp("progress")
    records = folder / "records.csv"
    frame = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False)
    frame.head(300).to_csv(records, index=False)
    model = folder / "model.json"
    done = runner.invoke(
        app, ["train", "--records", str(records), "--out", str(model), "--no-progress"]
    )
    assert done.exit_code == 0, done.output
    return records, model


def _command(name: str, records: Path, model: Path, out: Path) -> list[str]:
    if name == "train":
        return ["train", "--records", str(records), "--out", str(out / "m.json")]
    return [name, "--records", str(records), "--out", str(out / "o.csv"), "--model", str(model)]


COLUMNS = {
    "link": ["tracing_request_id", "case_id", "match_probability", "match_weight", "rank"],
    "dedupe": ["record_id_l", "record_id_r", "match_probability", "match_weight"],
}


@pytest.mark.parametrize("name", ["link", "dedupe", "train"])
@pytest.mark.parametrize("flag", ["--progress", "--no-progress", None])
def test_progress_flag_off_a_terminal(
    name: str, flag: str | None, files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Under the test runner stderr is not a TTY: a bar only with --progress."""
    records, model = files
    args = _command(name, records, model, tmp_path)
    result = runner.invoke(app, [*args, *([flag] if flag else [])])
    assert result.exit_code == 0, result.output
    shown = flag == "--progress"
    assert (READING in result.stderr) is shown, result.stderr
    assert (PREPARE in result.stderr) is shown, result.stderr
    assert READING not in result.stdout and PREPARE not in result.stdout
    if name in COLUMNS:
        assert list(pd.read_csv(tmp_path / "o.csv").columns) == COLUMNS[name]


def _stderr_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run ``kinlink ARGS`` with stderr on a pseudo-terminal; its exit code and stderr."""
    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(
        [KINLINK, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its end (it exited)
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("flag", [None, "--no-progress"])
def test_on_a_terminal_the_bar_is_the_default_and_no_progress_hides_it(
    flag: str | None, files: tuple[Path, Path], tmp_path: Path
) -> None:
    records, model = files
    args = _command("link", records, model, tmp_path)
    code, stderr = _stderr_on_a_terminal([*args, *([flag] if flag else [])])
    assert code == 0, stderr
    assert "candidates for" in stderr  # the summary line is always there
    shown = flag is None
    assert (READING in stderr) is shown, stderr
    assert (PREPARE in stderr) is shown, stderr
