"""Writes of the inference app: register/activate models; create, cancel, recover jobs.

The run itself (claim -> read -> predict -> store, exactly once) is in :mod:`inference.runner`.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import ApplicationError, ConflictError, NotFoundError
from inference.imaging import study_has_images, study_task
from inference.models import (
    ACTIVE_STATES,
    TERMINAL_STATES,
    InferenceJob,
    JobState,
    ModelTask,
    ModelVersion,
)
from studies.models import Study

log = logging.getLogger(__name__)

BATCH_MAX_STUDIES = 1000


# --- model versions -------------------------------------------------------------------------


def model_path(model_version: ModelVersion) -> Path:
    path = Path(model_version.path)
    return path if path.is_absolute() else Path(settings.MODEL_DIR) / path


def _read_release_config(path: Path) -> dict[str, Any]:
    config_file = path / "config.json"
    try:
        return json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ApplicationError(f"No model release at {path} (config.json missing).") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ApplicationError(f"Cannot read {config_file}: {exc}") from exc


@transaction.atomic
def model_version_register(
    *,
    path: str | Path,
    name: str = "",
    version: str = "",
    activate: bool | None = None,
    user: Any = None,
    model_card: str | None = None,
) -> tuple[ModelVersion, bool]:
    """Register a release directory as a ModelVersion (idempotent by task, weights and
    post-processing).

    The weights' sha256 is computed now and must equal ``config.json``'s ``weights_sha256``;
    the sha256 of its ``postprocess`` section is recorded too. The worker checks both again on
    every load. The same weights with other post-processing (a refitted threshold or
    recalibration, a report-site rule) become a new version, by default named
    ``<version>-post-<8 hex digits>``, so that jobs made with the old settings are not
    returned for the new ones.

    Args:
        path: the release directory (kept relative to MODEL_DIR when inside it).
        name / version: defaults from config.json (``model_name``; ``version`` or the first 12
            hex digits of the checksum, with the post-processing's suffix as above).
        activate: True: make it the active model of its task; False: never; None: when the
            task has no active model yet, or when this is a new version of a release updated in
            place at the active version's path (the active one's files are gone: the worker
            would refuse every job of it).
        model_card: Markdown; default the release's ``MODEL_CARD.md``/``model_card.md`` if any.

    Returns:
        ``(model_version, created)``.
    """
    from boneread_ml.models.release import (
        CheckpointError,
        check_postprocess,
        postprocess_sha256,
        sha256_file,
    )

    path = Path(path).resolve()
    config = _read_release_config(path)
    task = config.get("task")
    if task not in ModelTask.values:
        raise ApplicationError(f"{path}: unknown task {task!r} in config.json.")
    weights = path / config.get("weights_file", "model.safetensors")
    if not weights.is_file():
        raise ApplicationError(f"{path}: weights file {weights.name} missing.")
    checksum = sha256_file(weights)
    if checksum != config.get("weights_sha256"):
        raise ApplicationError(
            f"{path}: the weights' sha256 ({checksum[:12]}...) does not match config.json "
            f"({str(config.get('weights_sha256'))[:12]}...); refusing to register."
        )
    try:  # what predict() would apply: refused now, not in the middle of a job
        check_postprocess(config, where=str(path / "config.json"))
    except CheckpointError as exc:
        raise ApplicationError(f"{exc}; refusing to register.") from exc
    postprocess = postprocess_sha256(config)
    existing = (
        ModelVersion.objects.select_for_update()
        .filter(task=task, checksum=checksum, postprocess_sha256=postprocess)
        .first()
    )
    created = existing is None
    if existing is None:
        try:
            stored_path = str(path.relative_to(Path(settings.MODEL_DIR).resolve()))
        except ValueError:
            stored_path = str(path)
        if model_card is None:
            model_card = next(
                (
                    p.read_text(encoding="utf-8")
                    for p in (
                        path / "MODEL_CARD.md",
                        path / "model_card.md",
                        path / "README.md",
                        Path(settings.REPO_DIR) / "docs" / "model-card.md",
                    )
                    if p.is_file()
                ),
                "",
            )
        metrics = config.get("metrics") or {}
        if not metrics and isinstance(config.get("training"), dict):
            metrics = {"training": config["training"]}
        name = name or str(config.get("experiment") or config.get("model_name") or path.name)
        if not version:
            version = str(config.get("version") or checksum[:12])
            if ModelVersion.objects.filter(task=task, name=name, version=version).exists():
                # the same weights registered before with other post-processing
                version = f"{version}-post-{postprocess[:8]}"
        existing = ModelVersion(
            name=name,
            task=task,
            version=version,
            path=stored_path,
            checksum=checksum,
            postprocess_sha256=postprocess,
            config=config,
            metrics=metrics,
            model_card=model_card or "",
            registered_by=user if getattr(user, "is_authenticated", False) else None,
        )
        existing.full_clean(exclude=["registered_by"])
        existing.save(force_insert=True)
    active = ModelVersion.objects.filter(task=task, is_active=True).first()
    replaces_active = created and active is not None and active.path == existing.path
    if activate or (activate is None and (active is None or replaces_active)):
        model_version_activate(model_version=existing)
        existing.refresh_from_db()
    return existing, created


@transaction.atomic
def model_version_activate(*, model_version: ModelVersion) -> ModelVersion:
    """Make this the active model of its task (the one new jobs use)."""
    ModelVersion.objects.select_for_update().filter(task=model_version.task).exclude(
        id=model_version.id
    ).update(is_active=False)
    ModelVersion.objects.filter(id=model_version.id).update(is_active=True)
    model_version.is_active = True
    return model_version


def models_register_shipped() -> list[tuple[ModelVersion, bool]]:
    """Register every ``MODEL_DIR/<task>`` release (the shipped checkpoints); idempotent.

    A shipped release updated in place (new weights or post-processing at the same path)
    becomes a new version, and the active one when the old active version was at that path
    (see :func:`model_version_register`).
    """
    results = []
    for task in settings.MODEL_TASKS:
        path = Path(settings.MODEL_DIR) / task
        if (path / "config.json").is_file():
            results.append(model_version_register(path=path))
    return results


# --- jobs -----------------------------------------------------------------------------------


def _enqueue(job: InferenceJob) -> None:
    """Send the job to a worker once the current transaction commits."""
    from inference.tasks import run_inference_job

    job_id = str(job.id)
    transaction.on_commit(lambda: run_inference_job.delay(job_id=job_id))


def _latest_report_version(study: Study):
    from reports.models import ReportVersion

    return ReportVersion.objects.filter(report__study=study).order_by("-number").first()


def _dedupe_key(
    study: Study, report_version: Any, model_version: ModelVersion, text: str | None = None
) -> str:
    key = f"{study.id}:{report_version.id if report_version else '-'}:{model_version.id}"
    if text is not None:  # a job conditioned on its own text is another result
        import hashlib

        key += ":" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return key


def _resolve_model(study: Study, model_version_id: Any) -> ModelVersion:
    task = study_task(study)
    if task is None or not study_has_images(study):
        raise ApplicationError(
            "This study has no whole-body planar or SPECT/CT bone images the AI can read.",
            extra={"study_id": str(study.id), "kind": study.kind},
        )
    if model_version_id:
        try:
            model_version = ModelVersion.objects.filter(id=uuid.UUID(str(model_version_id))).first()
        except ValueError:
            model_version = None
        if model_version is None:
            raise NotFoundError(f"No model version with id {model_version_id}.")
        if model_version.task != task:
            raise ApplicationError(
                f"Model version {model_version} is for {model_version.task} images; "
                f"this study is {task}."
            )
        return model_version
    model_version = ModelVersion.objects.filter(task=task, is_active=True).first()
    if model_version is None:
        raise ApplicationError(
            f"No active {task} model: an admin must register and activate one "
            "(manage.py register_models).",
            extra={"task": task},
        )
    return model_version


def inference_job_create(
    *,
    study: Study,
    user: Any = None,
    model_version_id: Any = None,
    rerun: bool = False,
    trigger: str = "api",
    batch_id: uuid.UUID | None = None,
    conditioning_text: str | None = None,
) -> tuple[InferenceJob, bool]:
    """Queue a job for the study with its current report version and a model version.

    The same study + report version + model version gives one job (returned with
    ``created=False``) unless ``rerun`` is asked for; a failed or cancelled job does not count.
    Concurrent requests for the same triple are serialised by a unique key: one job.
    ``conditioning_text`` (reader studies): condition the model on this text instead of the
    report version's full text; it is part of the job's identity.

    Raises:
        ApplicationError: the study has no images the models read, no active model, or the
            model is for another task.
        NotFoundError: unknown model version.
    """
    model_version = _resolve_model(study, model_version_id)
    report_version = _latest_report_version(study)
    key = _dedupe_key(study, report_version, model_version, conditioning_text)
    if not rerun:
        existing = (
            InferenceJob.objects.filter(
                study=study,
                model_version=model_version,
                report_version=report_version,
                conditioning_text=conditioning_text,
                state__in=[*ACTIVE_STATES, JobState.SUCCEEDED],
            )
            .order_by("-created")
            .first()
        )
        if existing is not None:
            return existing, False
    job = InferenceJob(
        study=study,
        model_version=model_version,
        report_version=report_version,
        dedupe_key=None if rerun else key,
        is_rerun=rerun,
        trigger=trigger,
        batch_id=batch_id,
        conditioning_text=conditioning_text,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        queued_at=timezone.now(),
    )
    # Uniqueness of dedupe_key is the database's to enforce (IntegrityError below).
    job.full_clean(
        exclude=["study", "model_version", "report_version", "requested_by"],
        validate_unique=False,
    )
    try:
        with transaction.atomic():
            job.save(force_insert=True)
            _enqueue(job)
    except IntegrityError:
        # A concurrent request created the job for this triple first: that one is the job.
        existing = InferenceJob.objects.filter(dedupe_key=key).first()
        if existing is None:
            raise
        return existing, False
    return job, True


def inference_auto_run(*, study: Study, reason: str) -> InferenceJob | None:
    """Auto-run (settings.INFERENCE_AUTO_RUN): queue a job when the study has its images, a
    report and an active model for its kind; otherwise do nothing."""
    if not settings.INFERENCE_AUTO_RUN:
        return None
    task = study_task(study)
    if task is None or not study_has_images(study):
        return None
    if not ModelVersion.objects.filter(task=task, is_active=True).exists():
        return None
    job, created = inference_job_create(study=study, trigger="auto")
    if created:
        log.info("auto-run job %s for study %s (%s)", job.id, study.id, reason)
    return job


def inference_auto_run_sweep(*, limit: int = 50) -> int:
    """Auto-run for studies whose images arrived after their report: every study of a kind the
    models read, with a report and no job yet, gets one (run by the workers' recovery loop)."""
    if not settings.INFERENCE_AUTO_RUN:
        return 0
    active_tasks = list(ModelVersion.objects.filter(is_active=True).values_list("task", flat=True))
    studies = Study.objects.filter(
        kind__in=active_tasks, report__isnull=False, inference_jobs__isnull=True
    ).order_by("created")[:limit]
    queued = 0
    for study in studies:
        try:
            if inference_auto_run(study=study, reason="images arrived after the report"):
                queued += 1
        except ApplicationError as exc:
            log.info("auto-run skipped study %s: %s", study.id, exc.message)
    return queued


def inference_jobs_batch(
    *, studies: list[Study], user: Any = None, model_version_id: Any = None, rerun: bool = False
) -> dict[str, Any]:
    """Queue a job per study; a study that cannot run is reported, not fatal."""
    if len(studies) > BATCH_MAX_STUDIES:
        raise ApplicationError(f"At most {BATCH_MAX_STUDIES} studies per batch.")
    batch_id = uuid.uuid4()
    jobs, skipped = [], []
    for study in studies:
        try:
            job, created = inference_job_create(
                study=study,
                user=user,
                model_version_id=model_version_id,
                rerun=rerun,
                trigger="batch",
                batch_id=batch_id,
            )
        except ApplicationError as exc:
            skipped.append({"study_id": str(study.id), "reason": exc.message})
            continue
        jobs.append((job, created))
    return {"batch_id": batch_id, "jobs": jobs, "skipped": skipped}


@transaction.atomic
def inference_job_cancel(*, job: InferenceJob, user: Any = None) -> InferenceJob:
    """Cancel a queued job now; ask a running job to stop at its next stage.

    Raises:
        ConflictError: the job has already finished.
    """
    job = InferenceJob.objects.select_for_update().get(id=job.id)
    if job.state in TERMINAL_STATES:
        raise ConflictError(
            f"The job has already finished ({job.state}); there is nothing to cancel.",
            extra={"state": job.state},
        )
    if job.state == JobState.QUEUED:
        _finish(job, JobState.CANCELLED, error="Cancelled before it started.")
    else:
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested", "modified"])
    return job


def _finish(job: InferenceJob, state: str, *, error: str = "", detail: str = "") -> None:
    """Move a (locked) job to a terminal state."""
    job.state = state
    job.finished_at = timezone.now()
    job.run_token = None
    if state != JobState.SUCCEEDED:
        job.dedupe_key = None  # a failed/cancelled job must not block a new request
        job.error = error
        job.error_detail = detail
    else:
        job.progress = 1.0
    job.stage = state
    job.save()


def inference_jobs_recover(*, now=None) -> dict[str, int]:
    """Re-queue jobs whose worker died, and re-send jobs whose message was lost.

    * running, heartbeat older than INFERENCE_LEASE_SECONDS: its worker stopped (killed,
      machine lost). Queued again and re-sent, or failed after INFERENCE_MAX_ATTEMPTS attempts.
    * queued longer than INFERENCE_REQUEUE_AFTER since it was last sent: re-sent (a broker
      without redelivery loses a message taken by a killed worker). A duplicate message is
      harmless: the run is idempotent.
    """
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stale = now - timedelta(seconds=settings.INFERENCE_LEASE_SECONDS)
    for job_id in InferenceJob.objects.filter(
        state=JobState.RUNNING, heartbeat_at__lt=stale
    ).values_list("id", flat=True):
        with transaction.atomic():
            job = InferenceJob.objects.select_for_update().get(id=job_id)
            if job.state != JobState.RUNNING or (job.heartbeat_at and job.heartbeat_at >= stale):
                continue
            if job.cancel_requested:
                _finish(job, JobState.CANCELLED, error="Cancelled.")
            elif job.attempts >= settings.INFERENCE_MAX_ATTEMPTS:
                _finish(
                    job,
                    JobState.FAILED,
                    error=(
                        f"The worker running this job stopped {job.attempts} times (killed or "
                        "out of memory); the job was given up. Ask an admin to check the workers."
                    ),
                )
                counts["failed"] += 1
            else:
                log.warning("job %s: worker %s stopped; re-queued", job.id, job.worker)
                job.state = JobState.QUEUED
                job.stage = "requeued"
                job.run_token = None
                job.queued_at = now
                job.save()
                _enqueue(job)
                counts["requeued"] += 1
    lost = now - timedelta(seconds=settings.INFERENCE_REQUEUE_AFTER)
    for job in InferenceJob.objects.filter(state=JobState.QUEUED, queued_at__lt=lost):
        with transaction.atomic():
            updated = InferenceJob.objects.filter(
                id=job.id, state=JobState.QUEUED, queued_at__lt=lost
            ).update(queued_at=now)
            if updated:
                _enqueue(job)
                counts["resent"] += 1
    return counts
