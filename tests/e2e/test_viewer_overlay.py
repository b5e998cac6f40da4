# ruff: noqa: F811  (the fixtures of test_viewer.py, imported by name, are test arguments here)
"""AI overlays in real Chromium, checked pixel by pixel (issue 14, imaging half).

The AI result is made by the real model through the same run the worker does
(``inference_job_run``), in this process, before the page opens; the viewer then reads it
through the real API. Each check compares screenshots of the viewport canvases with the
overlay on and off, per class and per view, and on every colour map the viewer offers.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.e2e.test_viewer import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    open_case,
    phantom_files,
    phantom_root,
    save,
    signed_in,
    studies,
    study_with_lesions,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLANES = ("axial", "coronal", "sagittal")


def rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32)


def distance(a: bytes | np.ndarray, b: bytes | np.ndarray) -> np.ndarray:
    """Per-pixel colour distance (Euclidean in RGB, 0..441)."""
    pa = a if isinstance(a, np.ndarray) else rgb(a)
    pb = b if isinstance(b, np.ndarray) else rgb(b)
    assert pa.shape == pb.shape
    return np.sqrt(((pa - pb) ** 2).sum(axis=2))


def changed(a, b, threshold: float = 30) -> int:
    return int((distance(a, b) > threshold).sum())


@pytest.fixture
def run_ai(monkeypatch):
    """Run the real model on a study now, in this process (the worker's own code path)."""
    from inference.runner import inference_job_run
    from inference.services import inference_job_create, models_register_shipped

    models_register_shipped()
    # No worker consumes this test's queue: the job is run right here instead.
    monkeypatch.setattr("inference.services._enqueue", lambda job: None)

    def run(study):
        job, _ = inference_job_create(study=study)
        assert inference_job_run(job_id=str(job.id)) == "succeeded"
        job.refresh_from_db()
        return job

    return run


def lesion_of(job, class_name: str):
    """The largest lesion of a class (a few-voxel one may miss a plane through its centroid)."""
    lesions = [les for les in job.lesions.all() if les.class_name == class_name]
    assert lesions, f"the model found no {class_name} lesion in this phantom case"
    return max(lesions, key=lambda les: les.volume_vox or les.area_px or 0)


def shots(page, views) -> dict[str, np.ndarray]:
    return {v: rgb(page.get_by_test_id(f"viewport-{v}").screenshot()) for v in views}


def settle(page, ms: int = 400) -> None:
    page.wait_for_timeout(ms)


def open_ai_case(page, live_server, study) -> None:
    open_case(page, live_server, study)
    expect(page.get_by_test_id("ai-model")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("lesion-item").first).to_be_visible()
    settle(page, 800)


def focus_lesion(page, lesion) -> None:
    page.locator(f"[data-testid=lesion-item][data-lesion-id='{lesion.number}']").click()
    settle(page, 800)


def press_shortcut(page, key: str) -> None:
    # Shortcuts act on the page, not on a focused checkbox.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)
    settle(page)


@pytest.mark.slow
def test_spectct_every_class_hides_and_shows_in_all_three_views(
    live_server, signed_in, studies, phantom_root, run_ai
):
    page = signed_in
    study = study_with_lesions(phantom_root, "spectct")
    job = run_ai(study)
    open_ai_case(page, live_server, study)
    other = {"benign": "metastatic", "metastatic": "benign"}
    for class_name in ("benign", "metastatic"):
        focus_lesion(page, lesion_of(job, class_name))
        on = shots(page, PLANES)
        page.get_by_test_id(f"overlay-class-{class_name}").uncheck()
        settle(page)
        class_off = shots(page, PLANES)
        page.get_by_test_id(f"overlay-class-{class_name}").check()
        page.get_by_test_id(f"overlay-class-{other[class_name]}").uncheck()
        settle(page)
        only_this = shots(page, PLANES)
        page.get_by_test_id(f"overlay-class-{other[class_name]}").check()
        page.get_by_test_id("overlay-visible").uncheck()
        settle(page)
        all_off = shots(page, PLANES)
        page.get_by_test_id("overlay-visible").check()
        press_shortcut(page, "o")
        key_off = shots(page, PLANES)
        press_shortcut(page, "o")
        key_on = shots(page, PLANES)
        for plane in PLANES:
            save(f"overlay_spectct_{class_name}_{plane}_on.png", _png(on[plane]))
            save(f"overlay_spectct_{class_name}_{plane}_class_off.png", _png(class_off[plane]))
            # the class's own pixels go when its box is unchecked ...
            assert changed(on[plane], class_off[plane]) > 10, (class_name, plane)
            # ... and only this class is left when the other one is unchecked
            assert changed(only_this[plane], all_off[plane]) > 10, (class_name, plane)
            # "show overlay" and the `o` key hide every class
            assert changed(on[plane], all_off[plane]) > 10, (class_name, plane)
            assert changed(key_off[plane], all_off[plane]) <= 3, (class_name, plane)
            assert changed(key_on[plane], on[plane]) <= 3, (class_name, plane)
    assert page.console_errors == []


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def contrast(on: np.ndarray, off: np.ndarray) -> tuple[int, float]:
    """How visible one class's overlay is: the pixels it changes, and the colour distance
    (25th percentile: most of the mask, not just its best part) between those pixels and
    what is under them without it."""
    d = distance(on, off)
    touched = d > 12
    return int(touched.sum()), float(np.percentile(d[touched], 25)) if touched.any() else 0.0


MIN_CONTRAST = 90  # RGB units: about a third of the way from black to white


@pytest.mark.slow
def test_spectct_overlay_colours_stand_out_on_every_colour_map(
    live_server, signed_in, studies, phantom_root, run_ai
):
    page = signed_in
    study = study_with_lesions(phantom_root, "spectct")
    job = run_ai(study)
    open_ai_case(page, live_server, study)
    # Outline by default on fused views: the uptake under a lesion stays visible.
    expect(page.get_by_test_id("overlay-outline")).to_be_checked()
    results = {}
    other = {"benign": "metastatic", "metastatic": "benign"}
    for class_name in ("benign", "metastatic"):
        focus_lesion(page, lesion_of(job, class_name))
        page.get_by_test_id(f"overlay-class-{other[class_name]}").uncheck()
        for mode in ("fused", "ct", "spect"):
            page.get_by_test_id(f"fusion-{mode}").click()
            for outline in (True, False):
                page.get_by_test_id("overlay-outline").set_checked(outline)
                settle(page)
                on = shots(page, ["axial"])["axial"]
                page.get_by_test_id(f"overlay-class-{class_name}").uncheck()
                settle(page)
                off = shots(page, ["axial"])["axial"]
                page.get_by_test_id(f"overlay-class-{class_name}").check()
                results[(class_name, mode, outline)] = contrast(on, off)
                if mode == "fused":
                    save(f"overlay_contrast_{class_name}_{mode}_{outline}.png", _png(on))
        page.get_by_test_id(f"overlay-class-{other[class_name]}").check()
        page.get_by_test_id("fusion-fused").click()
    (ARTIFACTS / "overlay_contrast_spectct.json").write_text(
        json.dumps({" ".join(map(str, k)): v for k, v in results.items()}, indent=1)
    )
    # The default on SPECT/CT, outline, stands out on every map. (Fill is there to be chosen;
    # over a lesion of a few voxels its blended edge is most of the mask: recorded, not judged.)
    low = {k: v for k, v in results.items() if k[2] and (v[0] < 10 or v[1] < MIN_CONTRAST)}
    assert not low, (low, results)
    assert page.console_errors == []


def spect_share(fused: np.ndarray, ct_only: np.ndarray, full: np.ndarray, mask) -> float:
    """Where the fused pixel lies between CT alone (0) and SPECT at full opacity (1)."""
    span = (full - ct_only)[mask].astype(np.float64)
    moved = (fused - ct_only)[mask].astype(np.float64)
    return float((moved * span).sum() / (span * span).sum())


@pytest.mark.slow
def test_spect_opacity_slider_is_perceptually_linear(live_server, signed_in, studies):
    page = signed_in
    open_case(page, live_server, studies["spectct"][0])
    settle(page, 800)
    views = ["axial", "sagittal"]
    page.get_by_test_id("fusion-ct").click()
    settle(page)
    ct_only = shots(page, views)
    page.get_by_test_id("fusion-fused").click()
    slider = page.get_by_test_id("spect-opacity")
    slider.fill("1")
    settle(page)
    full = shots(page, views)
    shares = {}
    for view in views:
        mask = distance(full[view], ct_only[view]) > 60  # where the SPECT shows at full opacity
        assert mask.sum() > 300, (view, mask.sum())
        for value in (0.2, 0.4, 0.6, 0.8):
            slider.fill(str(value))
            settle(page)
            fused = shots(page, [view])[view]
            shares[(view, value)] = spect_share(fused, ct_only[view], full[view], mask)
            if value == 0.6:
                save(f"overlay_spect_opacity_0.6_{view}.png", _png(fused))
    # Half the slider shows about half the SPECT: every step within 0.15 of its value,
    # and each step moves the picture (no dead range).
    assert all(abs(share - value) <= 0.15 for (_, value), share in shares.items()), shares
    for view in views:
        steps = [shares[(view, v)] for v in (0.2, 0.4, 0.6, 0.8)]
        assert all(b - a >= 0.08 for a, b in zip(steps, steps[1:], strict=False)), shares
    assert page.console_errors == []


def posterior_first_copy(path) -> bytes:
    """The planar NM file with its frames and detector view codes in the other order, as a
    camera that stores the posterior view first writes it; new UIDs, so both can be archived."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(path)
    frames = ds.pixel_array
    ds.PixelData = np.ascontiguousarray(frames[::-1]).tobytes()
    items = list(ds.DetectorInformationSequence)
    ds.DetectorInformationSequence = pydicom.Sequence(items[::-1])
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.AccessionNumber = "POSTFIRST"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.slow
def test_planar_posterior_first_file_shows_each_view_and_its_overlay_in_place(
    live_server, signed_in, phantom_root, run_ai, tmp_path
):
    from studies.models import Study
    from studies.services import instances_ingest

    page = signed_in
    import json

    manifest = json.loads((phantom_root / "planar" / "manifest.json").read_text("utf-8"))
    # the case with the most lesion pixels: its masks must be large enough on screen that a
    # misplaced one could not pass the comparison below
    case = max(manifest["cases"], key=lambda c: sum(les["area_px"] for les in c["lesions"]))
    nm = phantom_root / "planar" / case["dicom_dir"] / "NM_WB.dcm"
    results = instances_ingest(
        files=[("ant-first.dcm", nm.read_bytes()), ("post-first.dcm", posterior_first_copy(nm))],
        source="import",
    )
    assert all(r.ok for r in results), [r.as_dict() for r in results]
    original = Study.objects.exclude(accession_number="POSTFIRST").get()
    swapped = Study.objects.get(accession_number="POSTFIRST")
    # every lesion the network states (the shipped release without its lesion floor): the
    # floor leaves too few mask pixels in a view to tell a drawn mask from none
    _release_with(tmp_path, "every-lesion", lesion_floor=None)
    run_ai(original)
    run_ai(swapped)

    seen = {}
    for name, study in (("original", original), ("swapped", swapped)):
        open_ai_case(page, live_server, study)
        seen[name] = shots(page, ["anterior", "posterior"])
        page.get_by_test_id("overlay-visible").uncheck()
        settle(page)
        seen[f"{name}-plain"] = shots(page, ["anterior", "posterior"])
        for view in ("anterior", "posterior"):
            save(f"overlay_planar_{name}_{view}.png", _png(seen[name][view]))
    # The images: the anterior view of the posterior-first file is the anterior image.
    plain_o, plain_s = seen["original-plain"], seen["swapped-plain"]
    assert changed(plain_o["anterior"], plain_o["posterior"]) > 2000  # the views do differ
    assert changed(plain_s["anterior"], plain_o["anterior"]) < 50
    assert changed(plain_s["posterior"], plain_o["posterior"]) < 50
    # The overlays: each view's mask on its own image, as for the anterior-first file.
    for view in ("anterior", "posterior"):
        assert changed(seen["original"][view], plain_o[view]) > 20, view  # a mask is drawn
        # (39 pixels drawn per view by the shipped model, 0 differ: a shifted mask fails)
        assert changed(seen["swapped"][view], seen["original"][view]) < 10, view
    assert page.console_errors == []


def test_planar_without_invert_has_no_white_bars(live_server, signed_in, studies):
    page = signed_in
    open_case(page, live_server, studies["planar"][0])
    page.get_by_test_id("invert").click()
    expect(page.get_by_test_id("invert")).to_have_attribute("aria-pressed", "false")
    settle(page)
    image = shots(page, ["anterior"])["anterior"]
    save("viewer_planar_not_inverted.png", _png(image))
    # The narrow whole-body image is centred in a wide view: the margins left and right
    # are background, which must be the black of zero counts, not white bars.
    margin = max(4, image.shape[1] // 20)
    edges = np.concatenate([image[:, :margin], image[:, -margin:]], axis=1)
    assert edges.mean() < 20, edges.mean()
    page.get_by_test_id("invert").click()
    settle(page)
    inverted = shots(page, ["anterior"])["anterior"]
    edges = np.concatenate([inverted[:, :margin], inverted[:, -margin:]], axis=1)
    assert edges.mean() > 235, edges.mean()
    assert page.console_errors == []


def test_spectct_shows_the_ct_while_the_spect_is_still_loading(live_server, signed_in, studies):
    from studies.models import Instance

    page = signed_in
    study = studies["spectct"][0]
    spect_uid = Instance.objects.get(series__study=study, series__modality="NM").sop_instance_uid
    held = []
    page.route(lambda url: spect_uid in url, lambda route: held.append(route))
    page.goto(f"{live_server.url}/cases/{study.id}")
    axial = page.get_by_test_id("viewport-axial")
    expect(axial).to_have_attribute("data-rendered", "true", timeout=30_000)
    settle(page, 500)
    assert held, "the SPECT file was not requested"
    ct = shots(page, ["axial"])["axial"]
    save("viewer_spectct_ct_first.png", _png(ct))
    grey = (np.abs(ct[..., 0] - ct[..., 1]) < 12) & (ct[..., 0] > 60) & (ct[..., 0] < 230)
    assert grey.sum() > 2000, grey.sum()  # the CT anatomy, before any SPECT arrived
    for route in held:
        route.continue_()
    expect(axial).to_have_attribute("data-fused", "true", timeout=30_000)
    expect(page.get_by_test_id("spectct-viewer")).to_have_attribute("data-state", "ready")
    assert page.console_errors == []


@pytest.mark.parametrize(("kind", "wheel"), [("planar", "滚轮：缩放"), ("spectct", "滚轮：翻层")])
def test_shortcut_help_says_what_the_wheel_does(live_server, signed_in, studies, kind, wheel):
    page = signed_in
    open_case(page, live_server, studies[kind][0])
    page.get_by_role("button", name="快捷键").click()
    expect(page.get_by_role("dialog")).to_contain_text(wheel)


def highdicom_seg(ct_files, mask: np.ndarray) -> bytes:
    """A SEG over the CT slices as another tool (highdicom) writes it: one segment,
    "Neoplasm, metastatic", no BoneRead AI job behind it."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    sources = [pydicom.dcmread(p) for p in ct_files]
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="met",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=hd.sr.CodedConcept("14799000", "SCT", "Neoplasm, metastatic"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=hd.UID(),
        series_number=77,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="Other tool",
        manufacturer_model_name="Slicer-like",
        software_versions="1.0",
        device_serial_number="42",
    )
    seg.SeriesDescription = "Manual contour"
    buffer = io.BytesIO()
    seg.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_viewer_draws_another_tools_seg_from_the_archive(
    live_server, signed_in, studies, phantom_root
):
    import pydicom

    from studies.services import instances_ingest

    page = signed_in
    study = studies["spectct"][0]
    ct_files = []
    for path in sorted(phantom_root.joinpath("spectct").rglob("CT*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if ds.StudyInstanceUID == study.study_instance_uid:
            ct_files.append((float(ds.ImagePositionPatient[2]), path))
    ct_files = [p for _, p in sorted(ct_files)]
    assert len(ct_files) > 20
    first = pydicom.dcmread(ct_files[0], stop_before_pixels=True)
    mask = np.zeros((len(ct_files), first.Rows, first.Columns), np.uint8)
    # A block through the middle of the volume: every view opens on it.
    k, r, c = (n // 2 for n in mask.shape)
    mask[k - 4 : k + 5, r - 10 : r + 11, c - 10 : c + 11] = 1
    result = instances_ingest(files=[("seg.dcm", highdicom_seg(ct_files, mask))], source="import")
    assert all(r.ok for r in result), [r.as_dict() for r in result]

    open_case(page, live_server, study)
    expect(page.get_by_test_id("seg-source")).to_contain_text("Manual contour")
    settle(page, 1000)
    on = shots(page, PLANES)
    page.get_by_test_id("overlay-class-metastatic").uncheck()  # its segment is metastatic
    settle(page)
    off = shots(page, PLANES)
    for plane in PLANES:
        save(f"overlay_other_tool_seg_{plane}.png", _png(on[plane]))
        assert changed(on[plane], off[plane]) > 30, plane
    assert page.console_errors == []


@pytest.mark.slow
def test_spectct_lesion_list_has_regions_volumes_order_and_honest_probabilities(
    live_server, signed_in, studies, phantom_root, run_ai
):
    page = signed_in
    study = study_with_lesions(phantom_root, "spectct")
    job = run_ai(study)
    open_ai_case(page, live_server, study)
    items = page.get_by_test_id("lesion-item")
    rows = [
        {
            "class": items.nth(i).locator(".lesion-class").inner_text(),
            "text": items.nth(i).inner_text(),
            "region": items.nth(i).locator(".lesion-region").inner_text().strip(),
        }
        for i in range(items.count())
    ]
    save("overlay_spectct_lesion_list.png", page.get_by_test_id("ai-panel").screenshot())
    assert len(rows) == job.lesions.count()
    assert all(row["region"] for row in rows), rows  # every lesion says where it is
    assert not any("0.0 ml" in row["text"] for row in rows), rows
    assert not any("100%" in row["text"] for row in rows), rows
    classes = [row["class"] for row in rows]
    assert classes == sorted(classes, key=lambda name: name != "转移"), classes
    assert page.console_errors == []


@pytest.mark.slow
def test_planar_overlay_colours_stand_out_on_both_grey_scales(
    live_server, signed_in, studies, phantom_root, run_ai
):
    page = signed_in
    study = study_with_lesions(phantom_root, "planar")
    job = run_ai(study)
    open_ai_case(page, live_server, study)
    results = {}
    other = {"benign": "metastatic", "metastatic": "benign"}
    classes = [c for c in other if job.lesions.filter(class_name=c).exists()]
    assert classes
    for class_name in classes:
        focus_lesion(page, lesion_of(job, class_name))
        page.get_by_test_id(f"overlay-class-{other[class_name]}").uncheck()
        for inverted in (True, False):
            if (page.get_by_test_id("invert").get_attribute("aria-pressed") == "true") != inverted:
                page.get_by_test_id("invert").click()
            for outline in (True, False):
                page.get_by_test_id("overlay-outline").set_checked(outline)
                settle(page)
                on = shots(page, ["anterior"])["anterior"]
                page.get_by_test_id(f"overlay-class-{class_name}").uncheck()
                settle(page)
                off = shots(page, ["anterior"])["anterior"]
                page.get_by_test_id(f"overlay-class-{class_name}").check()
                results[(class_name, inverted, outline)] = contrast(on, off)
        page.get_by_test_id(f"overlay-class-{other[class_name]}").check()
    low = {k: v for k, v in results.items() if v[0] < 10 or v[1] < MIN_CONTRAST}
    assert not low, (low, results)
    assert page.console_errors == []


def _release_with(tmp_path, name: str, kind: str = "planar", **postprocess):
    """A copy of the shipped release of ``kind`` with extra post-processing, registered and
    active."""
    import shutil

    from django.conf import settings

    from inference.services import model_version_register

    path = tmp_path / name
    shutil.copytree(Path(settings.MODEL_DIR) / kind, path)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    config["postprocess"].update(postprocess)
    (path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    version, _ = model_version_register(path=path, activate=True)
    return version


#: the ring round a finding without an outline (frontend focusMarker.ts MARKER_COLOR, cyan)
RING_JS = """root => [...root.querySelectorAll("canvas.labelmap-overlay")].map(c => {
  const out = {width: c.width, height: c.height, marker: c.dataset.marker || null, xs: [], ys: []};
  if (!c.width || !c.height) return out;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 128 && d[i] < 80 && d[i + 1] > 120 && d[i + 2] > 200) {
      out.xs.push((i / 4) % c.width); out.ys.push(Math.floor(i / 4 / c.width));
    }
  }
  return out;
})"""


def ring(page, view: str) -> dict | None:
    """The cyan ring drawn over ``view`` (None when there is none): its pixels' centre and
    their distances from it, the canvas size, and the marker the canvas says it drew."""
    for canvas in page.get_by_test_id(f"viewport-{view}").evaluate(RING_JS):
        if len(canvas["xs"]) < 30:
            continue
        xs, ys = np.array(canvas["xs"], float), np.array(canvas["ys"], float)
        cx, cy = xs.mean(), ys.mean()
        radii = np.hypot(xs - cx, ys - cy)
        return {"centre": (cx, cy), "radius": radii.mean(), "spread": radii.std() / radii.mean(),
                "size": (canvas["width"], canvas["height"]), "marker": canvas["marker"]}  # fmt: skip
    return None


def assert_ring_round_the_centre(found: dict | None) -> None:
    """A ring (its pixels at one distance from their centre) centred in the view, where the
    viewer has just moved the finding."""
    assert found is not None, "no ring drawn"
    width, height = found["size"]
    offset = (found["centre"][0] - width / 2, found["centre"][1] - height / 2)
    assert max(abs(offset[0]), abs(offset[1])) < 4, found
    assert found["spread"] < 0.1 and found["radius"] > 5, found


def listed_probabilities(page) -> list[float]:
    """The lesion list's probabilities as the panel prints them (percent -> 0..1)."""
    texts = page.locator("[data-testid=lesion-item] .lesion-probability").all_inner_texts()
    return [float(re.search(r"(\d+(?:\.\d+)?)\s*%", t).group(1)) / 100 for t in texts]


def expect_count_line(page, testid: str, count: int | None) -> None:
    """The panel's line of ``testid`` says ``count`` (as a whole number); none when 0 or None."""
    line = page.get_by_test_id(testid)
    if not count:
        expect(line).to_have_count(0)
    else:
        expect(line).to_have_text(re.compile(rf"(^|\D){count}(\D|$)"))


@pytest.mark.slow
def test_planar_panel_says_what_the_floor_and_the_report_site_gate_left_out(
    live_server, signed_in, studies, phantom_root, run_ai, tmp_path
):
    """The panel lists exactly the job's lesions and says, with the job's own counts, how many
    the release's lesion-probability floor and report-site gate left out, and shows those on
    request, each with its reason; with neither (the shipped release with its floor taken off)
    it says nothing of them."""
    from boneread_ml.predict import load_model, predict
    from inference.imaging import read_model_input
    from reports.services import report_save

    page = signed_in
    study = study_with_lesions(phantom_root, "planar")
    _release_with(tmp_path, "plain", lesion_floor=None, site_gate=None)
    shipped = run_ai(study)
    assert shipped.summary["suppressed_below_floor"] is None
    open_case(page, live_server, study)
    expect(page.get_by_test_id("lesion-item")).to_have_count(shipped.lesions.count())
    expect_count_line(page, "ai-below-floor", None)
    expect_count_line(page, "ai-suppressed", None)
    expect(page.get_by_test_id("ai-held-back-toggle")).to_have_count(0)

    # A floor between the two least likely lesions the shipped release states: it removes the
    # least likely one(s) and keeps the rest.
    probabilities = sorted(shipped.lesions.values_list("probability", flat=True))
    assert len(probabilities) >= 2, "the phantom case needs two lesions; pick another case"
    floor = (probabilities[0] + probabilities[1]) / 2
    _release_with(tmp_path, "floor", lesion_floor={"min_probability": floor})
    floored = run_ai(study)
    removed = sum(p < floor for p in probabilities)
    assert floored.summary["suppressed_below_floor"] == removed > 0
    page.reload()
    expect(page.get_by_test_id("lesion-item")).to_have_count(floored.lesions.count())
    assert floored.lesions.count() == len(probabilities) - removed
    expect_count_line(page, "ai-below-floor", removed)
    expect_count_line(page, "ai-suppressed", None)
    assert min(listed_probabilities(page)) >= round(floor * 100) / 100 - 0.01

    # What the floor left out is shown on request (before, only counted): the held-back
    # findings, each with its reason, and selecting one goes to it on the image.
    expect(page.get_by_test_id("held-back-list")).to_have_count(0)
    page.get_by_test_id("ai-held-back-toggle").click()
    held = page.get_by_test_id("held-back-item")
    expect(held).to_have_count(removed)
    # (the interface's default language: 低于概率下限, "below the floor")
    expect(page.get_by_test_id("held-back-reason")).to_have_text(["低于概率下限"] * removed)
    held_ids = [int(x) for x in held.evaluate_all("els => els.map(e => e.dataset.lesionId)")]
    kept = floored.lesions.count()
    assert sorted(held_ids) == list(range(kept + 1, kept + removed + 1))
    least = probabilities[0]
    shown = page.locator("[data-testid=held-back-item] .lesion-probability").all_inner_texts()
    assert any(abs(float(re.sub(r"[^\d.]", "", t)) / 100 - least) <= 0.01 for t in shown), shown
    settle(page, 800)
    before = shots(page, ["anterior"])["anterior"]
    assert ring(page, "anterior") is None
    held.first.click()
    settle(page, 800)
    assert changed(before, shots(page, ["anterior"])["anterior"]) > 500  # the view went to it
    # It has no outline (not in the label map), so a ring goes round it: centred where the view
    # moved, round this finding's own position and box (before, nothing marked it).
    first = int(held.first.get_attribute("data-lesion-id"))
    finding = next(x for x in floored.summary["held_back"] if x["number"] == first)
    row, col = finding["locations"]["anterior"]["centroid"]
    (r0, c0, r1, c1) = finding["bbox"]
    drawn = ring(page, "anterior")
    assert_ring_round_the_centre(drawn)
    marker = [float(v) for v in drawn["marker"].split(",")]
    assert marker[:2] == pytest.approx([row, col])
    assert marker[2] == pytest.approx(max(6, np.hypot(r1 - r0, c1 - c0) / 2 + 3))
    # a listed lesion has its outline: selecting one takes the ring away
    page.get_by_test_id("lesion-item").first.click()
    settle(page, 800)
    assert ring(page, "anterior") is None
    held.first.click()
    settle(page, 800)
    assert ring(page, "anterior") is not None
    # and hiding the held-back list does too
    page.get_by_test_id("ai-held-back-toggle").click()
    expect(page.get_by_test_id("held-back-list")).to_have_count(0)
    settle(page, 400)
    assert ring(page, "anterior") is None
    # a ring belongs to the result it came from: showing another result takes it away (before,
    # it stayed over the other result's image where the held-back finding had been)
    page.get_by_test_id("ai-held-back-toggle").click()
    held.first.click()
    settle(page, 800)
    assert ring(page, "anterior") is not None
    page.get_by_test_id("ai-result-picker").select_option(str(shipped.id))
    expect(page.get_by_test_id("lesion-item")).to_have_count(shipped.lesions.count())
    settle(page, 800)
    assert ring(page, "anterior") is None

    # A report that names only a rib the lesions are not on: the gate leaves them out, and the
    # panel says there are none listed and how many the gate removed.
    gate = _release_with(tmp_path, "gate", site_gate={"min_probability": 0.99, "min_cover": 0.5})
    from django.contrib.auth import get_user_model

    from reports.models import Report

    report = Report.objects.filter(study=study).first()
    report_save(
        study=study, user=get_user_model().objects.get(username="wang"),
        history="肺癌术后7年，复查。",
        findings="右侧第5肋骨可见点状示踪剂异常浓聚影，考虑骨质增生。余骨未见明显异常放射性浓聚灶。",
        impression="良性病变。", base_version=report.version if report else None,
    )  # fmt: skip
    model_input = read_model_input(study)
    text = Report.objects.get(study=study).versions.order_by("-number").first().text
    expected = predict(model_input.images, text, load_model(gate.path))
    gated = expected.meta["suppressed_outside_report"]
    assert gated > 0, "the gate removed nothing on this case; name another site"
    job = run_ai(study)
    assert job.summary["suppressed_outside_report"] == gated
    page.reload()
    expect(page.get_by_test_id("lesion-item")).to_have_count(job.lesions.count())
    expect_count_line(page, "ai-suppressed", gated)
    expect_count_line(page, "ai-below-floor", None)
    page.get_by_test_id("ai-held-back-toggle").click()
    expect(page.get_by_test_id("held-back-reason")).to_have_text(["位于报告未提及部位"] * gated)
    assert page.console_errors == []


@pytest.mark.slow
def test_spectct_held_back_finding_is_ringed_on_the_slices_that_cross_it(
    live_server, signed_in, studies, phantom_root, run_ai, tmp_path
):
    """A finding the floor held back has no outline in the SEG: selecting it centres the three
    views on it and rings it there; the ring shrinks on the neighbouring axial slices, is gone
    past the finding and back on it, and selecting a listed lesion or showing another result
    takes it away."""
    page = signed_in
    study = study_with_lesions(phantom_root, "spectct")
    shipped = run_ai(study)
    probabilities = sorted(shipped.lesions.values_list("probability", flat=True))
    assert len(probabilities) >= 2, "the phantom case needs two lesions; pick another case"
    floor = (probabilities[0] + probabilities[1]) / 2
    _release_with(tmp_path, "floor", "spectct", lesion_floor={"min_probability": floor})
    job = run_ai(study)
    assert job.summary["held_back"], job.summary
    open_ai_case(page, live_server, study)
    for plane in PLANES:
        assert ring(page, plane) is None
    page.get_by_test_id("ai-held-back-toggle").click()
    held = page.get_by_test_id("held-back-item").first
    number = int(held.get_attribute("data-lesion-id"))
    finding = next(x for x in job.summary["held_back"] if x["number"] == number)
    held.click()
    settle(page, 800)
    for plane in PLANES:
        assert_ring_round_the_centre(ring(page, plane))
    # its sphere: half the box's diagonal in mm (CT voxels 3.0 x 3.9 x 3.9 mm) plus 4 mm
    z0, y0, x0, z1, y1, x1 = finding["bbox"]
    extents_mm = (3.0 * (z1 - z0), 3.9 * (y1 - y0), 3.9 * (x1 - x0))
    sphere = max(8.0, float(np.linalg.norm(extents_mm)) / 2 + 4)
    on_it = ring(page, "axial")["radius"]
    box = page.get_by_test_id("viewport-axial").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def scroll(steps: int, direction: int) -> None:
        for _ in range(steps):
            page.mouse.wheel(0, 120 * direction)
            page.wait_for_timeout(60)
        settle(page, 300)

    # one slice (3 mm) off: still crossed, a smaller circle
    scroll(1, 1)
    beside = ring(page, "axial")
    assert beside is not None and beside["radius"] < on_it, (beside, on_it)
    # past the sphere (the wheel moves a slice at a time; this finding lies far enough from the
    # volume's end): gone; back on its slice: the whole circle again
    beyond = int(sphere // 3.0) + 2
    scroll(beyond - 1, 1)
    assert ring(page, "axial") is None, sphere
    scroll(beyond, -1)
    back = ring(page, "axial")
    assert back is not None and abs(back["radius"] - on_it) < 1.5, (back, on_it)
    page.get_by_test_id("lesion-item").first.click()
    settle(page, 800)
    assert all(ring(page, plane) is None for plane in PLANES)
    # showing another result (here the shipped release's) takes the ring away too
    held.click()
    settle(page, 800)
    assert ring(page, "axial") is not None
    page.get_by_test_id("ai-result-picker").select_option(str(shipped.id))
    expect(page.get_by_test_id("lesion-item")).to_have_count(shipped.lesions.count())
    settle(page, 800)
    assert all(ring(page, plane) is None for plane in PLANES)
    assert page.console_errors == []
