"""Shared pieces of the reader-study browser tests (imported by test_reader_study*.py and
test_reading_time*.py): phantom cases archived through the real ingest, users by role, a login
per browser context, and the DOM/network checks of "no AI anywhere on screen".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.services import user_create

PASSWORD = "Bone-scan-2026"
OUTBOX = "JSON.parse(localStorage.getItem('boneread.readingEvents.outbox') || '[]')"
QUARANTINE = "JSON.parse(localStorage.getItem('boneread.readingEvents.quarantine') || '[]')"

# What AI output looks like in the DOM of the clinical viewer and of the aided reading screen.
AI_SELECTORS = [
    "[data-testid=frozen-ai]",
    "[data-testid=frozen-ai-lesions]",
    "[data-testid=tab-ai]",
    "[data-testid=ai-run]",
    "[data-testid=ai-model]",
    "[data-testid=lesion-item]",
    ".chip-ai-running",
    ".chip-ai-succeeded",
    "[data-status=succeeded]",
]


@pytest.fixture(scope="session")
def rs_phantom_root(tmp_path_factory) -> Path:
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("rs-phantoms")
    generate("planar", 2, 11, root / "planar")
    return root


@pytest.fixture
def rs_studies(rs_phantom_root, settings):
    """The phantom's planar studies, archived (no AI auto-run: the reader study freezes its own)."""
    from studies.models import Study
    from studies.services import instances_ingest

    settings.INFERENCE_AUTO_RUN = False
    files = sorted(p for p in rs_phantom_root.rglob("*.dcm") if not p.name.startswith("SEG"))
    for start in range(0, len(files), 25):
        batch = files[start : start + 25]
        results = instances_ingest(files=[(p.name, p.read_bytes()) for p in batch], source="import")
        assert all(r.ok for r in results), [r.as_dict() for r in results if not r.ok]
    return list(Study.objects.filter(kind="planar").order_by("study_date", "id"))


def make_user(username: str, role: str):
    return user_create(username=username, password=PASSWORD, role=role, display_name=username)


def new_page(browser, *, idle_ms: int | None = None, heartbeat_ms: int | None = None):
    """A fresh browser context (its own cookies and localStorage) and a page in it."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(20_000)
    init = []
    if idle_ms is not None:
        init.append(f"localStorage.setItem('boneread.readingTimer.idleMs', '{idle_ms}');")
    if heartbeat_ms is not None:
        init.append(f"localStorage.setItem('boneread.readingTimer.heartbeatMs', '{heartbeat_ms}');")
    if init:
        context.add_init_script("".join(init))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    page.console_messages = messages  # type: ignore[attr-defined]
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def login(page, live_server, username: str, landing: str) -> None:
    page.goto(live_server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}{landing}")


def wait_viewer_ready(page) -> None:
    expect(page.get_by_test_id("planar-viewer")).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )


def wait_outbox_empty(page, timeout: int = 30_000) -> None:
    page.wait_for_function(f"() => {OUTBOX}.length === 0", timeout=timeout)


def overlay_alpha(page) -> int:
    """Sum of the alpha channel of every AI overlay canvas on screen (0: nothing drawn)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('canvas.labelmap-overlay')).reduce(
            (sum, c) => {
              if (!c.width || !c.height) return sum;
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let a = 0;
              for (let i = 3; i < d.length; i += 4) a += d[i];
              return sum + a;
            }, 0)"""
    )


def ai_on_screen(page) -> list[str]:
    return [s for s in AI_SELECTORS if page.locator(s).count() > 0]


def set_confidence(page, value: int) -> None:
    slider = page.get_by_test_id("confidence")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(value):
        page.keyboard.press("ArrowRight")


def set_visibility(page, state: str) -> None:
    """What the browser does when the tab goes to the background or comes back."""
    page.evaluate(
        """(state) => {
          Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
          Object.defineProperty(document, "hidden", { configurable: true, get: () => state === "hidden" });
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def sent_events(page) -> list[dict]:
    """Collects every reading event the page posts (attach before the events happen)."""
    sent: list[dict] = []

    def capture(request):
        if request.url.endswith("/api/reading-events/") and request.method == "POST":
            sent.extend(json.loads(request.post_data or "{}").get("events", []))

    page.on("request", capture)
    return sent
