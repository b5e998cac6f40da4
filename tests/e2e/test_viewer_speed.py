# ruff: noqa: F811  (the fixtures of test_viewer.py, imported by name, are test arguments here)
"""What made opening a case slow (issue 14, speed), checked in real Chromium: the requests a case
opening makes and the frames drawn before the fused SPECT/CT view. The times themselves are
benchmarks/viewer.py's (docs/benchmarks.md)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_viewer import (  # noqa: F401  (fixtures)
    phantom_files,
    phantom_root,
    signed_in,
    studies,
)
from tests.e2e.test_viewer_overlay import run_ai  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# When Cornerstone drew each viewport element (IMAGE_RENDERED, performance.now()).
COUNT_RENDERS = """
window.__renders = {};
document.addEventListener("CORNERSTONE_IMAGE_RENDERED", (event) => {
  const id = event.target && event.target.dataset ? event.target.dataset.testid : "?";
  (window.__renders[id] = window.__renders[id] || []).push(performance.now());
}, true);
"""


def requests_of(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_spectct_ct_arrives_in_one_request_and_is_drawn_once_decoded(
    live_server, signed_in, studies
):
    """Before: 128 WADO-URI requests for the CT (one per slice), and the CT in the views while
    it decoded, redrawn every two slices in all three views (software WebGL): the fused views
    came 10-25 s after the click under load."""
    page = signed_in
    page.add_init_script(COUNT_RENDERS)
    seen = requests_of(page)
    study = studies["spectct"][0]
    page.goto(f"{live_server.url}/cases/{study.id}")
    axial = page.get_by_test_id("viewport-axial")
    expect(axial).to_have_attribute("data-fused", "true", timeout=60_000)
    renders = page.evaluate("() => window.__renders")
    decoded = page.evaluate(
        "() => performance.getEntriesByName('boneread:spectct-ct-decoded').map(e => e.startTime)"
    )
    at = page.evaluate(
        """() => Object.fromEntries(performance.getEntriesByType("mark")
             .filter(m => m.name.startsWith("boneread:spectct-"))
             .map(m => [m.name.slice(17), m.startTime]))"""
    )
    wado_uri = [u for u in seen if "/wado?" in u]
    series = [u for u in seen if "/dicomweb/studies/" in u and "/series/" in u]
    assert len(series) == 1, series  # the whole CT series
    assert len(wado_uri) == 1, wado_uri  # the one multi-frame SPECT file
    # No CT drawn while it decodes (the old code redrew every two slices: 64 frames per view
    # for this CT); the empty viewport's first frame and a resize may come before. After it:
    # the CT alone when the SPECT is still decoding (under load), the fused frame, and a few
    # for resizes, never one per slice.
    axial_frames = renders.get("viewport-axial", [])
    assert len(decoded) == 1, decoded
    assert len([t for t in axial_frames if t < decoded[0]]) <= 2, (decoded, renders)
    assert 1 <= len(axial_frames) <= 8, renders
    # The SPECT (80 small frames), queued first when its file is in by then (it usually is),
    # decodes before the CT's 128 slices, so the fused views come right after the CT with no
    # CT-alone frame first. Before: the CT's slices were queued first and the SPECT decoded last
    # (0.35-0.55 s after the CT), the CT drawn alone meanwhile.
    if at["spect-queued"] <= at["ct-queued"]:
        assert at["spect-decoded"] <= at["ct-decoded"], at
        assert abs(at["ct-shown"] - at["first-image"]) < 20, at  # the same frame
    expect(page.get_by_test_id("spectct-viewer")).to_have_attribute("data-state", "ready")
    assert page.console_errors == []


def test_case_page_fetches_the_seg_label_map_only(live_server, signed_in, studies, run_ai):
    """Before: the case page downloaded the AI job's own label map as well as the SEG's, and
    listed the SEG series twice (before and after it knew the result's job)."""
    page = signed_in
    study = studies["planar"][0]
    run_ai(study)
    seen = requests_of(page)
    # The first SEG listing is held until the AI result is on the page, as it happens under
    # load: the result's job id then arrives while that listing is on its way, which holds the
    # result's SEG. Before: the listing was aborted and asked for again (CI failed on this).
    held = []

    def hold_first_listing(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(lambda url: url.rstrip("/").endswith("/segmentations"), hold_first_listing)
    page.goto(f"{live_server.url}/cases/{study.id}")
    expect(page.get_by_test_id("lesion-item").first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(500)
    assert len(held) == 1, "the SEG listing was not requested before the result arrived"
    held[0].continue_()
    overlay = page.get_by_test_id("labelmap-overlay").first
    expect(overlay).to_have_attribute("data-drawn", "true", timeout=60_000)
    page.wait_for_timeout(1000)
    job_maps = [u for u in seen if "/api/inference/jobs/" in u and "/labelmap" in u]
    seg_maps = [u for u in seen if "/segmentations/" in u and "/labelmap" in u]
    listings = [u for u in seen if u.rstrip("/").endswith("/segmentations")]
    assert job_maps == []
    assert len(seg_maps) == 1, seg_maps
    assert len(listings) == 1, listings
    assert page.console_errors == []


# Every frame Cornerstone draws in the anterior view: when, with what in it (its viewport
# status) and how light the middle of the image is then (0 black .. 1 white). Read in the
# capture phase, so before the viewer's own listeners see the frame. And how many canvases got
# a WebGL context.
RECORD_ANTERIOR_FRAMES = """
window.__frames = [];
window.__webglCanvases = [];
const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
  const context = getContext.call(this, type, ...rest);
  if (context && String(type).startsWith("webgl") && !this.__counted) {
    this.__counted = true;
    window.__webglCanvases.push(performance.now());
  }
  return context;
};
document.addEventListener("CORNERSTONE_IMAGE_RENDERED", (event) => {
  const element = event.target;
  if (!element || !element.dataset || element.dataset.testid !== "viewport-anterior") return;
  const canvas = element.querySelector("canvas");
  let light = null;
  if (canvas && canvas.width > 0 && canvas.height > 0) {
    const w = Math.max(1, Math.round(canvas.width * 0.1));
    const x = Math.round((canvas.width - w) / 2);
    const y = Math.round(canvas.height * 0.1);
    const h = Math.max(1, Math.round(canvas.height * 0.8));
    const data = canvas.getContext("2d").getImageData(x, y, w, h).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += data[i] + data[i + 1] + data[i + 2];
    light = sum / (data.length / 4) / 765;
  }
  window.__frames.push({
    at: performance.now(),
    status: event.detail ? event.detail.viewportStatus : null,
    light,
  });
}, true);
"""
EMPTY = {"noData", "loading"}


def test_planar_opening_fetches_early_and_its_first_frame_is_the_image_as_read(
    live_server, signed_in, studies
):
    """Before: the images were requested only once the viewports existed (React's render and
    the WebGL set-up, about 0.2 s, with the network idle), and every case opened made 7 WebGL
    contexts. Also guarded: the "first image" mark counts only a frame with the image in it,
    and that frame is already in the reading grey scale (each view gets its window as soon as
    its image is in, not after both)."""
    page = signed_in
    page.add_init_script(RECORD_ANTERIOR_FRAMES)
    study = studies["planar"][0]
    page.goto(f"{live_server.url}/cases/{study.id}")
    anterior = page.get_by_test_id("viewport-anterior")
    expect(anterior).to_have_attribute("data-rendered", "true", timeout=60_000)
    expect(page.get_by_test_id("planar-viewer")).to_have_attribute("data-state", "ready")
    marks = page.evaluate(
        """() => Object.fromEntries(performance.getEntriesByType("mark")
             .filter(m => m.name.startsWith("boneread:planar-"))
             .map(m => [m.name.slice(16), m.startTime]))"""
    )
    wado = page.evaluate(
        """() => performance.getEntriesByType("resource")
             .filter(r => r.name.includes("/wado?")).map(r => r.startTime)"""
    )
    frames = page.evaluate("() => window.__frames")
    webgl_made = page.evaluate("() => window.__webglCanvases")
    # The rendering engine makes its contexts when the viewer mounts, before its viewports
    # exist (Cornerstone's capability probes come earlier, at its initialisation).
    mounted = page.evaluate(
        "() => performance.getEntriesByName('boneread:cornerstone-ready')[0].startTime"
    )
    webgl_canvases = len([at for at in webgl_made if mounted < at <= marks["viewports-created"]])

    assert wado, "no WADO request"
    assert min(wado) < marks["viewports-created"], (wado, marks)

    drawn = [f for f in frames if f["status"] not in EMPTY]
    assert drawn, frames
    # The mark is the first frame with the image, not an empty one before it.
    marked = [f for f in frames if f["at"] <= marks["first-image"]]
    assert marked and marked[-1]["status"] not in EMPTY, (marks, frames)
    assert marked[-1]["at"] == drawn[0]["at"], (marks, frames)
    # Inverted (the default): zero counts are white, the middle of a bone scan light. In
    # Cornerstone's default grey scale it is nearly black.
    assert drawn[0]["light"] > 0.6, frames
    # One context per view. Before: Cornerstone's default pool of 7 contexts, made eagerly for
    # every case opened.
    assert webgl_canvases == 2, (webgl_made, mounted, marks)
    assert page.console_errors == []
