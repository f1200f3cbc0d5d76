"""A hand-made data set small enough to check every figure by hand.

Children (culture): K1 (arabic) has two cases c1, c2 (spelling variants) and a
tracing request t1; K2 (somali) has case c3 and tracing request t2 with the exact
same name; K3 (arabic) has case c4 only; K4 (somali) has tracing request t3 only
(nobody registered the child).
"""

import pandas as pd
import pytest

from kinlink.eval.datasets import from_frames

ROWS = [
    # record_id, type, name, sex, dob, mother, culture, child
    ("c1", "case", "Mohammed Ali Hassan", "male", "2015-03-01", "Amina", "arabic", "K1"),
    ("c2", "case", "Muhammad Ali Hasan", "male", "2015-03-01", "Amina", "arabic", "K1"),
    ("c3", "case", "Hodan Abdi Farah", "female", "2016-01-01", "Sahra", "somali", "K2"),
    ("c4", "case", "Fatima Hassan Omar", "female", "2014-05-05", "Zainab", "arabic", "K3"),
    ("t1", "tracing_request", "Mohamed Ali", "male", "2015", "Amina", "arabic", "K1"),
    ("t2", "tracing_request", "Hodan Abdi Farah", "female", "2016-01-01", "Sahra", "somali", "K2"),
    ("t3", "tracing_request", "Asha Warsame", "female", "2013", "Deqa", "somali", "K4"),
]


def tiny_frames():
    records = pd.DataFrame(
        {
            "record_id": [r[0] for r in ROWS],
            "record_type": [r[1] for r in ROWS],
            "name": [r[2] for r in ROWS],
            "sex": [r[3] for r in ROWS],
            "date_of_birth": [r[4] for r in ROWS],
            "mother_name": [r[5] for r in ROWS],
        }
    )
    truth = pd.DataFrame(
        {
            "record_id": [r[0] for r in ROWS],
            "child_id": [r[7] for r in ROWS],
            "culture": [r[6] for r in ROWS],
        }
    )
    return records, truth


@pytest.fixture
def tiny():
    records, truth = tiny_frames()
    return from_frames(records, truth, "tiny")


@pytest.fixture
def tiny_dir(tmp_path):
    records, truth = tiny_frames()
    records.to_csv(tmp_path / "records.csv", index=False)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    return tmp_path
