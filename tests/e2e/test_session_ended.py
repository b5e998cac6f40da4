"""A session that ends under an open page (idle timeout) in real Chromium: the page asks the
user to sign in again in place, and unsaved report text survives the new sign-in.

Before this, every API call of the open page failed with "you are not allowed" and the only
way on was a reload, which lost what the physician had typed.
"""

# The fixtures come from test_viewer.py by import; pytest passes them as arguments of the same
# name, which ruff would otherwise report as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.test_viewer import (  # noqa: F401  (fixtures)
    PASSWORD,
    open_case,
    phantom_files,
    phantom_root,
    signed_in,
    studies,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def end_session_by_idle_timeout(page) -> None:
    """Makes the browser's session look idle for longer than the timeout, as the server sees it."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.middleware import SEEN_AT

    (cookie,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    session = SessionStore(session_key=cookie["value"])
    session[SEEN_AT] = time.time() - settings.SESSION_IDLE_TIMEOUT - 60
    session.save()


def test_ended_session_signs_in_again_without_losing_report_text(live_server, signed_in, studies):
    from reports.models import Report

    page = signed_in
    study = studies["planar"][0]
    open_case(page, live_server, study)
    text = "右侧第7肋局灶性放射性浓聚，建议随访。"
    page.get_by_test_id("tab-report").click()
    findings = page.get_by_test_id("report-panel").locator("textarea[name=findings]")
    findings.fill(text)

    end_session_by_idle_timeout(page)
    page.get_by_test_id("report-save").click()  # refused: the session has ended

    dialog = page.get_by_test_id("session-ended")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("登录已失效")
    expect(findings).to_have_value(text)  # the page underneath is still there
    assert not Report.objects.filter(study=study).exists()

    # A wrong password is said as such, in the dialog.
    dialog.locator("input[name=password]").fill("not-the-password")
    dialog.locator("button[type=submit]").click()
    expect(page.get_by_test_id("session-ended-error")).to_have_text("用户名或密码错误。")

    expect(dialog.locator("input[name=username]")).to_have_value("wang")
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_have_count(0)
    expect(page).to_have_url(f"{live_server.url}/cases/{study.id}")
    expect(findings).to_have_value(text)

    page.get_by_test_id("report-save").click()
    expect(page.get_by_test_id("report-version")).to_have_text("第 1 版")
    assert Report.objects.get(study=study).findings == text
    assert page.console_errors == []


def test_another_user_signing_in_gets_a_fresh_worklist(live_server, signed_in, studies):
    from accounts.models import Role
    from accounts.services import user_create

    user_create(username="li", password=PASSWORD, role=Role.PHYSICIAN, display_name="李医生")
    page = signed_in
    study = studies["planar"][0]
    open_case(page, live_server, study)
    page.get_by_test_id("tab-report").click()
    page.get_by_test_id("report-panel").locator("textarea[name=findings]").fill("王医生的草稿")

    end_session_by_idle_timeout(page)
    page.get_by_test_id("report-save").click()
    dialog = page.get_by_test_id("session-ended")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=username]").fill("li")
    dialog.locator("input[name=password]").fill(PASSWORD)
    dialog.locator("button[type=submit]").click()

    # Nothing of the previous user's page stays: a fresh worklist, signed in as the new user.
    expect(page).to_have_url(f"{live_server.url}/worklist")
    expect(page.get_by_text("李医生")).to_be_visible()
    expect(page.get_by_text("王医生的草稿")).to_have_count(0)
    expect(page.get_by_test_id("session-ended")).to_have_count(0)
