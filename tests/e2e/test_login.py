"""The app served by Django loads in real Chromium, reaches the login page and signs in."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_unauthenticated_visit_lands_on_login_in_chinese(live_server, page):
    page.goto(live_server.url + "/worklist")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fworklist")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert page.console_errors == []


def test_sign_in_reaches_worklist_and_wrong_password_is_explained(live_server, page):
    user_create(
        username="wang", password="Bone-scan-2026", role=Role.PHYSICIAN, display_name="王医生"
    )
    page.goto(live_server.url + "/login")

    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("login-error")).to_be_visible()

    page.fill("input[name=password]", "Bone-scan-2026")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/worklist")
    expect(page.locator(".topbar-user-name")).to_have_text("王医生")
    assert page.console_errors == []
