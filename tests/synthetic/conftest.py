"""One generated dataset shared by the generator tests (generating it takes about a second)."""

from __future__ import annotations

import pandas as pd
import pytest

from kinlink.datasets.synthetic import generate

SEED = 7
CHILDREN = 2000


@pytest.fixture(scope="session")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate(SEED, CHILDREN)


@pytest.fixture(scope="session")
def joined(frames: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    records, truth = frames
    return records.merge(truth, on="record_id", validate="one_to_one")
