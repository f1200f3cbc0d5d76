"""Fixtures for the sweep: one model trained per session on the committed sample, and
small stores loaded from it (a few hundred records keep a sweep to a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kinlink.ingest import RecordV1
from kinlink.matching import prepare_records, save_model, train_model
from kinlink.store import load_records

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample"
#: Records of the sample used by the store fixtures (first N rows; cases and requests).
N_RECORDS = 400


def sample_frame(n: int = N_RECORDS) -> pd.DataFrame:
    frame = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False).head(n)
    return frame.replace({"": None})


def sample_records(frame: pd.DataFrame) -> list[RecordV1]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [RecordV1.model_validate({k: v for k, v in r.items() if v is not None}) for r in rows]


def load(store, records: list[RecordV1], sha: str = "0" * 64):
    with store.session() as session:
        return load_records(
            session, records, file_name="sample.csv", file_sha256=sha, file_format="csv"
        )


@pytest.fixture(scope="session")
def sweep_model(tmp_path_factory: pytest.TempPathFactory):
    """A model trained once on the whole committed sample, and its JSON path."""
    frame = pd.read_csv(SAMPLE / "records.csv", dtype=str, keep_default_na=False)
    model = train_model(prepare_records(frame.replace({"": None})), fingerprint="sha256:test")
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(model, path)
    return model, path
