"""The AI result of the aided arm: precomputed as a batch of inference jobs, then frozen per
case (job, model version, checksum, conditioning text) before the study starts."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from readerstudies.models import (
    AiTextSource,
    FrozenAiResult,
    ReaderStudy,
    ReaderStudyCase,
    StudyState,
)
from readerstudies.services.common import record_change, refuse


def conditioning_text_for(*, study: Any, text_source: str) -> str:
    """The text the model is conditioned on for a reader study's case.

    ``history``: the clinical history / referral only (a reader writing the report has not
    written findings or impression yet); ``report``: the current report's full text. Built with
    the same function the model's report text always uses (``reports.models.report_text``).
    """
    from reports.models import Report, report_text

    report = Report.objects.filter(study=study).first()
    if report is None:
        return ""
    if text_source == AiTextSource.HISTORY:
        return report_text(report.history, "", "")
    return report_text(report.history, report.findings, report.impression)


def job_result_checksum(job: Any) -> str:
    """sha256 over what a reader sees of a job's result: the label map and the lesion table."""
    digest = hashlib.sha256()
    digest.update(str(job.id).encode())
    if job.labelmap_file:
        from inference.results import labelmap_read

        try:
            digest.update(labelmap_read(job.labelmap_file))
        except OSError:
            digest.update(b"labelmap-missing")
    lesions = list(
        job.lesions.order_by("number").values(
            "number", "label", "class_name", "probability", "centroid", "bbox"
        )
    )
    digest.update(json.dumps(lesions, sort_keys=True, default=str).encode())
    digest.update(json.dumps(job.labelmap_frames, sort_keys=True, default=str).encode())
    return digest.hexdigest()


@transaction.atomic
def reader_study_ai_precompute(
    *, reader_study: ReaderStudy, user: Any, model_version_id: Any = None
) -> dict[str, Any]:
    """Queue one inference job per case that has no frozen result, conditioned on the text the
    study's ``ai_text_source`` names. A case that cannot run is reported, not fatal."""
    from inference.services import inference_job_create

    reader_study = ReaderStudy.objects.select_for_update().get(pk=reader_study.pk)
    if reader_study.state != StudyState.DRAFT:
        raise refuse(
            "The AI results are frozen: the study has started.", "design_locked", status=409
        )
    batch_id = uuid.uuid4()
    jobs, skipped = [], []
    cases = ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study")
    for case in cases.order_by("created"):
        if hasattr(case, "frozen_ai"):
            jobs.append({"case_id": str(case.id), "job_id": str(case.frozen_ai.job_id)})
            continue
        text = conditioning_text_for(study=case.study, text_source=reader_study.ai_text_source)
        try:
            job, _ = inference_job_create(
                study=case.study,
                user=user,
                model_version_id=model_version_id,
                trigger="reader_study",
                batch_id=batch_id,
                conditioning_text=text,
            )
        except ApplicationError as exc:
            skipped.append(
                {"case_id": str(case.id), "study_id": str(case.study_id), "reason": exc.message}
            )
            continue
        case.ai_job = job
        case.save(update_fields=["ai_job", "modified"])
        jobs.append({"case_id": str(case.id), "job_id": str(job.id), "state": job.state})
    record_change(user=user, action="ai_precompute", obj=reader_study, batch_id=str(batch_id))
    return {"batch_id": str(batch_id), "jobs": jobs, "skipped": skipped}


@transaction.atomic
def reader_study_ai_freeze(*, reader_study: ReaderStudy, user: Any) -> int:
    """Freeze the result of every case whose precomputed job succeeded (draft only); returns
    how many were frozen now. A frozen result is never replaced."""
    from inference.models import JobState

    if reader_study.state != StudyState.DRAFT:
        raise refuse(
            "The AI results are frozen: the study has started.", "design_locked", status=409
        )
    frozen = 0
    cases = (
        ReaderStudyCase.objects.select_for_update(of=("self",))
        .filter(
            reader_study=reader_study,
            frozen_ai__isnull=True,
            ai_job__state=JobState.SUCCEEDED,
        )
        .select_related("ai_job__model_version")
    )
    for case in cases:
        job = case.ai_job
        result = FrozenAiResult(
            case=case,
            job=job,
            model_version=job.model_version,
            checksum=job_result_checksum(job),
            conditioning_text=job.conditioning_text
            if job.conditioning_text is not None
            else (job.report_version.text if job.report_version else ""),
            text_source=reader_study.ai_text_source,
            lesion_count=job.lesions.count(),
            frozen_at=timezone.now(),
        )
        result.full_clean(exclude=["case", "job", "model_version"], validate_constraints=False)
        result.save()
        frozen += 1
    if frozen:
        record_change(user=user, action="ai_freeze", obj=reader_study, cases=frozen)
    return frozen
