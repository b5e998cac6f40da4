"""Every bounded request answers 400/413 naming the limit, and streams what it may."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from studies import services as study_services
from studies.services import instance_ingest
from tests.backend.studies.conftest import make_dataset, to_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def multiframe():
    ds = make_dataset(rows=64, columns=64, modality="NM")
    ds.NumberOfFrames = 4
    ds.PixelData = np.arange(4 * 64 * 64, dtype=np.uint16).tobytes()
    assert instance_ingest(file=to_bytes(ds), source="upload").status == "stored"
    url = (
        f"/dicomweb/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
        f"/instances/{ds.SOPInstanceUID}"
    )
    return ds, url


def test_frame_list_longer_than_the_limit_is_a_400_naming_it(api, multiframe, settings):
    _, url = multiframe
    settings.WADO_MAX_FRAMES_PER_REQUEST = 8
    response = api.get(f"{url}/frames/" + ",".join(["1"] * 9))
    assert response.status_code == 400
    assert "WADO_MAX_FRAMES_PER_REQUEST" in response.json()["message"]
    ok = api.get(f"{url}/frames/" + ",".join(["2"] * 8))
    assert ok.status_code == 200
    body = b"".join(ok.streaming_content)
    frame2 = np.arange(64 * 64, 2 * 64 * 64, dtype=np.uint16).tobytes()
    assert body.count(frame2) == 8


def test_frames_are_produced_one_at_a_time(api, multiframe):
    """The response is a stream: frames are cut from the pixel data as it is written."""
    _, url = multiframe
    response = api.get(f"{url}/frames/1,2,3,4")
    assert response.streaming
    parts = list(response.streaming_content)
    assert len(parts) >= 4  # one chunk per frame at least, not one joined body


def test_rendered_size_is_bounded_and_follows_viewport(api, multiframe, settings):
    from PIL import Image

    _, url = multiframe
    settings.WADO_RENDERED_MAX_SIZE = 32
    big = api.get(f"{url}/rendered", HTTP_ACCEPT="image/png")
    assert Image.open(io.BytesIO(big.content)).size == (32, 32)
    small = api.get(f"{url}/frames/3/rendered", {"viewport": "16,16"}, HTTP_ACCEPT="image/png")
    assert small.status_code == 200
    assert Image.open(io.BytesIO(small.content)).size == (16, 16)
    too_big = api.get(f"{url}/rendered", {"viewport": "100000,100000"})
    assert too_big.status_code == 400
    assert "WADO_RENDERED_MAX_SIZE" in too_big.json()["message"]
    bad = api.get(f"{url}/rendered", {"viewport": "a,b"})
    assert bad.status_code == 400


def test_wado_uri_rows_columns_are_bounded(api, multiframe, settings):
    from PIL import Image

    ds, _ = multiframe
    settings.WADO_RENDERED_MAX_SIZE = 48
    params = {"requestType": "WADO", "objectUID": ds.SOPInstanceUID, "contentType": "image/png"}
    ok = api.get("/wado", {**params, "rows": 20, "columns": 20, "frameNumber": 2})
    assert ok.status_code == 200
    assert Image.open(io.BytesIO(ok.content)).size == (20, 20)
    refused = api.get("/wado", {**params, "rows": 5000})
    assert refused.status_code == 400
    assert "WADO_RENDERED_MAX_SIZE" in refused.json()["message"]
    huge_frame = api.get("/wado", {**params, "frameNumber": 10**30})
    assert huge_frame.status_code == 400


def test_rendering_decodes_only_the_asked_frame(api, multiframe, monkeypatch):
    import pydicom.pixels

    from studies import rendering

    calls = []
    original = pydicom.pixels.pixel_array

    def spy(src, *args, **kwargs):
        calls.append(kwargs.get("index"))
        return original(src, *args, **kwargs)

    monkeypatch.setattr(rendering, "pixel_array", spy)
    _, url = multiframe
    assert api.get(f"{url}/frames/3/rendered").status_code == 200
    assert calls == [2]


def test_source_frames_too_large_to_render_are_refused(api, multiframe, settings):
    _, url = multiframe
    settings.WADO_RENDER_MAX_SOURCE_PIXELS = 1000
    response = api.get(f"{url}/rendered")
    assert response.status_code == 400
    assert "WADO_RENDER_MAX_SOURCE_PIXELS" in response.json()["message"]


def test_json_body_larger_than_the_limit_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/api/reading-events/", {"events": [{"id": "x" * 2000}]}, format="json")
    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["message"]


def test_zip_with_too_many_members_is_a_413(api, settings):
    settings.ARCHIVE_ZIP_MAX_MEMBERS = 3
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(4):
            zf.writestr(f"{i}.dcm", b"x")
    archive.seek(0)
    archive.name = "many.zip"
    response = api.post("/api/studies/upload", {"files": [archive]}, format="multipart")
    assert response.status_code == 413
    assert "ARCHIVE_ZIP_MAX_MEMBERS" in response.json()["message"]


def test_zip_members_are_stored_in_batches_bounded_by_bytes(api, settings, monkeypatch):
    settings.ARCHIVE_BATCH_MAX_BYTES = 1
    batches = []
    original = study_services.instances_ingest

    def spy(*, files, **kwargs):
        files = list(files)
        batches.append(len(files))
        return original(files=files, **kwargs)

    monkeypatch.setattr(study_services, "instances_ingest", spy)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"{i}.dcm", to_bytes(make_dataset(seed=i, instance_number=i + 1)))
    archive.seek(0)
    archive.name = "three.zip"
    response = api.post("/api/studies/upload", {"files": [archive]}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 3
    assert max(batches) == 1  # never more than one inflated member held at a time here
