"""Authorization as a matrix: role x own/other agency x consent yes/no x endpoint.

Four records (agency A and B, consent true and false) and the candidate pairs
between them are written as test data through the store's own functions; every
cell's expected status is derived from the rules in one place (``expected``),
and every response body is searched for what must never leak.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from kinlink.store.decisions import Found, store_candidates
from kinlink.store.review_schema import CandidatePair, Notification
from kinlink.store.schema import StoredRecord, utcnow
from kinlink.store.sweep_schema import SweepRun

from .conftest import Env, World, load_rows, make_env

ROLES = ("cw_a", "sup_a", "admin", "anonymous")
#: record_id -> (agency, consent)
TARGETS = {
    "M-A-YES": ("A", True),
    "M-A-NO": ("A", False),
    "M-B-YES": ("B", True),
    "M-B-NO": ("B", False),
}
PAIRS = (
    ("M-A-YES", "M-B-YES"),
    ("M-A-YES", "M-B-NO"),
    ("M-A-NO", "M-B-YES"),
    ("M-A-YES", "M-A-NO"),
)
SECRET_PHONE = "+25299000111"
SWEEP_ID = 41
#: Agency B's count in the sweep report: agency A's caseworker must never see it.
B_SECRET_COUNT = 987654
notification_ids: dict[str, int] = {}
OWN_PHONE = "+25261000222"


def phone(rid: str) -> str:
    return SECRET_PHONE if TARGETS[rid][0] == "B" else OWN_PHONE


def explanation(this: str, other: str) -> list[dict]:
    """What the engine's explanation looks like, oriented from ``this`` to ``other``."""
    return [
        {
            "comparison": "name",
            "level": "same name",
            "gamma": 9,
            "max_gamma": 9,
            "match_weight": 6.0,
            "tf_adjustment": 0.0,
            "total": 6.0,
            "values_l": {"name_all": ["matrix", "child"]},
            "values_r": {"name_all": ["matrix", "child"]},
        },
        {
            "comparison": "telephone",
            "level": "all other",
            "gamma": 0,
            "max_gamma": 1,
            "match_weight": -1.0,
            "tf_adjustment": 0.0,
            "total": -1.0,
            "values_l": {"phones": [phone(this)]},
            "values_r": {"phones": [phone(other)]},
        },
    ]


@pytest.fixture(scope="module")
def matrix(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, dict]]:
    env = make_env(world, tmp_path_factory.mktemp("matrix"))
    load_rows(
        env.store,
        [
            {
                "record_id": rid,
                "record_type": "case" if agency == "A" else "tracing_request",
                "agency": agency,
                "name": f"Matrix Child {rid}",
                "sex": "female",
                "date_of_birth": "2015-03-04",
                "telephone": phone(rid),
                "national_id_no": f"NID-{rid}",
                "consent_for_tracing": str(consent).lower(),
            }
            for rid, (agency, consent) in TARGETS.items()
        ],
    )
    pair_ids = {}
    notification_ids.clear()
    with env.store.session() as session:
        pk = {
            r.record_id: r
            for r in session.scalars(
                select(StoredRecord).where(StoredRecord.record_id.in_(list(TARGETS)))
            )
        }
        # store_candidates replaces a record's undecided candidates: one call per record.
        by_left: dict[str, list[Found]] = {}
        for left, right in PAIRS:
            by_left.setdefault(left, []).append(
                Found(pk[right].id, 0.97, 8.0, explanation(left, right))
            )
            by_left.setdefault(right, []).append(
                Found(pk[left].id, 0.97, 8.0, explanation(right, left))
            )
        for left, found in by_left.items():
            store_candidates(session, pk[left], found, source="sweep")
        for left, right in PAIRS:
            lo, hi = sorted((pk[left].id, pk[right].id))
            pair_ids[(left, right)] = session.scalar(
                select(CandidatePair.id).where(
                    CandidatePair.pair_lo == lo, CandidatePair.pair_hi == hi
                )
            )
        # A finished sweep whose report counts both agencies, and one notification per
        # agency; B's names B's refusing record, so showing it to A would be a leak.
        now = utcnow()
        session.add(
            SweepRun(
                id=SWEEP_ID,
                mode="full",
                status="succeeded",
                started_at=now,
                finished_at=now,
                model_version="0.1.0",
                report={
                    "run_id": SWEEP_ID,
                    "seconds": 1.5,
                    "new_records": {"total": 4, "cases": 2, "tracing_requests": 2},
                    "by_agency": {
                        "A": {"new_cases": 2, "new_pending_pairs": 3},
                        "B": {"new_tracing_requests": 2, "new_pending_pairs": B_SECRET_COUNT},
                    },
                },
            )
        )
        for agency, rid in (("A", "M-A-YES"), ("B", "M-B-NO")):
            note = Notification(
                agency=agency,
                kind="new_candidates",
                record_pk=pk[rid].id,
                message=f"nightly sweep: 1 new likely match for record {rid}",
                created_at=now,
            )
            session.add(note)
            session.flush()
            notification_ids[agency] = note.id
    yield env, pair_ids
    env.store.close()


