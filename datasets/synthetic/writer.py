"""Writing a generated dataset: ``records.csv`` (record format v1) and ``truth.csv``.

Written with the csv module row by row rather than through pandas, so that a million
records do not need a second in-memory copy as a DataFrame, and so that the bytes depend
only on the data (fixed ``\\n`` line ends, minimal quoting, UTF-8 without BOM).
"""

from __future__ import annotations

import csv
from pathlib import Path

from kinlink.datasets.synthetic.generate import TRUTH_COLUMNS, Dataset, simulate
from kinlink.datasets.synthetic.params import NoiseParams, WorldParams
from kinlink.ingest.columns import RECORD_COLUMNS

RECORDS_FILE = "records.csv"
TRUTH_FILE = "truth.csv"


def write_csv(data: Dataset, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``data`` into ``out_dir`` (created if needed); returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records_path = out / RECORDS_FILE
    truth_path = out / TRUTH_FILE
    with records_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(RECORD_COLUMNS)
        w.writerows(data.records())
    with truth_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        w.writerows(data.truth())
    return records_path, truth_path


def write_dataset(
    out_dir: str | Path,
    seed: int,
    children: int,
    *,
    world: WorldParams | None = None,
    noise: NoiseParams | None = None,
    progress: bool = False,
) -> tuple[Path, Path]:
    """Generate ``children`` children with ``seed`` and write records.csv and truth.csv."""
    data = simulate(seed, children, world=world, noise=noise, progress=progress)
    return write_csv(data, out_dir)
