"""Run one inference job exactly once: claim -> read images -> predict -> store results.

Safe to call any number of times for the same job, concurrently or after a crash:

* the claim (``select_for_update``) moves queued -> running and gives the run a token; a
  delivery that finds the job finished, or running under a live heartbeat, returns at once;
* the run checks between stages that it still owns the job and that nobody cancelled it;
* every output is keyed by the job id, and the SEG ingest, the lesion rows and
  ``state=succeeded`` are written in ONE transaction that first re-checks ownership: either
  all of a run's results are committed or none, and never twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.db import connection as db_connection
from django.utils import timezone

from inference.imaging import ImagingError, labelmap_frames, read_model_input
from inference.models import TERMINAL_STATES, InferenceJob, JobState, Lesion, ModelVersion
from inference.services import _finish, model_path

log = logging.getLogger(__name__)


class TransientJobError(Exception):
    """Worth retrying (database or storage hiccup); the task retries it with backoff."""


class JobLost(Exception):
    """This run no longer owns the job (cancelled, or re-queued to another worker)."""


class PermanentJobError(Exception):
    """Retrying will not help; ``message`` is shown to the user."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


# --- per-process model cache ----------------------------------------------------------------

_MODEL_CACHE: dict[tuple[str, str, str], Any] = {}
_MODEL_LOCK = threading.Lock()


def model_load(model_version: ModelVersion) -> Any:
    """The loaded model for a version, once per process (sha256 verified on that load)."""
    from boneread_ml.predict import CheckpointError, load_model

    path = model_path(model_version)
    key = (str(path), model_version.checksum, model_version.postprocess_sha256)
    with _MODEL_LOCK:
        if key in _MODEL_CACHE:
            return _MODEL_CACHE[key]
        try:
            loaded = load_model(path, device=_device())
        except (CheckpointError, FileNotFoundError, OSError) as exc:
            raise PermanentJobError(
                f"The model {model_version.name} {model_version.version} could not be loaded: "
                f"{exc}. An admin must re-register or replace it.",
                traceback.format_exc(),
            ) from exc
        if loaded.checksum != model_version.checksum:
            raise PermanentJobError(
                f"The files of model {model_version.name} {model_version.version} changed since "
                f"it was registered (sha256 {loaded.checksum[:12]}... instead of "
                f"{model_version.checksum[:12]}...). An admin must register the new files."
            )
        from boneread_ml.models.release import postprocess_sha256

        if postprocess_sha256(loaded.config) != model_version.postprocess_sha256:
            raise PermanentJobError(
                f"The post-processing settings of model {model_version.name} "
                f"{model_version.version} (config.json's postprocess: threshold, recalibration, "
                "report-site rules) changed since it was registered. An admin must register the "
                "release again; it becomes a new version."
            )
        _MODEL_CACHE[key] = loaded
        return loaded


def _device() -> str:
    wanted = settings.INFERENCE_DEVICE
    if wanted == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted


# --- ownership, heartbeat, stages -----------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(job_id: str) -> tuple[InferenceJob, uuid.UUID] | None:
    """Take the job for this run, or None when there is nothing to do."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            InferenceJob.objects.select_for_update(of=("self",))
            .select_related("model_version", "study", "report_version")
            .filter(id=job_id)
            .first()
        )
        if job is None or job.state in TERMINAL_STATES:
            return None
        if job.cancel_requested:
            _finish(job, JobState.CANCELLED, error="Cancelled.")
            return None
        lease = timedelta(seconds=settings.INFERENCE_LEASE_SECONDS)
        if job.state == JobState.RUNNING and job.heartbeat_at and job.heartbeat_at > now - lease:
            log.info("job %s is running on %s; duplicate delivery ignored", job.id, job.worker)
            return None
        if job.attempts >= settings.INFERENCE_MAX_ATTEMPTS:
            _finish(
                job,
                JobState.FAILED,
                error=f"The job was attempted {job.attempts} times without finishing; given up.",
            )
            return None
        token = uuid.uuid4()
        job.state = JobState.RUNNING
        job.stage = "starting"
        job.progress = 0.05
        job.attempts += 1
        job.run_token = token
        job.worker = _worker_name()
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.error = ""
        job.save()
    return job, token


def _check(job_id, token, *, stage: str, progress: float) -> None:
    """Between stages: still ours and not cancelled? Then record the stage."""
    with transaction.atomic():
        job = InferenceJob.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.run_token != token or job.state != JobState.RUNNING:
            raise JobLost(f"job {job_id} is no longer owned by this run")
        if job.cancel_requested:
            _finish(job, JobState.CANCELLED, error="Cancelled while running.")
            raise JobLost(f"job {job_id} was cancelled")
        job.stage = stage
        job.progress = progress
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["stage", "progress", "heartbeat_at", "modified"])


@contextmanager
def _heartbeat(job_id, token):
    """Keep the job's lease alive from a thread while a long stage (predict) runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.INFERENCE_HEARTBEAT_SECONDS):
                try:
                    InferenceJob.objects.filter(id=job_id, run_token=token).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    log.warning("job %s: heartbeat failed", job_id, exc_info=True)
        finally:
            db_connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _test_pause(job_id) -> None:
    """Test hook (settings.INFERENCE_TEST_PAUSE_FILE): wait here while that file exists, so a
    test can kill or cancel a job at a known point instead of sleeping blindly."""
    pause_file = settings.INFERENCE_TEST_PAUSE_FILE
    if not pause_file:
        return
    while os.path.exists(pause_file):
        time.sleep(0.05)


