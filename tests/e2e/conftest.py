"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live Django server.

The live server is pytest-django's ``live_server`` (Django serving the built frontend/dist through
whitenoise, the same code as production). Screenshots of every test are kept as artefacts under
tests/e2e/artifacts/.
"""

from __future__ import annotations

import os
import re
import threading
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
    if csp_violations:
        pytest.fail("Content-Security-Policy violation(s):\n" + "\n".join(csp_violations))


class _ServedRequests:
    """The live server's WSGI application, counting the requests it is still serving (until
    the server closes the response)."""

    def __init__(self, app) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._serving = 0
        self._last_change = time.monotonic()

    def _change(self, delta: int) -> None:
        with self._lock:
            self._serving += delta
            self._last_change = time.monotonic()

    def __call__(self, environ, start_response):
        self._change(1)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._change(-1)
            raise
        return _ClosingBody(body, lambda: self._change(-1))

    def wait_until_idle(self, quiet_s: float, timeout_s: float) -> bool:
        """True once no request has been served for ``quiet_s`` (one may still be on its way
        from a page that was just closed); False after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._serving == 0 and time.monotonic() - self._last_change >= quiet_s:
                    return True
            time.sleep(0.02)
        return False


class _ClosingBody:
    def __init__(self, body, on_close) -> None:
        self._body = body
        self._on_close = on_close

    def __iter__(self):
        return iter(self._body)

    def close(self) -> None:
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            self._on_close()


@pytest.fixture(autouse=True)
def _live_server_idle_before_flush(request) -> Iterator[None]:
    """Before the test database is flushed, every browser context of the test is closed and the
    live server has answered every request they sent. Closing a page sends the reading timer's
    last events (a beacon on page hide); one still writing while the flush's TRUNCATE ran
    deadlocked in CI, and failed the next test's set-up too."""
    if "live_server" not in request.fixturenames:
        yield
        return
    # Depending on the test database makes this fixture's teardown run before its flush (a live
    # server test needs the transactional database anyway: the server thread must see the data).
    request.getfixturevalue("transactional_db")
    httpd = request.getfixturevalue("live_server").thread.httpd
    served = httpd.get_app()
    if not isinstance(served, _ServedRequests):
        served = _ServedRequests(served)
        httpd.set_app(served)
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()
    if not served.wait_until_idle(quiet_s=0.3, timeout_s=30):
        pytest.fail("the live server was still serving requests 30 s after the test ended")
