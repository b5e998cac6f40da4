"""DICOMweb: the dicomweb-client library against a live server, and edge cases over HTTP."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.uid import generate_uid
from rest_framework.test import APIClient

from accounts.tokens import api_token_create
from studies.models import Instance
from studies.services import instance_ingest
from tests.backend.studies.conftest import make_dataset, to_bytes


@pytest.fixture
def client_for(live_server, physician):
    token_key = api_token_create(user=physician, name="test").key

    def make(auth: str = "token") -> DICOMwebClient:
        if auth == "token":
            headers = {"Authorization": f"Token {token_key}"}
        else:
            raw = base64.b64encode(b"doc:Bone-scan-2026").decode()
            headers = {"Authorization": f"Basic {raw}"}
        return DICOMwebClient(url=f"{live_server.url}/dicomweb", headers=headers)

    return make


def test_dicomweb_client_store_search_retrieve(client_for, live_server):
    client = client_for()
    study_a, study_b, series_ct = generate_uid(), generate_uid(), generate_uid()
    ct = [
        make_dataset(
            study_uid=study_a,
            series_uid=series_ct,
            instance_number=n,
            seed=n,
            patient_id="P-1",
            patient_name="WANG^XIAODONG=王^小东",
            study_date="20260310",
        )  # fmt: skip
        for n in (1, 2)
    ]
    nm = make_dataset(
        study_uid=study_b, modality="NM", patient_id="P-2", patient_name="LI^NA=李^娜",
        study_date="20260420", rows=4, columns=6,
    )  # fmt: skip
    response = client.store_instances([*ct, nm])
    assert len(response.ReferencedSOPSequence) == 3
    assert "FailedSOPSequence" not in response

    def study_uids(**search_filters):
        found = client.search_for_studies(search_filters=search_filters)
        return {item["0020000D"]["Value"][0] for item in found}

    assert study_uids() == {study_a, study_b}
    assert study_uids(PatientName="WANG*") == {study_a}
    assert study_uids(PatientName="王*") == {study_a}
    assert study_uids(PatientName="li^na") == {study_b}
    assert study_uids(PatientID="P-2") == {study_b}
    assert study_uids(StudyDate="20260401-20260430") == {study_b}
    assert study_uids(StudyDate="-20260331") == {study_a}
    assert study_uids(ModalitiesInStudy="CT") == {study_a}
    assert study_uids(StudyInstanceUID=study_b) == {study_b}
    assert len(client.search_for_studies(limit=1)) == 1
    assert len(client.search_for_studies(limit=1, offset=1)) == 1
    assert client.search_for_studies(offset=2) == []

    study = client.search_for_studies(search_filters={"StudyInstanceUID": study_a})[0]
    assert study["00100010"]["Value"][0] == {
        "Alphabetic": "WANG^XIAODONG",
        "Ideographic": "王^小东",
    }
    assert study["00201208"]["Value"] == [2]
    assert study["00080061"]["Value"] == ["CT"]

    series = client.search_for_series(study_instance_uid=study_a)
    assert [s["0020000E"]["Value"][0] for s in series] == [series_ct]
    assert series[0]["00201209"]["Value"] == [2]
    all_series = client.search_for_series(search_filters={"Modality": "NM"})
    assert len(all_series) == 1
    instances = client.search_for_instances(
        study_instance_uid=study_a, series_instance_uid=series_ct, fields=["ImageType"]
    )
    assert sorted(i["00200013"]["Value"][0] for i in instances) == [1, 2]
    assert instances[0]["00080008"]["Value"] == ["ORIGINAL", "PRIMARY", "AXIAL"]

    got = client.retrieve_instance(study_a, series_ct, ct[0].SOPInstanceUID)
    assert got.SOPInstanceUID == ct[0].SOPInstanceUID
    assert got.PixelData == ct[0].PixelData
    assert str(got.PatientName) == "WANG^XIAODONG=王^小东"
    assert len(client.retrieve_series(study_a, series_ct)) == 2
    assert {d.SOPInstanceUID for d in client.retrieve_study(study_b)} == {nm.SOPInstanceUID}

    metadata = client.retrieve_series_metadata(study_a, series_ct)
    assert len(metadata) == 2
    assert "BulkDataURI" in metadata[0]["7FE00010"]
    assert metadata[0]["00100010"]["Value"][0]["Ideographic"] == "王^小东"
    frames = client.retrieve_instance_frames(study_b, nm.SeriesInstanceUID, nm.SOPInstanceUID, [1])
    pixels = np.frombuffer(frames[0], dtype=np.uint16).reshape(4, 6)
    assert np.array_equal(pixels, nm.pixel_array)

    basic = client_for("basic")
    assert len(basic.search_for_studies()) == 2
    anonymous = requests.get(f"{live_server.url}/dicomweb/studies", timeout=10)
    assert anonymous.status_code in (401, 403)


@pytest.mark.django_db
def test_stow_conflict_partial_and_bad_requests(api):
    ds = make_dataset(seed=1)
    instance_ingest(file=to_bytes(ds), source="upload")
    changed = make_dataset(sop_uid=ds.SOPInstanceUID, study_uid=ds.StudyInstanceUID, seed=9)
    changed.SeriesInstanceUID = ds.SeriesInstanceUID
    boundary = "xyz-boundary"

    def body(*parts: bytes) -> bytes:
        out = b""
        for part in parts:
            out += f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part
            out += b"\r\n"
        return out + f"--{boundary}--\r\n".encode()

    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    conflict = api.generic("POST", "/dicomweb/studies", body(to_bytes(changed)), content_type)
    assert conflict.status_code == 409
    failed = conflict.json()["00081198"]["Value"][0]
    assert failed["00081197"]["Value"] == [0x0111]
    assert failed["00081155"]["Value"] == [ds.SOPInstanceUID]
    assert "different content" in failed["00000902"]["Value"][0]

    new = make_dataset()
    partial = api.generic(
        "POST", "/dicomweb/studies", body(to_bytes(new), b"junk" * 50), content_type
    )
    assert partial.status_code == 202
    assert len(partial.json()["00081199"]["Value"]) == 1
    assert "not a DICOM" in partial.json()["00081198"]["Value"][0]["00000902"]["Value"][0]

    other_study = api.generic(
        "POST", f"/dicomweb/studies/{generate_uid()}", body(to_bytes(make_dataset())), content_type
    )
    assert other_study.status_code == 409
    wrong_type = api.generic("POST", "/dicomweb/studies", b"{}", "application/json")
    assert wrong_type.status_code == 415
    broken = api.generic("POST", "/dicomweb/studies", b"--xyz-boundary\r\nno end", content_type)
    assert broken.status_code == 400
    assert Instance.objects.count() == 2


@pytest.mark.django_db
def test_qido_bad_parameters_are_400_and_unknown_keys_warned(api):
    assert api.get("/dicomweb/studies", {"StudyDate": "last week"}).status_code == 400
    assert api.get("/dicomweb/studies", {"limit": "many"}).status_code == 400
    response = api.get("/dicomweb/studies", {"00189999": "x"})
    assert response.status_code == 200 and "ignored" in response["Warning"]
    assert api.get(f"/dicomweb/studies/{generate_uid()}/metadata").status_code == 404


@pytest.mark.django_db
def test_wado_rs_accept_and_frames(api):
    ds = make_dataset(rows=4, columns=4)
    ds.NumberOfFrames = 2
    ds.PixelData = np.arange(32, dtype=np.uint16).tobytes()
    result = instance_ingest(file=to_bytes(ds), source="upload")
    assert result.status == "stored", result.reason
    url = (
        f"/dicomweb/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
        f"/instances/{ds.SOPInstanceUID}"
    )
    refused = api.get(url, HTTP_ACCEPT="application/pdf")
    assert refused.status_code == 406
    frames = api.get(f"{url}/frames/2")
    assert frames.status_code == 200
    body = b"".join(frames.streaming_content)
    assert np.arange(16, 32, dtype=np.uint16).tobytes() in body
    assert api.get(f"{url}/frames/3").status_code == 404
    rendered = api.get(f"{url}/rendered", HTTP_ACCEPT="image/png")
    assert rendered.status_code == 200 and rendered.content[:4] == b"\x89PNG"
    assert api.get(f"{url}/frames/x/rendered").status_code == 400
    assert api.get(f"{url}/frames/2/rendered").content[:2] == b"\xff\xd8"
    assert APIClient().get(url).status_code in (401, 403)


def test_wado_rs_series_parts_name_their_instances(api, tmp_path):
    """The viewer fetches a CT series in one WADO-RS request (not one WADO-URI request per
    slice) and files each part under its instance: every part says which one it holds."""
    from studies import selectors
    from studies.dicomweb.multipart import content_type_params, iter_parts

    study_uid, series_uid = generate_uid(), generate_uid()
    slices = [
        make_dataset(study_uid=study_uid, series_uid=series_uid, instance_number=n, seed=n)
        for n in (1, 2, 3)
    ]
    for ds in slices:
        assert instance_ingest(file=to_bytes(ds), source="upload").status == "stored"
    response = api.get(f"/dicomweb/studies/{study_uid}/series/{series_uid}")
    assert response.status_code == 200
    body = tmp_path / "body"
    body.write_bytes(b"".join(response.streaming_content))
    _, params = content_type_params(response["Content-Type"])
    with body.open("rb") as handle:
        parts = list(iter_parts(handle, params["boundary"]))
    by_uid = {ds.SOPInstanceUID: to_bytes(ds) for ds in slices}
    assert len(parts) == 3
    for headers, payload in parts:
        location = headers["content-location"]
        assert location.startswith("http") and f"/series/{series_uid}/instances/" in location
        sop_uid = location.rsplit("/", 1)[1]
        stored = Instance.objects.get(sop_instance_uid=sop_uid)
        with selectors.instance_file_open(stored) as handle:
            assert bytes(payload) == handle.read()
    assert {h["content-location"].rsplit("/", 1)[1] for h, _ in parts} == set(by_uid)
