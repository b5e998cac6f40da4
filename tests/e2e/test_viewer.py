"""The reading viewer in real Chromium against the live server and phantom DICOM studies.

The phantom cases are generated once per session by the ML package's generator (real DICOM) and
archived through the real ingest service for each test. Screenshots are read back pixel by pixel
to check what the reader sees: both planar views drawn, a window preset changing the picture,
SPECT in colour over the grey CT. Screenshots are kept under tests/e2e/artifacts/.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "Bone-scan-2026"
SPECTCT_PHANTOM_SEED = 20


@pytest.fixture(scope="session")
def phantom_root(tmp_path_factory) -> Path:
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("phantoms")
    generate("planar", 2, 7, root / "planar")
    # a case with lesions of both classes whose report names where each is (generator seed 20):
    # with its report, the shipped model finds a lesion of each class with its class there
    # (tests/backend/inference/test_shipped_spectct_job.py); the model's accuracy over many
    # cases is measured in docs/results, not here
    generate("spectct", 1, SPECTCT_PHANTOM_SEED, root / "spectct")
    return root


@pytest.fixture(scope="session")
def phantom_files(phantom_root) -> list[Path]:
    # Ground-truth SEGs are not part of what a clinic sends.
    return sorted(p for p in phantom_root.rglob("*.dcm") if not p.name.startswith("SEG"))


def study_with_lesions(phantom_root: Path, kind: str, *, with_report: bool = True):
    """The archived study of a generated case that has lesions in its ground truth, with the
    case's report written (as a physician would before running the report-conditioned AI)
    unless ``with_report`` is false (a test that writes its own)."""
    import json

    import pydicom
    from django.test import override_settings

    from reports.models import Report
    from reports.services import report_save
    from studies.models import Study

    manifest = json.loads((phantom_root / kind / "manifest.json").read_text(encoding="utf-8"))
    case = next(c for c in manifest["cases"] if c["lesions"])
    first = sorted((phantom_root / kind / case["dicom_dir"]).glob("*.dcm"))[0]
    uid = pydicom.dcmread(first, stop_before_pixels=True).StudyInstanceUID
    study = Study.objects.get(study_instance_uid=uid)
    if with_report and not Report.objects.filter(study=study).exists():
        report = case["report"]
        with override_settings(INFERENCE_AUTO_RUN=False):  # each test runs the AI itself
            report_save(
                study=study, user=None, history=report["history"], findings=report["findings"],
                impression=report["impression"], base_version=None,
            )  # fmt: skip
    return study


@pytest.fixture
def studies(phantom_files):
    from studies.models import Study
    from studies.services import instances_ingest

    for start in range(0, len(phantom_files), 25):
        batch = phantom_files[start : start + 25]
        results = instances_ingest(files=[(p.name, p.read_bytes()) for p in batch], source="import")
        assert all(r.ok for r in results), [r.as_dict() for r in results if not r.ok]
    return {
        kind: list(Study.objects.filter(kind=kind).order_by("study_date", "id"))
        for kind in ("planar", "spectct")
    }


@pytest.fixture
def signed_in(live_server, page):
    user_create(username="wang", password=PASSWORD, role=Role.PHYSICIAN, display_name="王医生")
    page.goto(live_server.url + "/login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/worklist")
    return page


def pixels(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def save(name: str, png: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)


def open_case(page, live_server, study) -> None:
    page.goto(f"{live_server.url}/cases/{study.id}")
    viewer = page.locator("[data-state]").first
    expect(viewer).to_have_attribute("data-state", "ready", timeout=60_000)


def test_planar_case_shows_both_views_presets_and_next_case(live_server, signed_in, studies):
    page = signed_in
    page.reload()  # the studies were archived after the worklist first loaded
    rows = page.get_by_test_id("worklist-table").locator("tbody tr")
    expect(rows).to_have_count(3)
    planar_ids = {str(s.id) for s in studies["planar"]}
    order = [rows.nth(i).get_attribute("data-study-id") for i in range(3)]
    index = next(i for i, sid in enumerate(order) if sid in planar_ids)
    # Step towards the middle of the list so that there is a case to step to.
    step_key = "n" if index < 2 else "p"
    first_id = order[index]
    rows.nth(index).locator("a").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{first_id}")
    expect(page.get_by_test_id("planar-viewer")).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )
    for view in ("anterior", "posterior"):
        expect(page.get_by_test_id(f"viewport-{view}")).to_have_attribute("data-rendered", "true")

    before = page.get_by_test_id("viewport-anterior").screenshot()
    save("viewer_planar_auto.png", before)
    image = pixels(before)
    grey = image.convert("L")
    lo, hi = grey.getextrema()
    # Inverted grey scale: a white background with dark uptake, not a blank canvas.
    assert hi >= 240 and lo <= 120, (lo, hi)

    page.keyboard.press("2")  # "low" preset: faint uptake saturates
    expect(page.get_by_test_id("preset-low")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(300)
    after = page.get_by_test_id("viewport-anterior").screenshot()
    save("viewer_planar_low.png", after)
    dark_before = sum(1 for v in grey.getdata() if v < 128)
    dark_after = sum(1 for v in pixels(after).convert("L").getdata() if v < 128)
    assert dark_after > dark_before * 1.2, (dark_before, dark_after)

    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.keyboard.press(step_key)
    expect(page).not_to_have_url(f"{live_server.url}/cases/{first_id}")
    expect(page.get_by_test_id("case")).not_to_have_attribute("data-study-id", first_id)
    assert page.console_errors == []


def test_spectct_fused_view_shows_colour_over_grey_ct(live_server, signed_in, studies):
    page = signed_in
    open_case(page, live_server, studies["spectct"][0])
    page.wait_for_timeout(500)
    png = page.get_by_test_id("viewport-sagittal").screenshot()
    save("viewer_spectct_fused.png", png)
    rgb = list(pixels(png).getdata())
    coloured = sum(1 for r, g, b in rgb if r > 120 and r - b > 60)
    grey = sum(1 for r, g, b in rgb if 60 < r < 230 and abs(r - g) < 12 and abs(g - b) < 12)
    assert coloured > 200, coloured  # SPECT uptake in the colour map
    assert grey > 2000, grey  # CT anatomy around it

    page.get_by_test_id("fusion-ct").click()
    page.wait_for_timeout(300)
    ct_only = list(pixels(page.get_by_test_id("viewport-sagittal").screenshot()).getdata())
    assert sum(1 for r, g, b in ct_only if r > 120 and r - b > 60) < coloured / 10
    assert page.console_errors == []


def test_report_is_saved_signed_and_a_stale_save_shows_the_conflict(
    live_server, signed_in, studies
):
    from django.contrib.auth import get_user_model

    from reports.services import report_save

    page = signed_in
    study = studies["planar"][0]
    open_case(page, live_server, study)
    page.get_by_test_id("tab-report").click()
    panel = page.get_by_test_id("report-panel")
    panel.locator("textarea[name=history]").fill("乳腺癌术后3年")
    panel.locator("textarea[name=findings]").fill("胸椎及多根肋骨见多发异常放射性浓聚。")
    panel.locator("textarea[name=impression]").fill("多发骨转移可能。")
    page.get_by_test_id("report-save").click()
    expect(page.get_by_test_id("report-version")).to_have_text("第 1 版")

    page.reload()
    page.get_by_test_id("tab-report").click()
    expect(panel.locator("textarea[name=findings]")).to_have_value(
        "胸椎及多根肋骨见多发异常放射性浓聚。"
    )

    # A colleague saves version 2 while this page still shows version 1.
    colleague = get_user_model().objects.create_user(username="li", password=PASSWORD)
    report_save(
        study=study,
        user=colleague,
        history="乳腺癌术后3年",
        findings="胸椎、肋骨多发浓聚灶。",
        impression="骨转移。",
        base_version=1,
    )
    panel.locator("textarea[name=impression]").fill("多发骨转移。")
    page.get_by_test_id("report-save").click()
    expect(page.get_by_test_id("report-conflict")).to_be_visible()
    save("viewer_report_conflict.png", page.screenshot())

    panel.get_by_role("button", name="载入当前版本").click()
    expect(page.get_by_test_id("report-version")).to_have_text("第 2 版")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("report-sign").click()
    expect(page.get_by_test_id("report-signed")).to_be_visible()
    expect(panel.locator("textarea[name=impression]")).to_have_attribute("readonly", "")
    assert page.console_errors == []


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


OUTBOX = "JSON.parse(localStorage.getItem('boneread.readingEvents.outbox') || '[]')"


def test_reading_timer_counts_visible_time_and_replays_offline_events_once(
    live_server, signed_in, studies
):
    import json
    from datetime import datetime

    from readerstudies.models import CaseView, ReadingEvent

    page = signed_in
    sent: dict[str, dict] = {}

    def capture(request):
        if request.url.endswith("/api/reading-events/") and request.method == "POST":
            for event in json.loads(request.post_data or "{}").get("events", []):
                sent[event["id"]] = event

    page.on("request", capture)
    study = studies["planar"][0]
    open_case(page, live_server, study)
    page.wait_for_timeout(2500)

    # The connection drops; the reader switches away and comes back while offline.
    page.context.set_offline(True)
    set_visibility(page, "hidden")
    page.wait_for_timeout(2500)
    set_visibility(page, "visible")
    page.wait_for_timeout(1500)
    queued = page.evaluate(f"{OUTBOX}.map((e) => e.type)")
    assert queued[-2:] == ["hidden", "visible"], queued

    page.context.set_offline(False)
    page.wait_for_function(f"() => {OUTBOX}.length === 0", timeout=30_000)
    page.wait_for_timeout(1500)
    page.get_by_test_id("back-to-worklist").click()
    expect(page).to_have_url(f"{live_server.url}/worklist")
    page.wait_for_function(f"() => {OUTBOX}.length === 0", timeout=30_000)

    sent_in_order = sorted(sent.values(), key=lambda e: e["sequence"])
    # first_image and heartbeats are milestones, not state changes: left out of the sequence.
    events = [e for e in sent_in_order if e["type"] not in ("first_image", "heartbeat")]
    assert [e["type"] for e in events] == ["opened", "hidden", "visible", "closed"]
    at = {e["type"]: datetime.fromisoformat(e["client_time"]) for e in events}
    expected_active = (at["hidden"] - at["opened"]).total_seconds() + (
        at["closed"] - at["visible"]
    ).total_seconds()
    expected_total = (at["closed"] - at["opened"]).total_seconds()

    view = CaseView.objects.get(client_view_id=events[0]["view_id"])
    assert view.ended_by == "closed"
    assert view.event_count == len(sent_in_order)
    assert abs(view.active_seconds - expected_active) <= 0.1 * expected_active, (
        view.active_seconds,
        expected_active,
    )
    assert abs(view.total_seconds - expected_total) <= 0.1 * expected_total

    # The same events replayed (a second tab, a retry after a lost answer) count once.
    page.evaluate(
        "(events) => localStorage.setItem('boneread.readingEvents.outbox', JSON.stringify(events))",
        sent_in_order,
    )
    open_case(page, live_server, study)  # a new case view flushes the outbox on start
    page.wait_for_function(f"() => {OUTBOX}.length === 0", timeout=30_000)
    assert ReadingEvent.objects.filter(case_view=view).count() == len(sent_in_order)
    view.refresh_from_db()
    assert view.event_count == len(sent_in_order)
    assert page.console_errors == []


def differing_pixels(a: bytes, b: bytes, threshold: int = 40) -> int:
    pa, pb = pixels(a), pixels(b)
    assert pa.size == pb.size
    return sum(
        1
        for (r1, g1, b1), (r2, g2, b2) in zip(pa.getdata(), pb.getdata(), strict=True)
        if abs(r1 - r2) + abs(g1 - g2) + abs(b1 - b2) > threshold
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "viewport"), [("planar", "viewport-anterior"), ("spectct", "viewport-axial")]
)
def test_ai_run_from_the_viewer_draws_the_overlay_and_lesions_move_the_view(
    live_server, signed_in, studies, phantom_root, start_worker, kind, viewport
):
    """Run the AI from the viewer; a real Celery worker on the real broker runs the job."""
    from inference.services import models_register_shipped

    tasks = {mv.task for mv, _ in models_register_shipped()}
    assert kind in tasks, f"no shipped {kind} checkpoint under MODEL_DIR"
    start_worker()
    page = signed_in
    study = study_with_lesions(phantom_root, kind)
    open_case(page, live_server, study)
    page.get_by_test_id("ai-run").click()
    expect(page.get_by_test_id("ai-model")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("lesion-item").first).to_be_visible()
    page.wait_for_timeout(1000)
    if kind == "spectct":
        # against CT alone: a metastatic mask is red, like the hot end of the SPECT colour map
        page.get_by_test_id("fusion-ct").click()
        page.wait_for_timeout(500)
    view = page.get_by_test_id(viewport)
    initial = view.screenshot()

    # A lesion of the list: the view centres and zooms on it. Some lesions are a few voxels
    # whose mask can miss the slice through their centroid, so up to five are tried until
    # one shows its mask.
    items = page.get_by_test_id("lesion-item")
    for index in range(min(items.count(), 5)):
        items.nth(index).click()
        page.wait_for_timeout(800)
        with_overlay = view.screenshot()
        page.get_by_test_id("overlay-visible").uncheck()
        page.wait_for_timeout(500)
        without_overlay = view.screenshot()
        page.get_by_test_id("overlay-visible").check()
        page.wait_for_timeout(300)
        if index == 0:
            assert differing_pixels(with_overlay, initial) > 500  # the view moved to the lesion
        if differing_pixels(with_overlay, without_overlay) > 20:
            break
    save(f"viewer_ai_{kind}_lesion.png", with_overlay)
    save(f"viewer_ai_{kind}_overlay_off.png", without_overlay)
    page.get_by_test_id("overlay-class-benign").uncheck()
    page.get_by_test_id("overlay-class-metastatic").uncheck()
    page.wait_for_timeout(500)
    classes_off = view.screenshot()
    save(f"viewer_ai_{kind}_classes_off.png", classes_off)
    page.get_by_test_id("overlay-class-benign").check()
    page.get_by_test_id("overlay-class-metastatic").check()

    assert differing_pixels(with_overlay, without_overlay) > 20
    assert differing_pixels(classes_off, without_overlay) < 20
    assert page.console_errors == []