def headers(env: Env, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else env.auth(role)


def expected_record(role: str, target: str) -> int:
    if role == "anonymous":
        return 401
    if role == "admin":
        return 403
    return 200 if TARGETS[target][0] == "A" else 404  # never 403: no confirmation it exists


def pair_visible(left: str, right: str) -> bool:
    (a_agency, a_consent), (b_agency, b_consent) = TARGETS[left], TARGETS[right]
    touches_a = "A" in (a_agency, b_agency)
    same_agency = a_agency == b_agency
    return touches_a and (same_agency or (a_consent and b_consent))


def expected_pair(role: str, pair: tuple[str, str]) -> int:
    if role == "anonymous":
        return 401
    if role == "admin":
        return 403
    return 200 if pair_visible(*pair) else 404


def assert_no_leak(env: Env, role: str, text: str) -> None:
    # Agency A must never see B's refusing record, B's telephone or ID numbers.
    assert "M-B-NO" not in text
    assert "NID-M-B" not in text
    assert SECRET_PHONE not in text


RECORD_ENDPOINTS = ("get", "put", "candidates")


@pytest.mark.parametrize("endpoint", RECORD_ENDPOINTS)
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("role", ROLES)
def test_record_cells(matrix, role: str, target: str, endpoint: str) -> None:
    env, _ = matrix
    h = headers(env, role)
    url = f"/api/v1/records/{target}"
    if endpoint == "get":
        r = env.client.get(url, headers=h)
    elif endpoint == "put":
        agency, consent = TARGETS[target]
        body = {
            "record_id": target,
            "record_type": "case" if agency == "A" else "tracing_request",
            "name": f"Matrix Child {target}",
            "sex": "female",
            "date_of_birth": "2015-03-04",
            "telephone": phone(target),
            "national_id_no": f"NID-{target}",
            "consent_for_tracing": consent,
        }
        r = env.client.put(url, json=body, headers=h)
    else:
        r = env.client.get(f"{url}/candidates", headers=h)
    assert r.status_code == expected_record(role, target), r.text
    if r.status_code == 200 and endpoint == "candidates":
        shown = {c["other"]["record_id"] for c in r.json()["items"]}
        allowed = {
            b if a == target else a for a, b in PAIRS if target in (a, b) and pair_visible(a, b)
        }
        assert shown == allowed
    assert_no_leak(env, role, r.text)


@pytest.mark.parametrize("action", ("view", "decide"))
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}~{p[1]}")
@pytest.mark.parametrize("role", ROLES)
def test_pair_cells(matrix, role: str, pair: tuple[str, str], action: str) -> None:
    env, pair_ids = matrix
    url = f"/api/v1/candidates/{pair_ids[pair]}"
    if action == "view":
        r = env.client.get(url, headers=headers(env, role))
        ok = 200
    else:
        r = env.client.post(
            f"{url}/decisions", json={"outcome": "unsure"}, headers=headers(env, role)
        )
        ok = 201
    want = expected_pair(role, pair)
    assert r.status_code == (ok if want == 200 else want), r.text
    assert_no_leak(env, role, r.text)


