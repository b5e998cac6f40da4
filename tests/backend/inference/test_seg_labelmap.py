"""The viewer's label map from the DICOM SEG series in the archive (any tool's), and SEG objects
left out of the worklist's image count and modalities."""

from __future__ import annotations

import base64
import gzip

import numpy as np
import pytest

from studies.models import Study
from studies.services import instance_ingest

pytestmark = pytest.mark.django_db


def decode(body: dict) -> np.ndarray:
    raw = gzip.decompress(base64.b64decode(body["data"]))
    return np.frombuffer(raw, np.uint8).reshape(body["shape"])


@pytest.fixture
def planar_with_ground_truth(phantom_planar):
    """A planar case archived with the two SEG objects the phantom wrote (highdicom, another
    tool than the AI); returns (study, anterior label map)."""
    case = next(c for c in phantom_planar["cases"] if c["lesions"])
    folder = phantom_planar["root"] / case["dicom_dir"]
    for name in ("NM_WB.dcm", "SEG_ANT.dcm", "SEG_POST.dcm"):
        result = instance_ingest(file=(folder / name).read_bytes(), source="import")
        assert result.ok, result.reason
    label = np.load(phantom_planar["root"] / case["arrays"])["label"]
    return Study.objects.get(study_instance_uid=case["study"]["study_instance_uid"]), label


def test_seg_objects_are_not_images_in_the_worklist(api, planar_with_ground_truth):
    row = api.get("/api/studies/").json()["results"][0]
    assert row["number_of_instances"] == 1  # the NM image, not its two SEG objects
    assert row["modalities"] == ["NM"]


def test_another_tools_planar_seg_is_the_viewers_label_map(api, planar_with_ground_truth):
    study, label = planar_with_ground_truth
    listing = api.get(f"/api/studies/{study.id}/segmentations/").json()["segmentations"]
    assert [s["source"] for s in listing] == ["archive"]
    response = api.get(listing[0]["labelmap_url"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert [f["view"] for f in body["frames"]] == ["anterior", "posterior"]
    assert [f["frame"] for f in body["frames"]] == [1, 2]
    labelmap = decode(body)
    assert labelmap.shape == (2, *label.shape)
    # Segment 2 is "metastatic" (SCT 14799000); the posterior view as stored (mirrored).
    assert np.array_equal(labelmap[0], label)
    assert np.array_equal(labelmap[1], label[:, ::-1])
    assert set(np.unique(labelmap)) <= {0, 1, 2} and labelmap.max() > 0


def test_unknown_segmentation_series_is_404(api, planar_with_ground_truth):
    study, _ = planar_with_ground_truth
    response = api.get(f"/api/studies/{study.id}/segmentations/1.2.3.4/labelmap")
    assert response.status_code == 404
    assert "1.2.3.4" in response.json()["message"]
