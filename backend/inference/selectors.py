"""Reads of the inference app: jobs, the viewer's AI summary, model versions, worklist states."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q

from accounts.models import Role
from accounts.permissions import has_role
from core.exceptions import NotFoundError
from inference.models import InferenceJob, JobState, Lesion, ModelVersion
from inference.regions import region_code
from studies.models import Instance, Study
from studies.selectors import study_queryset_for_user, wado_uri


def _ai_restrictions(user: Any, *, study: Study | None = None) -> dict[Any, frozenset]:
    """Study id -> the AI job ids the user may see there, for the studies where the reader-study
    app restricts them (``readerstudies.selectors.ai_job_ids_allowed``). With ``study``: that
    study alone. Without: the cases of the user's current reader-study session (where blinding
    applies; for a reader who also holds another role, the cases of every reader study they read
    in that is not closed), so archive-wide lists stay cheap for physicians."""
    from readerstudies import selectors as readerstudies_selectors

    if study is not None:
        candidates: list[Study] = [study]
    elif has_role(user, Role.READER):
        candidates = list(
            Study.objects.filter(id__in=readerstudies_selectors.ai_restricted_study_ids(user=user))
        )
    else:
        return {}
    restricted = {}
    for candidate in candidates:
        allowed = readerstudies_selectors.ai_job_ids_allowed(user=user, study=candidate)
        if allowed is not None:
            restricted[candidate.id] = frozenset(allowed)
    return restricted


def ai_job_filter(user: Any, *, study: Study | None = None) -> Q | None:
    """A filter on ``InferenceJob`` selecting the jobs ``user`` may see; None: no restriction."""
    restricted = _ai_restrictions(user, study=study)
    if not restricted:
        return None
    allowed = set().union(*restricted.values())
    return ~Q(study_id__in=list(restricted)) | Q(id__in=list(allowed))


def hidden_seg_instance_ids(user: Any, *, study: Study | None = None) -> set | None:
    """Archive instances the user may not see because they are AI or segmentation results:
    in a study where the reader-study app restricts AI, every SEG instance except those of the
    allowed jobs (so neither another job's result nor a ground-truth SEG reaches a blinded
    reader). None when nothing is restricted."""
    restricted = _ai_restrictions(user, study=study)
    if not restricted:
        return None
    allowed_jobs = set().union(*restricted.values())
    through = InferenceJob.seg_instances.through
    allowed_instances = through.objects.filter(inferencejob_id__in=allowed_jobs).values(
        "instance_id"
    )
    job_instances = through.objects.filter(inferencejob__study_id__in=list(restricted)).values(
        "instance_id"
    )
    segs = Instance.objects.filter(series__study_id__in=list(restricted)).filter(
        Q(series__modality="SEG") | Q(id__in=job_instances)
    )
    return set(segs.exclude(id__in=allowed_instances).values_list("id", flat=True))


def ai_access_check(user: Any, study: Study) -> frozenset | None:
    """Refuse AI results the user must not see (reader-study blinding: a reader in the unaided
    arm of a case). The reader-study app decides, through
    ``readerstudies.selectors.ai_job_ids_allowed(user=..., study=...)``; every AI read of this
    app goes through here. Returns None (no restriction) or the job ids the user may see; the
    caller narrows its jobs to them."""
    from readerstudies.selectors import ai_job_ids_allowed

    allowed = ai_job_ids_allowed(user=user, study=study)
    if allowed is not None and not allowed:
        raise NotFoundError(
            "No AI result is available for this case in your reading session.",
            code="ai_not_available",
        )
    return frozenset(allowed) if allowed is not None else None


def job_get_for_user(user: Any, job_id: uuid.UUID | str) -> InferenceJob:
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError as exc:
        raise NotFoundError(
            f"No inference job with id {job_id}.", code="job_not_found", params={"id": str(job_id)}
        ) from exc
    job = (
        InferenceJob.objects.select_related("model_version", "report_version", "study")
        .filter(id=job_uuid, study__in=study_queryset_for_user(user))
        .first()
    )
    if job is None:
        raise NotFoundError(
            f"No inference job with id {job_id}.", code="job_not_found", params={"id": str(job_id)}
        )
    allowed = ai_access_check(user, job.study)
    if allowed is not None and job.id not in allowed:
        raise NotFoundError(
            f"No inference job with id {job_id}.", code="job_not_found", params={"id": str(job_id)}
        )
    return job


def model_version_output(model_version: ModelVersion, *, full: bool = False) -> dict[str, Any]:
    out = {
        "id": str(model_version.id),
        "name": model_version.name,
        "task": model_version.task,
        "version": model_version.version,
        "checksum": model_version.checksum,
        "postprocess_sha256": model_version.postprocess_sha256,
        "is_active": model_version.is_active,
        "created": model_version.created.isoformat(),
    }
    if full:
        out["metrics"] = model_version.metrics
        out["model_card"] = model_version.model_card
        out["architecture"] = model_version.config.get("model_name")
        out["uses_text"] = model_version.config.get("uses_text")
    return out


def job_output(job: InferenceJob) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "study_id": str(job.study_id),
        "state": job.state,
        "stage": job.stage,
        "progress": round(job.progress, 3),
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "is_rerun": job.is_rerun,
        "trigger": job.trigger,
        "batch_id": str(job.batch_id) if job.batch_id else None,
        "error": job.error or None,
        "created": job.created.isoformat(),
        "queued_at": job.queued_at.isoformat() if job.queued_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "timings": job.timings,
        "runtime": job.summary.get("runtime"),
        "suppressed_outside_report": job.summary.get("suppressed_outside_report"),
        "suppressed_below_floor": job.summary.get("suppressed_below_floor"),
        "model_version": model_version_output(job.model_version),
        "report_version": job.report_version.number if job.report_version else None,
    }


def _lesion_output(lesion) -> dict[str, Any]:
    return {
        "id": lesion.number,
        "label": lesion.label,
        "class_name": lesion.class_name,
        "probability": round(lesion.probability, 4),
        "area_px": lesion.area_px,
        "area_mm2": round(lesion.area_mm2, 1) if lesion.area_mm2 is not None else None,
        "volume_vox": lesion.volume_vox,
        "volume_ml": round(lesion.volume_ml, 3) if lesion.volume_ml is not None else None,
        "max_counts": lesion.max_counts,
        "region": lesion.region or None,
        "region_code": region_code(lesion.region),
        "class_source": lesion.class_source or None,
        "centroid": lesion.centroid,
        "bbox": lesion.bbox,
        "locations": lesion.locations,
    }


def _held_back_output(record: dict[str, Any]) -> dict[str, Any]:
    """A finding the release's gate or floor held back (stored in the job's summary as
    ``inference.results.lesion_record`` wrote it), in the lesion list's shape."""
    fields = {k: v for k, v in record.items() if k != "reason"}
    return {**_lesion_output(Lesion(**fields)), "held_back": record["reason"]}


