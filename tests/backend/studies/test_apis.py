"""Worklist, study detail, upload and WADO-URI over HTTP."""

from __future__ import annotations

import io
import zipfile

import pytest
from pydicom.uid import generate_uid
from rest_framework.test import APIClient

from studies.models import Instance
from studies.services import instance_ingest
from tests.backend.studies.conftest import make_dataset, to_bytes


def ingest(**kwargs):
    result = instance_ingest(file=to_bytes(make_dataset(**kwargs)), source="upload")
    assert result.status == "stored", result.reason
    return result.instance


@pytest.fixture
def worklist(db):
    """Three studies: a planar NM, a SPECT/CT (NM tomo + 2 CT slices), and a Latin-named CT."""
    planar = ingest(
        modality="NM", image_type="ORIGINAL\\PRIMARY\\WHOLE BODY\\EMISSION",
        patient_id="P1", patient_name="WANG^XIAODONG=王^小东", study_date="20260310",
        accession="ACC-1",
    )  # fmt: skip
    spect_study = generate_uid()
    ingest(
        study_uid=spect_study, modality="NM", image_type="ORIGINAL\\PRIMARY\\RECON TOMO\\EMISSION",
        patient_id="P2", patient_name="LI^NA=李^娜", study_date="20260312", accession="ACC-2",
    )  # fmt: skip
    ct_series = generate_uid()
    for number in (2, 1):
        ingest(
            study_uid=spect_study, series_uid=ct_series, modality="CT", instance_number=number,
            patient_id="P2", patient_name="LI^NA=李^娜", study_date="20260312",
        )  # fmt: skip
    ingest(patient_id="P3", patient_name="SMITH^JOHN", study_date="20250101", accession="X-9")
    return planar


def test_worklist_requires_authentication(db):
    response = APIClient().get("/api/studies/")
    assert response.status_code == 403
    assert response.json()["message"]


def test_worklist_rows_and_kinds(api, worklist):
    body = api.get("/api/studies/").json()
    assert body["count"] == 3
    first = body["results"][0]  # newest first
    assert first["patient"]["name"] == "LI^NA=李^娜"
    assert first["kind"] == "spectct"
    assert first["modalities"] == ["CT", "NM"]
    assert first["number_of_series"] == 2
    assert first["number_of_instances"] == 3
    assert first["report_status"] is None and first["ai_status"] is None
    assert first["study_date"] == "2026-03-12"
    kinds = {row["patient"]["patient_id"]: row["kind"] for row in body["results"]}
    assert kinds == {"P1": "planar", "P2": "spectct", "P3": "other"}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("王", ["P1"]),
        ("小东", ["P1"]),
        ("wang", ["P1"]),
        ("Wang XiaoDong", ["P1"]),
        ("wangxiaodong", ["P1"]),
        ("李", ["P2"]),
        ("P3", ["P3"]),
        ("acc-1", ["P1"]),
        ("nobody", []),
    ],
)
def test_worklist_search(api, worklist, search, expected):
    body = api.get("/api/studies/", {"search": search}).json()
    assert [row["patient"]["patient_id"] for row in body["results"]] == expected


