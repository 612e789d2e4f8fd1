"""A real browser (Debian's Chromium, driven by Playwright) against the real `bestpart serve`."""

import os
import re
from pathlib import Path

import pytest

from tests.services import TESTER_PASSWORD, backend_env, provision_token, serve_process

CHROMIUM = os.environ.get("BESTPART_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# Headless, and quiet on a machine without internet: no background fetches, no component updates.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
PEOPLE = {"officer": "4711", "reviewer": "r-1", "committee": "c-1", "trainer": "t-1"}
# Playwright's waits (clicks, fills, expect) give up after this long; the pipeline waits set their own.
ACTION_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        message = f"no Chromium at {CHROMIUM}: the browser tests are skipped (make test installs it when run as root)"
        if os.environ.get("BESTPART_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " — but BESTPART_REQUIRE_BROWSER=1 says it must be here")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real service with its worker, and one account per role (password TESTER_PASSWORD)."""
    data = tmp_path_factory.mktemp("browser")
    env = backend_env("sqlite", data)
    with serve_process(env, data / "serve.log") as (_, admin):
        for role, badge in PEOPLE.items():
            provision_token(env, role, roles=(role,), badge=badge)
        provision_token(env, "committee2", roles=("committee",), badge="c-2")  # the quorum is two
        admin.post(
            "/api/v1/officers/import",
            content="badge_number,name,division\n4711,Dana Reyes,Metro\n",
            headers={"Content-Type": "text/csv"},
        )
        yield admin


@pytest.fixture
def sign_in(chromium, live):
    """sign_in(username) → a page signed in as that user, in its own browser context.

    `at_form(page)` runs on the filled-in sign-in form before it is sent (to screenshot it).
    Uncaught JavaScript errors, and anything the Content-Security-Policy blocked, on any page
    opened this way fail the test when it ends."""
    contexts, errors = [], []

    def open_as(username: str, at_form=None):
        context = chromium.new_context(
            base_url=str(live.base_url), viewport={"width": 1366, "height": 820}, accept_downloads=True
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{username} on {page.url}: {error}"))
        page.on("console", lambda message: _csp_violation(message, errors, f"{username} on {page.url}"))
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", TESTER_PASSWORD)
        if at_form:
            at_form(page)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login" not in page.url, f"{username} could not sign in: {page.locator('main').inner_text()}"
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, "JavaScript errors in the pages:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("[0-9][0-9]-*.png"):  # a run's screenshots only: none left from the last
        old.unlink()
    taken = []

    def shoot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{len(taken) + 1:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return shoot


def _csp_violation(message, errors: list, where: str) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        errors.append(f"{where}: {message.text} (at {message.location})")


def assert_accessible(page, name: str) -> None:
    """axe-core (the copy axe-playwright-python ships) on the page as it stands: no serious or
    critical violation. Run through the DevTools protocol, so the page's CSP does not block it."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])}x, e.g. {v['nodes'][0]['html'][:120]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"accessibility violations on the {name}:\n" + "\n".join(serious)
