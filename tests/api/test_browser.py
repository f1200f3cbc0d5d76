"""The review pages in a real browser: Playwright driving Debian's Chromium.

Covers: log in, open the queue, open a candidate, confirm a match with the
keyboard shortcut, see it on both records (as both agencies), the Arabic
right-to-left layout, the notifications page (badge, link to the record, mark
as read) and the sweep report. The server's store is the caseload after one
real sweep. Screenshots go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import PASSWORD, Env, World, make_env

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
if not Path(CHROMIUM).exists():
    pytest.skip(
        "SKIPPED LOUDLY: Debian's chromium is not installed (run scripts/ensure-system-deps.sh)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server(
    world: World, swept_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    import uvicorn

    env: Env = make_env(world, tmp_path_factory.mktemp("browser"), swept_template)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(env.client.app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if uv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    env.store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def log_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")


def test_review_a_candidate_in_the_browser(server: str, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    page = context.new_page()
    log_in(page, server, "cw_b")
    assert page.locator("table.queue tbody tr").count() > 0
    page.screenshot(path=str(SHOTS / "01-queue.png"), full_page=True)

    page.goto(f"{server}/records/B-T000")
    assert "A-C000" in page.locator("section.pair h2").inner_text()
    assert page.locator("tr.agree-exact").count() > 0
    page.screenshot(path=str(SHOTS / "02-candidate.png"), full_page=True)

    page.fill("textarea[name=note]", "mother recognised the child")
    page.locator("body").click()  # keyboard shortcuts are ignored while typing
    with page.expect_navigation():
        page.keyboard.press("m")
    assert page.locator("#confirmed").inner_text().count("A-C000") == 1
    page.screenshot(path=str(SHOTS / "03-confirmed.png"), full_page=True)
    shutil.copy(SHOTS / "02-candidate.png", SHOTS / "review.png")
    context.close()

    # the other agency sees the confirmed match on its record
    other = browser.new_context(viewport={"width": 1200, "height": 900})
    page = other.new_page()
    log_in(page, server, "cw_a")
    page.goto(f"{server}/records/A-C000")
    assert "B-T000" in page.locator("#confirmed").inner_text()
    other.close()


def test_arabic_layout_is_right_to_left(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ar")
    page = context.new_page()
    log_in(page, server, "cw_b")
    page.goto(f"{server}/records/B-T003?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "هذا السجل" in page.content()
    # in RTL the record's own column is to the right of the candidate's
    this_x = page.locator("table.sbs thead th").nth(1).bounding_box()["x"]
    other_x = page.locator("table.sbs thead th").nth(2).bounding_box()["x"]
    assert this_x > other_x
    page.screenshot(path=str(SHOTS / "04-arabic.png"), full_page=True)
    context.close()


def test_notifications_and_sweep_report(server: str, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    page = context.new_page()
    log_in(page, server, "cw_a")
    unread = int(page.locator("#unread-badge").inner_text())
    assert unread > 0
    page.click("#notifications-link")
    page.wait_for_url(f"{server}/notifications")
    assert page.locator("table.notifications tbody tr.unread").count() == min(unread, 25)
    page.screenshot(path=str(SHOTS / "05-notifications.png"), full_page=True)

    # a notification links to the agency's own record
    link = page.locator("table.notifications tbody tr.unread a[href^='/records/']").first
    record_id = link.inner_text()
    assert record_id.startswith("A-")
    link.click()
    page.wait_for_url(f"{server}/records/{record_id}")
    assert record_id in page.locator("h1").inner_text()

    # mark one read: the badge goes down by one
    page.goto(f"{server}/notifications")
    with page.expect_navigation():
        page.locator("tr.unread button[type=submit]").first.click()
    after = page.locator("#unread-badge")
    assert (int(after.inner_text()) if after.count() else 0) == unread - 1

    # the sweep report: a caseworker sees their own agency's counts only
    page.click("text=Sweep reports")
    page.wait_for_url(f"{server}/sweeps")
    assert page.locator("table.sweeps tbody tr").count() == 1
    page.locator("table.sweeps a[href='/sweeps/1']").click()
    page.wait_for_url(f"{server}/sweeps/1")
    assert page.locator("table.sweep-agencies tbody tr").count() == 1
    assert page.locator("tr[data-agency='A']").count() == 1
    page.screenshot(path=str(SHOTS / "06-sweep-report.png"), full_page=True)
    context.close()

    # a supervisor sees every agency and the whole run, here in French
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="fr")
    page = context.new_page()
    log_in(page, server, "sup_b")
    page.goto(f"{server}/sweeps/1?lang=fr")
    assert page.locator("table.sweep-agencies tbody tr").count() == 2
    assert page.locator("table.sweep-totals").count() == 1
    assert "Rapport de balayage" in page.locator("h1").inner_text()
    page.screenshot(path=str(SHOTS / "07-sweep-report-fr.png"), full_page=True)
    context.close()
