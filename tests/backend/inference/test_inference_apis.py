"""The AI endpoints as the viewer calls them: jobs, cancel, batch, /ai summary, label map,
models; every bad request a 4xx with a message."""

from __future__ import annotations

import gzip
import uuid

import numpy as np
import pytest

from inference.models import InferenceJob, JobState
from inference.runner import inference_job_run

pytestmark = pytest.mark.django_db


def test_create_get_and_dedupe(api, ingest_case, model_version):
    study = ingest_case(0)
    created = api.post("/api/inference/jobs", {"study_id": str(study.id)}, format="json")
    assert created.status_code == 201, created.json()
    job = created.json()
    assert job["state"] == "queued" and job["model_version"]["task"] == "planar"
    assert job["report_version"] == 1
    again = api.post("/api/inference/jobs/", {"study_id": str(study.id)}, format="json")
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    rerun = api.post(
        "/api/inference/jobs", {"study_id": str(study.id), "rerun": True}, format="json"
    )
    assert rerun.status_code == 201 and rerun.json()["id"] != job["id"]
    detail = api.get(f"/api/inference/jobs/{job['id']}")
    assert detail.status_code == 200 and detail.json()["queued_at"]
    listed = api.get(f"/api/studies/{study.id}/inference-jobs/").json()
    assert [j["id"] for j in listed] == [rerun.json()["id"], job["id"]]


def test_bad_requests_are_clear_4xx(api, ingest_case, model_version, make_empty_study):
    study = ingest_case(0)
    cases = [
        ({"study_id": str(uuid.uuid4())}, 404, "No study"),
        ({"study_id": "not-a-uuid"}, 400, "study_id"),
        ({}, 400, "study_id"),
        ({"study_id": str(make_empty_study().id)}, 400, "no whole-body planar"),
        ({"study_id": str(study.id), "model_version_id": str(uuid.uuid4())}, 404, "No model"),
        ({"study_id": str(study.id), "rerun": "perhaps"}, 400, "rerun"),
    ]
    for body, code, text in cases:
        response = api.post("/api/inference/jobs", body, format="json")
        assert response.status_code == code, (body, response.json())
        assert text in response.json()["message"]
    assert api.post("/api/inference/jobs", "[1", content_type="application/json").status_code == 400
    assert api.get(f"/api/inference/jobs/{uuid.uuid4()}").status_code == 404
    model_version.is_active = False
    model_version.save()
    response = api.post("/api/inference/jobs", {"study_id": str(study.id)}, format="json")
    assert response.status_code == 400 and "No active planar model" in response.json()["message"]


