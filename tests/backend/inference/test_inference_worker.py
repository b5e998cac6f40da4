"""Real worker processes on the real broker (filesystem or Redis) and the real database:
duplicate deliveries, a worker killed with SIGKILL in the middle of a job, cancel while running.

"Mid-job" is made deterministic by INFERENCE_TEST_PAUSE_FILE: the running job waits after
reading its images, before predicting, while that file exists.
"""

from __future__ import annotations

import re

import pytest

from inference import services
from inference.models import InferenceJob, JobState, Lesion
from inference.tasks import run_inference_job
from studies.models import IngestSource, Instance

pytestmark = pytest.mark.services

FAST_RECOVERY = {
    "INFERENCE_LEASE_SECONDS": "3",
    "INFERENCE_HEARTBEAT_SECONDS": "0.5",
    "INFERENCE_RECOVER_INTERVAL": "1",
    "INFERENCE_TORCH_THREADS": "1",
}


def job_state(job_id):
    return InferenceJob.objects.get(id=job_id)


def assert_one_result(job: InferenceJob) -> None:
    ai = Instance.objects.filter(series__study=job.study, source=IngestSource.AI)
    assert ai.count() == 2  # one SEG per planar view
    assert set(ai.values_list("series__series_instance_uid", flat=True)) == {job.seg_series_uid}
    assert set(job.seg_instances.values_list("id", flat=True)) == set(
        ai.values_list("id", flat=True)
    )
    lesions = Lesion.objects.filter(job=job)
    assert lesions.count() == sum(job.summary["lesion_counts"].values())
    assert lesions.values("number").distinct().count() == lesions.count()


def test_duplicate_deliveries_to_two_processes_give_one_result(
    start_worker, ingest_case, model_version
):
    worker = start_worker(concurrency=2, extra_env=FAST_RECOVERY)
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)  # sends the task on commit
    run_inference_job.delay(job_id=str(job.id))  # and two more deliveries of the same job
    run_inference_job.delay(job_id=str(job.id))

    worker.wait_for(lambda: job_state(job.id).state == JobState.SUCCEEDED, what="success")
    worker.wait_for(
        lambda: (
            len(re.findall(r"inference\.run_job\[[^\]]+\] succeeded", worker.log_path.read_text()))
            >= 3
        ),
        timeout=60,
        what="all three deliveries",
    )
    job.refresh_from_db()
    assert job.attempts == 1
    assert_one_result(job)
    assert job.timings["predict"] > 0


def test_worker_killed_mid_job_is_restarted_and_the_job_finishes_exactly_once(
    start_worker, ingest_case, model_version, tmp_path
):
    pause = tmp_path / "pause"
    pause.touch()
    env = {**FAST_RECOVERY, "INFERENCE_TEST_PAUSE_FILE": str(pause)}
    first = start_worker(extra_env=env)
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    first.wait_for(
        lambda: job_state(job.id).stage == "reading_images",
        what="the job to reach the pause point",
    )
    first.kill()  # SIGKILL, mid-job: images read, nothing predicted or stored
    killed = job_state(job.id)
    assert killed.state == JobState.RUNNING and killed.attempts == 1
    assert not Instance.objects.filter(series__study=study, source=IngestSource.AI).exists()

    pause.unlink()
    second = start_worker(extra_env=env)
    second.wait_for(
        lambda: job_state(job.id).state == JobState.SUCCEEDED,
        what="the restarted worker to finish the job",
    )
    job.refresh_from_db()
    assert job.attempts == 2
    assert_one_result(job)


def test_cancel_a_running_job(start_worker, ingest_case, model_version, tmp_path, api):
    pause = tmp_path / "pause"
    pause.touch()
    worker = start_worker(extra_env={**FAST_RECOVERY, "INFERENCE_TEST_PAUSE_FILE": str(pause)})
    study = ingest_case(0)
    job, _ = services.inference_job_create(study=study)
    worker.wait_for(lambda: job_state(job.id).stage == "reading_images", what="pause")

    response = api.post(f"/api/inference/jobs/{job.id}/cancel")
    assert response.status_code == 200
    assert response.json()["state"] == "running" and response.json()["cancel_requested"]
    pause.unlink()
    worker.wait_for(lambda: job_state(job.id).state == JobState.CANCELLED, what="cancel")
    assert not Instance.objects.filter(series__study=study, source=IngestSource.AI).exists()
    assert not Lesion.objects.filter(job=job).exists()
