"""The reading workflow in real Chromium: no lost report text, shortcuts that always answer, one
save per click, errors in the reader's language, live status and newly announced AI results.

Each test drives the built app against the live server with phantom DICOM studies (the fixtures
of test_viewer.py). Screenshots for the physician's user guide are written to
docs/figures/user-guide/ when BONEREAD_GUIDE_FIGURES=1 (see docs/user-guide-physician.md).
"""

# The fixtures come from test_viewer.py by import; pytest passes them as arguments of the same
# name, which ruff would otherwise report as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_viewer import (  # noqa: F401  (fixtures)
    PASSWORD,
    open_case,
    phantom_files,
    phantom_root,
    pixels,
    signed_in,
    studies,
    study_with_lesions,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GUIDE_FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures" / "user-guide"


def guide_figure(page, name: str, *, locator=None) -> None:
    """A screenshot for the user guide (only when asked for: they are committed files), made
    small: at most 1000 px wide, 256 colours."""
    if os.environ.get("BONEREAD_GUIDE_FIGURES") != "1":
        return
    from PIL import Image

    GUIDE_FIGURES.mkdir(parents=True, exist_ok=True)
    target = locator if locator is not None else page
    image = pixels(target.screenshot())
    if image.width > 1000:
        image = image.resize((1000, round(image.height * 1000 / image.width)), Image.LANCZOS)
    image.quantize(colors=256).save(GUIDE_FIGURES / f"{name}.png", optimize=True)


def type_report(page, text: str) -> None:
    page.get_by_test_id("tab-report").click()
    page.get_by_test_id("report-panel").locator("textarea[name=findings]").fill(text)


def blur(page) -> None:
    """Leave the text field the way a reader does: click on the case header."""
    page.get_by_test_id("case-patient").click()


# --- 1. unsaved report text ------------------------------------------------------------------


def test_unsaved_report_text_asks_before_every_navigation(live_server, signed_in, studies):
    page = signed_in
    page.reload()  # the worklist lists the archived studies, so next/previous has a list
    # The middle row of three, so that there is a previous and a next case.
    middle = page.get_by_test_id("worklist-table").locator("tbody tr").nth(1)
    study_id = middle.get_attribute("data-study-id")
    middle.locator("a").click()
    case_url = f"{live_server.url}/cases/{study_id}"
    expect(page).to_have_url(case_url)
    expect(page.locator("[data-state]").first).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )
    text = "左侧第5肋放射性浓聚，考虑骨转移。"
    type_report(page, text)
    findings = page.get_by_test_id("report-panel").locator("textarea[name=findings]")
    confirm = page.get_by_test_id("leave-confirm")

    def refused(leave, figure: str | None = None) -> None:
        leave()
        expect(confirm).to_be_visible()
        if figure:
            guide_figure(page, figure)
        page.get_by_test_id("leave-stay").click()
        expect(confirm).to_have_count(0)
        expect(page).to_have_url(case_url)
        expect(findings).to_have_value(text)

    refused(lambda: page.get_by_test_id("next-case").click())
    refused(lambda: page.get_by_test_id("prev-case").click())
    # The AI tab hides the report panel: the draft must survive that too.
    page.get_by_test_id("tab-ai").click()
    blur(page)
    refused(lambda: page.keyboard.press("n"), figure="unsaved-warning")
    refused(lambda: page.keyboard.press("p"))
    refused(lambda: page.keyboard.press("PageDown"))
    refused(lambda: page.keyboard.press("l"))
    page.get_by_test_id("tab-report").click()
    refused(lambda: page.get_by_test_id("back-to-worklist").click())

    # The browser's back button: the app stays on the case and asks.
    page.go_back()
    expect(confirm).to_be_visible()
    page.get_by_test_id("leave-stay").click()
    expect(page).to_have_url(case_url)
    expect(findings).to_have_value(text)

    # Reload / close: the browser's own "leave site?" dialog (beforeunload).
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.evaluate("setTimeout(() => location.reload(), 0)")
    page.wait_for_timeout(1500)
    assert dialogs == ["beforeunload"], dialogs
    expect(findings).to_have_value(text)
    page.remove_listener("dialog", on_dialog)

    # Leaving on purpose discards the draft and goes.
    page.get_by_test_id("back-to-worklist").click()
    page.get_by_test_id("leave-discard").click()
    expect(page).to_have_url(f"{live_server.url}/worklist")

    # Saved text does not ask.
    page.goto(case_url)
    type_report(page, text)
    page.get_by_test_id("report-save").click()
    expect(page.get_by_test_id("report-version")).to_have_text("第 1 版")
    page.get_by_test_id("back-to-worklist").click()
    expect(page).to_have_url(f"{live_server.url}/worklist")
    assert page.console_errors == []