def job_result_output(job: InferenceJob) -> dict[str, Any] | None:
    """What the viewer needs to draw a succeeded job's result."""
    if job.state != JobState.SUCCEEDED:
        return None
    segs = []
    for instance in job.seg_instances.select_related("series__study").order_by("sop_instance_uid"):
        series = instance.series
        segs.append(
            {
                "instance_id": str(instance.id),
                "sop_instance_uid": instance.sop_instance_uid,
                "series_instance_uid": series.series_instance_uid,
                "study_instance_uid": series.study.study_instance_uid,
                "wado_uri": wado_uri(
                    instance,
                    study_uid=series.study.study_instance_uid,
                    series_uid=series.series_instance_uid,
                ),
            }
        )
    return {
        "job_id": str(job.id),
        "model_version": model_version_output(job.model_version),
        "report_version": job.report_version.number if job.report_version else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "lesion_counts": job.summary.get("lesion_counts", {}),
        "suppressed_outside_report": job.summary.get("suppressed_outside_report"),
        "suppressed_below_floor": job.summary.get("suppressed_below_floor"),
        "lesions": [_lesion_output(lesion) for lesion in job.lesions.order_by("number")],
        # not in the list, the SEG or the label map: the viewer shows them on request
        "held_back": [_held_back_output(r) for r in job.summary.get("held_back") or []],
        "seg": segs,
        "labelmap": {
            "url": f"/api/inference/jobs/{job.id}/labelmap",
            "shape": job.labelmap_shape,
            "dtype": "uint8",
            "classes": {"0": "background", "1": "benign", "2": "metastatic"},
            "frames": job.labelmap_frames,
        },
    }


