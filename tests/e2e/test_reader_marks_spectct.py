"""The reader's marks on a SPECT/CT case, in real Chromium against the live server.

A box dragged on the axial view is stored as voxel indices of the volume (one slice: z == z2),
is drawn on the overlay where it was dragged (pixels of the overlay canvas at the drag's own
screen positions), disappears when the view scrolls to other slices, comes back on its slice,
and is drawn again after a reload.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from reader_marks_support import (
    box_edges,
    drag,
    is_red,
    overlay_has,
    started_study,
    wait_marks_drawn,
    wait_stored,
)
from reader_study_support import login, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CT_SLICES, CT_ROWS, CT_COLS = 128, 128, 128  # the phantom's CT grid


@pytest.fixture(scope="session")
def spectct_phantom_files(tmp_path_factory):
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("marks-spectct")
    generate("spectct", 1, 7, root)
    return sorted(p for p in root.rglob("*.dcm") if not p.name.startswith("SEG"))


@pytest.fixture
def spectct_study(spectct_phantom_files, settings):
    from studies.models import Study
    from studies.services import instances_ingest

    settings.INFERENCE_AUTO_RUN = False
    for start in range(0, len(spectct_phantom_files), 25):
        batch = spectct_phantom_files[start : start + 25]
        results = instances_ingest(files=[(p.name, p.read_bytes()) for p in batch], source="import")
        assert all(r.ok for r in results), [r.as_dict() for r in results if not r.ok]
    studies = list(Study.objects.filter(kind="spectct"))
    assert len(studies) == 1
    return started_study(studies)


def wait_spectct_shown(page) -> None:
    expect(page.get_by_test_id("spectct-viewer")).to_have_attribute(
        "data-state", "ready", timeout=90_000
    )
    expect(page.get_by_test_id("viewport-axial")).to_have_attribute("data-rendered", "true")
    page.wait_for_timeout(500)


def test_box_on_a_spectct_slice_is_stored_in_voxels_and_drawn_on_its_slice_only(
    live_server, browser, spectct_study
):
    page = new_page(browser)
    login(page, live_server, "reader1", "/reading")
    page.get_by_test_id("next-case").click()
    reading_id = page.get_by_test_id("reading").get_attribute("data-reading-id")
    wait_spectct_shown(page)

    view = page.get_by_test_id("viewport-axial").bounding_box()
    assert view is not None
    cx, cy = view["x"] + view["width"] / 2, view["y"] + view["height"] / 2
    a, b = (cx - 30, cy - 20), (cx + 30, cy + 20)
    page.get_by_test_id("mark-metastatic").click()
    drag(page, a, b)
    reading = wait_stored(reading_id, lambda r: len(r.lesions) == 1)
    lesion = reading.lesions[0]
    assert lesion["shape"] == "box" and lesion["label"] == "metastatic", lesion
    loc = lesion["location"]
    assert loc["kind"] == "spectct", loc
    # One axial slice; inside the CT grid; as wide/high as dragged (square axial voxels).
    assert loc["z"] == loc["z2"], loc
    assert 0 <= loc["z"] < CT_SLICES and 0 <= loc["x"] < loc["x2"] < CT_COLS, loc
    assert 0 <= loc["y"] < loc["y2"] < CT_ROWS, loc
    ratio = (loc["x2"] - loc["x"]) / (loc["y2"] - loc["y"])
    assert abs(ratio - 60 / 40) < 0.1, loc

    # Drawn where it was dragged (overlay pixels at the drag's own screen positions).
    wait_marks_drawn(page, 1, "viewport-axial")
    for edge in box_edges(a, b):
        assert overlay_has(page, "viewport-axial", edge, is_red), edge
    assert not overlay_has(page, "viewport-axial", (cx, cy), is_red, radius=5)

    # Other slices do not show it; its own slice does again.
    page.mouse.move(cx, cy)
    for _ in range(8):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(80)
    wait_marks_drawn(page, 0, "viewport-axial")
    assert not any(overlay_has(page, "viewport-axial", e, is_red) for e in box_edges(a, b))
    for _ in range(8):
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(80)
    wait_marks_drawn(page, 1, "viewport-axial")
    for edge in box_edges(a, b):
        assert overlay_has(page, "viewport-axial", edge, is_red), edge

    # After a reload the saved box is drawn at the same place.
    page.reload()
    wait_spectct_shown(page)
    wait_marks_drawn(page, 1, "viewport-axial")
    for edge in box_edges(a, b):
        assert overlay_has(page, "viewport-axial", edge, is_red), edge
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()
