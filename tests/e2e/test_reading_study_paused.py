"""A study admin pauses a study while a reader has a case open (real Chromium, live server).

The reading screen must say so at once, keep the reader's unsaved answer on screen, refuse to
submit, and save the held answer when the study resumes. Before this the screen showed a
generic "the study is paused" error under the answer and dropped the draft that was refused.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from reader_marks_support import marks_study, open_first_case, wait_stored  # noqa: F401
from reader_study_support import new_page, rs_phantom_root, set_confidence  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pause_is_shown_the_draft_is_held_and_saved_on_resume(
    live_server,
    browser,
    marks_study,  # noqa: F811 (the imported fixture)
):
    from readerstudies.services.design import reader_study_transition

    reader_study = marks_study["reader_study"]
    admin = marks_study["admin"]
    page = new_page(browser)  # zh-CN
    reading_id = open_first_case(page, live_server)
    banner = page.get_by_test_id("study-paused")
    submit = page.get_by_test_id("submit-answer")

    set_confidence(page, 30)
    wait_stored(reading_id, lambda r: r.confidence == 30)
    expect(banner).to_have_count(0)

    reader_study_transition(
        reader_study=reader_study, user=admin, action="pause", reason="网络维护"
    )
    page.get_by_test_id("metastasis-yes").click()
    set_confidence(page, 80)  # refused by the server: the study is paused

    expect(banner).to_be_visible()
    expect(banner).to_contain_text("已暂停")
    expect(banner).to_have_attribute("data-state", "paused")
    expect(submit).to_be_disabled()
    expect(page.get_by_test_id("confidence")).to_have_value("80")  # the draft stays on screen
    expect(page.get_by_test_id("answer-error")).to_have_count(0)
    page.wait_for_timeout(2000)
    from readerstudies.models import CaseReading

    assert CaseReading.objects.get(id=reading_id).confidence == 30

    reader_study_transition(reader_study=reader_study, user=admin, action="resume")
    # The page learns of the resume by itself (polling), then sends the held answer.
    expect(banner).to_have_count(0, timeout=25_000)
    expect(submit).to_be_enabled()
    stored = wait_stored(reading_id, lambda r: r.confidence == 80)
    assert stored.metastasis_present is True
    page.context.close()  # its last events reach the server before the database is flushed