# --- the run --------------------------------------------------------------------------------


def inference_job_run(*, job_id: str) -> str:
    """Run the job if it still needs running; returns what happened (for logs and tests)."""
    try:
        claimed = _claim(job_id)
    except (OperationalError, InterfaceError) as exc:
        raise TransientJobError(f"{type(exc).__name__}: {exc}") from exc
    if claimed is None:
        return "skipped"
    job, token = claimed
    timings: dict[str, float] = {}
    try:
        with _heartbeat(job.id, token):
            return _run_stages(job, token, timings)
    except JobLost as exc:
        log.info("%s", exc)
        return "lost"
    except (OperationalError, InterfaceError, ConnectionError, TimeoutError) as exc:
        _release_for_retry(job.id, token, f"{type(exc).__name__}: {exc}")
        raise TransientJobError(str(exc)) from exc
    except PermanentJobError as exc:
        _fail(job.id, token, exc.message, exc.detail or traceback.format_exc())
        return "failed"
    except ImagingError as exc:
        _fail(job.id, token, f"The study's images cannot be used: {exc}", traceback.format_exc())
        return "failed"
    except Exception as exc:
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(exc, SoftTimeLimitExceeded):
            _fail(
                job.id,
                token,
                f"The job took longer than {settings.INFERENCE_TIME_LIMIT * 0.9:.0f} s and was "
                "stopped. Try again when the workers are less busy, or ask an admin.",
            )
            return "failed"
        if isinstance(exc, OSError):  # storage (disk, S3) trouble: worth a retry
            _release_for_retry(job.id, token, f"{type(exc).__name__}: {exc}")
            raise TransientJobError(str(exc)) from exc
        log.exception("job %s failed", job.id)
        _fail(
            job.id,
            token,
            "Unexpected error while running the model; an admin can see the details.",
            traceback.format_exc(),
        )
        return "failed"


def _timed(timings: dict[str, float], name: str):
    class _Timer:
        def __enter__(self):
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            timings[name] = round(time.perf_counter() - self.start, 4)

    return _Timer()


def job_conditioning_text(job: InferenceJob) -> str:
    """The text the job's model is conditioned on: the job's own text when it has one (a
    reader study's history-only setting), else its report version's full text."""
    if job.conditioning_text is not None:
        return job.conditioning_text
    return job.report_version.text if job.report_version else ""


def _run_stages(job: InferenceJob, token: uuid.UUID, timings: dict[str, float]) -> str:
    from boneread_ml.predict import ModelOutputError, predict

    with _timed(timings, "load_model"):
        model = model_load(job.model_version)
    _check(job.id, token, stage="reading_images", progress=0.15)
    with _timed(timings, "read_images"):
        model_input = read_model_input(job.study)
    if model_input.task != job.model_version.task:
        raise PermanentJobError(
            f"The study's images are {model_input.task}; the model is for {job.model_version.task}."
        )
    _test_pause(job.id)
    _check(job.id, token, stage="predicting", progress=0.3)
    from inference.ct_regions import from_standard, to_standard

    # a CT stored with its columns to the patient's right is read in the standard frame
    images, ct_sites = to_standard(model_input)
    with _timed(timings, "predict"):
        try:
            prediction = predict(
                images, job_conditioning_text(job), model, spacing_mm=model_input.spacing_mm,
                ct_sites=ct_sites,
            )  # fmt: skip
        except ValueError as exc:  # predict() refuses input it cannot segment
            raise PermanentJobError(f"The model refused the images: {exc}") from exc
        except ModelOutputError as exc:  # never stored as "no lesion"
            raise PermanentJobError(
                "The model returned invalid (not finite) probabilities for this study, so no "
                "result was stored; an admin can see the details.",
                detail=f"{exc}\n{traceback.format_exc()}",
            ) from exc
        from_standard(prediction, model_input)  # back on the stored CT's columns
    _check(job.id, token, stage="writing_results", progress=0.8)
    with _timed(timings, "write_results"):
        frames = labelmap_frames(model_input.task, prediction.label_map)
        from inference.results import labelmap_store, seg_build

        segs = seg_build(
            job_id=job.id,
            model_input=model_input,
            frames=frames,
            model_name=job.model_version.name,
            model_version=job.model_version.version,
        )
        labelmap_file = labelmap_store(job_id=job.id, frames=frames)
    stored = _commit(job.id, token, model_input, prediction, segs, frames, labelmap_file, timings)
    return "succeeded" if stored else "lost"


