"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live Django server.

The live server is pytest-django's ``live_server`` (Django serving the built frontend/dist through
whitenoise, the same code as production). Screenshots of every test are kept as artefacts under
tests/e2e/artifacts/.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "e2e" / "artifacts"

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told that this is a test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Chromium logs a blocked load as "Refused to ... Content Security Policy"; the listener also
# reports securitypolicyviolation events (workers included) as console messages.
CSP_MESSAGE = re.compile(r"Content Security Policy|securitypolicyviolation")
CSP_LISTENER = """
self.addEventListener('securitypolicyviolation', (e) => console.error(
  'securitypolicyviolation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));
"""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/system-deps.sh` (Debian chromium)")
    if not (REPO / "frontend" / "dist" / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make frontend` before the browser tests")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request) -> Iterator:
    """A fresh browser context per test (Chinese locale, like the product's users)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    # Every test runs under the app's Content-Security-Policy: a violation fails it.
    context.add_init_script(CSP_LISTENER)
    tab = context.new_page()
    console_errors: list[str] = []
    csp_violations: list[str] = []
    tab.on("pageerror", lambda exc: console_errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: csp_violations.append(msg.text) if CSP_MESSAGE.search(msg.text) else None,
    )
    tab.console_errors = console_errors  # type: ignore[attr-defined]
    tab.csp_violations = csp_violations  # type: ignore[attr-defined]
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::")[-1])
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
        # Closing the page sends the reading timer's last events (a beacon on page hide).
        # Let the live server finish them before the test database is flushed: a
        # request still writing while TRUNCATE runs deadlocked once in CI.
        time.sleep(0.5)
    if csp_violations:
        pytest.fail("Content-Security-Policy violation(s):\n" + "\n".join(csp_violations))
