"""A crossover reader study in real Chromium against the live server, from design to progress.

The study admin designs the study in the browser (cases from the archive, ground truth, the
reader, washout, seed), precomputes the AI (the batch is queued on the real broker and run by a
real Celery worker process with the shipped checkpoint, as in production; the page shows the
progress), freezes it and starts the study. One reader then reads both cases in each arm: unaided (no AI anywhere on screen, and no
AI request on the network) and aided (the frozen overlay drawn), answers (a lesion marked on the
image, one confirmed from the AI list), submits, and the admin sees the progress.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from reader_study_support import (  # noqa: F401 (fixtures)
    ai_on_screen,
    login,
    make_user,
    new_page,
    overlay_alpha,
    rs_phantom_root,
    rs_studies,
    set_confidence,
    wait_outbox_empty,
    wait_viewer_ready,
)

from accounts.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_precomputed_jobs(worker, count: int) -> None:
    """The queued reader-study jobs, run by ``worker`` (a separate process): all succeeded, and
    each was run there (its job row names the worker), not in this process."""
    from inference.models import InferenceJob

    def jobs():
        return InferenceJob.objects.filter(trigger="reader_study")

    worker.wait_for(
        lambda: jobs().count() == count == jobs().filter(state="succeeded").count(),
        timeout=300,
        what=f"{count} precomputed reader-study jobs on the worker",
    )
    for job in jobs():  # the runner names "host:pid" of the process that ran it
        pid = int(job.worker.rsplit(":", 1)[1])
        assert pid != os.getpid(), job.worker
        assert pid == worker.process.pid or _parent_pid(pid) == worker.process.pid, job.worker


def _parent_pid(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))


def design_study_in_the_browser(page, live_server, studies, worker) -> None:
    page.goto(live_server.url + "/reader-studies")
    form = page.get_by_test_id("new-study")
    form.locator("input[name=title]").fill("MT-UNet crossover")
    form.locator("select[name=design]").select_option("crossover")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/reader-studies/[0-9a-f-]{36}$"))

    settings = page.get_by_test_id("settings-section")
    settings.locator("input[name=washout_days]").fill("0")
    settings.locator("input[name=seed]").fill("20260301")
    page.get_by_test_id("save-settings").click()
    expect(page.get_by_test_id("schedule-section")).to_contain_text("20260301")

    # Cases picked from the archive list (no patient names there).
    for study in studies:
        page.locator(f"[data-testid=pick-case][data-study-id='{study.id}']").check()
    page.get_by_test_id("add-cases").click()
    expect(page.get_by_test_id("case-row")).to_have_count(len(studies))

    # A CSV naming a study that is not in the archive: refused, the reason in Chinese, by row.
    page.locator("textarea[name=truth_csv]").fill(
        "study_instance_uid,metastasis_present\n9.9.9.9,yes\n"
    )
    page.get_by_test_id("import-truth").click()
    expect(page.get_by_test_id("admin-error")).to_contain_text("CSV 文件有错误")
    expect(page.get_by_test_id("admin-error")).to_contain_text("#2")

    rows = page.get_by_test_id("case-row")
    rows.nth(0).get_by_role("button", name="有转移").click()
    expect(rows.nth(0).get_by_test_id("truth")).to_have_attribute("data-truth", "true")
    rows.nth(1).get_by_role("button", name="无转移").click()
    expect(rows.nth(1).get_by_test_id("truth")).to_have_attribute("data-truth", "false")

    page.locator("input[name=reader]").fill("reader1")
    page.get_by_test_id("add-reader").click()
    expect(page.get_by_test_id("reader-row")).to_have_count(1)
    page.locator("input[name=reader]").fill("reader1")
    page.get_by_test_id("add-reader").click()
    expect(page.get_by_test_id("admin-error")).to_contain_text("该阅片者已在研究中")

    # Starting without frozen AI is refused with the reason.
    page.get_by_test_id("study-start").click()
    expect(page.get_by_test_id("admin-error")).to_contain_text("缺少固定的 AI 结果")

    page.get_by_test_id("precompute-ai").click()
    expect(page.get_by_test_id("ai-progress")).to_have_attribute("data-total", str(len(studies)))
    wait_for_precomputed_jobs(worker, len(studies))
    expect(page.get_by_test_id("ai-progress")).to_have_attribute(
        "data-succeeded", str(len(studies)), timeout=30_000
    )
    page.get_by_test_id("freeze-ai").click()
    expect(page.get_by_test_id("ai-progress")).to_have_attribute("data-frozen", str(len(studies)))

    # The schedule before the start: one reader, two sessions; with one reader the crossover
    # starts unaided.
    schedule = page.get_by_test_id("schedule-row")
    expect(schedule).to_have_count(2)
    expect(schedule.nth(0).locator("[data-arm]")).to_have_attribute("data-arm", "unaided")
    expect(schedule.nth(1).locator("[data-arm]")).to_have_attribute("data-arm", "aided")

    page.get_by_test_id("study-start").click()
    expect(page.get_by_test_id("study-state")).to_have_attribute("data-state", "open")


def read_case(page, *, arm: str, metastasis: bool, confidence: int, requests: list[str]):
    """Reads the open case; returns the reading id."""
    expect(page.get_by_test_id("reading")).to_have_attribute("data-arm", arm)
    reading_id = page.get_by_test_id("reading").get_attribute("data-reading-id")
    wait_viewer_ready(page)
    page.wait_for_timeout(500)
    if arm == "unaided":
        assert ai_on_screen(page) == []
        assert overlay_alpha(page) == 0
        ai_calls = [u for u in requests if "/ai" in u or "/api/inference/" in u]
        assert ai_calls == [], ai_calls
    else:
        expect(page.get_by_test_id("frozen-ai")).to_be_visible()
        page.wait_for_function(
            """() => Array.from(document.querySelectorAll('canvas.labelmap-overlay')).some(c => {
                 if (!c.width) return false;
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
                 return false;
               })""",
            timeout=30_000,
        )
        assert overlay_alpha(page) > 0

    page.get_by_test_id("metastasis-yes" if metastasis else "metastasis-no").check()
    set_confidence(page, confidence)
    if metastasis:
        # A lesion marked on the image: stored in the image's pixel coordinates.
        page.get_by_test_id("mark-metastatic").click()
        box = page.get_by_test_id("viewport-anterior").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        lesions = page.get_by_test_id("answer-lesions").locator("li")
        try:
            expect(lesions).to_have_count(1)
        except AssertionError:
            print(page.console_messages, page.console_errors)  # type: ignore[attr-defined]
            raise
        if arm == "aided":
            page.locator("[data-testid^=confirm-ai-][data-testid$=-metastatic]").first.click()
            expect(page.get_by_test_id("answer-lesions").locator("li")).to_have_count(2)
    page.get_by_test_id("comment").fill(f"{arm} read")
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    page.get_by_test_id("submit-answer").click()
    return reading_id


def test_reader_reads_both_arms_of_a_crossover_study_and_the_admin_sees_progress(
    live_server,
    browser,
    rs_studies,  # noqa: F811 (the imported fixture)
    start_worker,
):
    from inference.services import models_register_shipped
    from readerstudies.models import CaseReading, CaseView

    assert {mv.task for mv, _ in models_register_shipped()} >= {"planar"}
    worker = start_worker(extra_env={"INFERENCE_TORCH_THREADS": "1"})
    studies = rs_studies[:2]
    make_user("sadmin", Role.STUDY_ADMIN)
    make_user("reader1", Role.READER)

    admin = new_page(browser)
    login(admin, live_server, "sadmin", "/worklist")
    design_study_in_the_browser(admin, live_server, studies, worker)

    reader = new_page(browser)
    requests: list[str] = []
    reader.on("request", lambda r: requests.append(r.url))
    login(reader, live_server, "reader1", "/reading")  # not the worklist
    expect(reader.get_by_test_id("reading-progress")).to_have_attribute("data-done", "0")
    reader.goto(live_server.url + "/worklist")  # a reader never gets the worklist
    expect(reader).to_have_url(f"{live_server.url}/reading")

    read: dict[str, list[str]] = {"unaided": [], "aided": []}
    for arm in ("unaided", "aided"):
        reader.get_by_test_id("next-case").click()
        for index in range(2):
            reading_id = read_case(
                reader,
                arm=arm,
                metastasis=index == 0,
                confidence=70 if index == 0 else 20,
                requests=requests,
            )
            read[arm].append(reading_id)
            if index == 0:  # submit goes straight to the next case
                expect(reader).not_to_have_url(re.compile(reading_id))
        expect(reader).to_have_url(f"{live_server.url}/reading")
    expect(reader.get_by_test_id("sessions-done")).to_be_visible()
    wait_outbox_empty(reader)
    assert reader.console_errors == []  # type: ignore[attr-defined]

    admin.reload()
    rows = admin.get_by_test_id("progress-row")
    expect(rows).to_have_count(2)
    for n in range(2):
        expect(rows.nth(n)).to_have_attribute("data-done", "2")
    expect(admin.get_by_test_id("reading-row")).to_have_count(4)

    # Stored: answers with the marked lesions in image coordinates; each view knows its arm and
    # whether AI was shown.
    for arm, ids in read.items():
        for index, reading_id in enumerate(ids):
            reading = CaseReading.objects.get(id=reading_id)
            assert reading.state == "submitted"
            assert reading.metastasis_present is (index == 0)
            assert reading.confidence == (70 if index == 0 else 20)
            if index == 0:
                marked = [lesion for lesion in reading.lesions if lesion["ai_lesion_id"] is None]
                assert len(marked) == 1
                location = marked[0]["location"]
                assert location["kind"] == "planar" and location["view"] == "anterior"
                # The centre of the view is inside the image, in its pixels.
                assert 0 <= location["x"] <= 1024 and 0 <= location["y"] <= 1024, location
            views = CaseView.objects.filter(reading_id=reading_id)
            assert views.exists()
            assert {v.arm for v in views} == {arm}
            assert {v.ai_shown for v in views} == {arm == "aided"}
    admin.context.close()
    reader.context.close()


def series_modalities(page, study_id: str) -> list[str]:
    """The study's series as the server gives them to the page's user (what the viewer loads)."""
    return page.evaluate(
        "(id) => fetch(`/api/studies/${id}/`).then((r) => r.json())"
        ".then((s) => s.series.map((x) => x.modality))",
        study_id,
    )


def test_unaided_reader_gets_no_ai_seg_series(
    live_server,
    browser,
    rs_studies,  # noqa: F811 (the imported fixture)
    start_worker,
):
    from inference.services import models_register_shipped
    from readerstudies.models import ReaderStudyCase
    from readerstudies.services.ai import reader_study_ai_freeze, reader_study_ai_precompute
    from readerstudies.services.design import (
        case_truth_set,
        reader_study_cases_add,
        reader_study_create,
        reader_study_reader_add,
        reader_study_start,
    )

    models_register_shipped()
    admin = make_user("sadmin", Role.STUDY_ADMIN)
    reader = make_user("reader1", Role.READER)
    study = rs_studies[0]
    reader_study = reader_study_create(user=admin, title="seg", washout_days=0, seed=3)
    reader_study_cases_add(reader_study=reader_study, user=admin, study_ids=[study.id])
    case = ReaderStudyCase.objects.get(reader_study=reader_study)
    case_truth_set(case=case, user=admin, metastasis_present=False)
    worker = start_worker(extra_env={"INFERENCE_TORCH_THREADS": "1"})
    reader_study_ai_precompute(reader_study=reader_study, user=admin)
    wait_for_precomputed_jobs(worker, 1)
    reader_study_ai_freeze(reader_study=reader_study, user=admin)
    reader_study_reader_add(reader_study=reader_study, user=admin, reader=reader)
    reader_study_start(reader_study=reader_study, user=admin)

    page = new_page(browser)
    login(page, live_server, "reader1", "/reading")
    page.get_by_test_id("next-case").click()
    expect(page.get_by_test_id("reading")).to_have_attribute("data-arm", "unaided")
    modalities = series_modalities(page, str(study.id))
    page.context.close()
    assert "NM" in modalities
    assert "SEG" not in modalities, modalities
