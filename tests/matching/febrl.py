"""FEBRL in record format v1, for tests (the evaluation harness has its own mapping)."""

from __future__ import annotations

import pandas as pd

from kinlink.ingest.columns import RECORD_COLUMNS


def febrl_to_v1(df: pd.DataFrame, record_type: str = "case", agency: str = "febrl") -> pd.DataFrame:
    """Map FEBRL columns to v1 (soc_sec_id dropped, as in the quality bars)."""
    out = pd.DataFrame(index=range(len(df)), columns=list(RECORD_COLUMNS), dtype=object)
    src = df.reset_index()
    fill = lambda s: s.where(s.notna(), None)  # noqa: E731
    out["record_id"] = src["rec_id"].values
    out["record_type"] = record_type
    out["agency"] = agency
    out["name_first"] = fill(src["given_name"]).values
    out["name_last"] = fill(src["surname"]).values
    out["date_of_birth"] = fill(src["date_of_birth"]).values
    street = (src["street_number"].fillna("") + " " + src["address_1"].fillna("")).str.strip()
    out["location_current"] = street.where(street != "", None).values
    out["location_separation"] = fill(src["address_2"]).values
    origin = (
        src["suburb"].fillna("") + " " + src["postcode"].fillna("") + " " + src["state"].fillna("")
    ).str.strip()
    out["location_origin"] = origin.where(origin != "", None).values
    return out


def febrl_truth_ids(rec_id: str) -> str:
    """rec-123-org / rec-123-dup-0 -> 123: the entity a FEBRL record belongs to."""
    return rec_id.split("-")[1]
