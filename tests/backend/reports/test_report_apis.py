"""The report endpoints as the viewer calls them: shapes, 409, 4xx for bad input, roles."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.django_db

BODY = {"history": "前列腺癌。", "findings": "骨盆多发浓聚灶。", "impression": "骨转移。"}


def url(study, suffix=""):
    return f"/api/studies/{study.id}/report{suffix}"


def test_get_put_versions_sign_addenda(api, study):
    assert api.get(url(study)).status_code == 404
    created = api.put(url(study), {**BODY, "base_version": None}, format="json")
    assert created.status_code == 201, created.json()
    report = created.json()
    assert report["version"] == 1 and report["status"] == "draft"
    assert report["author"]["display_name"] == "张医生"
    edited = api.put(
        url(study), {**BODY, "impression": "骨转移可能。", "base_version": 1}, format="json"
    )
    assert edited.status_code == 201 and edited.json()["version"] == 2
    same = api.put(
        url(study) + "/", {**BODY, "impression": "骨转移可能。", "base_version": 2}, format="json"
    )
    assert same.status_code == 200 and same.json()["version"] == 2
    versions = api.get(url(study, "/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["changed_fields"] == ["impression"]
    signed = api.post(url(study, "/sign"), {"version": 2}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    refused = api.put(url(study), {**BODY, "base_version": 2}, format="json")
    assert refused.status_code == 409
    assert refused.json()["extra"]["current"]["status"] == "signed"
    added = api.post(url(study, "/addenda"), {"text": "补充：MRI证实。"}, format="json")
    assert added.status_code == 201
    assert added.json()["addenda"][0]["text"] == "补充：MRI证实。"
    assert api.get(url(study)).json()["findings"] == BODY["findings"]


def test_conflict_answers_409_with_the_current_version(api, physician2, study, client_for):
    api.put(url(study), {**BODY, "base_version": 0}, format="json")
    other = client_for(physician2)
    assert (
        other.put(
            url(study), {**BODY, "findings": "李", "base_version": 1}, format="json"
        ).status_code
        == 201
    )
    conflict = api.put(url(study), {**BODY, "findings": "张", "base_version": 1}, format="json")
    assert conflict.status_code == 409
    body = conflict.json()
    assert set(body) == {"message", "extra"}
    assert body["extra"]["current"]["version"] == 2
    assert body["extra"]["current"]["findings"] == "李"


def test_viewer_draft_field_names_are_accepted(api, study):
    response = api.put(
        url(study) + "/",
        {"clinical_history": "肺癌", "findings": "x", "impression": "y", "version": None},
        format="json",
    )
    assert response.status_code == 201 and response.json()["history"] == "肺癌"


@pytest.mark.parametrize(
    "body",
    [
        {"findings": "x", "base_version": "abc"},
        {"findings": ["not", "text"]},
        {"findings": "x", "base_version": -1},
    ],
)
def test_malformed_bodies_are_400(api, study, body):
    response = api.put(url(study), body, format="json")
    assert response.status_code == 400
    assert "message" in response.json()


def test_unknown_study_is_404(api):
    for path in (f"/api/studies/{uuid.uuid4()}/report", "/api/studies/not-a-uuid/report"):
        response = api.get(path)
        assert response.status_code == 404 and "message" in response.json()


def test_readers_cannot_write_and_anonymous_cannot_read(reader, study, client_for):
    response = client_for(reader).put(url(study), {**BODY, "base_version": 0}, format="json")
    assert response.status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get(url(study)).status_code in (401, 403)


def test_list_search_in_chinese(api, study, make_study):
    api.put(url(study), {**BODY, "base_version": 0}, format="json")
    other = make_study()
    api.put(url(other), {"findings": "双膝关节退行性变", "base_version": 0}, format="json")
    found = api.get("/api/reports/", {"search": "退行性"}).json()
    assert found["count"] == 1 and found["results"][0]["study_id"] == str(other.id)
    assert api.get("/api/reports/", {"status": "signed"}).json()["count"] == 0
    assert api.get("/api/reports/", {"status": "nope"}).status_code == 400


def test_import_and_export_endpoints(admin_user, api, reader, study, client_for):
    admin = client_for(admin_user)
    csv_bytes = (
        "accession_number,findings,impression\n"
        f"{study.accession_number},第7胸椎浓聚,骨转移\n"
        "MISSING,x,y\n"
    ).encode()
    upload = SimpleUploadedFile("reports.csv", csv_bytes, content_type="text/csv")
    response = admin.post("/api/reports/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["counts"] == {"imported": 1, "skipped": 0, "error": 1}
    assert response.json()["rows"][1]["reason"].startswith("no study")
    as_json = admin.post("/api/reports/import", [{"accession_number": "MISSING"}], format="json")
    assert as_json.json()["counts"]["error"] == 1
    bad = admin.post(
        "/api/reports/import",
        {"file": SimpleUploadedFile("x.json", b"{oops", content_type="application/json")},
        format="multipart",
    )
    assert bad.status_code == 400
    assert admin.post("/api/reports/import", {}, format="json").status_code == 400
    export = admin.get("/api/reports/export", {"format": "csv"})
    assert export.status_code == 200 and "第7胸椎浓聚" in export.content.decode("utf-8-sig")
    assert admin.get("/api/reports/export", {"format": "xml"}).status_code == 400
    assert api.get("/api/reports/export").status_code == 200  # physicians export
    assert client_for(reader).get("/api/reports/export").status_code == 403  # readers do not