def test_worklist_filters_ordering_paging(api, worklist):
    def ids(**params):
        return [
            r["patient"]["patient_id"] for r in api.get("/api/studies/", params).json()["results"]
        ]

    assert ids(modality="CT") == ["P2", "P3"]
    assert ids(modality="NM") == ["P2", "P1"]
    assert ids(date_from="2026-01-01", date_to="2026-03-11") == ["P1"]
    assert ids(ordering="study_date") == ["P3", "P1", "P2"]
    assert ids(ordering="patient_name") == ["P2", "P3", "P1"]
    page = api.get("/api/studies/", {"page_size": 2, "page": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["previous"]
    bad = api.get("/api/studies/", {"ordering": "drop table"})
    assert bad.status_code == 400 and "ordering" in bad.json()["message"]
    assert api.get("/api/studies/", {"date_from": "yesterday"}).status_code == 400


def test_study_detail_with_series_instances_and_wado_uri(api, worklist):
    row = api.get("/api/studies/", {"search": "李"}).json()["results"][0]
    detail = api.get(f"/api/studies/{row['id']}/").json()
    assert detail["kind"] == "spectct"
    ct = next(s for s in detail["series"] if s["modality"] == "CT")
    assert ct["number_of_instances"] == 2
    assert [i["instance_number"] for i in ct["instances"]] == [1, 2]
    instance = ct["instances"][0]
    assert instance["rows"] == 8 and instance["number_of_frames"] == 1
    assert instance["wado_uri"] == (
        f"/wado?requestType=WADO&studyUID={detail['study_instance_uid']}"
        f"&seriesUID={ct['series_instance_uid']}&objectUID={instance['sop_instance_uid']}"
        "&contentType=application%2Fdicom"
    )
    assert api.get("/api/studies/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert api.get("/api/studies/not-a-uuid/").status_code == 404


def test_wado_uri_serves_the_file_with_etag_and_range(api, worklist):
    instance = Instance.objects.select_related("series__study").get(id=worklist.id)
    detail = api.get(f"/api/studies/{instance.series.study_id}/").json()
    url = detail["series"][0]["instances"][0]["wado_uri"]
    response = api.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/dicom"
    # What a DICOM client (and Cornerstone's loader) sends: not refused by content negotiation.
    for accept in ("application/dicom", "application/dicom, */*", "image/jpeg"):
        assert api.get(url, HTTP_ACCEPT=accept).status_code == 200, accept
    body = b"".join(response.streaming_content)
    assert body[128:132] == b"DICM" and len(body) == instance.size
    etag = response["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    part = api.get(url, HTTP_RANGE="bytes=128-131")
    assert part.status_code == 206 and part.content == b"DICM"
    assert part["Content-Range"] == f"bytes 128-131/{instance.size}"
    assert api.get(url, HTTP_RANGE=f"bytes={instance.size + 5}-").status_code == 416
    jpeg = api.get(url.replace("application%2Fdicom", "image%2Fjpeg"))
    assert jpeg.status_code == 200 and jpeg.content[:2] == b"\xff\xd8"
    assert APIClient().get(url).status_code == 403
    missing = api.get("/wado?requestType=WADO&objectUID=1.2.3&contentType=application%2Fdicom")
    assert missing.status_code == 404
    assert api.get("/wado?objectUID=1.2.3").status_code == 400


def test_upload_files_and_zip_with_per_file_results(api, dicom_bytes):
    study = generate_uid()
    one, two = dicom_bytes(study_uid=study), dicom_bytes(study_uid=study)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("series/two.dcm", two)
        zf.writestr("series/notes.txt", "not an image")
        zf.writestr("../evil.dcm", one)
    archive.seek(0)
    archive.name = "study.zip"
    first = io.BytesIO(one)
    first.name = "one.dcm"
    response = api.post("/api/studies/upload", {"files": [first, archive]}, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["stored"], body["duplicate"], body["rejected"]) == (2, 0, 2)
    by_file = {row["file"]: row for row in body["results"]}
    assert by_file["one.dcm"]["status"] == "stored"
    assert by_file["study.zip/series/two.dcm"]["status"] == "stored"
    assert "not a DICOM file" in by_file["study.zip/series/notes.txt"]["reason"]
    assert "unsafe path" in by_file["study.zip/../evil.dcm"]["reason"]


def test_upload_conflict_is_409_and_garbage_is_400(api):
    ds = make_dataset(seed=1)
    first = io.BytesIO(to_bytes(ds))
    first.name = "a.dcm"
    assert (
        api.post("/api/studies/upload", {"files": [first]}, format="multipart").status_code == 200
    )
    ds.PixelData = make_dataset(seed=5).PixelData
    changed = io.BytesIO(to_bytes(ds))
    changed.name = "a-changed.dcm"
    response = api.post("/api/studies/upload", {"files": [changed]}, format="multipart")
    assert response.status_code == 409
    assert "a-changed.dcm" in response.json()["message"]
    junk = io.BytesIO(b"hello world" * 30)
    junk.name = "junk.bin"
    response = api.post("/api/studies/upload", {"files": [junk]}, format="multipart")
    assert response.status_code == 400
    assert "junk.bin" in response.json()["message"] and "not a DICOM" in response.json()["message"]
    assert api.post("/api/studies/upload", {}, format="multipart").status_code == 400
    broken_zip = io.BytesIO(b"PK\x03\x04" + b"\x00" * 100)
    broken_zip.name = "broken.zip"
    response = api.post("/api/studies/upload", {"files": [broken_zip]}, format="multipart")
    assert response.status_code == 400 and "not a readable zip" in response.json()["message"]


def test_zip_bomb_is_refused(api, settings):
    settings.ARCHIVE_ZIP_MAX_RATIO = 100
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.dcm", b"\x00" * (20 * 1024 * 1024))
    archive.seek(0)
    archive.name = "bomb.zip"
    response = api.post("/api/studies/upload", {"files": [archive]}, format="multipart")
    assert response.status_code == 413
    assert "zip bomb" in response.json()["message"]
    settings.ARCHIVE_ZIP_MAX_RATIO = 10**9
    settings.ARCHIVE_ZIP_MAX_UNCOMPRESSED = 1024 * 1024
    archive.seek(0)
    response = api.post("/api/studies/upload", {"files": [archive]}, format="multipart")
    assert response.status_code == 413
    assert "ARCHIVE_ZIP_MAX_UNCOMPRESSED" in response.json()["message"]


def test_worklist_filters_and_sorts_by_report_and_ai_status(api, worklist, settings):
    from inference.models import InferenceJob, ModelVersion
    from reports.services import report_save
    from studies.models import Study

    settings.INFERENCE_AUTO_RUN = False
    p1, p2 = (Study.objects.get(patient__patient_id=p) for p in ("P1", "P2"))
    report_save(
        study=p1, user=None, history="乳腺癌术后", findings="胸椎放射性浓聚",
        impression="骨转移", base_version=None,
    )  # fmt: skip
    model = ModelVersion.objects.create(
        name="mt-unet", task="planar", version="t", path="x", checksum="0" * 64
    )
    InferenceJob.objects.create(study=p2, model_version=model, state="failed")
    InferenceJob.objects.create(study=p1, model_version=model, state="succeeded")

    def ids(**params):
        response = api.get("/api/studies/", params)
        assert response.status_code == 200, response.content
        return [r["patient"]["patient_id"] for r in response.json()["results"]]

    assert ids(report_status="draft") == ["P1"]
    assert ids(report_status="none") == ["P2", "P3"]
    assert ids(report_status="signed") == []
    assert ids(ai_status="failed") == ["P2"]
    assert ids(ai_status="succeeded,none", ordering="patient_id") == ["P1", "P3"]
    assert ids(ordering="ai_status,patient_id")[:2] == ["P2", "P1"]  # failed < succeeded
    rows = {r["patient"]["patient_id"]: r for r in api.get("/api/studies/").json()["results"]}
    assert (rows["P1"]["report_status"], rows["P1"]["ai_status"]) == ("draft", "succeeded")
    assert (rows["P3"]["report_status"], rows["P3"]["ai_status"]) == (None, None)
    detail = api.get(f"/api/studies/{p2.id}/").json()
    assert (detail["report_status"], detail["ai_status"]) == (None, "failed")
    bad = api.get("/api/studies/", {"ai_status": "exploded"})
    assert bad.status_code == 400 and "exploded" in bad.json()["message"]
