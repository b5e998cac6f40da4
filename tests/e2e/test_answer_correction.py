"""The study admin corrects a submitted answer in real Chromium against the live server.

The reader's answer is submitted (locked); the admin changes it on the study page with a
mandatory reason. Without a reason nothing is sent and the error is shown in the admin's
language (zh-CN and en); the server refuses a reasonless change too. The correction keeps the
previous answer with the reason, who and when (shown as the reading's history), and the reader
still cannot change the answer.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from reader_marks_support import marks_study  # noqa: F401 (fixture)
from reader_study_support import PASSWORD, login, new_page, rs_phantom_root  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUBMITTED = {
    "metastasis_present": True,
    "confidence": 70,
    "comment": "rib lesion",
    "lesions": [
        {
            "label": "metastatic",
            "shape": "box",
            "location": {
                "kind": "planar",
                "view": "anterior",
                "frame": 1,
                "x": 90,
                "y": 440,
                "x2": 170,
                "y2": 580,
            },
            "ai_lesion_id": None,
        }
    ],
}


def submitted_reading(setup):
    """The reader's first case, opened and submitted through the reading services."""
    from readerstudies.models import ReaderSession
    from readerstudies.services.reading import next_reading, reading_open, reading_submit

    reader = setup["reader"]
    session = ReaderSession.objects.get(
        assignment__reader_study=setup["reader_study"], assignment__reader=reader, number=1
    )
    reading = next_reading(session)
    reading_open(reading=reading, user=reader)
    reading, _, _ = reading_submit(reading=reading, user=reader, data=SUBMITTED)
    return reading


def csrf_headers(page) -> dict:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token, "Content-Type": "application/json"}


def open_correction(page, live_server, reader_study, reading) -> None:
    page.goto(f"{live_server.url}/reader-studies/{reader_study.id}")
    row = page.locator(f"[data-testid=correction-row][data-reading-id='{reading.id}']")
    row.get_by_test_id("correct-answer").click()
    expect(page.get_by_test_id("correction-form")).to_be_visible()


