"""Frozen AI (precompute conditioned on the study's text setting, freeze, never changed by a
later report sign) and ground truth from a phantom's DICOM SEG, on real phantom studies."""

from __future__ import annotations

import pytest

from inference.models import InferenceJob, JobState
from readerstudies.models import CaseReading, FrozenAiResult, ReaderStudyCase
from readerstudies.selectors import ai_job_ids_allowed
from readerstudies.services.ai import job_result_checksum

BASE = "/api/reader-studies/"


def _draft_with(admin_api, studies, **settings):
    body = admin_api.post(BASE, {"title": "AI", **settings}, format="json").json()
    admin_api.post(f"{BASE}{body['id']}/cases/", {"study_ids": [str(s.id) for s in studies]},
                   format="json")  # fmt: skip
    return body["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["history", "report"])
def test_precompute_conditions_on_the_studys_text_setting(
    admin_api, ingest_phantom, shipped_model, source
):
    study, case = ingest_phantom(0)
    rs_id = _draft_with(admin_api, [study], ai_text_source=source)
    response = admin_api.post(f"{BASE}{rs_id}/ai/precompute/", {}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["skipped"] == []
    job = InferenceJob.objects.get(id=response.json()["jobs"][0]["job_id"])
    history = case["report"]["history"].strip()
    if source == "history":
        assert job.conditioning_text == f"临床病史：{history}"
    else:
        assert case["report"]["impression"].strip() in job.conditioning_text
        assert history in job.conditioning_text
    progress = admin_api.get(f"{BASE}{rs_id}/ai/").json()
    assert progress["total"] == 1 and progress["queued"] == 1 and progress["frozen"] == 0


@pytest.mark.django_db
def test_frozen_result_survives_a_report_sign_and_a_newer_job(
    build_study, readers, rs, make_succeeded_job, settings
):
    from reports.services import report_sign

    reader_study = build_study()
    aided = next(r for r in readers[:2] if rs.session_of(reader_study, r, 1).arm == "aided")
    reading = CaseReading.objects.get(session=rs.session_of(reader_study, aided, 1), position=1)
    frozen = FrozenAiResult.objects.get(case=reading.case)
    before = (frozen.job_id, frozen.model_version_id, frozen.checksum, frozen.conditioning_text)
    assert frozen.conditioning_text == "临床病史：乳腺癌术后"
    assert frozen.checksum == job_result_checksum(frozen.job)

    settings.INFERENCE_AUTO_RUN = True
    report_sign(study=reading.case.study, user=rs.make_user("physician"))
    make_succeeded_job(reading.case.study, conditioning_text=None)  # what a re-run would add

    frozen.refresh_from_db()
    assert (frozen.job_id, frozen.model_version_id, frozen.checksum,
            frozen.conditioning_text) == before  # fmt: skip
    assert frozen.checksum == job_result_checksum(frozen.job)
    assert ai_job_ids_allowed(user=aided, study=reading.case.study) == frozenset({before[0]})
    shown = rs.client_for(aided).post(f"{BASE}my-reading/readings/{reading.id}/open/").json()
    assert shown["ai"]["job_id"] == str(before[0])
    assert shown["ai"]["checksum"] == before[2]


@pytest.mark.django_db
def test_precompute_and_freeze_are_refused_after_the_start(admin_api, build_study):
    reader_study = build_study()
    for path in ("ai/precompute/", "ai/freeze/"):
        response = admin_api.post(f"{BASE}{reader_study.id}/{path}", {}, format="json")
        assert response.status_code == 409
        assert response.json()["extra"]["code"] == "design_locked"


@pytest.mark.django_db
def test_freeze_takes_only_succeeded_jobs(admin_api, build_study, make_succeeded_job):
    reader_study = build_study(stage="draft")
    cases = list(ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study"))
    cases[0].ai_job = make_succeeded_job(cases[0].study)
    cases[0].save()
    failed = make_succeeded_job(cases[1].study)
    InferenceJob.objects.filter(id=failed.id).update(state=JobState.FAILED)
    cases[1].ai_job = failed
    cases[1].save()
    progress = admin_api.post(f"{BASE}{reader_study.id}/ai/freeze/").json()
    assert progress["frozen"] == 1 and progress["failed"] == 1 and progress["none"] == 2
    frozen = next(c for c in progress["cases"] if c["frozen"])
    assert frozen["frozen"]["job_id"] == str(cases[0].ai_job_id)
    assert frozen["frozen"]["model_version"]["checksum"] == "c" * 64


@pytest.mark.django_db
def test_ground_truth_from_the_phantoms_seg(admin_api, ingest_phantom):
    study, case = ingest_phantom(1)
    assert case["lesions"], "the test needs a phantom case with lesions"
    rs_id = _draft_with(admin_api, [study])
    case_row = ReaderStudyCase.objects.get(reader_study_id=rs_id)
    response = admin_api.post(f"{BASE}{rs_id}/cases/{case_row.id}/truth/from-seg/")
    assert response.status_code == 200, response.content
    truth = response.json()["truth"]
    assert truth["source"] == "seg"
    labels = [lesion["label"] for lesion in truth["lesions"]]
    expected = case["lesions"]
    assert sorted(set(labels)) == sorted({lesion["class_name"] for lesion in expected})
    assert truth["metastasis_present"] == ("metastatic" in labels)
    for lesion in truth["lesions"]:
        location = lesion["location"]
        assert location["view"] == "anterior" and location["frame"] == 1
        # Each SEG component lies at a lesion of the phantom (centroids are [row, col]).
        assert any(
            abs(location["y"] - e["centroid"][0]) < 8 and abs(location["x"] - e["centroid"][1]) < 8
            for e in expected
            if e["class_name"] == lesion["label"]
        ), location


@pytest.mark.django_db
def test_truth_from_seg_without_a_seg_names_the_problem(admin_api, build_study):
    reader_study = build_study(stage="draft")
    case = ReaderStudyCase.objects.filter(reader_study=reader_study).first()
    response = admin_api.post(f"{BASE}{reader_study.id}/cases/{case.id}/truth/from-seg/")
    assert response.status_code == 400
    assert response.json()["extra"]["code"] == "no_truth_seg"


@pytest.mark.django_db
def test_candidate_studies_list_the_archive_without_patient_names(admin_api, ingest_phantom, rs):
    study, case = ingest_phantom(0)
    response = admin_api.get(f"{BASE}candidate-studies/?kind=planar&q={study.accession_number}")
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == str(study.id) and row["has_report"] and row["has_seg"]
    assert case["study"]["patient_name"] not in response.content.decode()
    assert rs.client_for(rs.make_user("reader")).get(f"{BASE}candidate-studies/").status_code == 403