def study_ai_summary(*, study: Study, allowed: frozenset | None = None) -> dict[str, Any]:
    """The newest job of the study (any state) and the newest succeeded job's result; only the
    jobs in ``allowed`` when given (what ``ai_access_check`` returned)."""
    jobs = InferenceJob.objects.filter(study=study).select_related(
        "model_version", "report_version"
    )
    if allowed is not None:
        jobs = jobs.filter(id__in=allowed)
    latest = jobs.order_by("-created").first()
    succeeded = jobs.filter(state=JobState.SUCCEEDED).order_by("-finished_at").first()
    current_report = None
    from reports.models import Report

    report = Report.objects.filter(study=study).only("version").first()
    if report is not None:
        current_report = report.version
    return {
        "study_id": str(study.id),
        "latest_job": job_output(latest) if latest else None,
        "result": job_result_output(succeeded) if succeeded else None,
        "current_report_version": current_report,
        "results": study_results_list(study=study, allowed=allowed),
    }


MAX_LISTED_RESULTS = 20


def study_results_list(*, study: Study, allowed: frozenset | None = None) -> list[dict[str, Any]]:
    """The study's succeeded jobs, newest first: what the viewer's result picker offers (a
    result the viewer shows stays choosable when a newer one arrives, e.g. after signing).
    ``allowed`` (from :func:`ai_access_check`) narrows it to the jobs this user may see."""
    jobs = InferenceJob.objects.filter(study=study, state=JobState.SUCCEEDED)
    if allowed is not None:
        jobs = jobs.filter(id__in=allowed)
    jobs = jobs.select_related("model_version", "report_version").order_by(
        "-finished_at", "-created"
    )[:MAX_LISTED_RESULTS]
    return [
        {
            "job_id": str(job.id),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "report_version": job.report_version.number if job.report_version else None,
            "model_version": {
                "name": job.model_version.name,
                "version": job.model_version.version,
            },
            "lesion_counts": job.summary.get("lesion_counts", {}),
        }
        for job in jobs
    ]


def study_jobs(*, study: Study, allowed: frozenset | None = None) -> list[InferenceJob]:
    jobs = InferenceJob.objects.filter(study=study)
    if allowed is not None:
        jobs = jobs.filter(id__in=allowed)
    return list(jobs.select_related("model_version", "report_version").order_by("-created"))


def model_versions_list() -> list[ModelVersion]:
    return list(ModelVersion.objects.order_by("task", "-is_active", "-created"))


def study_segmentations(*, user: Any, study: Study) -> list[dict[str, Any]]:
    """The study's SEG series the user may see, newest first: the AI results' (with their job)
    and any other tool's. A reader-study session that restricts AI results (see
    :func:`ai_access_check`) sees only the SEGs of the jobs it allows."""
    from readerstudies.selectors import ai_job_ids_allowed
    from studies.models import Series
    from studies.selectors import SEGMENTATION_SOP_CLASS

    ai_access_check(user, study)
    allowed = ai_job_ids_allowed(user=user, study=study)
    jobs_by_series = {
        job.seg_series_uid: job
        for job in InferenceJob.objects.filter(study=study, state=JobState.SUCCEEDED)
        .exclude(seg_series_uid="")
        .order_by("finished_at")
    }
    series = (
        Series.objects.filter(study=study, instances__sop_class_uid=SEGMENTATION_SOP_CLASS)
        .distinct()
        .order_by("-created")
    )
    out = []
    for item in series:
        job = jobs_by_series.get(item.series_instance_uid)
        if allowed is not None and (job is None or job.id not in allowed):
            continue
        out.append(
            {
                "series_instance_uid": item.series_instance_uid,
                "description": item.description,
                "source": "ai" if job is not None else "archive",
                "job_id": str(job.id) if job is not None else None,
                "created": item.created.isoformat(),
                "labelmap_url": (
                    f"/api/studies/{study.id}/segmentations/{item.series_instance_uid}/labelmap"
                ),
            }
        )
    return out
