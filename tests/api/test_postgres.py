"""The review workflow on PostgreSQL too: accounts, candidates, a decision, the audit chain."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kinlink.api import RealtimeMatcher, create_app
from kinlink.config import Settings
from kinlink.store import Store, audit
from kinlink.store.decisions import Found, store_candidates
from kinlink.store.schema import StoredRecord

from .conftest import PASSWORD, load_rows, populate_accounts


def test_review_on_both_databases(store: Store, tmp_path) -> None:
    tokens = populate_accounts(store)
    load_rows(
        store,
        [
            {"record_id": "P1", "record_type": "case", "agency": "A", "name": "Halima Nur"},
            {
                "record_id": "P2",
                "record_type": "tracing_request",
                "agency": "B",
                "name": "Halima Nuur",
                "consent_for_tracing": "true",
            },
        ],
    )
    with store.session() as session:
        p1, p2 = (
            session.scalar(select(StoredRecord).where(StoredRecord.record_id == r))
            for r in ("P1", "P2")
        )
        store_candidates(session, p2, [Found(p1.id, 0.93, 5.1, [])], source="sweep")
    settings = Settings(home=tmp_path)
    client = TestClient(
        create_app(settings, store, RealtimeMatcher(store, settings), start_matcher=False)
    )
    r = client.post("/api/v1/auth/login", json={"username": "cw_b", "password": PASSWORD})
    assert r.status_code == 200
    items = client.get("/api/v1/records/P2/candidates").json()["items"]
    assert [c["other"]["record_id"] for c in items] == ["P1"] and items[0]["band"] == "very_likely"
    auth = {"Authorization": f"Bearer {tokens['cw_b']}"}
    r = client.post(
        f"/api/v1/candidates/{items[0]['id']}/decisions", json={"outcome": "match"}, headers=auth
    )
    assert r.status_code == 201
    a = {"Authorization": f"Bearer {tokens['cw_a']}"}
    assert (
        client.get("/api/v1/records/P1", headers=a).json()["confirmed_matches"][0]["record_id"]
        == "P2"
    )
    with store.session() as session:
        result = audit.verify(session)
    assert result.ok and result.entries >= 4
    with pytest.raises(Exception, match="append-only"), store.session() as session:
        session.execute(audit.AuditEntry.__table__.delete())
