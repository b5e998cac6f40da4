"""Celery tasks of the inference app: thin adapters around :mod:`inference.runner`."""

from __future__ import annotations

import logging

from django.conf import settings

from core.tasks import boneread_task

log = logging.getLogger(__name__)


@boneread_task(
    name="inference.run_job",
    time_limit=settings.INFERENCE_TIME_LIMIT,
    bind=True,
    max_retries=settings.INFERENCE_MAX_RETRIES,
)
def run_inference_job(self, *, job_id: str) -> str:
    """Run one job; safe to deliver twice. Transient errors are retried with backoff."""
    from inference.runner import TransientJobError, inference_job_give_up, inference_job_run

    try:
        return inference_job_run(job_id=job_id)
    except TransientJobError as exc:
        retries = self.request.retries
        if retries >= self.max_retries:
            inference_job_give_up(
                job_id=job_id,
                message=f"A temporary problem persisted after {retries + 1} tries: {exc}. "
                "Try again later or ask an admin.",
            )
            return "failed"
        countdown = min(settings.INFERENCE_RETRY_BACKOFF * 2**retries, 300)
        log.warning("job %s: transient error, retry in %s s: %s", job_id, countdown, exc)
        raise self.retry(exc=exc, countdown=countdown) from exc


@boneread_task(name="inference.recover_jobs", time_limit=120)
def recover_inference_jobs() -> dict:
    from inference.services import inference_jobs_recover

    return inference_jobs_recover()
