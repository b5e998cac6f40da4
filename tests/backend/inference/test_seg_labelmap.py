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


def test_seg_label_map_is_decoded_once_per_content(api, planar_with_ground_truth, monkeypatch):
    """The viewer asks for the label map on every opening of a case; highdicom decoding took
    seconds per request on a loaded server. The decoded answer is reused until the SEG files
    or the study's images change."""
    from inference import seg_labelmap

    study, label = planar_with_ground_truth
    decoded = []
    real_read = seg_labelmap._read
    monkeypatch.setattr(
        seg_labelmap, "_read", lambda instance: decoded.append(instance.id) or real_read(instance)
    )
    url = api.get(f"/api/studies/{study.id}/segmentations/").json()["segmentations"][0][
        "labelmap_url"
    ]
    first = api.get(url).json()
    assert len(decoded) == 2  # the two SEG objects of the series
    second = api.get(url).json()
    assert len(decoded) == 2  # served from the cache, same answer
    assert second == first
    assert np.array_equal(decode(second)[0], label)
    # A new image in the study may be one the SEG references: the map is decoded again.
    from studies.models import Instance

    Instance.objects.filter(series__study=study).exclude(
        sop_class_uid=seg_labelmap.SEGMENTATION_SOP_CLASS
    ).first().delete()
    api.get(url)
    assert len(decoded) == 4
