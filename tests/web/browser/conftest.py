"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Playwright's sync API keeps an asyncio loop running in the test thread, which makes
Django refuse ORM calls there (SynchronousOnlyOperation) unless
DJANGO_ALLOW_ASYNC_UNSAFE is set. Both live only as long as the module-scoped browser
fixture: the variable must not leak into the rest of the suite (``check --deploy`` in
a subprocess warns about it), and the loop is gone again when the module ends.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's password

# Records CSP violations in the page itself (init scripts are not subject to the CSP).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        # Failing, not skipping: `make test` installs Chromium, so a missing one means a
        # broken setup, which must not pass as a green run without browser tests.
        pytest.fail(f"{CHROMIUM} is not installed (run `make browser`)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class PageProbe:
    """What a page did that it should not have: dialogs, console errors, CSP violations."""

    def __init__(self, page):
        self.page = page
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def _on_dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def assert_clean(self):
        assert self.dialogs == []
        assert self.page_errors == []
        assert self.console_errors == []
        assert self.csp_violations() == []


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context (own cookies) with the given viewport."""
    contexts = []

    def _new(width: int = 1280, height: int = 900):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.add_init_script(CSP_PROBE)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        return page, PageProbe(page)

    yield _new
    for context in contexts:
        context.close()


def _login_by_keyboard(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.wait_for_selector("#id_username:focus")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == next_url)


@pytest.fixture
def login_by_keyboard():
    """Log in through the form by typing (the username field has autofocus)."""
    return _login_by_keyboard


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