def test_admin_corrects_a_submitted_answer_and_the_previous_answer_is_kept(
    live_server,
    browser,
    marks_study,  # noqa: F811 (the imported fixture)
):
    from readerstudies.models import AnswerRevision, CaseReading

    reader_study = marks_study["reader_study"]
    reading = submitted_reading(marks_study)
    admin = new_page(browser)  # zh-CN
    login(admin, live_server, "sadmin", "/worklist")
    open_correction(admin, live_server, reader_study, reading)
    form = admin.get_by_test_id("correction-form")
    expect(form.get_by_test_id("correct-confidence")).to_have_value("70")
    expect(form.get_by_test_id("correct-lesion")).to_have_count(1)
    expect(form).to_contain_text("没有更早的判读")

    # The change: no metastasis, confidence 30, the marked lesion benign.
    form.get_by_test_id("correct-metastasis-no").check()
    form.get_by_test_id("correct-confidence").fill("30")
    form.get_by_test_id("correct-reclassify").click()
    expect(form.get_by_test_id("correct-lesion")).to_have_attribute("data-label", "benign")

    # Without a reason (also only blanks) nothing is sent: the reason is asked for, in Chinese.
    for reason in ("", "   "):
        form.get_by_test_id("correct-reason").fill(reason)
        form.get_by_test_id("correct-save").click()
        expect(form.get_by_test_id("correct-error")).to_have_text("请填写更正理由。")
    # An out-of-range confidence is refused before sending, too.
    form.get_by_test_id("correct-confidence").fill("130")
    form.get_by_test_id("correct-reason").fill("阅片者电话确认误选")
    form.get_by_test_id("correct-save").click()
    expect(form.get_by_test_id("correct-error")).to_have_text("把握度必须是 0 到 100 的整数。")
    assert not AnswerRevision.objects.filter(reading=reading).exists()

    # The server refuses a reasonless change as well (a client that skips the form).
    url = f"/api/reader-studies/{reader_study.id}/readings/{reading.id}/answer/"
    refused = admin.request.put(
        live_server.url + url,
        data={"answer": {"confidence": 10}, "reason": ""},
        headers=csrf_headers(admin),
    )
    assert refused.status == 400, refused.text()
    assert "reason" in refused.json()["extra"]["fields"]
    stored = CaseReading.objects.get(id=reading.id)
    assert stored.confidence == 70 and not AnswerRevision.objects.filter(reading=reading).exists()

    form.get_by_test_id("correct-confidence").fill("30")
    form.get_by_test_id("correct-save").click()
    expect(admin.get_by_test_id("correct-saved")).to_contain_text("更正已保存")

    # Stored: the new answer, still submitted; the previous answer kept with the reason.
    stored = CaseReading.objects.get(id=reading.id)
    assert stored.state == "submitted"
    assert stored.metastasis_present is False and stored.confidence == 30
    assert [lesion["label"] for lesion in stored.lesions] == ["benign"]
    assert stored.lesions[0]["location"]["x2"] == 170  # the place is unchanged
    revisions = list(AnswerRevision.objects.filter(reading=reading))
    assert len(revisions) == 1
    revision = revisions[0]
    assert revision.kind == "admin_change"
    assert revision.reason == "阅片者电话确认误选"
    assert revision.changed_by == marks_study["admin"]
    assert revision.answer["metastasis_present"] is True
    assert revision.answer["confidence"] == 70
    assert revision.answer["comment"] == "rib lesion"
    assert [lesion["label"] for lesion in revision.answer["lesions"]] == ["metastatic"]
    assert revision.state == "submitted" and revision.submitted_at == reading.submitted_at

    # Shown: the history with the reason and the previous answer, the corrected answer in the
    # form (reloaded from the server).
    form = admin.get_by_test_id("correction-form")
    history = form.get_by_test_id("answer-revision")
    expect(history).to_have_count(1)
    expect(history).to_have_attribute("data-kind", "admin_change")
    expect(history.get_by_test_id("revision-reason")).to_have_text("阅片者电话确认误选")
    expect(history.get_by_test_id("revision-answer")).to_contain_text("把握度 70")
    expect(history).to_contain_text("sadmin")
    expect(form.get_by_test_id("correct-confidence")).to_have_value("30")

    # The reader still cannot change it: the answer API refuses, the case does not open.
    reader = new_page(browser)
    login(reader, live_server, "reader1", "/reading")
    answer_url = f"/api/reader-studies/my-reading/readings/{reading.id}/answer/"
    response = reader.request.put(
        live_server.url + answer_url, data={"confidence": 99}, headers=csrf_headers(reader)
    )
    assert response.status == 409, response.text()
    assert response.json()["extra"]["code"] == "answer_locked"
    reader.goto(f"{live_server.url}/reading/{reading.id}")
    expect(reader.get_by_test_id("reading-error")).to_contain_text("该判读已提交并锁定")
    assert CaseReading.objects.get(id=reading.id).confidence == 30
    assert AnswerRevision.objects.filter(reading=reading).count() == 1

    assert admin.console_errors == []  # type: ignore[attr-defined]
    admin.context.close()
    reader.context.close()


def test_correction_errors_in_english(
    live_server,
    browser,
    marks_study,  # noqa: F811 (the imported fixture)
):
    from readerstudies.models import AnswerRevision

    reader_study = marks_study["reader_study"]
    reading = submitted_reading(marks_study)
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    login(page, live_server, "sadmin", "/worklist")
    open_correction(page, live_server, reader_study, reading)
    form = page.get_by_test_id("correction-form")
    expect(form).to_contain_text("No earlier answers")
    form.get_by_test_id("correct-confidence").fill("40")
    form.get_by_test_id("correct-save").click()
    expect(form.get_by_test_id("correct-error")).to_have_text("Enter the reason for the change.")
    # Saving the answer as it is, with a reason, is no correction.
    form.get_by_test_id("correct-confidence").fill("70")
    form.get_by_test_id("correct-reason").fill("checked")
    form.get_by_test_id("correct-save").click()
    expect(form.get_by_test_id("correct-error")).to_have_text("Nothing was changed.")
    assert not AnswerRevision.objects.filter(reading=reading).exists()
    context.close()
