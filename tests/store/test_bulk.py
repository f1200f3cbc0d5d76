"""``insert_rows``: the direct SQLite path stores exactly what SQLAlchemy's insert stores.

The sweep writes its candidate pairs through :func:`kinlink.store.bulk.insert_rows`;
on SQLite it skips the ORM's parameter processing but applies the columns' own bind
processors. Both ways must leave the same text in every column (JSON with any
Unicode, timestamps, booleans, NULLs), and the ORM must read the rows back equal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from kinlink.ingest import read_records
from kinlink.store import Store
from kinlink.store.bulk import JsonText, insert_rows
from kinlink.store.database import json_text
from kinlink.store.records import load_result
from kinlink.store.review_schema import CandidatePair

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "synthetic" / "sample" / "records.csv"
NOW = dt.datetime(2026, 12, 6, 21, 0, 0, 123456, tzinfo=dt.UTC)
TABLE = CandidatePair.__table__


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Store]:
    """Two SQLite stores holding the sample's records (the candidates' foreign keys)."""
    folder = tmp_path_factory.mktemp("bulk")
    out = []
    for name in ("fast", "orm"):
        store = Store(f"sqlite:///{folder / name}.sqlite")
        with store.session() as session:
            load_result(session, read_records(SAMPLE))
        out.append(store)
    return out[0], out[1]


def _pair(i: int, explanation: Any, fingerprint: str | None, share: bool) -> dict[str, Any]:
    return {
        "left_pk": 1 + i % 50,
        "right_pk": 2 + i % 50,
        "pair_lo": 1 + i % 50,
        "pair_hi": 2 + i % 50,
        "kind": "duplicate" if i % 2 else "link",
        "match_probability": 1.0 / (i + 3),
        "match_weight": -3.25 + i,
        "explanation": explanation,
        "source": "sweep",
        "status": "pending",
        "shareable": share,
        "model_fingerprint": fingerprint,
        "created_at": NOW,
        "scored_at": NOW + dt.timedelta(microseconds=i),
    }


def _stored(store: Store) -> list[tuple[Any, ...]]:
    with store.session() as session:
        raw = session.execute(
            text("SELECT *, typeof(explanation) FROM candidates ORDER BY id")
        ).all()
        orm = [
            {c.name: getattr(row, c.key) for c in TABLE.columns}
            for row in session.scalars(select(CandidatePair).order_by(CandidatePair.id))
        ]
    return [tuple(r) for r in raw], orm


def _write_both(stores: tuple[Store, Store], rows: list[dict[str, Any]]) -> None:
    for store, fast in zip(stores, (True, False), strict=True):
        with store.session() as session:
            session.execute(text("DELETE FROM candidates"))
            insert_rows(session, TABLE, rows, fast=fast)


def test_the_same_rows_both_ways(stores: tuple[Store, Store]) -> None:
    explanation = [
        {"comparison": "name", "gamma": 3, "left": "Maxamed Cabdi", "right": "محمد عبدي"},
        {"comparison": "birth", "weight": -0.5, "left": None, "right": [2014, 2016]},
    ]
    rows = [
        _pair(i, explanation if i % 3 == 0 else [], None if i % 4 else "m-1", bool(i % 5))
        for i in range(40)
    ]
    _write_both(stores, rows)
    (fast_raw, fast_orm), (orm_raw, orm_orm) = _stored(stores[0]), _stored(stores[1])
    assert len(fast_raw) == 40
    assert fast_raw == orm_raw
    assert fast_orm == orm_orm
    assert fast_orm[0]["explanation"] == explanation
    assert fast_orm[0]["created_at"].replace(tzinfo=dt.UTC) == NOW


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    explanations=st.lists(
        st.lists(st.dictionaries(st.text(max_size=10), _json, max_size=4), max_size=3),
        min_size=1,
        max_size=6,
    )
)
def test_any_json_text_both_ways(stores: tuple[Store, Store], explanations: list[Any]) -> None:
    rows = [_pair(i, e, None, True) for i, e in enumerate(explanations)]
    _write_both(stores, rows)
    assert _stored(stores[0]) == _stored(stores[1])


def test_rows_must_share_columns(stores: tuple[Store, Store]) -> None:
    rows = [_pair(0, [], None, True), {**_pair(1, [], None, True), "extra": 1}]
    with stores[0].session() as session, pytest.raises(ValueError, match="columns"):
        insert_rows(session, TABLE, rows, fast=True)
    with stores[0].session() as session, pytest.raises(ValueError, match="no column"):
        insert_rows(session, TABLE, [{"nope": 1}], fast=True)


def test_nothing_to_insert(stores: tuple[Store, Store]) -> None:
    with stores[0].session() as session:
        insert_rows(session, TABLE, [], fast=True)


def test_json_text_is_stored_as_the_orm_stores_its_value(stores: tuple[Store, Store]) -> None:
    """A pre-serialised explanation (the sweep workers') stores the same text as the
    decoded value written by the ORM, on the direct path and on the generic one."""
    explanation = [{"comparison": "name", "values_l": {"name_all": ["محمد", "Олександр"]}}]
    orm_rows = [_pair(i, explanation, None, True) for i in range(5)]
    text_rows = [_pair(i, JsonText(json_text(explanation)), None, True) for i in range(5)]
    _write_both(stores, orm_rows)
    expected = _stored(stores[1])
    for fast in (True, False):
        with stores[0].session() as session:
            session.execute(text("DELETE FROM candidates"))
            insert_rows(session, TABLE, text_rows, fast=fast)
        assert _stored(stores[0]) == expected


def test_raw_rows_are_the_orms_rows_and_the_snapshot_reads_them(store: Store) -> None:
    """``raw_rows`` returns what the ORM returns, as the driver gives it (timestamps as
    text on SQLite), and the sweep's snapshot parses them to the same instants, on
    SQLite and PostgreSQL; a consent of JSON false reads as refused."""
    from kinlink.matching.sweep.run import _snapshot
    from kinlink.store.bulk import raw_rows
    from kinlink.store.schema import StoredRecord

    result = read_records(SAMPLE)
    for i in range(3):
        result.records[i] = result.records[i].model_copy(update={"consent_for_tracing": False})
    with store.session() as session:
        load_result(session, result)
    query = select(
        StoredRecord.id,
        StoredRecord.record_id,
        StoredRecord.updated_at,
        StoredRecord.data["consent_for_tracing"].as_string(),
    ).order_by(StoredRecord.id)
    with store.session() as session:
        orm = session.execute(query).all()
        raw = raw_rows(session, query)
    assert len(raw) == len(orm) > 100
    for mine, theirs in zip(raw, orm, strict=True):
        assert mine[:2] == tuple(theirs[:2])
        when = pd.Timestamp(theirs[2])
        when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
        got = pd.Timestamp(mine[2])
        got = got.tz_localize("UTC") if got.tzinfo is None else got.tz_convert("UTC")
        assert got == when
    snapshot = _snapshot(store).set_index("pk")
    assert snapshot["record_id"].to_dict() == {row[0]: row[1] for row in orm}
    refused = set(snapshot.index[~snapshot["consent"]])
    wanted = {r.record_id for r in result.records[:3]}
    assert {pk for pk, rid in snapshot["record_id"].items() if rid in wanted} <= refused
    assert refused
    assert str(snapshot["updated_at"].dtype) == "datetime64[ns, UTC]"
