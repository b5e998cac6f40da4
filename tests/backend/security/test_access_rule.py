"""The one study-access rule on every path, reader-study AI narrowing, and who may write."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.services import user_create, user_roles_set
from reports.models import Report, ReportStatus


def _worklist_ids(client) -> set[str]:
    response = client.get("/api/studies/")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_without_reader_study_rules_readers_and_study_admins_see_nothing(world, client_for):
    """The real readerstudies rules (until issue 12 lands): no case for readers/study admins."""
    a, b = str(world.a.study.id), str(world.b.study.id)
    assert _worklist_ids(client_for(world.users["physician"])) == {a, b}
    assert _worklist_ids(client_for(world.users["admin"])) == {a, b}
    for role in ("reader", "study_admin", "reader_study_admin"):
        client = client_for(world.users[role])
        assert _worklist_ids(client) == set()
        assert client.get(f"/api/studies/{a}/").status_code == 404
        assert client.get("/dicomweb/studies").json() == []
        assert client.get("/dicomweb/instances").json() == []


def test_several_roles_see_the_union(world, rules, client_for):
    a, b = str(world.a.study.id), str(world.b.study.id)
    assert _worklist_ids(client_for(world.users["reader"])) == {a}
    assert _worklist_ids(client_for(world.users["study_admin"])) == {a}
    # reader of A + study admin of B:
    assert _worklist_ids(client_for(world.users["reader_study_admin"])) == {a, b}
    no_role = user_create(username="norole", password="Bone-scan-2026", role=Role.READER)
    user_roles_set(user=no_role, roles=[])
    assert _worklist_ids(client_for(no_role)) == set()


def test_counts_and_searches_only_cover_visible_studies(world, rules, client_for):
    reader = client_for(world.users["reader"])
    assert reader.get("/api/studies/").json()["count"] == 1
    qido = reader.get("/dicomweb/studies").json()
    assert [s["0020000D"]["Value"][0] for s in qido] == [world.a.study.study_instance_uid]
    by_patient = reader.get("/dicomweb/studies", {"PatientID": "PB-2002"}).json()
    assert by_patient == []
    # The reader cannot read clinical reports at all; search included.
    assert reader.get("/api/reports/", {"search": "骨转移"}).status_code == 403
    study_admin = client_for(world.users["study_admin"])
    found = study_admin.get("/api/reports/", {"search": "骨转移"}).json()
    assert [r["study_id"] for r in found["results"]] == [str(world.a.study.id)]


def _seg_visible(client, case) -> dict[str, bool]:
    """Where the study's AI SEG shows up for this client."""
    study = case.study
    uid = study.study_instance_uid
    detail = client.get(f"/api/studies/{study.id}/").json()
    worklist_row = next(r for r in client.get("/api/studies/").json()["results"])
    seg_uid = case.seg.sop_instance_uid
    seg_series = case.seg.series.series_instance_uid
    wado = client.get(
        "/wado", {"requestType": "WADO", "objectUID": seg_uid, "contentType": "application/dicom"}
    )
    qido_series = client.get(f"/dicomweb/studies/{uid}/series").json()
    qido_instances = client.get("/dicomweb/instances").json()
    metadata = client.get(f"/dicomweb/studies/{uid}/metadata").json()
    return {
        "detail_series": any(s["series_instance_uid"] == seg_series for s in detail["series"]),
        # a SEG is never counted as an image (number_of_instances); its series is, when visible
        "detail_counts": detail["number_of_series"] == 2 and detail["number_of_instances"] == 1,
        "worklist_counts": worklist_row["number_of_series"] == 2,
        "worklist_ai_status": worklist_row["ai_status"] is not None,
        "wado_uri": wado.status_code == 200,
        "qido_series": any(s["0020000E"]["Value"][0] == seg_series for s in qido_series),
        "qido_instances": any(i["00080018"]["Value"][0] == seg_uid for i in qido_instances),
        "wado_rs_metadata": any(m["00080018"]["Value"][0] == seg_uid for m in metadata),
        "ai_summary": client.get(f"/api/studies/{study.id}/ai").status_code == 200,
        "job": client.get(f"/api/inference/jobs/{case.job.id}").status_code == 200,
        "labelmap": client.get(f"/api/inference/jobs/{case.job.id}/labelmap").status_code == 200,
    }


def test_unaided_reader_sees_no_ai_anywhere(world, rules, client_for):
    reader = client_for(world.users["reader"])
    assert all(_seg_visible(reader, world.a).values())  # no restriction: everything
    rules.ai_allowed[(world.users["reader"].pk, world.a.study.id)] = frozenset()  # unaided arm
    seen = _seg_visible(reader, world.a)
    assert not any(seen.values()), seen
    # The restriction is the reader's: a physician still sees the AI of the same case.
    physician = client_for(world.users["physician"])
    physician_detail = physician.get(f"/api/studies/{world.a.study.id}/").json()
    assert physician_detail["number_of_series"] == 2


