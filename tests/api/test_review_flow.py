"""End to end through the JSON API: register, candidates, decide, revise, reopen."""

from __future__ import annotations

import csv
import io

from .conftest import Env


def _first_candidate(env: Env, user: str, record_id: str) -> dict:
    r = env.client.get(f"/api/v1/records/{record_id}/candidates", headers=env.auth(user))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items, f"no candidates for {record_id}"
    return items[0]


def test_engine_candidates_for_a_tracing_request(env: Env) -> None:
    cand = _first_candidate(env, "cw_b", "B-T000")
    assert cand["other"]["record_id"] == "A-C000"
    assert cand["band"] in {"very_likely", "possible", "unlikely"}
    assert 0 <= cand["match_probability"] <= 1
    comparisons = {c["comparison"]: c for c in cand["explanation"]}
    assert comparisons["mother"]["agreement"] == "exact"
    assert comparisons["mother"]["values_this"] and comparisons["mother"]["values_other"]
    # Agency A shares no telephone numbers with agency B.
    assert "telephone" not in cand["other"]["data"]
    assert comparisons["telephone"]["values_other"] == {}


def test_bands_are_fixed_cut_offs(env: Env) -> None:
    bands = env.client.get("/api/v1/bands").json()
    assert [b["code"] for b in bands] == ["very_likely", "possible", "unlikely"]
    cand = _first_candidate(env, "cw_b", "B-T000")
    expected = next(b["code"] for b in bands if cand["match_probability"] >= b["min_probability"])
    assert cand["band"] == expected


