import pandas as pd
import pytest

from kinlink.eval.datasets import (
    DEDUPE,
    LINK,
    DatasetError,
    febrl_to_v1,
    from_frames,
    load_dataset,
    load_synthetic_dir,
)
from kinlink.ingest.columns import RECORD_COLUMNS


def test_synthetic_dir_round_trip(tiny_dir):
    ds = load_synthetic_dir(tiny_dir)
    assert list(ds.records.columns) == list(RECORD_COLUMNS)
    assert set(ds.tasks) == {LINK, DEDUPE}
    assert len(ds.cases) == 4 and len(ds.tracing_requests) == 3
    assert ds.cultures == ["arabic", "somali"]
    # blanks are None, not NaN or ""
    assert ds.records.loc[0, "telephone"] is None
    assert ds.entity_of["c2"] == "K1"


def test_missing_dir_is_not_found(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_synthetic_dir(tmp_path / "nope")
    assert err.value.not_found


def test_records_without_truth_are_rejected():
    records = pd.DataFrame({"record_id": ["a", "b"], "record_type": ["case", "case"]})
    truth = pd.DataFrame({"record_id": ["a"], "child_id": ["x"]})
    with pytest.raises(DatasetError):
        from_frames(records, truth, "bad")


def test_febrl_mapping():
    febrl = pd.DataFrame(
        {
            "given_name": ["michaela", None],
            "surname": ["neumann", "smith"],
            "street_number": ["8", None],
            "address_1": ["stanley street", "main road"],
            "address_2": ["miami", None],
            "suburb": ["winston hills", None],
            "postcode": ["4223", "2000"],
            "state": ["nsw", "vic"],
            "date_of_birth": ["19151111", "19560231"],
            "soc_sec_id": ["5304218", "1"],
        },
        index=pd.Index(["rec-1-org", "rec-2-dup-0"], name="rec_id"),
    )
    v1 = febrl_to_v1(febrl, "case")
    first = v1.iloc[0]
    assert first["name"] == "michaela neumann"
    assert (first["name_first"], first["name_last"]) == ("michaela", "neumann")
    assert first["date_of_birth"] == "1915-11-11"
    assert first["location_separation"] == "8 stanley street"
    assert first["location_origin"] == "winston hills, nsw"
    assert first["national_id_no"] == "5304218"
    second = v1.iloc[1]
    assert second["name"] == "smith"
    assert second["date_of_birth"] == "1956-02"  # 31 February keeps the valid part
    assert second["location_origin"] == "vic"
    assert febrl_to_v1(febrl, "case", with_ssid=False)["national_id_no"].isna().all()


@pytest.mark.parametrize("spec", ["febrl3", "febrl4-nossid"])
def test_febrl_loaders(spec):
    ds = load_dataset(spec, limit=50)
    if spec.startswith("febrl4"):
        assert ds.tasks == (LINK,)
        assert len(ds.cases) == len(ds.tracing_requests) == 50
        assert ds.records["national_id_no"].isna().all()
    else:
        assert ds.tasks == (DEDUPE,)
        assert ds.truth["entity_id"].nunique() == 50
        assert ds.records["national_id_no"].notna().any()


def test_full_febrl4_sizes():
    ds = load_dataset("febrl4")
    assert len(ds.cases) == 5000 and len(ds.tracing_requests) == 5000
    assert ds.truth["entity_id"].nunique() == 5000


def test_bad_synthetic_spec():
    with pytest.raises(DatasetError):
        load_dataset("synthetic:lots")