def test_cancel(api, ingest_case, model_version):
    study = ingest_case(0)
    job = api.post("/api/inference/jobs", {"study_id": str(study.id)}, format="json").json()
    cancelled = api.post(f"/api/inference/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = api.post(f"/api/inference/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and "already finished" in again.json()["message"]


def test_batch_by_study_ids_reports_what_it_skipped(
    api, ingest_case, model_version, make_empty_study
):
    a, b = ingest_case(0), ingest_case(1)
    empty = make_empty_study()
    missing = uuid.uuid4()
    response = api.post(
        "/api/inference/jobs/batch",
        {"study_ids": [str(a.id), str(b.id), str(empty.id), str(missing), str(a.id)]},
        format="json",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert {j["study_id"] for j in body["jobs"]} == {str(a.id), str(b.id)}
    assert {s["study_id"] for s in body["skipped"]} == {str(empty.id), str(missing)}
    assert InferenceJob.objects.filter(batch_id=body["batch_id"]).count() == 2
    assert api.post("/api/inference/jobs/batch", {}, format="json").status_code == 400
    reader_study = api.post(
        "/api/inference/jobs/batch", {"reader_study_id": str(uuid.uuid4())}, format="json"
    )
    assert reader_study.status_code in (400, 404)


def test_ai_summary_labelmap_and_worklist_status(api, ingest_case, model_version):
    study = ingest_case(0)
    empty = api.get(f"/api/studies/{study.id}/ai").json()
    assert empty["latest_job"] is None and empty["result"] is None
    job_id = api.post("/api/inference/jobs", {"study_id": str(study.id)}, format="json").json()[
        "id"
    ]
    assert inference_job_run(job_id=job_id) == "succeeded"

    summary = api.get(f"/api/studies/{study.id}/ai/").json()
    assert summary["latest_job"]["state"] == "succeeded"
    result = summary["result"]
    assert result["job_id"] == job_id and result["model_version"]["name"]
    assert len(result["seg"]) == 2 and all(
        s["wado_uri"].startswith("/wado?") for s in result["seg"]
    )
    assert result["labelmap"]["shape"] == [2, 1024, 256]
    assert [f["view"] for f in result["labelmap"]["frames"]] == ["anterior", "posterior"]
    for lesion in result["lesions"]:
        assert lesion["class_name"] in ("benign", "metastatic")
        assert {"probability", "area_mm2", "max_counts", "region", "centroid", "bbox"} <= set(
            lesion
        )

    raw = api.get(result["labelmap"]["url"])
    assert raw.status_code == 200 and raw["X-Labelmap-Shape"] == "2,1024,256"
    labels = np.frombuffer(raw.content, np.uint8).reshape(2, 1024, 256)
    assert set(np.unique(labels)) <= {0, 1, 2}
    zipped = api.get(result["labelmap"]["url"], HTTP_ACCEPT_ENCODING="gzip, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == raw.content

    row = next(r for r in api.get("/api/studies/").json()["results"] if r["id"] == str(study.id))
    assert row["report_status"] == "draft" and row["ai_status"] == "succeeded"


def test_labelmap_of_an_unfinished_job_is_404(api, ingest_case, model_version):
    study = ingest_case(0)
    job_id = api.post("/api/inference/jobs", {"study_id": str(study.id)}, format="json").json()[
        "id"
    ]
    assert api.get(f"/api/inference/jobs/{job_id}/labelmap").status_code == 404
    assert InferenceJob.objects.get(id=job_id).state == JobState.QUEUED


def test_models_list_and_activation_is_for_admins(api, admin_api, model_version):
    models = api.get("/api/models/").json()
    assert models[0]["id"] == str(model_version.id) and models[0]["is_active"]
    assert "model_card" in models[0] and "metrics" in models[0]
    url = f"/api/models/{model_version.id}/activate"
    assert api.post(url).status_code == 403
    assert admin_api.post(url).status_code == 200
    assert admin_api.post(f"/api/models/{uuid.uuid4()}/activate").status_code == 404


def test_every_result_stays_listed_and_readable_when_a_newer_one_arrives(
    api, ingest_case, model_version
):
    """The viewer keeps showing the result it had while announcing the new one (a report
    signed re-runs the AI): the summary lists every result and each can be read by job id."""
    study = ingest_case(0)
    first = api.post("/api/inference/jobs", {"study_id": str(study.id)}, format="json").json()
    assert inference_job_run(job_id=first["id"]) == "succeeded"
    rerun = api.post(f"/api/studies/{study.id}/inference-jobs/", {"rerun": True}, format="json")
    second = rerun.json()
    assert second["id"] != first["id"]
    pending = api.get(f"/api/inference/jobs/{second['id']}/result")
    assert pending.status_code == 404 and pending.json()["code"] == "job_no_result"
    assert inference_job_run(job_id=second["id"]) == "succeeded"

    summary = api.get(f"/api/studies/{study.id}/ai").json()
    assert summary["result"]["job_id"] == second["id"]
    assert [r["job_id"] for r in summary["results"]] == [second["id"], first["id"]]
    assert all(r["model_version"]["name"] for r in summary["results"])
    older = api.get(f"/api/inference/jobs/{first['id']}/result")
    assert older.status_code == 200
    assert older.json()["job_id"] == first["id"]
    assert older.json()["labelmap"]["url"].endswith(f"/jobs/{first['id']}/labelmap")
    assert all("region_code" in lesion for lesion in older.json()["lesions"])
    missing = api.get(f"/api/inference/jobs/{uuid.uuid4()}/result")
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"