def test_aided_reader_sees_only_the_frozen_result(world, rules, client_for):
    from inference.models import InferenceJob, JobState

    reader = client_for(world.users["reader"])
    other = InferenceJob.objects.create(
        study=world.a.study, model_version=world.a.job.model_version, state=JobState.SUCCEEDED
    )
    rules.ai_allowed[(world.users["reader"].pk, world.a.study.id)] = frozenset({world.a.job.id})
    seen = _seg_visible(reader, world.a)
    assert all(seen.values()), seen
    assert reader.get(f"/api/inference/jobs/{other.id}").status_code == 404
    jobs = reader.get(f"/api/studies/{world.a.study.id}/inference-jobs").json()
    assert [j["id"] for j in jobs] == [str(world.a.job.id)]
    # Frozen on another job: this SEG disappears.
    rules.ai_allowed[(world.users["reader"].pk, world.a.study.id)] = frozenset({other.id})
    seen = _seg_visible(reader, world.a)
    assert not seen["wado_uri"] and not seen["detail_series"] and not seen["qido_instances"]
    assert reader.get(f"/api/studies/{world.a.study.id}/ai").json()["result"] is not None


def _stow_body(data: bytes, boundary: str = "BoneReadBoundary") -> bytes:
    return (
        f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_reader_cannot_store_into_a_patients_study(world, rules, client_for, new_series_dicom):
    study = world.a.study
    data = new_series_dicom(world.a)
    content_type = 'multipart/related; type="application/dicom"; boundary=BoneReadBoundary'
    for role in ("reader", "study_admin"):
        client = client_for(world.users[role])
        response = client.generic(
            "POST", f"/dicomweb/studies/{study.study_instance_uid}", _stow_body(data),
            content_type=content_type,
        )  # fmt: skip
        assert response.status_code == 403
        assert "may not add images" in response.json()["message"]
        upload = client.post(
            "/api/studies/upload",
            {"files": SimpleUploadedFile("x.dcm", data, "application/dicom")},
            format="multipart",
        )
        assert upload.status_code == 403
    assert study.series.count() == 2  # nothing stored
    physician = client_for(world.users["physician"])
    response = physician.generic(
        "POST", f"/dicomweb/studies/{study.study_instance_uid}", _stow_body(data),
        content_type=content_type,
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert study.series.count() == 3


def test_import_never_overwrites_a_draft_silently(world, client_for):
    study = world.a.study  # has a draft, version 1
    physician = client_for(world.users["physician"])
    row = {"study_instance_uid": study.study_instance_uid, "findings": "改写", "impression": "x"}
    result = physician.post("/api/reports/import", [row], format="json").json()
    assert result["counts"]["error"] == 1
    assert "version 1" in result["rows"][0]["reason"]
    assert Report.objects.get(study=study).findings == "第7胸椎浓聚"  # untouched
    stale = physician.post("/api/reports/import", [{**row, "version": 0}], format="json").json()
    assert stale["counts"]["error"] == 1 and Report.objects.get(study=study).version == 1
    ok = physician.post("/api/reports/import", [{**row, "version": 1}], format="json").json()
    assert ok["counts"]["imported"] == 1
    assert Report.objects.get(study=study).findings == "改写"


def test_study_admin_import_cannot_sign(world, rules, client_for):
    study = world.a.study
    study_admin = client_for(world.users["study_admin"])
    row = {
        "study_instance_uid": study.study_instance_uid,
        "findings": "第7胸椎浓聚",
        "impression": "骨转移",
        "history": "乳腺癌术后",
        "status": "signed",
        "version": 1,
    }
    result = study_admin.post("/api/reports/import", [row], format="json").json()
    assert result["counts"]["error"] == 1
    assert "only physicians and admins may sign" in result["rows"][0]["reason"]
    assert Report.objects.get(study=study).status == ReportStatus.DRAFT
    physician = client_for(world.users["physician"])
    result = physician.post("/api/reports/import", [row], format="json").json()
    assert result["counts"]["imported"] == 1
    assert Report.objects.get(study=study).status == ReportStatus.SIGNED


@pytest.mark.django_db
def test_me_lists_every_role_and_admin_role_makes_staff(client_for):
    user = user_create(username="multi", password="Bone-scan-2026", roles=["reader", "physician"])
    me = client_for(user).get("/api/auth/me").json()
    assert me["roles"] == ["physician", "reader"] and me["role"] == "physician"
    assert not user.is_staff
    user_roles_set(user=user, roles=["admin", "reader"])
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser
    me = client_for(user).get("/api/auth/me").json()
    assert me["roles"] == ["admin", "reader"] and me["role"] == "admin"
