"""The frozen AI end to end: the precompute's batch runs on a real worker process (real broker,
the shipped planar model) conditioned on the history only; the freeze records that result."""

import pytest

from inference.models import InferenceJob, JobState
from readerstudies.models import FrozenAiResult, ReaderStudyCase
from readerstudies.selectors import ai_job_ids_allowed
from readerstudies.services.ai import job_result_checksum, reader_study_ai_precompute
from readerstudies.services.design import (
    case_truth_set,
    reader_study_cases_add,
    reader_study_create,
    reader_study_reader_add,
    reader_study_start,
)

pytestmark = pytest.mark.services


def test_precomputed_batch_runs_on_a_worker_and_is_frozen_at_the_start(
    start_worker, ingest_phantom, shipped_model, study_admin, readers
):
    worker = start_worker(extra_env={"INFERENCE_TORCH_THREADS": "1"})
    study, case = ingest_phantom(0)
    reader_study = reader_study_create(user=study_admin, title="worker", design="parallel")
    reader_study_cases_add(reader_study=reader_study, user=study_admin, study_ids=[study.id])
    rs_case = ReaderStudyCase.objects.get(reader_study=reader_study)
    case_truth_set(case=rs_case, user=study_admin, metastasis_present=False)
    for reader in readers[:2]:
        reader_study_reader_add(reader_study=reader_study, user=study_admin, reader=reader)
    result = reader_study_ai_precompute(reader_study=reader_study, user=study_admin)
    job_id = result["jobs"][0]["job_id"]
    job = worker.wait_for(
        lambda: InferenceJob.objects.filter(id=job_id, state=JobState.SUCCEEDED).first(),
        timeout=300,
        what="the precomputed job",
    )
    assert job.conditioning_text == f"临床病史：{case['report']['history'].strip()}"
    assert job.labelmap_file and job.seg_series_uid

    reader_study_start(reader_study=reader_study, user=study_admin)
    frozen = FrozenAiResult.objects.get(case=rs_case)
    assert frozen.job_id == job.id and frozen.model_version_id == shipped_model.id
    assert frozen.checksum == job_result_checksum(job)
    assert frozen.conditioning_text == job.conditioning_text
    assert frozen.lesion_count == job.lesions.count()
    allowed = {ai_job_ids_allowed(user=reader, study=study) for reader in readers[:2]}
    assert allowed == {frozenset(), frozenset({job.id})}  # one reader per arm
