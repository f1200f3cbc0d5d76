"""Candidates in parts are exactly the single statement's candidates, in any number of parts."""

from __future__ import annotations

import pandas as pd
import pytest

from kinlink.blocking.candidates import PartitionedCandidates, candidate_pairs_sql
from kinlink.datasets.synthetic import generate
from kinlink.matching.engine import Engine
from kinlink.matching.prepare import prepare_records


@pytest.fixture(scope="module")
def prepared() -> pd.DataFrame:
    records, _ = generate(seed=5, children=300)
    records = records.replace("", None)
    # Some records refuse tracing across agencies, so the consent rule has work to do.
    records.loc[records.index % 7 == 0, "consent_for_tracing"] = "false"
    return prepare_records(records)


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
    return set(zip(frame["record_id_l"], frame["record_id_r"], frame["rule"], strict=True))


@pytest.mark.parametrize("link_type", ["link", "dedupe", "all"])
@pytest.mark.parametrize("rows_per_part", [10**9, 5_000, 700])
def test_parts_are_the_single_statement(prepared, link_type, rows_per_part):
    engine = Engine("duckdb")
    table = engine.register(
        prepared[["record_id", "record_type", "agency", "consent", "block_keys"]]
    )
    whole = engine.query(candidate_pairs_sql(engine, table.physical_name, link_type, 40))
    parts = PartitionedCandidates(
        engine, table.physical_name, link_type, 40, join_rows_per_part=rows_per_part
    )
    try:
        if rows_per_part < 10_000:
            assert parts.parts > 1
        frames = [engine.query(parts.part_sql(p)) for p in range(parts.parts)]
    finally:
        parts.close()
    got = [_pairs(f) for f in frames]
    assert sum(len(g) for g in got) == len(set().union(*got))  # disjoint parts
    assert set().union(*got) == _pairs(whole)
    assert len(whole) > 100
    if link_type == "link":  # every request's candidates in one part
        owners = [set(f["record_id_l"]) for f in frames]
        assert sum(len(o) for o in owners) == len(set().union(*owners))


@pytest.mark.parametrize("n_new", [1, 40, 400])
@pytest.mark.parametrize("rows_per_part", [10**9, 700])
def test_sweep_parts_are_the_sweep_statement(prepared, n_new, rows_per_part):
    from kinlink.matching.sweep.scoring import sweep_pairs_sql

    engine = Engine("duckdb")
    table = engine.register(
        prepared[["record_id", "record_type", "agency", "consent", "block_keys"]]
    )
    new_ids = prepared["record_id"].sample(n_new, random_state=n_new)
    new = engine.register(pd.DataFrame({"record_id": new_ids}), "new")
    whole = engine.query(sweep_pairs_sql(engine, table.physical_name, new.physical_name, 40))
    parts = PartitionedCandidates(
        engine,
        table.physical_name,
        "sweep",
        40,
        join_rows_per_part=rows_per_part,
        new_table=new.physical_name,
    )
    try:
        frames = [engine.query(parts.part_sql(p)) for p in range(parts.parts)]
    finally:
        parts.close()
    got = [_pairs(f) for f in frames]
    assert sum(len(g) for g in got) == len(set().union(*got))
    assert set().union(*got) == _pairs(whole)
    assert len(whole) > (0 if n_new == 1 else 50)


def test_the_sweep_job_needs_its_new_records(prepared):
    engine = Engine("duckdb")
    table = engine.register(
        prepared[["record_id", "record_type", "agency", "consent", "block_keys"]]
    )
    with pytest.raises(ValueError, match="new records"):
        PartitionedCandidates(engine, table.physical_name, "sweep")