def _commit(job_id, token, model_input, prediction, segs, frames, labelmap_file, timings) -> bool:
    """Write every result and state=succeeded in one transaction, if this run still owns it."""
    from inference.results import lesion_record
    from studies.models import IngestSource
    from studies.services import instance_ingest

    started = time.perf_counter()
    with transaction.atomic():
        job = InferenceJob.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.run_token != token or job.state != JobState.RUNNING:
            return False
        if job.cancel_requested:
            _finish(job, JobState.CANCELLED, error="Cancelled while running.")
            return False
        instances = []
        for index, data in enumerate(segs, start=1):
            result = instance_ingest(
                file=data, source=IngestSource.AI, filename=f"ai-seg-{job_id}-{index}.dcm"
            )
            if not result.ok or result.instance is None:
                raise PermanentJobError(f"The archive refused the result SEG: {result.reason}")
            instances.append(result.instance)
        job.seg_instances.set(instances)
        job.seg_series_uid = instances[0].series.series_instance_uid if instances else ""
        Lesion.objects.filter(job=job).delete()  # none can exist; keeps the write idempotent
        Lesion.objects.bulk_create(
            [
                Lesion(job=job, **lesion_record(model_input.task, lesion, model_input))
                for lesion in prediction.lesions
            ]
        )
        counts = {"benign": 0, "metastatic": 0}
        for lesion in prediction.lesions:
            counts[lesion["class_name"]] = counts.get(lesion["class_name"], 0) + 1
        job.labelmap_file = labelmap_file
        job.labelmap_shape = list(frames.shape)
        job.labelmap_frames = model_input.frames
        job.summary = {
            "lesion_counts": counts,
            "report_used": bool(prediction.meta.get("report_used")),
            # what ran the image network: "onnxruntime", or "torch" (also when the ONNX export
            # failed at load and the worker fell back; its log says why)
            "runtime": prediction.meta.get("runtime"),
            # lesions the release's report-site gate removed; None: the release has no gate
            "suppressed_outside_report": prediction.meta.get("suppressed_outside_report"),
            # lesions below the release's probability floor; None: the release has no floor
            "suppressed_below_floor": prediction.meta.get("suppressed_below_floor"),
            # what the gate and the floor took out, kept so that the viewer can show them on
            # request (not in the SEG, the label map or the lesion rows)
            "held_back": [
                {
                    **lesion_record(model_input.task, lesion, model_input),
                    "reason": lesion["held_back"],
                }
                for lesion in prediction.held_back
            ],
            "spacing_mm": list(model_input.spacing_mm) if model_input.spacing_mm else None,
        }
        timings["store"] = round(time.perf_counter() - started, 4)
        job.timings = {**timings, "total": round(sum(timings.values()), 4)}
        _finish(job, JobState.SUCCEEDED)
    return True


def _fail(job_id, token, message: str, detail: str = "") -> None:
    with transaction.atomic():
        job = InferenceJob.objects.select_for_update().filter(id=job_id).first()
        if job is not None and job.run_token == token and job.state == JobState.RUNNING:
            _finish(job, JobState.FAILED, error=message, detail=detail)


def _release_for_retry(job_id, token, reason: str) -> None:
    """Back to queued so that the retried delivery can claim it; best effort (the database may
    be what failed: then the lease expires and recovery re-queues it)."""
    if not db_connection.in_atomic_block:
        db_connection.close_if_unusable_or_obsolete()  # reconnect if the failure broke it
    try:
        with transaction.atomic():
            job = InferenceJob.objects.select_for_update().filter(id=job_id).first()
            if job is not None and job.run_token == token and job.state == JobState.RUNNING:
                job.state = JobState.QUEUED
                job.stage = "retrying"
                job.run_token = None
                job.error = f"Temporary problem, retrying: {reason}"
                job.queued_at = timezone.now()
                job.save()
    except DatabaseError:
        log.warning("job %s: could not release for retry", job_id, exc_info=True)


def inference_job_give_up(*, job_id: str, message: str) -> None:
    """Retries exhausted: fail the job whatever run owned it."""
    with transaction.atomic():
        job = InferenceJob.objects.select_for_update().filter(id=job_id).first()
        if job is not None and job.state not in TERMINAL_STATES:
            _finish(job, JobState.FAILED, error=message)
