"""Shared pieces of the browser tests of the reader's marks and the admin's answer correction
(test_reader_marks.py, test_answer_correction.py).

The cases are planar whole-body scans whose anterior frame is blank except for two small hot
squares at known pixels (MARKER_A, MARKER_B): the tests find them on screen in a screenshot, so
where the image really is on the page is measured, not computed with the app's own transform.
The DICOM objects are the phantom's (real NM whole-body tags, real ingest), with new UIDs and
these pixels.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from reader_study_support import PASSWORD, make_user  # noqa: F401

from accounts.models import Role

ROWS, COLS = 1024, 256
# (row, col) of the centre pixel of each 5 x 5 hot square, in the anterior frame.
MARKER_A = (440, 90)
MARKER_B = (580, 170)
HALF = 2


def marker_frames() -> np.ndarray:
    frames = np.zeros((2, ROWS, COLS), dtype="<u2")
    for row, col in (MARKER_A, MARKER_B):
        frames[0, row - HALF : row + HALF + 1, col - HALF : col + HALF + 1] = 1000
    # The posterior frame needs counts of its own (it is shown beside the anterior one).
    frames[1, 500 - HALF : 500 + HALF + 1, 128 - HALF : 128 + HALF + 1] = 1000
    return frames


def marker_dicoms(phantom_root, count: int) -> list[bytes]:
    import pydicom
    from pydicom.uid import generate_uid

    source = sorted(phantom_root.rglob("NM_WB.dcm"))[0]
    out = []
    for index in range(count):
        ds = pydicom.dcmread(source)
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.AccessionNumber = f"MARKS{index + 1}"
        ds.PixelData = marker_frames().tobytes()
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        out.append(buffer.getvalue())
    return out


@pytest.fixture
def marks_study(rs_phantom_root, settings):
    """A started crossover study of two marker cases, one reader (session 1 unaided), its admin.

    The frozen AI of the (unread here) aided session is a succeeded job row made in the
    database: what the model outputs is not what these tests are about, and the unaided session
    never shows it.
    """
    from studies.models import Study
    from studies.services import instances_ingest

    settings.INFERENCE_AUTO_RUN = False
    blobs = marker_dicoms(rs_phantom_root, 2)
    results = instances_ingest(
        files=[(f"marks{i}.dcm", b) for i, b in enumerate(blobs)], source="import"
    )
    assert all(r.ok for r in results), [r.as_dict() for r in results if not r.ok]
    studies = list(Study.objects.filter(accession_number__startswith="MARKS").order_by("id"))
    assert len(studies) == 2 and {s.kind for s in studies} == {"planar"}
    return started_study(studies)


def started_study(studies) -> dict:
    """A started crossover study of `studies`, one reader (session 1 unaided) and its admin."""
    from django.utils import timezone

    from inference.models import InferenceJob, JobState, ModelVersion
    from readerstudies.models import ReaderStudyCase
    from readerstudies.services.ai import reader_study_ai_freeze
    from readerstudies.services.design import (
        case_truth_set,
        reader_study_cases_add,
        reader_study_create,
        reader_study_reader_add,
        reader_study_start,
    )

    admin = make_user("sadmin", Role.STUDY_ADMIN)
    reader = make_user("reader1", Role.READER)
    reader_study = reader_study_create(
        user=admin, title="Marks", design="crossover", washout_days=0, seed=7
    )
    reader_study_cases_add(reader_study=reader_study, user=admin, study_ids=[s.id for s in studies])
    model = ModelVersion.objects.create(
        name="mt_unet",
        task=studies[0].kind,
        version="marks",
        path=studies[0].kind,
        checksum="c" * 64,
    )
    for case in ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study"):
        case_truth_set(case=case, user=admin, metastasis_present=True)
        case.ai_job = InferenceJob.objects.create(
            study=case.study,
            model_version=model,
            state=JobState.SUCCEEDED,
            progress=1.0,
            trigger="reader_study",
            conditioning_text="",
            finished_at=timezone.now(),
        )
        case.save()
    reader_study_ai_freeze(reader_study=reader_study, user=admin)
    reader_study_reader_add(reader_study=reader_study, user=admin, reader=reader)
    reader_study_start(reader_study=reader_study, user=admin)
    return {"reader_study": reader_study, "admin": admin, "reader": reader, "studies": studies}


# --- What the screen shows -------------------------------------------------------------------


def view_pixels(page, testid: str = "viewport-anterior") -> tuple[np.ndarray, dict]:
    """The viewport as the user sees it (a screenshot, RGB) and its box on the page."""
    box = page.get_by_test_id(testid).bounding_box()
    assert box is not None
    png = page.screenshot(clip=box)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int), box


def find_markers(page) -> dict:
    """The two hot squares on screen (dark on the inverted grey scale): their centres in page
    coordinates, and the screen pixels per image pixel measured between them."""
    from scipy import ndimage

    img, box = view_pixels(page)
    dark = img.max(axis=2) < 100  # grey and dark: not the red or blue of a mark
    labels, count = ndimage.label(dark)
    spots = []
    for k in range(1, count + 1):
        ys, xs = np.nonzero(labels == k)
        weight = 255.0 - img[ys, xs].mean(axis=1)
        spots.append(
            (
                len(ys),
                float((xs * weight).sum() / weight.sum()),
                float((ys * weight).sum() / weight.sum()),
            )
        )
    spots = sorted(spots, reverse=True)[:2]
    assert len(spots) == 2, f"expected two markers on screen, found {count} dark spots"
    (_, ax, ay), (_, bx, by) = sorted(spots, key=lambda s: s[2])
    a = (box["x"] + ax + 0.5, box["y"] + ay + 0.5)
    b = (box["x"] + bx + 0.5, box["y"] + by + 0.5)
    scale = (b[1] - a[1]) / (MARKER_B[0] - MARKER_A[0])
    scale_x = (b[0] - a[0]) / (MARKER_B[1] - MARKER_A[1])
    assert abs(scale - scale_x) < 0.05 * scale, (scale, scale_x)
    return {"a": a, "b": b, "scale": scale, "box": box}


def is_red(px) -> bool:
    r, g, b = px
    return r > 150 and g < 120 and b < 120


def is_blue(px) -> bool:
    r, g, b = px
    return b > 150 and r < 110 and g < 190 and b - r > 80


def colour_near(img: np.ndarray, box: dict, point, test, radius: int = 3) -> bool:
    """Whether a pixel passing `test` lies within `radius` screen pixels of a page point."""
    x = int(point[0] - box["x"])
    y = int(point[1] - box["y"])
    window = img[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
    return any(test(px) for row in window for px in row)


def count_colour(img: np.ndarray, test) -> int:
    return sum(1 for row in img for px in row if test(px))


def box_edges(a, b) -> list[tuple[float, float]]:
    """Midpoints of the four edges of the rectangle with corners a and b (page coordinates)."""
    (x1, y1), (x2, y2) = a, b
    return [((x1 + x2) / 2, y1), ((x1 + x2) / 2, y2), (x1, (y1 + y2) / 2), (x2, (y1 + y2) / 2)]


def wait_marks_drawn(page, count: int, testid: str = "viewport-anterior") -> None:
    page.wait_for_function(
        """([id, n]) => {
             const c = document.querySelector(`[data-testid='${id}'] > canvas.mark-overlay`);
             return c !== null && c.dataset.marks === String(n);
           }""",
        arg=[testid, count],
    )


def drag(page, start, end) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def wait_stored(reading_id: str, predicate, timeout: float = 15.0):
    """The reading as stored once `predicate(reading)` holds (autosave is asynchronous)."""
    from readerstudies.models import CaseReading

    deadline = time.monotonic() + timeout
    while True:
        reading = CaseReading.objects.get(id=reading_id)
        if predicate(reading):
            return reading
        if time.monotonic() > deadline:
            raise AssertionError(f"stored answer never matched: {reading.answer_dict()}")
        time.sleep(0.2)


def open_first_case(page, live_server) -> str:
    from reader_study_support import login

    login(page, live_server, "reader1", "/reading")
    page.get_by_test_id("next-case").click()
    expect(page.get_by_test_id("reading")).to_have_attribute("data-arm", "unaided")
    return wait_case_shown(page)


def wait_case_shown(page) -> str:
    expect(page.get_by_test_id("planar-viewer")).to_have_attribute(
        "data-state", "ready", timeout=60_000
    )
    expect(page.get_by_test_id("viewport-anterior")).to_have_attribute("data-rendered", "true")
    page.wait_for_timeout(300)
    reading_id = page.get_by_test_id("reading").get_attribute("data-reading-id")
    assert reading_id
    return reading_id


def overlay_pixels(page, testid: str, point, radius: int = 3) -> list[list[int]]:
    """RGBA pixels of the mark overlay canvas of viewport `testid` around a page point."""
    return page.evaluate(
        """([id, x, y, r]) => {
             const el = document.querySelector(`[data-testid='${id}']`);
             const c = el.querySelector(':scope > canvas.mark-overlay');
             const rect = el.getBoundingClientRect();
             const dpr = c.width / rect.width;
             const cx = Math.round((x - rect.left) * dpr), cy = Math.round((y - rect.top) * dpr);
             const d = c.getContext('2d').getImageData(cx - r, cy - r, 2 * r + 1, 2 * r + 1).data;
             const out = [];
             for (let i = 0; i < d.length; i += 4) out.push([d[i], d[i + 1], d[i + 2], d[i + 3]]);
             return out;
           }""",
        [testid, point[0], point[1], radius],
    )


def overlay_has(page, testid: str, point, test, radius: int = 3) -> bool:
    return any(px[3] > 128 and test(px[:3]) for px in overlay_pixels(page, testid, point, radius))
