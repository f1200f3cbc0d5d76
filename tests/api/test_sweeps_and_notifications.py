"""Sweep results in the review service: reports per role, notifications, stored clusters.

The ``swept`` fixture is the synthetic caseload after one real full sweep (the
engine's pairs, stable clusters, the stored report and its notifications).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kinlink.api.i18n import translations
from kinlink.matching.explain import is_levels
from kinlink.store import audit
from kinlink.store.review_schema import Notification
from kinlink.store.schema import StoredRecord
from kinlink.store.sweep_schema import SweepClusterMember, SweepRun

from .conftest import PASSWORD, Env


def login(env: Env, user: str) -> None:
    r = env.client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "next": "/queue"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def actions(env: Env) -> set[str]:
    with env.store.session() as session:
        assert audit.verify(session).ok
        return {e.action for e in audit.entries(session, limit=10_000)}


# -- the sweep report ----------------------------------------------------------------------


def test_supervisor_and_admin_see_every_agency(swept: Env) -> None:
    for user in ("sup_a", "admin"):
        page = swept.client.get("/api/v1/sweeps", headers=swept.auth(user)).json()
        assert page["total"] == 1
        run = page["items"][0]
        assert run["status"] == "succeeded" and run["mode"] == "full" and run["scope"] == "all"
        assert set(run["agencies"]) == {"A", "B"}
        assert run["totals"]["new_records"] == run["totals"]["stored_records"] > 0
        assert run["model_version"]
        detail = swept.client.get(f"/api/v1/sweeps/{run['id']}", headers=swept.auth(user)).json()
        assert detail["report"]["run_id"] == run["id"]
        assert detail["report"]["by_agency"]["B"]["new_pending_pairs"] > 0


def test_caseworker_sees_own_agency_counts_only(swept: Env) -> None:
    page = swept.client.get("/api/v1/sweeps", headers=swept.auth("cw_a")).json()
    run = page["items"][0]
    assert run["scope"] == "A" and set(run["agencies"]) == {"A"}
    assert run["totals"] is None
    detail = swept.client.get(f"/api/v1/sweeps/{run['id']}", headers=swept.auth("cw_a"))
    body = detail.json()
    assert body["report"] is None and body["error"] is None and set(body["agencies"]) == {"A"}
    assert '"B"' not in detail.text
    with swept.store.session() as session:
        report = session.get(SweepRun, run["id"]).report
    assert body["agencies"]["A"]["new_cases"] == report["by_agency"]["A"]["new_cases"]


def test_unknown_run_is_404_and_anonymous_401(swept: Env) -> None:
    assert swept.client.get("/api/v1/sweeps/999", headers=swept.auth("sup_a")).status_code == 404
    assert swept.client.get("/api/v1/sweeps").status_code == 401
    assert swept.client.get("/api/v1/sweeps/1").status_code == 401


def test_sweep_pages_per_role_and_language(swept: Env) -> None:
    login(swept, "cw_a")
    listing = swept.client.get("/sweeps")
    assert listing.status_code == 200 and 'href="/sweeps/1"' in listing.text
    page = swept.client.get("/sweeps/1")
    assert 'data-agency="A"' in page.text and 'data-agency="B"' not in page.text
    assert "sweep-totals" not in page.text
    fr = swept.client.get("/sweeps/1?lang=fr").text
    assert translations("fr").gettext("Sweep report") in fr
    ar = swept.client.get("/sweeps?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in ar and translations("ar").gettext("Sweep reports") in ar
    swept.client.cookies.clear()
    login(swept, "sup_a")
    page = swept.client.get("/sweeps/1?lang=en").text
    assert 'data-agency="A"' in page and 'data-agency="B"' in page and "sweep-totals" in page
    assert {"sweeps.view", "sweep.view"} <= actions(swept)


def test_admin_reads_sweep_pages_but_not_records(swept: Env) -> None:
    login(swept, "admin")
    assert swept.client.get("/sweeps/1").status_code == 200
    assert "/notifications" not in swept.client.get("/sweeps").text
    assert swept.client.get("/notifications").status_code == 403
    r = swept.client.post("/logout", data={"csrf_token": _csrf(swept)}, follow_redirects=False)
    assert r.status_code == 303


def _csrf(env: Env, path: str = "/sweeps") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', env.client.get(path).text).group(1)


# -- notifications -------------------------------------------------------------------------


def test_sweep_notifications_name_own_records_only(swept: Env) -> None:
    for user, prefix in (("cw_a", "A-"), ("cw_b", "B-")):
        notes = swept.client.get("/api/v1/notifications", headers=swept.auth(user)).json()
        assert notes and all(n["kind"] == "new_candidates" for n in notes)
        assert all(n["record_id"].startswith(prefix) for n in notes if n["record_id"])
        count = swept.client.get("/api/v1/notifications/count", headers=swept.auth(user)).json()
        assert count["unread"] == len(notes)


def test_mark_read_one_and_all(swept: Env) -> None:
    h = swept.auth("cw_b")
    notes = swept.client.get("/api/v1/notifications", headers=h).json()
    first = notes[0]["id"]
    assert swept.client.post(f"/api/v1/notifications/{first}/read", headers=h).status_code == 204
    after = swept.client.get("/api/v1/notifications", headers=h).json()
    assert first not in {n["id"] for n in after} and len(after) == len(notes) - 1
    everything = swept.client.get("/api/v1/notifications?include_read=true", headers=h).json()
    assert everything[-1]["id"] == first and everything[-1]["read_at"] is not None
    # another agency's notification: 404 on its own, ignored in a list, never marked
    with swept.store.session() as session:
        theirs = session.scalar(select(Notification.id).where(Notification.agency == "A"))
    assert swept.client.post(f"/api/v1/notifications/{theirs}/read", headers=h).status_code == 404
    r = swept.client.post("/api/v1/notifications/read", json={"ids": [theirs]}, headers=h)
    assert r.json()["marked"] == []
    r = swept.client.post("/api/v1/notifications/read", json={}, headers=h)
    assert r.status_code == 200 and r.json()["unread"] == 0
    a_left = swept.client.get("/api/v1/notifications/count", headers=swept.auth("cw_a")).json()
    assert a_left["unread"] > 0
    assert "notifications.read" in actions(swept)


def test_notification_page_badge_links_and_mark_read(swept: Env) -> None:
    h = swept.auth("cw_b")
    login(swept, "cw_b")
    with swept.store.session() as session:
        unread = session.query(Notification).filter_by(agency="B", read_at=None).count()
    queue = swept.client.get("/queue").text
    assert re.search(rf'id="unread-badge"[^>]*>{unread}<', queue)
    page = swept.client.get("/notifications")
    assert page.status_code == 200
    links = re.findall(r'href="/records/([^"]+)"', page.text)
    assert links and all(link.startswith("B-") for link in links)
    assert swept.client.get(f"/records/{links[0]}").status_code == 200
    nid = re.search(r'action="/notifications/(\d+)/read"', page.text).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert swept.client.post(f"/notifications/{nid}/read").status_code == 403  # no CSRF token
    r = swept.client.post(f"/notifications/{nid}/read", data={"csrf_token": csrf})
    assert r.status_code == 200 and f'class="unread" data-notification="{nid}"' not in r.text
    read_row = swept.client.get("/api/v1/notifications?include_read=true&limit=200", headers=h)
    assert next(n for n in read_row.json() if n["id"] == int(nid))["read_at"] is not None
    assert re.search(rf'id="unread-badge"[^>]*>{unread - 1}<', r.text)
    r = swept.client.post("/notifications/read", data={"csrf_token": csrf})
    assert 'id="unread-badge"' not in r.text
    fr = swept.client.get("/notifications?lang=fr").text
    assert translations("fr").gettext("New likely matches") in fr
    assert "notifications.view" in actions(swept)


def test_confirmed_match_notifies_the_other_agency_in_the_ui(env: Env) -> None:
    h = env.auth("cw_b")
    cands = env.client.get("/api/v1/records/B-T000/candidates", headers=h).json()["items"]
    top = next(c for c in cands if c["other"]["record_id"] == "A-C000")
    url = f"/api/v1/candidates/{top['id']}/decisions"
    assert env.client.post(url, json={"outcome": "match"}, headers=h).status_code == 201
    login(env, "cw_a")
    page = env.client.get("/notifications").text
    assert translations("en").gettext("Match confirmed by another agency") in page
    assert 'href="/records/A-C000"' in page and "B-T000" not in page


# -- the duplicates queue reads the sweep's clusters -----------------------------------------


def test_duplicates_use_stable_sweep_clusters(swept: Env) -> None:
    h = swept.auth("sup_b")
    items = swept.client.get("/api/v1/duplicates?include_decided=true", headers=h).json()["items"]
    with swept.store.session() as session:
        member = dict(
            session.execute(
                select(SweepClusterMember.record_pk, SweepClusterMember.cluster_id)
            ).all()
        )
        pk = {
            (r.agency, r.record_id): r.id
            for r in session.scalars(select(StoredRecord).where(StoredRecord.id.in_(member)))
        }
    clustered = [i for i in items if i["cluster"]]
    assert clustered, "the sweep clustered the caseload's duplicate registrations"
    for item in clustered:
        assert item["cluster_source"] == "sweep"
        ids = {member[pk[(r["agency"], r["record_id"])]] for r in item["records"]}
        assert item["cluster"] == f"cluster-{ids.pop()}" and not ids
    # a not_match decided after the sweep takes the pair out of its cluster at once
    pair = clustered[0]
    r = swept.client.post(
        f"/api/v1/candidates/{pair['candidate_id']}/decisions",
        json={"outcome": "not_match"},
        headers=h,
    )
    assert r.status_code == 201
    again = swept.client.get("/api/v1/duplicates?include_decided=true", headers=h).json()["items"]
    after = next(i for i in again if i["candidate_id"] == pair["candidate_id"])
    assert after["status"] == "not_match" and after["cluster"] is None


def test_duplicates_fall_back_to_pairs_before_any_sweep(env: Env) -> None:
    items = env.client.get("/api/v1/duplicates", headers=env.auth("cw_b")).json()["items"]
    assert items
    assert {i["cluster_source"] for i in items if i["cluster"]} <= {"pairs"}


# -- explanations computed on demand -------------------------------------------------------


def test_pair_stored_without_explanation_is_explained_when_opened(swept: Env) -> None:
    """The sweep explains only its likelier pairs; the review API explains the others
    when a reviewer opens one, with the model and the store the sweep used."""
    from kinlink.store.review_schema import CandidatePair

    with swept.store.session() as session:
        records = {r.id: r.agency for r in session.scalars(select(StoredRecord))}
        candidates = session.scalars(
            select(CandidatePair)
            .where(CandidatePair.shareable)
            .order_by(CandidatePair.match_probability.desc())
        ).all()
        visible = [c for c in candidates if "A" in (records[c.left_pk], records[c.right_pk])]
        low = [c for c in visible if c.match_probability < 0.3]
        explained = next(c for c in visible if c.match_probability >= 0.3)
        assert is_levels(explained.explanation)  # the sweep stores levels only
        pair = low[0]
        assert pair.explanation == []
        pair_id, weight = pair.id, pair.match_weight
        explained_id, explained_weight = explained.id, explained.match_weight

    url, headers = f"/api/v1/candidates/{pair_id}", swept.auth("sup_a")
    assert swept.client.get(url, headers=headers).json()["explanation"] == []  # no index yet
    # a stored one is expanded from its levels, the layout and the records: no index needed
    stored = swept.client.get(f"/api/v1/candidates/{explained_id}", headers=headers).json()
    comparisons = {item["comparison"] for item in stored["explanation"]}
    assert len(comparisons) > 5
    matcher = swept.live()
    # expanded, it is what the match index computes for the pair now
    again = swept.client.get(f"/api/v1/candidates/{explained_id}", headers=headers).json()
    with swept.store.session() as session:
        row = session.get(CandidatePair, explained_id)
        left = session.get(StoredRecord, row.left_pk)
        fresh = matcher.explain(left, session.get(StoredRecord, row.right_pk))
        assert row.explanation["format"] == "levels-1"  # not rewritten by reading it
    assert fresh is not None
    assert again["explanation"] == stored["explanation"]
    by_name = {item["comparison"]: item for item in stored["explanation"]}
    for item in fresh:
        shown = by_name[item["comparison"]]
        assert (shown["level"], shown["match_weight"], shown["tf_adjustment"]) == (
            item["level"],
            pytest.approx(item["match_weight"], abs=1e-9),
            pytest.approx(item["tf_adjustment"], abs=1e-9),
        )
    body = swept.client.get(url, headers=headers).json()
    assert {item["comparison"] for item in body["explanation"]} == comparisons
    # the contributions plus the prior make the stored weight, as for a stored explanation
    prior = explained_weight - sum(item["total"] for item in stored["explanation"])
    total = sum(item["total"] for item in body["explanation"])
    assert abs(total + prior - weight) < 1e-6
    with swept.store.session() as session:  # computed, not written on a GET
        assert session.get(CandidatePair, pair_id).explanation == []


def test_a_damaged_stored_explanation_is_computed_instead(swept: Env) -> None:
    """Levels that do not fit their layout never break a page: the pair is explained
    as one stored without an explanation is (once the match index is built)."""
    from kinlink.store.review_schema import CandidatePair

    with swept.store.session() as session:
        records = {r.id: r.agency for r in session.scalars(select(StoredRecord))}
        row = next(
            c
            for c in session.scalars(select(CandidatePair).where(CandidatePair.shareable))
            if is_levels(c.explanation) and "A" in (records[c.left_pk], records[c.right_pk])
        )
        row.explanation = {**row.explanation, "gamma": row.explanation["gamma"][:-1]}
        pair_id = row.id
    url, headers = f"/api/v1/candidates/{pair_id}", swept.auth("sup_a")
    r = swept.client.get(url, headers=headers)
    assert r.status_code == 200 and r.json()["explanation"] == []
    with swept.store.session() as session:  # levels of the wrong type
        row = session.get(CandidatePair, pair_id)
        row.explanation = {**row.explanation, "gamma": [None, {"x": 1}], "tf": 3}
    r = swept.client.get(url, headers=headers)
    assert r.status_code == 200 and r.json()["explanation"] == []
    swept.live()
    assert len(swept.client.get(url, headers=headers).json()["explanation"]) > 5