LIST_ENDPOINTS = {
    "queue": ("GET", "/api/v1/queue", {"cw_a": 200, "sup_a": 200, "admin": 403}),
    "duplicates": ("GET", "/api/v1/duplicates", {"cw_a": 200, "sup_a": 200, "admin": 403}),
    "records": ("GET", "/api/v1/records?limit=200", {"cw_a": 200, "sup_a": 200, "admin": 403}),
    "decisions": ("GET", "/api/v1/decisions", {"cw_a": 200, "sup_a": 200, "admin": 403}),
    "export": ("GET", "/api/v1/exports/decisions.csv", {"cw_a": 403, "sup_a": 200, "admin": 403}),
    "notifications": ("GET", "/api/v1/notifications", {"cw_a": 200, "sup_a": 200, "admin": 403}),
    "admin-users": ("GET", "/api/v1/admin/users", {"cw_a": 403, "sup_a": 403, "admin": 200}),
    "admin-agencies": ("GET", "/api/v1/admin/agencies", {"cw_a": 403, "sup_a": 403, "admin": 200}),
    "admin-token": ("POST", "/api/v1/admin/tokens", {"cw_a": 403, "sup_a": 403, "admin": 201}),
    "admin-user-create": ("POST", "/api/v1/admin/users", {"cw_a": 403, "sup_a": 403, "admin": 201}),
    "sweeps": ("GET", "/api/v1/sweeps", {"cw_a": 200, "sup_a": 200, "admin": 200}),
    "sweep": ("GET", f"/api/v1/sweeps/{SWEEP_ID}", {"cw_a": 200, "sup_a": 200, "admin": 200}),
    "sweep-unknown": ("GET", "/api/v1/sweeps/999", {"cw_a": 404, "sup_a": 404, "admin": 404}),
    "notification-count": (
        "GET",
        "/api/v1/notifications/count",
        {"cw_a": 200, "sup_a": 200, "admin": 403},
    ),
    "notifications-read": (
        "POST",
        "/api/v1/notifications/read",
        {"cw_a": 200, "sup_a": 200, "admin": 403},
    ),
    "page-notifications": ("GET", "/notifications", {"cw_a": 200, "sup_a": 200, "admin": 403}),
    "page-sweeps": ("GET", "/sweeps", {"cw_a": 200, "sup_a": 200, "admin": 200}),
    "page-sweep": ("GET", f"/sweeps/{SWEEP_ID}", {"cw_a": 200, "sup_a": 200, "admin": 200}),
}


@pytest.mark.parametrize("name", list(LIST_ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_list_and_admin_cells(matrix, role: str, name: str) -> None:
    env, _ = matrix
    method, url, expected = LIST_ENDPOINTS[name]
    body = None
    if name == "admin-token":
        body = {"username": "cw_a", "days": 1}
    elif name == "notifications-read":
        body = {"ids": list(notification_ids.values())}
    elif name == "admin-user-create":
        body = {
            "username": f"new_{role}",
            "password": "long-enough-pass",
            "role": "caseworker",
            "agency": "A",
        }
    r = env.client.request(method, url, json=body, headers=headers(env, role))
    assert r.status_code == (401 if role == "anonymous" else expected[role]), r.text
    assert_no_leak(env, role, r.text)
    if role == "cw_a" and name.endswith(("sweep", "sweeps")):
        # a caseworker sees their own agency's counts only
        assert str(B_SECRET_COUNT) not in r.text and 'data-agency="B"' not in r.text
    if r.status_code == 200 and name in ("sweep", "sweeps"):
        data = json.loads(r.text)
        runs = data["items"] if name == "sweeps" else [data]
        want = {"A"} if role == "cw_a" else {"A", "B"}
        assert all(set(run["agencies"]) == want for run in runs)
    if r.status_code == 200 and name == "notifications-read":
        assert json.loads(r.text)["marked"] in ([], [notification_ids["A"]])
    if r.status_code == 200 and name in ("queue", "records", "duplicates"):
        data = json.loads(r.text)
        for item in data["items"]:
            if name == "duplicates":
                assert any(rec["agency"] == "A" for rec in item["records"])
            else:
                assert item["record_id"].startswith(("A-", "M-A-"))


def test_matrix_is_audited(matrix) -> None:
    env, _ = matrix
    from kinlink.store import audit

    with env.store.session() as session:
        result = audit.verify(session)
        actions = {e.action for e in audit.entries(session, limit=5000)}
    assert result.ok and result.entries > 0
    assert {
        "record.view",
        "candidates.view",
        "candidate.view",
        "decision.create",
        "export.decisions",
        "record.update",
        "sweeps.view",
        "sweep.view",
        "notifications.view",
        "notifications.read",
    } <= actions


@pytest.mark.parametrize("agency", ("A", "B"))
@pytest.mark.parametrize("role", ROLES)
def test_notification_cells(matrix, role: str, agency: str) -> None:
    env, _ = matrix
    nid = notification_ids[agency]
    r = env.client.post(f"/api/v1/notifications/{nid}/read", headers=headers(env, role))
    if role == "anonymous":
        want = 401
    elif role == "admin":
        want = 403
    else:
        want = 204 if agency == "A" else 404  # another agency's id: as if it did not exist
    assert r.status_code == want, r.text
    assert_no_leak(env, role, r.text)
    with env.store.session() as session:
        b_note = session.get(Notification, notification_ids["B"])
        assert b_note.read_at is None  # agency A can never mark B's notification read
