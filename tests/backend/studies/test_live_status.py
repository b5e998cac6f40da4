"""The live status endpoint that open worklists and viewers poll: right answers, 304 when
nothing changed, constant cost whatever the number of studies, clear 4xx for bad ids."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studies.models import Patient, Study

pytestmark = pytest.mark.django_db

_counter = itertools.count(1)
URL = "/api/studies/status"


@pytest.fixture(autouse=True)
def no_auto_run(settings):
    settings.INFERENCE_AUTO_RUN = False


def make_study() -> Study:
    n = next(_counter)
    patient = Patient.objects.create(
        patient_key=f"live-{n}", patient_id=f"L{n:05d}", name="LI^NA", name_search="li^na"
    )
    return Study.objects.create(
        study_instance_uid=f"1.2.826.0.1.3680043.9.8888.{n}",
        patient=patient,
        accession_number=f"LIVE{n:05d}",
        kind="planar",
    )


def make_job(study: Study, state: str, **fields):
    from inference.models import InferenceJob, ModelVersion

    model, _ = ModelVersion.objects.get_or_create(
        name="mt_unet",
        task="planar",
        version="1",
        defaults={"path": "planar", "checksum": "0" * 64},
    )
    return InferenceJob.objects.create(study=study, model_version=model, state=state, **fields)


def get(api, ids, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return api.get(URL, {"ids": ",".join(str(i) for i in ids)}, **headers)


def test_status_follows_reports_and_jobs_and_answers_304_when_unchanged(api, physician):
    from reports.services import report_save, report_sign

    study = make_study()
    first = get(api, [study.id])
    assert first.status_code == 200
    assert first.json()["studies"] == [
        {
            "id": str(study.id),
            "report_status": None,
            "report_version": None,
            "ai_status": None,
            "ai_job_id": None,
            "ai_progress": None,
            "ai_result_job_id": None,
        }
    ]
    etag = first["ETag"]
    unchanged = get(api, [study.id], etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == etag

    report_save(
        study=study, user=physician, history="", findings="胸椎浓聚。", impression="骨转移。",
        base_version=0,
    )  # fmt: skip
    job = make_job(study, "queued")
    changed = get(api, [study.id], etag)
    assert changed.status_code == 200
    (row,) = changed.json()["studies"]
    assert (row["report_status"], row["report_version"]) == ("draft", 1)
    assert (row["ai_status"], row["ai_job_id"], row["ai_result_job_id"]) == (
        "queued",
        str(job.id),
        None,
    )

    job.state = "succeeded"
    job.finished_at = timezone.now()
    job.progress = 1.0
    job.save()
    report_sign(study=study, user=physician, version=1)
    done = get(api, [study.id], changed["ETag"])
    assert done.status_code == 200
    (row,) = done.json()["studies"]
    assert row["report_status"] == "signed"
    assert row["ai_status"] == "succeeded"
    assert row["ai_result_job_id"] == str(job.id)

    # A newer job queued after the result: the result stays the older one until it finishes.
    newer = make_job(study, "queued")
    (row,) = get(api, [study.id]).json()["studies"]
    assert row["ai_job_id"] == str(newer.id)
    assert row["ai_result_job_id"] == str(job.id)


def test_a_304_costs_the_same_few_queries_for_1_or_50_studies(api):
    studies = [make_study() for _ in range(50)]
    for study in studies[::3]:
        make_job(study, "running", progress=0.5)
    counts = {}
    for n in (1, 50):
        ids = [s.id for s in studies[:n]]
        etag = get(api, ids)["ETag"]
        with CaptureQueriesContext(connection) as queries:
            response = get(api, ids, etag)
        assert response.status_code == 304
        counts[n] = len(queries)
    assert counts[50] == counts[1], counts
    assert counts[50] <= 3, counts  # the status query, plus the session's user when not forced


def test_studies_the_user_may_not_see_or_that_do_not_exist_are_left_out(api):
    study = make_study()
    response = get(api, [study.id, uuid.uuid4()])
    assert [row["id"] for row in response.json()["studies"]] == [str(study.id)]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "status_ids_missing"),
        ("not-a-uuid", "status_bad_id"),
        (",".join(str(uuid.uuid4()) for _ in range(101)), "status_too_many_ids"),
    ],
)
def test_bad_ids_are_a_clear_400(api, query, code):
    response = api.get(URL, {"ids": query})
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_anonymous_callers_get_no_status():
    from rest_framework.test import APIClient

    study = make_study()
    assert APIClient().get(URL, {"ids": str(study.id)}).status_code in (401, 403)


def test_a_reader_gets_no_live_ai_status(api, monkeypatch):
    """Blinding is the reader study's decision: the live status never tells a reader about AI."""
    from rest_framework.test import APIClient

    from accounts.models import Role
    from accounts.services import user_create
    from readerstudies import selectors as rs_selectors
    from studies import live_status
    from studies.models import Study

    study = make_study()
    # the reader's current session holds this case (stand-in for a reader study's schedule)
    monkeypatch.setattr(
        rs_selectors,
        "reader_study_ids_for_user",
        lambda *, user: Study.objects.filter(id=study.id).values("id"),
    )
    make_job(study, "succeeded", finished_at=timezone.now())
    reader = user_create(username="reader1", password="Bone-scan-2026", role=Role.READER)
    (row,) = live_status.study_statuses(user=reader, ids=[study.id])
    assert (row["ai_status"], row["ai_job_id"], row["ai_result_job_id"]) == (None, None, None)
    client = APIClient()
    client.force_authenticate(reader)
    for row in client.get(URL, {"ids": str(study.id)}).json()["studies"]:
        assert row["ai_status"] is None and row["ai_result_job_id"] is None
    (row,) = get(api, [study.id]).json()["studies"]
    assert row["ai_status"] == "succeeded"
