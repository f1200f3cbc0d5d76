"""Review pages: escaping, languages (Arabic right-to-left), CSRF on decisions."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import PASSWORD, Env

from kinlink.api.i18n import LANGUAGES, translations

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"


def login(env: Env, user: str) -> None:
    r = env.client.post(
        "/login",
        data={"username": user, "password": PASSWORD, "next": "/queue"},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_pages_need_login_and_redirect(env: Env) -> None:
    r = env.client.get("/queue", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_values_are_escaped(env: Env) -> None:
    h = env.auth("cw_a")
    nasty = "<script>alert(1)</script>"
    r = env.client.post(
        "/api/v1/records",
        json={"record_id": "A-XSS", "record_type": "case", "name": nasty, "mother_name": nasty},
        headers=h,
    )
    assert r.status_code == 201
    login(env, "cw_a")
    page = env.client.get("/records/A-XSS").text
    assert nasty not in page and "&lt;script&gt;" in page
    assert "script-src 'self'" in env.client.get("/queue").headers["content-security-policy"]


def test_queue_record_and_decision_pages(env: Env) -> None:
    login(env, "cw_b")
    queue = env.client.get("/queue")
    assert queue.status_code == 200 and 'href="/records/B-T' in queue.text
    page = env.client.get("/records/B-T000")
    assert "A-C000" in page.text and "agree-exact" in page.text
    cid = re.search(r'action="/candidates/(\d+)/decide"', page.text).group(1)
    # without the CSRF token the form post is refused
    r = env.client.post(f"/candidates/{cid}/decide", data={"outcome": "match"})
    assert r.status_code == 403
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = env.client.post(
        f"/candidates/{cid}/decide",
        data={"outcome": "match", "csrf_token": csrf, "expected_version": "0"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and 'id="confirmed"' in r.text


def test_arabic_is_right_to_left_and_translated(env: Env) -> None:
    login(env, "cw_b")
    page = env.client.get("/queue?lang=ar").text
    assert '<html lang="ar" dir="rtl">' in page
    assert translations("ar").gettext("Queue") in page
    assert '<html lang="fr" dir="ltr">' in env.client.get("/queue?lang=fr").text


def test_every_page_string_is_translated() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'_\("([^"]+)"\)', template.read_text(encoding="utf-8")))
    for code in LANGUAGES:
        if code == "en":
            continue
        catalog = translations(code)
        missing = [m for m in used if catalog.gettext(m) == m and m not in ("Page", "Note", "Type")]
        assert not missing, f"{code}: untranslated {missing}"