# --- 2. shortcuts ----------------------------------------------------------------------------


def test_planar_shortcuts_work_twice_and_after_a_panel_click(live_server, signed_in, studies):
    page = signed_in
    open_case(page, live_server, studies["planar"][0])
    invert = page.get_by_test_id("invert")
    expect(invert).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("i")
    expect(invert).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("i")  # the second press toggles back
    expect(invert).to_have_attribute("aria-pressed", "true")

    # A preset key re-applies its preset after another preset was chosen by mouse.
    page.keyboard.press("2")
    expect(page.get_by_test_id("preset-low")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("preset-auto").click()
    expect(page.get_by_test_id("preset-auto")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("2")
    expect(page.get_by_test_id("preset-low")).to_have_attribute("aria-pressed", "true")
    for key, preset in (("3", "medium"), ("4", "high"), ("1", "auto"), ("1", "auto")):
        page.keyboard.press(key)
        expect(page.get_by_test_id(f"preset-{preset}")).to_have_attribute("aria-pressed", "true")

    # Reset twice: zoomed after the first reset, the second reset brings the view back.
    view = page.get_by_test_id("viewport-anterior")
    page.keyboard.press("r")
    page.wait_for_timeout(300)
    home = view.screenshot()
    box = view.bounding_box()
    assert box is not None
    page.get_by_test_id("tool-zoom").click()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 150, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    zoomed = view.screenshot()
    assert zoomed != home
    page.keyboard.press("r")
    page.wait_for_timeout(400)
    assert pixels(view.screenshot()).tobytes() == pixels(home).tobytes()

    # Never while typing.
    page.keyboard.press("i")
    expect(invert).to_have_attribute("aria-pressed", "false")
    page.get_by_test_id("tab-report").click()
    page.get_by_test_id("report-panel").locator("textarea[name=findings]").fill("")
    page.get_by_test_id("report-panel").locator("textarea[name=findings]").press("i")
    expect(invert).to_have_attribute("aria-pressed", "false")
    assert page.console_errors == []


@pytest.mark.slow
def test_shortcuts_work_right_after_ai_panel_checkbox_and_slider(
    live_server, signed_in, studies, phantom_root, start_worker
):
    from inference.services import models_register_shipped

    models_register_shipped()
    start_worker()
    page = signed_in
    study = study_with_lesions(phantom_root, "planar")
    open_case(page, live_server, study)
    page.get_by_test_id("ai-run").click()
    expect(page.get_by_test_id("lesion-item").first).to_be_visible(timeout=120_000)
    invert = page.get_by_test_id("invert")
    overlay = page.get_by_test_id("overlay-visible")

    page.get_by_test_id("overlay-class-benign").click()
    page.keyboard.press("i")
    expect(invert).to_have_attribute("aria-pressed", "false")
    page.get_by_test_id("overlay-outline").click()
    page.keyboard.press("o")
    expect(overlay).not_to_be_checked()
    page.keyboard.press("o")
    expect(overlay).to_be_checked()
    page.get_by_test_id("overlay-opacity").click()
    page.keyboard.press("i")
    expect(invert).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("2")
    expect(page.get_by_test_id("preset-low")).to_have_attribute("aria-pressed", "true")
    assert page.console_errors == []


def test_spectct_fusion_shortcut_cycles_every_press(live_server, signed_in, studies):
    page = signed_in
    open_case(page, live_server, studies["spectct"][0])
    modes = []
    for _ in range(4):
        page.keyboard.press("f")
        page.wait_for_timeout(150)
        pressed = page.locator("[data-testid^=fusion-][aria-pressed=true]")
        expect(pressed).to_have_count(1)
        modes.append(pressed.get_attribute("data-testid"))
    # Three modes: four presses visit all three and come back round.
    assert len(set(modes)) == 3, modes
    assert modes[0] == modes[3], modes
    page.get_by_test_id("spect-opacity").click()
    page.keyboard.press("f")
    page.wait_for_timeout(150)
    assert (
        page.locator("[data-testid^=fusion-][aria-pressed=true]").get_attribute("data-testid")
        == modes[1]
    )
    assert page.console_errors == []


# --- 5. double save --------------------------------------------------------------------------


def test_double_click_on_save_saves_once_without_a_conflict(live_server, signed_in, studies):
    from reports.models import Report

    page = signed_in
    study = studies["planar"][0]
    open_case(page, live_server, study)
    type_report(page, "双侧髋关节放射性浓聚，退行性变可能。")
    # Two clicks before the page has redrawn (a slow machine, a bouncing mouse button): the
    # second must not be sent as a second save of the same version.
    page.get_by_test_id("report-save").evaluate("(button) => { button.click(); button.click(); }")
    expect(page.get_by_test_id("report-version")).to_have_text("第 1 版")
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("report-conflict")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert Report.objects.get(study=study).version == 1

    # Edit and double-click again: version 2, still no conflict.
    findings = page.get_by_test_id("report-panel").locator("textarea[name=findings]")
    findings.fill("双侧髋关节放射性浓聚，考虑退行性变。")
    page.get_by_test_id("report-save").evaluate("(button) => { button.click(); button.click(); }")
    expect(page.get_by_test_id("report-version")).to_have_text("第 2 版")
    findings.fill("双侧髋关节放射性浓聚，考虑退行性变可能。")
    page.get_by_test_id("report-save").dblclick()
    expect(page.get_by_test_id("report-version")).to_have_text("第 3 版")
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("report-conflict")).to_have_count(0)
    assert Report.objects.get(study=study).version == 3
    assert page.console_errors == []


# --- 4. errors in the user's language, a missing case ----------------------------------------


def test_missing_case_says_so_with_a_way_back_and_no_ai(live_server, signed_in, studies):
    import uuid

    page = signed_in
    for missing in (str(uuid.uuid4()), "no-such-case"):
        page.goto(f"{live_server.url}/cases/{missing}")
        box = page.get_by_test_id("case-not-found")
        expect(box).to_be_visible()
        expect(box).to_contain_text("该病例不存在")
        expect(page.get_by_test_id("ai-run")).to_have_count(0)
        expect(page.get_by_text("服务器的这一部分尚不可用")).to_have_count(0)
    guide_figure(page, "case-not-found")
    page.get_by_test_id("case-not-found-back").click()
    expect(page).to_have_url(f"{live_server.url}/worklist")
    assert page.console_errors == []


def test_server_errors_are_shown_in_chinese_in_the_chinese_ui(live_server, signed_in, studies):
    from django.contrib.auth import get_user_model

    from reports.services import report_save, report_sign

    page = signed_in
    page.add_init_script("window.__BONEREAD_STATUS_POLL_MS = 1000")
    study = studies["planar"][0]
    open_case(page, live_server, study)
    type_report(page, "胸椎多发浓聚。")
    page.get_by_test_id("report-save").click()
    expect(page.get_by_test_id("report-version")).to_have_text("第 1 版")

    # 400: text over the length limit; the message is Chinese, the server's English is a tooltip.
    findings = page.get_by_test_id("report-panel").locator("textarea[name=findings]")
    page.evaluate(
        """() => {
          const el = document.querySelector('textarea[name=findings]');
          const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
          set.call(el, '浓'.repeat(20001));
          el.dispatchEvent(new Event('input', { bubbles: true }));
        }"""
    )
    page.get_by_test_id("report-save").click()
    error = page.get_by_test_id("report-panel").get_by_test_id("error-text")
    expect(error).to_contain_text("报告文字超过")
    assert "longer than" in (error.get_attribute("title") or "")
    assert "longer than" not in error.inner_text()

    # 409: a colleague signed the report meanwhile; the refusal says so, in Chinese.
    colleague = get_user_model().objects.create_user(username="li", password=PASSWORD)
    report = report_save(
        study=study,
        user=colleague,
        history="",
        findings="胸椎、肋骨多发浓聚灶。",
        impression="骨转移。",
        base_version=1,
    )[0]
    report_sign(study=study, user=colleague, version=report.version)
    # The case header follows without a reload (live status).
    header_report = page.locator(".case-header .chip[class*=chip-report-]")
    expect(header_report).to_have_attribute("data-status", "signed", timeout=10_000)
    findings.fill("胸椎多发浓聚，考虑转移。")
    page.get_by_test_id("report-save").click()
    conflict = page.get_by_test_id("report-conflict")
    expect(conflict).to_contain_text("报告已签发，不能再修改")
    guide_figure(page, "error-in-chinese", locator=page.get_by_test_id("report-panel"))
    assert page.console_errors == []


# --- 3, 4, 6. live status, a new AI result announced, English regions ------------------------


def text_box(locator) -> dict:
    """Where the element's text is drawn (it may overflow the element's own box)."""
    return locator.evaluate(
        """(el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          const box = range.getBoundingClientRect();
          return { left: box.left, right: box.right };
        }"""
    )


def ai_chip(page, study_id: str):
    return page.locator(f"tr[data-study-id='{study_id}'] .chip[class*=chip-ai-]")


@pytest.mark.slow
def test_live_status_and_a_new_ai_result_after_signing_is_announced(
    live_server, signed_in, studies, phantom_root, start_worker, settings
):
    """A job finishing flips the worklist chip without a reload; signing re-runs the AI with the
    signed text and the open viewer announces the new result, the previous one still viewable;
    in English the lesion regions are English and the class never overprints the probability."""
    import json
    import re

    from django.contrib.auth import get_user_model

    from inference.models import InferenceJob
    from inference.services import models_register_shipped
    from reports.services import report_save

    settings.INFERENCE_AUTO_RUN = True
    models_register_shipped()
    page = signed_in
    page.add_init_script("window.__BONEREAD_STATUS_POLL_MS = 1000")
    study = study_with_lesions(phantom_root, "planar", with_report=False)
    wang = get_user_model().objects.get(username="wang")
    # The report's first version queues the AI (auto-run); no worker runs yet. It names uptake
    # but no site: a report calling the scan normal makes the shipped planar model state no
    # lesion at all on this case (docs/model-card.md, Limits).
    report_save(
        study=study,
        user=wang,
        history="前列腺癌。",
        findings="全身多处骨骼见异常放射性浓聚灶。",
        impression="考虑骨转移可能，请结合临床。",
        base_version=0,
    )
    first_job = InferenceJob.objects.get(study=study)

    page.goto(f"{live_server.url}/worklist")
    chip = ai_chip(page, str(study.id))
    expect(chip).to_have_attribute("data-status", "queued")
    page.evaluate("window.__notReloaded = true")
    start_worker()
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=120_000)
    assert page.evaluate("window.__notReloaded === true")  # the chip changed in place
    guide_figure(page, "worklist")

    page.locator(f"tr[data-study-id='{study.id}'] a").click()
    expect(page.get_by_test_id("planar-viewer")).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )
    panel = page.get_by_test_id("ai-panel")
    expect(panel).to_have_attribute("data-result-job", str(first_job.id))
    expect(page.get_by_test_id("lesion-item").first).to_be_visible()
    header_report = page.locator(".case-header .chip[class*=chip-report-]")
    expect(header_report).to_have_attribute("data-status", "draft")
    guide_figure(page, "case-ai")

    # Edit, save and sign: the header says signed at once; signing re-runs the AI. The signed
    # version names the sites where the scan shows uptake (the case's own lesions, as the
    # reader who saw them writes): given sites elsewhere (第5胸椎、左侧多根肋骨, until
    # 2026-12-06) the half-resolution planar release states no lesion on this case.
    manifest = json.loads((phantom_root / "planar" / "manifest.json").read_text(encoding="utf-8"))
    case = next(c for c in manifest["cases"] if c["lesions"])  # the study's (study_with_lesions)
    sites = "、".join(dict.fromkeys(lesion["region"] for lesion in case["lesions"]))
    page.get_by_test_id("tab-report").click()
    page.get_by_test_id("report-panel").locator("textarea[name=findings]").fill(
        f"{sites}见异常放射性浓聚灶。"
    )
    page.get_by_test_id("report-panel").locator("textarea[name=impression]").fill(
        case["report"]["impression"]
    )
    page.get_by_test_id("report-save").click()
    expect(page.get_by_test_id("report-version")).to_have_text("第 2 版")
    guide_figure(page, "report")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("report-sign").click()
    expect(page.get_by_test_id("report-signed")).to_be_visible()
    expect(header_report).to_have_attribute("data-status", "signed")

    page.get_by_test_id("tab-ai").click()
    notice = page.get_by_test_id("ai-new-result")
    expect(notice).to_be_visible(timeout=120_000)
    expect(notice).to_contain_text("第 2 版")
    second_job = InferenceJob.objects.filter(study=study).order_by("-created").first()
    assert second_job.id != first_job.id and second_job.report_version.number == 2
    # Announced, not swapped: the overlay on screen is still the first result.
    expect(panel).to_have_attribute("data-result-job", str(first_job.id))
    picker = page.get_by_test_id("ai-result-picker")
    expect(picker.locator("option")).to_have_count(2)
    guide_figure(page, "new-ai-result")

    page.get_by_test_id("ai-show-new-result").click()
    expect(panel).to_have_attribute("data-result-job", str(second_job.id))
    expect(notice).to_have_count(0)
    picker.select_option(str(first_job.id))
    expect(panel).to_have_attribute("data-result-job", str(first_job.id))
    expect(page.get_by_test_id("ai-new-result")).to_be_visible()
    picker.select_option(str(second_job.id))
    expect(panel).to_have_attribute("data-result-job", str(second_job.id))

    # English: regions translated, the class name beside (not over) the probability.
    page.get_by_test_id("language-switch").click()
    expect(page.get_by_test_id("tab-report")).to_have_text("Report")
    items = page.get_by_test_id("lesion-item")
    expect(items.first).to_be_visible()
    regions = [r.strip() for r in page.get_by_test_id("lesion-region").all_inner_texts()]
    assert any(regions), regions
    assert not any(re.search(r"[\u4e00-\u9fff]", r) for r in regions), regions
    guide_figure(page, "case-ai-english", locator=page.get_by_test_id("ai-panel"))
    for index in range(min(items.count(), 10)):
        item = items.nth(index)
        # The longest class name, whatever this result's classes are: it must fit its column.
        item.locator(".lesion-class").evaluate("(el) => { el.textContent = 'Metastatic'; }")
        name = text_box(item.locator(".lesion-class"))
        probability = text_box(item.locator(".lesion-probability"))
        assert name["right"] <= probability["left"] + 0.5, (index, name, probability)
    assert page.console_errors == []
