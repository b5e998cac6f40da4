"""Reads for the study admin: studies they administer, cases, schedule, AI progress, reading
progress, readings with answers, flagged times. Outputs are plain dicts (the API's JSON)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import Role
from accounts.permissions import has_role
from core.exceptions import ApplicationError, NotFoundError
from readerstudies.models import (
    CaseReading,
    ReaderAssignment,
    ReaderSession,
    ReaderStudy,
    ReaderStudyCase,
)


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFoundError(f"No {what} with id {value}.") from exc


def reader_studies_for_admin(*, user: Any) -> QuerySet[ReaderStudy]:
    if has_role(user, Role.ADMIN):
        return ReaderStudy.objects.all()
    if has_role(user, Role.STUDY_ADMIN):
        return ReaderStudy.objects.filter(admins=user).distinct()
    return ReaderStudy.objects.none()


def reader_study_get_for_admin(*, user: Any, reader_study_id: Any) -> ReaderStudy:
    if not has_role(user, Role.ADMIN, Role.STUDY_ADMIN):
        raise ApplicationError(
            "Only study admins and admins manage reader studies.", status_code=403
        )
    reader_study = (
        reader_studies_for_admin(user=user)
        .filter(id=_uuid(reader_study_id, "reader study"))
        .first()
    )
    if reader_study is None:
        raise NotFoundError(f"No reader study {reader_study_id} that you administer.")
    return reader_study


def case_get(*, reader_study: ReaderStudy, case_id: Any) -> ReaderStudyCase:
    case = (
        ReaderStudyCase.objects.select_related("study", "reader_study")
        .filter(reader_study=reader_study, id=_uuid(case_id, "case"))
        .first()
    )
    if case is None:
        raise NotFoundError(f"No case {case_id} in this reader study.")
    return case


def reading_get_for_admin(*, reader_study: ReaderStudy, reading_id: Any) -> CaseReading:
    reading = (
        CaseReading.objects.select_related("session__assignment__reader", "case")
        .filter(session__assignment__reader_study=reader_study, id=_uuid(reading_id, "reading"))
        .first()
    )
    if reading is None:
        raise NotFoundError(f"No reading {reading_id} in this reader study.")
    return reading


def session_get_for_admin(*, reader_study: ReaderStudy, session_id: Any) -> ReaderSession:
    session = (
        ReaderSession.objects.select_related("assignment__reader_study", "assignment__reader")
        .filter(assignment__reader_study=reader_study, id=_uuid(session_id, "session"))
        .first()
    )
    if session is None:
        raise NotFoundError(f"No reader session {session_id} in this reader study.")
    return session


# --- outputs ------------------------------------------------------------------------------


def user_ref(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def reader_study_summary(reader_study: ReaderStudy) -> dict[str, Any]:
    return {
        "id": str(reader_study.id),
        "title": reader_study.title,
        "design": reader_study.design,
        "state": reader_study.state,
        "created": _iso(reader_study.created),
        "started_at": _iso(reader_study.started_at),
        "closed_at": _iso(reader_study.closed_at),
        "case_count": reader_study.cases.count(),
        "reader_count": reader_study.readers.count(),
    }


def reader_study_detail(reader_study: ReaderStudy) -> dict[str, Any]:
    from readerstudies.services.design import reader_study_start_problems

    out = reader_study_summary(reader_study)
    out.update(
        {
            "description": reader_study.description,
            "washout_days": reader_study.washout_days,
            "ai_text_source": reader_study.ai_text_source,
            "max_case_seconds": reader_study.max_case_seconds,
            "seed": reader_study.seed,
            "sessions_per_reader": reader_study.sessions_per_reader,
            "admins": [user_ref(u) for u in reader_study.admins.order_by("username")],
            "state_history": [
                {
                    "from_state": c.from_state,
                    "to_state": c.to_state,
                    "by": user_ref(c.by),
                    "at": _iso(c.at),
                    "reason": c.reason,
                }
                for c in reader_study.state_changes.select_related("by")
            ],
            "start_problems": reader_study_start_problems(reader_study=reader_study)
            if reader_study.state == "draft"
            else [],
        }
    )
    return out


def frozen_ai_output(frozen: Any) -> dict[str, Any] | None:
    if frozen is None:
        return None
    model = frozen.model_version
    return {
        "job_id": str(frozen.job_id),
        "model_version": {
            "id": str(model.id),
            "name": model.name,
            "version": model.version,
            "task": model.task,
            "checksum": model.checksum,
        },
        "checksum": frozen.checksum,
        "conditioning_text": frozen.conditioning_text,
        "text_source": frozen.text_source,
        "frozen_at": _iso(frozen.frozen_at),
        "lesion_count": frozen.lesion_count,
    }


def _job_brief(job: Any) -> dict[str, Any] | None:
    if job is None:
        return None
    return {
        "id": str(job.id),
        "state": job.state,
        "progress": round(job.progress, 3),
        "error": job.error or None,
    }


def case_output(case: ReaderStudyCase) -> dict[str, Any]:
    truth = None
    if case.truth_metastasis is not None:
        truth = {
            "metastasis_present": case.truth_metastasis,
            "source": case.truth_source,
            "lesions": [{"label": x.label, "location": x.location} for x in case.lesions.all()],
            "entered_by": user_ref(case.truth_entered_by),
            "entered_at": _iso(case.truth_entered_at),
        }
    study = case.study
    return {
        "id": str(case.id),
        "study_id": str(study.id),
        "study_instance_uid": study.study_instance_uid,
        "accession_number": study.accession_number,
        "kind": study.kind,
        "truth": truth,
        "ai": frozen_ai_output(getattr(case, "frozen_ai", None)),
        "ai_job": _job_brief(case.ai_job),
    }


def cases_list(*, reader_study: ReaderStudy) -> list[ReaderStudyCase]:
    return list(
        ReaderStudyCase.objects.filter(reader_study=reader_study)
        .select_related(
            "study", "truth_entered_by", "ai_job", "frozen_ai__model_version", "reader_study"
        )
        .prefetch_related("lesions")
        .order_by("created")
    )


def readers_output(*, reader_study: ReaderStudy) -> list[dict[str, Any]]:
    out = []
    for assignment in (
        ReaderAssignment.objects.filter(reader_study=reader_study)
        .select_related("reader")
        .order_by("created")
    ):
        first = assignment.sessions.filter(number=1).first()
        out.append(
            {
                "user": user_ref(assignment.reader),
                "first_arm": first.arm if first else None,
                "added_at": _iso(assignment.created),
            }
        )
    return out


def schedule_output(*, reader_study: ReaderStudy) -> dict[str, Any]:
    """The schedule: frozen rows after the start, else computed from the seed (preview)."""
    from django.contrib.auth import get_user_model

    from readerstudies.services.design import reader_study_plan

    cases = {str(c.id): c for c in ReaderStudyCase.objects.filter(reader_study=reader_study)}
    frozen = reader_study.state != "draft"
    readers = []
    if frozen:
        for assignment in (
            ReaderAssignment.objects.filter(reader_study=reader_study)
            .select_related("reader")
            .order_by("reader__username")
        ):
            sessions = []
            for session in assignment.sessions.order_by("number"):
                sessions.append(
                    {
                        "number": session.number,
                        "arm": session.arm,
                        "case_order": [
                            {
                                "case_id": str(r.case_id),
                                "study_id": str(cases[str(r.case_id)].study_id),
                                "position": r.position,
                            }
                            for r in session.readings.order_by("position")
                        ],
                    }
                )
            readers.append({"user": user_ref(assignment.reader), "sessions": sessions})
    else:
        users = get_user_model().objects.in_bulk(
            list(
                ReaderAssignment.objects.filter(reader_study=reader_study).values_list(
                    "reader_id", flat=True
                )
            )
        )
        for plan in reader_study_plan(reader_study=reader_study):
            user = users[int(plan.reader_key)]
            readers.append(
                {
                    "user": user_ref(user),
                    "sessions": [
                        {
                            "number": s.number,
                            "arm": s.arm,
                            "case_order": [
                                {
                                    "case_id": key,
                                    "study_id": str(cases[key].study_id),
                                    "position": position,
                                }
                                for position, key in enumerate(s.case_order, start=1)
                            ],
                        }
                        for s in plan.sessions
                    ],
                }
            )
        readers.sort(key=lambda r: r["user"]["username"])
    return {
        "frozen": frozen,
        "seed": reader_study.seed,
        "design": reader_study.design,
        "sessions_per_reader": reader_study.sessions_per_reader,
        "readers": readers,
    }


def ai_progress(*, reader_study: ReaderStudy) -> dict[str, Any]:
    cases = cases_list(reader_study=reader_study)
    counts = dict.fromkeys(("queued", "running", "succeeded", "failed", "cancelled"), 0)
    none = frozen = 0
    rows = []
    for case in cases:
        job = case.ai_job
        frozen_ai = getattr(case, "frozen_ai", None)
        if frozen_ai is not None:
            frozen += 1
        if job is None:
            none += 1
        else:
            counts[job.state] = counts.get(job.state, 0) + 1
        rows.append(
            {
                "case_id": str(case.id),
                "study_id": str(case.study_id),
                "job": _job_brief(job),
                "frozen": frozen_ai_output(frozen_ai),
            }
        )
    return {"total": len(cases), **counts, "frozen": frozen, "none": none, "cases": rows}


def candidate_studies(*, kind: str = "", query: str = "", limit: int = 100) -> list[dict]:
    """Archive studies a study admin may add as cases (no patient names: picking cases needs
    the study, its kind and whether it has a report or a ground-truth SEG)."""
    from django.db.models import Exists, OuterRef, Q

    from inference.models import InferenceJob
    from studies.models import Instance, Study

    studies = Study.objects.all()
    if kind:
        studies = studies.filter(kind=kind)
    if query:
        studies = studies.filter(
            Q(accession_number__icontains=query)
            | Q(study_instance_uid__startswith=query)
            | Q(description__icontains=query)
        )
    segs = Instance.objects.filter(
        series__study=OuterRef("pk"), sop_class_uid="1.2.840.10008.5.1.4.1.1.66.4"
    ).exclude(id__in=InferenceJob.seg_instances.through.objects.values("instance_id"))
    studies = studies.annotate(has_seg=Exists(segs)).select_related("report")
    return [
        {
            "id": str(s.id),
            "study_instance_uid": s.study_instance_uid,
            "accession_number": s.accession_number,
            "kind": s.kind,
            "study_date": s.study_date.isoformat() if s.study_date else None,
            "description": s.description,
            "has_report": hasattr(s, "report"),
            "has_seg": s.has_seg,
        }
        for s in studies.order_by("-study_date", "accession_number")[:limit]
    ]
