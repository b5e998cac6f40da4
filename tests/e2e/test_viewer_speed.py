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
    page.goto(f"{live_server.url}/cases/{study.id}")
    overlay = page.get_by_test_id("labelmap-overlay").first
    expect(overlay).to_have_attribute("data-drawn", "true", timeout=60_000)
    expect(page.get_by_test_id("lesion-item").first).to_be_visible()
    page.wait_for_timeout(1000)
    job_maps = [u for u in seen if "/api/inference/jobs/" in u and "/labelmap" in u]
    seg_maps = [u for u in seen if "/segmentations/" in u and "/labelmap" in u]
    listings = [u for u in seen if u.rstrip("/").endswith("/segmentations")]
    assert job_maps == []
    assert len(seg_maps) == 1, seg_maps
    assert len(listings) == 1, listings
    assert page.console_errors == []
