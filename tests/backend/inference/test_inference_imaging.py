"""Archive DICOM -> model input, checked against the phantom generator's own arrays, and the
SPECT/CT SEG (over the CT slices) read back with highdicom."""

from __future__ import annotations

import json

import highdicom as hd
import numpy as np
import pytest

from inference.imaging import ImagingError, read_model_input
from inference.results import seg_build
from studies.models import IngestSource, Study
from studies.selectors import instance_file_open
from studies.services import instance_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def phantom_spectct(tmp_path_factory):
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("phantom-spectct")
    generate("spectct", 1, 5, str(root))
    case = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["cases"][0]
    return root, case


def test_planar_input_is_anterior_and_mirrored_posterior(ingest_case, phantom_planar):
    study = ingest_case(0, with_report=False)
    model_input = read_model_input(study)
    case = phantom_planar["cases"][0]
    expected = np.load(phantom_planar["root"] / case["arrays"])["image"]
    assert model_input.task == "planar" and model_input.images.shape == (2, 1024, 256)
    # stored as rounded uint16 counts
    np.testing.assert_allclose(model_input.images, np.clip(np.round(expected), 0, 65535))
    assert [f["view"] for f in model_input.frames] == ["anterior", "posterior"]
    assert model_input.spacing_mm == pytest.approx((2.4, 2.4), rel=1e-5)


def test_spectct_input_resamples_spect_onto_the_ct_grid_and_seg_reads_back(phantom_spectct):
    root, case = phantom_spectct
    for path in sorted((root / case["dicom_dir"]).glob("*.dcm")):
        if not path.name.startswith("SEG"):
            assert instance_ingest(file=path.read_bytes(), source=IngestSource.DEMO).ok
    study = Study.objects.get(study_instance_uid=case["study"]["study_instance_uid"])
    assert study.kind == "spectct"
    arrays = np.load(root / case["arrays"])
    expected, label = arrays["image"], arrays["label"]

    model_input = read_model_input(study)
    assert model_input.task == "spectct" and model_input.images.shape == expected.shape
    ct, spect = model_input.images[1], model_input.images[0]
    assert np.abs(ct - np.clip(np.round(expected[1]), -1024, 3071)).max() <= 1.0
    # The generator resampled with its own code; ours goes through the DICOM geometry.
    want = expected[0]
    correlation = np.corrcoef(spect.ravel(), want.ravel())[0, 1]
    assert correlation > 0.97, correlation
    assert abs(spect.sum() / want.sum() - 1) < 0.05
    np.testing.assert_allclose(model_input.spacing_mm, arrays["spacing_mm"], rtol=1e-4)

    (data,) = seg_build(
        job_id="00000000-0000-4000-8000-000000000001",
        model_input=model_input,
        frames=label.astype(np.uint8),
        model_name="mt_unet",
        model_version="test",
    )
    result = instance_ingest(file=data, source=IngestSource.AI)
    assert result.ok, result.reason
    seg = hd.seg.segread(instance_file_open(result.instance))
    uids = [f["sop_instance_uid"] for f in model_input.frames]
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=uids, combine_segments=True, skip_overlap_checks=True
    )
    np.testing.assert_array_equal(pixels, label)


def test_a_study_without_readable_images_is_a_clear_error(make_empty_study):
    with pytest.raises(ImagingError, match="no whole-body planar or SPECT/CT"):
        read_model_input(make_empty_study())


def test_the_segs_series_description_fits_its_64_characters_and_keeps_the_view():
    """A long model name and version (a post-processing variant's suffix) must not make an
    invalid SeriesDescription (VR LO, at most 64 characters) nor cut off the view."""
    from inference.results import _series_description

    short = _series_description("mt_unet_planar", "2df6814f24d4", ", anterior view")
    assert short == "AI lesions (mt_unet_planar 2df6814f24d4), anterior view"
    long = _series_description(
        "planar_context_128_crops", "2df6814f24d4-post-1a2b3c4d", ", posterior view"
    )
    assert (
        len(long) <= 64
        and long.endswith("), posterior view")
        and long.startswith("AI lesions (planar")
    )