def test_create_record_is_matched_at_once(env: Env) -> None:
    env.live()
    record = {
        "record_id": "B-T900",
        "record_type": "tracing_request",
        "name": "Amina Abdullahi",
        "date_of_birth": "2015",
        "sex": "female",
    }
    # copy a real child's details from agency A so the engine has something to find
    r = env.client.get("/api/v1/records/A-C003", headers=env.auth("cw_a"))
    child = r.json()["data"]
    record.update(
        name=child["name"],
        sex=child["sex"],
        date_of_birth=child["date_of_birth"][:4],
        mother_name=child["mother_name"],
        location_origin=child["location_origin"],
    )
    r = env.client.post("/api/v1/records", json=record, headers=env.auth("cw_b"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["agency"] == "B" and body["matching"] == "matched" and body["candidates"] >= 1
    cand = _first_candidate(env, "cw_b", "B-T900")
    assert cand["other"]["record_id"] == "A-C003"
    assert cand["source"] == "realtime"


def test_validation_errors_name_the_field(env: Env) -> None:
    r = env.client.post(
        "/api/v1/records",
        json={"record_id": "X1", "record_type": "case", "sex": "blue", "date_of_birth": "soon"},
        headers=env.auth("cw_a"),
    )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["fields"]}
    assert {"sex", "date_of_birth"} <= fields
    assert r.json()["error"]["code"] == "invalid_request"


def test_create_twice_conflicts_and_put_versions(env: Env) -> None:
    record = {"record_id": "A-NEW1", "record_type": "case", "name": "Nasra Jama"}
    h = env.auth("cw_a")
    assert env.client.post("/api/v1/records", json=record, headers=h).status_code == 201
    again = env.client.post("/api/v1/records", json=record, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    r = env.client.put("/api/v1/records/A-NEW1", json={**record, "sex": "female"}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2
    other_agency = env.client.post(
        "/api/v1/records", json={**record, "record_id": "A-NEW2", "agency": "B"}, headers=h
    )
    assert other_agency.status_code == 422
    assert other_agency.json()["error"]["fields"][0]["field"] == "agency"


def test_upload_reports_rows_like_ingest(env: Env) -> None:
    text = (
        "record_id,record_type,name,sex,date_of_birth\n"
        "A-U1,case,Hawa Nur,female,2014-02-03\n"
        "A-U2,case,Salim Aden,robot,2013\n"
        "A-U3,case,Idris Farah,male,2012\n"
    )
    h = env.auth("cw_a")
    files = {"file": ("field.csv", text.encode(), "text/csv")}
    r = env.client.post("/api/v1/records/upload", files=files, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stored"] is False and body["inserted"] == 0
    [problem] = body["errors"]
    assert (problem["line"], problem["column"], problem["value"]) == (3, "sex", "robot")
    assert problem["reason"].startswith("sex must be male, female or other")
    r = env.client.post("/api/v1/records/upload", files=files, data={"on_error": "skip"}, headers=h)
    assert r.json()["stored"] is True and r.json()["inserted"] == 2
    assert env.client.get("/api/v1/records/A-U3", headers=h).status_code == 200


def test_match_is_shown_on_both_records_and_versioned(env: Env) -> None:
    cand = _first_candidate(env, "cw_b", "B-T000")
    r = env.client.post(
        f"/api/v1/candidates/{cand['id']}/decisions",
        json={"outcome": "unsure", "note": "ask the mother", "expected_version": 0},
        headers=env.auth("cw_b"),
    )
    assert r.status_code == 201, r.text
    r = env.client.post(
        f"/api/v1/candidates/{cand['id']}/decisions",
        json={"outcome": "match", "note": "confirmed by photo", "expected_version": 1},
        headers=env.auth("cw_b"),
    )
    detail = r.json()
    assert detail["status"] == "match"
    assert [(d["version"], d["outcome"]) for d in detail["history"]] == [
        (1, "unsure"),
        (2, "match"),
    ]
    assert detail["history"][0]["decided_by"] == "cw_b"
    # shown on both records, to both agencies
    mine = env.client.get("/api/v1/records/B-T000", headers=env.auth("cw_b")).json()
    theirs = env.client.get("/api/v1/records/A-C000", headers=env.auth("cw_a")).json()
    assert [m["record_id"] for m in mine["confirmed_matches"]] == ["A-C000"]
    assert [m["record_id"] for m in theirs["confirmed_matches"]] == ["B-T000"]
    notes = env.client.get("/api/v1/notifications", headers=env.auth("cw_a")).json()
    assert notes and notes[0]["kind"] == "match_confirmed"
    # a stale revision is refused, not silently applied
    stale = env.client.post(
        f"/api/v1/candidates/{cand['id']}/decisions",
        json={"outcome": "not_match", "expected_version": 1},
        headers=env.auth("cw_b"),
    )
    assert stale.status_code == 409


def test_revising_someone_elses_decision_needs_a_supervisor(env: Env) -> None:
    cand = _first_candidate(env, "cw_b", "B-T003")
    url = f"/api/v1/candidates/{cand['id']}/decisions"
    assert (
        env.client.post(url, json={"outcome": "match"}, headers=env.auth("cw_b")).status_code == 201
    )
    r = env.client.post(url, json={"outcome": "not_match"}, headers=env.auth("cw_a"))
    assert r.status_code == 403
    r = env.client.post(
        url, json={"outcome": "unsure", "note": "re-check"}, headers=env.auth("sup_a")
    )
    assert r.status_code == 201 and r.json()["decision"]["version"] == 2
    mine = env.client.get("/api/v1/decisions", headers=env.auth("cw_b")).json()
    assert {d["decided_by"] for d in mine["items"]} == {"cw_b"}
    everyone = env.client.get("/api/v1/decisions", headers=env.auth("sup_a")).json()
    assert {d["decided_by"] for d in everyone["items"]} == {"cw_b", "sup_a"}


def test_not_match_stays_away_until_a_material_change(env: Env) -> None:
    env.live()
    h = env.auth("cw_b")
    cand = _first_candidate(env, "cw_b", "B-T006")
    other = cand["other"]["record_id"]
    env.client.post(
        f"/api/v1/candidates/{cand['id']}/decisions", json={"outcome": "not_match"}, headers=h
    )
    ids = lambda: [  # noqa: E731
        c["other"]["record_id"]
        for c in env.client.get("/api/v1/records/B-T006/candidates", headers=h).json()["items"]
    ]
    assert other not in ids()
    record = env.client.get("/api/v1/records/B-T006", headers=h).json()["data"]
    # not material: the registration date is not compared by the engine
    r = env.client.put(
        "/api/v1/records/B-T006", json={**record, "registration_date": "2024-01-02"}, headers=h
    )
    assert r.status_code == 200
    assert other not in ids()
    # material: a corrected place of origin is re-matched and the pair comes back, flagged
    r = env.client.put(
        "/api/v1/records/B-T006",
        json={**record, "registration_date": "2024-01-02", "location_current": "Dollow camp"},
        headers=h,
    )
    assert r.status_code == 200
    items = env.client.get("/api/v1/records/B-T006/candidates", headers=h).json()["items"]
    back = [c for c in items if c["other"]["record_id"] == other]
    assert back and back[0]["previously_rejected"] and back[0]["status"] == "pending"


def test_duplicates_queue_and_queue_order(env: Env) -> None:
    q = env.client.get("/api/v1/queue", headers=env.auth("cw_a")).json()
    probs = [i["best_probability"] for i in q["items"]]
    assert probs == sorted(probs, reverse=True) and q["total"] >= len(q["items"]) > 0
    d = env.client.get("/api/v1/duplicates", headers=env.auth("cw_b")).json()
    assert d["items"], "the caseload has children registered by both agencies"
    pair = d["items"][0]
    assert {r["agency"] for r in pair["records"]} == {"A", "B"}
    assert all(r["record_type"] == "case" for r in pair["records"])


def test_export_neutralises_formulas(env: Env) -> None:
    cand = _first_candidate(env, "cw_a", "A-C000")
    env.client.post(
        f"/api/v1/candidates/{cand['id']}/decisions",
        json={"outcome": "unsure", "note": '=HYPERLINK("http://x")'},
        headers=env.auth("sup_a"),
    )
    r = env.client.get("/api/v1/exports/decisions.csv", headers=env.auth("sup_a"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[1][4].startswith("'=")
    assert (
        env.client.get("/api/v1/exports/decisions.csv", headers=env.auth("cw_a")).status_code == 403
    )


def test_errors_have_one_shape(env: Env) -> None:
    for r in (
        env.client.get("/api/v1/records/NOPE", headers=env.auth("cw_a")),
        env.client.get("/api/v1/records"),
        env.client.get("/api/v1/records?limit=0", headers=env.auth("cw_a")),
        env.client.get("/api/v1/nothing-here"),
    ):
        body = r.json()
        assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
