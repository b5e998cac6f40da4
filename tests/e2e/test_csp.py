"""The Content-Security-Policy: sent on pages, scripts and API answers; nothing it blocks is used.

The page fixture fails any e2e test on a CSP violation; these tests visit the pages no other
browser test opens (Swagger, admin) and check that a violation is indeed caught.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_csp_header_on_app_static_and_api(live_server):
    import requests

    for path in ("/", "/login", "/api/health", "/api/docs/", "/admin/login/"):
        response = requests.get(live_server.url + path, timeout=10)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "'unsafe-eval'" not in policy, path
        assert "script-src 'self' 'wasm-unsafe-eval'" in policy, path


def test_swagger_and_admin_pages_run_under_the_policy(page, live_server):
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.wait_for_selector("input[name=username]")
    assert page.csp_violations == []


def test_an_inline_script_is_blocked_and_reported(browser, live_server):
    context = browser.new_context()
    tab = context.new_page()
    messages: list[str] = []
    tab.on("console", lambda msg: messages.append(msg.text))
    tab.goto(f"{live_server.url}/login")
    tab.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.head.appendChild(s); }"
    )
    ran = tab.evaluate("() => window.__ran === 1")
    context.close()
    assert not ran
    assert any("Content Security Policy" in m for m in messages), messages
