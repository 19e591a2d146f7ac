"""The dashboard in a real browser: Debian's chromium driven by Playwright.

The whole ``turnout serve`` app runs under uvicorn on 127.0.0.1 (one server and
one browser for the module, so the module stays fast); each test gets a fresh
browser context (its own cookies). These tests are never skipped: without
``/usr/bin/chromium`` they fail (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Page, expect, sync_playwright
from tests.conftest import running_server
from tests.support.web import (
    PLAIN,
    PROTECTED,
    V1,
    V3,
    Tokens,
    csrf_of,
    seed,
    shadow_pairs,
    start_rollout,
)

from turnout.domain.access import LOCAL_ADMIN
from turnout.wiring import build_server_app, open_registry

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(frozen=True)
class Site:
    url: str
    db_url: str
    tokens: Tokens


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("ui")
    db_url = f"sqlite:///{folder}/registry.db"
    registry = open_registry(db_url)
    try:
        tokens = seed(registry)
    finally:
        registry.close()
    app = build_server_app(db_url, snapshot_path=folder / "snap.json")
    with running_server(app) as url:
        yield Site(url, db_url, tokens)


def launch(chromium: BrowserType) -> Browser:
    """Debian's chromium, headless; a missing binary fails the tests, never skips them."""
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: apt-get install chromium"
    return chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        opened = launch(playwright.chromium)
        yield opened
        opened.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context (own cookies); a script error or CSP violation fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


def sign_in(page: Page, site: Site, secret: str) -> None:
    page.goto(f"{site.url}/ui/")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next=%2Fui%2Faliases"))
    page.fill("#token", secret)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("who")).to_contain_text("token:")


def test_sign_in_see_an_alias_and_roll_it_back(page: Page, site: Site) -> None:
    sign_in(page, site, site.tokens.deployer)
    expect(page.locator(f'tr[data-alias="{PROTECTED}"]')).to_contain_text("protected")
    page.click(f"text={PROTECTED}")
    expect(page.get_by_test_id("revision")).to_have_text("2")
    expect(page.get_by_test_id("restores")).to_have_text("1")
    page.fill("#reason", "escalations up after the upgrade")
    page.click("text=Roll back to revision 1")
    expect(page.get_by_test_id("restored")).to_contain_text("revision 3")
    expect(page.get_by_test_id("revision")).to_have_text("3")
    expect(page.get_by_test_id("target")).to_contain_text(V1)
    newest = page.locator('tr[data-revision="3"]')
    expect(newest).to_contain_text("rollback to 1")
    expect(newest).to_contain_text("token:dana")
    expect(newest).to_contain_text("escalations up after the upgrade")


def test_a_viewer_sees_no_write_buttons(page: Page, site: Site) -> None:
    sign_in(page, site, site.tokens.viewer)
    for name in (PROTECTED, PLAIN):
        page.goto(f"{site.url}/ui/aliases/{name}")
        expect(page.locator('tr[data-revision="1"]')).to_be_visible()
        expect(page.get_by_test_id("rollback")).to_have_count(0)
        expect(page.locator("button.danger")).to_have_count(0)


def test_a_forged_post_is_refused_and_writes_nothing(site: Site) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        form = client.get("/ui/signin")
        signed = client.post(
            "/ui/signin", data={"csrf": csrf_of(form.text), "token": site.tokens.deployer}
        )
        assert signed.status_code == 303
        before = client.get(f"/ui/aliases/{PLAIN}").text
        forged = client.post(
            f"/ui/aliases/{PLAIN}/rollback",
            data={"to": "1", "expected_revision": "2", "reason": "forged"},
        )
        assert forged.status_code == 403
        after = client.get(f"/ui/aliases/{PLAIN}").text
        assert after.count("data-revision=") == before.count("data-revision=")
        assert "forged" not in after


def test_the_pages_render_in_the_browser(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, site.tokens.viewer)
    for slug, test_id in (
        ("audit", "chain"),
        ("versions", "versions"),
        ("deprecations", "timeline"),
        (f"versions/{V3}", "lineage"),
    ):
        page.goto(f"{site.url}/ui/{slug}")
        expect(page.get_by_test_id(test_id)).to_be_visible()
    expect(page.locator("html")).not_to_contain_text("Traceback")


def test_watch_a_rollout_step_advance(page: Page, site: Site) -> None:
    registry = open_registry(site.db_url)  # another process steering, as the CLI would
    try:
        start_rollout(registry)
        sign_in(page, site, site.tokens.viewer)
        page.goto(f"{site.url}/ui/rollouts/{PLAIN}")
        expect(page.get_by_test_id("rollout-status")).to_have_text("awaiting_approval")
        expect(page.get_by_test_id("rollout-actions")).to_have_count(0)  # a viewer
        expect(page.get_by_test_id("gate-chart")).to_be_visible()  # one gate: error_rate
        expect(page.locator('[data-decision="start"]')).to_be_visible()
        page.evaluate("window.notReloaded = true")
        registry.rollouts.approve(LOCAL_ADMIN, PLAIN, "go")
        expect(page.get_by_test_id("rollout-step")).to_have_text("step 1/3")
        expect(page.get_by_test_id("rollout-status")).to_have_text("running")
        assert page.evaluate("window.notReloaded") is True  # htmx swapped the fragment
    finally:
        registry.close()


def test_open_a_shadow_report(page: Page, site: Site) -> None:
    registry = open_registry(site.db_url)
    try:
        shadow_pairs(registry)
    finally:
        registry.close()
    sign_in(page, site, site.tokens.viewer)
    page.goto(f"{site.url}/ui/shadow")
    page.locator("a", has_text=V3).click()
    expect(page.locator("h1")).to_have_text(f"shadow report: {PROTECTED} - candidate {V3}")
    expect(page.locator("body")).to_contain_text("12 pairs")
    page.click("text=back to the dashboard")
    expect(page.get_by_test_id("shadows")).to_be_visible()
