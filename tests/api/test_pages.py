"""Review pages: escaping, languages (Arabic right-to-left), CSRF on decisions."""

from __future__ import annotations

import html
import re
from pathlib import Path

from babel.messages.pofile import read_po

from kinlink.api.i18n import LANGUAGES, LOCALES, translations
from kinlink.api.routes import ui
from kinlink.api.sharing import BANDS
from kinlink.matching.comparisons import build_comparisons
from kinlink.store.review_schema import OUTCOMES
from kinlink.store.sweep_schema import RUN_MODES, RUN_STATUSES

from .conftest import PASSWORD, Env

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


#: Words spelled the same in French and English.
SAME_IN_FRENCH = frozenset({"Page", "Note", "Type", "Notifications", "possible"})


def _catalogue(code: str) -> dict[str, str]:
    po = Path(LOCALES) / code / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    return {m.id: m.string for m in catalog if m.id}


def page_strings() -> set[str]:
    """Every msgid the pages use: literals in templates, and labels defined in Python."""
    used = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r'_\("([^"]+)"\)', text))
        used |= set(re.findall(r"_\('([^']+)'\)", text))
    used |= {label for label, _, _ in ui.ROWS}
    used |= set(ui.NOTIFICATION_KINDS.values())
    used |= {label for label, _ in ui.SWEEP_TOTALS}
    used |= {b.label for b in BANDS}
    used |= set(OUTCOMES) | {"pending"} | set(RUN_STATUSES) | set(RUN_MODES)
    used |= {"exact", "close", "phonetic", "different", "missing"}
    return used


def engine_labels() -> set[str]:
    """The engine's comparison names and agreement-level labels (explanations show them)."""
    out = set()
    for comparison in build_comparisons():
        spec = comparison.get_comparison("duckdb")
        out.add(spec.output_column_name)
        out |= {level.label_for_charts for level in spec.comparison_levels}
    return out


def test_every_page_string_is_translated() -> None:
    _assert_translated(page_strings())


def test_engine_labels_are_translated() -> None:
    """A new or renamed level in matching/comparisons.py needs a catalogue entry here."""
    _assert_translated(engine_labels())


def _assert_translated(wanted: set[str]) -> None:
    for code in LANGUAGES:
        catalogue = _catalogue(code)
        missing = sorted(m for m in wanted if not catalogue.get(m))
        assert not missing, f"{code}: untranslated {missing}"
        if code != "en":
            # a translation identical to the English is allowed only for these
            same = sorted(m for m in wanted if catalogue[m] == m and m not in SAME_IN_FRENCH)
            assert not same, f"{code}: left in English {same}"


def test_agreement_levels_are_translated_on_the_record_page(env: Env) -> None:
    login(env, "cw_b")
    english = env.client.get("/records/B-T000?lang=en").text
    levels = {html.unescape(x) for x in re.findall(r'<td class="muted">([^<]+)</td></tr>', english)}
    assert levels and levels <= engine_labels()
    for code in ("fr", "ar"):
        page = env.client.get(f"/records/B-T000?lang={code}").text
        shown = {html.unescape(x) for x in re.findall(r'<td class="muted">([^<]+)</td></tr>', page)}
        trans = translations(code)
        assert shown == {trans.gettext(level) for level in levels}
        assert not shown & levels
