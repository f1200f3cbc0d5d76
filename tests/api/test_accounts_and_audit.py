"""Passwords, sessions, tokens, login throttling, and the audit log's hash chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text, update
from typer.testing import CliRunner

from kinlink.store import Store, audit
from kinlink.store.accounts import (
    AccountError,
    create_agency,
    create_user,
    get_user,
    start_session,
)
from kinlink.store.review_schema import ApiToken, LoginSession
from kinlink.store.schema import utcnow

from .conftest import PASSWORD, Env


def test_passwords_are_argon2_and_weak_ones_refused(env: Env) -> None:
    with env.store.session() as session:
        assert get_user(session, "cw_a").password_hash.startswith("$argon2id$")
        with pytest.raises(AccountError):
            create_user(session, "weak", "short", "caseworker", "A")
        with pytest.raises(AccountError):
            create_user(session, "nobody", PASSWORD, "caseworker", None)


def test_login_session_cookie_and_logout(env: Env) -> None:
    r = env.client.post("/api/v1/auth/login", json={"username": "cw_a", "password": PASSWORD})
    assert r.status_code == 200
    token, csrf = r.json()["access_token"], r.json()["csrf_token"]
    assert env.client.get("/api/v1/auth/me").json()["username"] == "cw_a"  # cookie
    # a state change by cookie needs the CSRF token
    assert env.client.post("/api/v1/auth/logout").status_code == 403
    assert env.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    bearer = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_login_is_rate_limited(env: Env) -> None:
    for _ in range(env.settings.login_max_failures):
        r = env.client.post("/api/v1/auth/login", json={"username": "cw_b", "password": "nope" * 3})
        assert r.status_code == 401
    r = env.client.post("/api/v1/auth/login", json={"username": "cw_b", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # other users are not locked out by it
    r = env.client.post("/api/v1/auth/login", json={"username": "sup_b", "password": PASSWORD})
    assert r.status_code == 200


def test_sessions_and_tokens_expire(env: Env) -> None:
    with env.store.session() as session:
        new = start_session(session, get_user(session, "cw_a"), minutes=5)
    bearer = {"Authorization": f"Bearer {new.token}"}
    assert env.client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    past = utcnow() - dt.timedelta(seconds=1)
    with env.store.session() as session:
        session.execute(update(LoginSession).values(expires_at=past))
        session.execute(update(ApiToken).values(expires_at=past))
    assert env.client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert env.client.get("/api/v1/auth/me", headers=env.auth("cw_a")).status_code == 401


def test_admin_issues_and_revokes_tokens(env: Env) -> None:
    r = env.client.post(
        "/api/v1/admin/tokens", json={"username": "cw_b", "days": 2}, headers=env.auth("admin")
    )
    assert r.status_code == 201
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    assert env.client.get("/api/v1/auth/me", headers=token).json()["via"] == "token"
    r = env.client.delete(f"/api/v1/admin/tokens/{r.json()['id']}", headers=env.auth("admin"))
    assert r.status_code == 204
    assert env.client.get("/api/v1/auth/me", headers=token).status_code == 401


def test_views_and_decisions_are_audited_with_who_what_where(env: Env) -> None:
    env.client.get("/api/v1/records/A-C000", headers=env.auth("cw_a"))
    with env.store.session() as session:
        [entry] = audit.entries(session, record_id="A/A-C000", limit=1)
    assert (entry.actor, entry.action, entry.agency) == ("cw_a", "record.view", "A")
    assert entry.client_ip == "testclient"


def test_audit_log_refuses_edits_and_detects_tampering(env: Env, monkeypatch) -> None:
    for _ in range(4):
        env.client.get("/api/v1/records/A-C001", headers=env.auth("cw_a"))
    with env.store.session() as session:
        assert audit.verify(session).ok
    with pytest.raises(Exception, match="append-only"), env.store.session() as session:
        session.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 2"))
    # Someone with file access drops the triggers and edits an entry:
    with env.store.session() as session:
        session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("DROP TRIGGER audit_log_no_delete"))
        session.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 2"))
        session.execute(text("DELETE FROM audit_log WHERE seq = 3"))  # from the middle
    with env.store.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert any("seq 2" in p and "altered" in p for p in result.problems), result.problems
    assert any("missing" in p for p in result.problems)

    from kinlink.cli import _register, app

    _register()
    monkeypatch.setenv("KINLINK_DATABASE_URL", env.store.url)
    from kinlink.config import get_settings

    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 7 and "BROKEN" in out.output


def test_cli_creates_accounts_and_verifies_a_clean_log(tmp_path, monkeypatch) -> None:
    from kinlink.cli import _register, app
    from kinlink.config import get_settings

    _register()
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    monkeypatch.setenv("KINLINK_DATABASE_URL", url)
    monkeypatch.setenv("KINLINK_NEW_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["users", "add-agency", "Z"]).exit_code == 0
        r = runner.invoke(app, ["users", "add", "zed", "--role", "supervisor", "--agency", "Z"])
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, ["users", "token", "zed", "--days", "3"])
        assert r.exit_code == 0 and r.output.strip().startswith("klt_")
        r = runner.invoke(app, ["audit", "verify"])
        assert r.exit_code == 0 and "3 entries" in r.output
    finally:
        get_settings.cache_clear()
    store = Store(url)
    with store.session() as session, pytest.raises(AccountError):
        create_agency(session, "Z", "again")
    store.close()
