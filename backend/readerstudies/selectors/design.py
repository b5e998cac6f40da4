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
    CaseView,
    ReaderAssignment,
    ReaderSession,
    ReaderStudy,
    ReaderStudyCase,
    ReadingEvent,
    ReadingState,
)
from readerstudies.timing import ReadingTimes, reading_summary


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
        .filter(
            session__assignment__reader_study=reader_study, id=_uuid(reading_id, "reading")
        )
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
    counts = {s: 0 for s in ("queued", "running", "succeeded", "failed", "cancelled")}
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


# --- time ---------------------------------------------------------------------------------


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def view_times(view: CaseView) -> ReadingTimes:
    """A stored view's intervals as :class:`ReadingTimes` (for unions across views)."""
    intervals = view.intervals or {}
    open_span = intervals.get("open") or [None, None]
    image = intervals.get("image") or [None, None]
    return ReadingTimes(
        opened_at=_parse(open_span[0]),
        ended_at=view.ended_at,
        ended_by=view.ended_by,
        total_seconds=view.total_seconds,
        active_seconds=view.active_seconds,
        first_image_at=_parse(image[0]),
        image_seconds=view.image_seconds,
        active_intervals=tuple(
            (_parse(a), _parse(b)) for a, b in intervals.get("active", []) if a and b
        ),
        last_at=_parse(open_span[1]),
    )


def reading_times_output(reading: CaseReading, *, include_flagged: bool = False) -> dict:
    """A reading's time: unions over its case views (two tabs = one reading); flagged views
    are left out unless asked for."""
    views = list(reading.case_views.all())
    flagged = any(v.flagged for v in views)
    used = [v for v in views if include_flagged or not v.flagged]
    summary = reading_summary([view_times(v) for v in used], submitted_at=reading.submitted_at)
    return {
        "open_seconds": round(summary.open_seconds, 3),
        "image_seconds": round(summary.image_seconds, 3),
        "active_seconds": round(summary.active_seconds, 3),
        "wall_seconds": round(summary.wall_seconds, 3),
        "views": len(views),
        "flagged": flagged,
    }


def progress_output(*, reader_study: ReaderStudy) -> dict[str, Any]:
    from readerstudies.services.design import session_washout_ends_at

    readers = []
    for assignment in (
        ReaderAssignment.objects.filter(reader_study=reader_study)
        .select_related("reader")
        .order_by("reader__username")
    ):
        sessions = []
        for session in assignment.sessions.select_related("washout_override_by").order_by(
            "number"
        ):
            readings = list(session.readings.prefetch_related("case_views"))
            done = sum(1 for r in readings if r.state == ReadingState.SUBMITTED)
            times = [reading_times_output(r) for r in readings]
            sessions.append(
                {
                    "id": str(session.id),
                    "number": session.number,
                    "arm": session.arm,
                    "state": session_state(session),
                    "cases_total": len(readings),
                    "cases_done": done,
                    "active_seconds": round(sum(t["active_seconds"] for t in times), 3),
                    "open_seconds": round(sum(t["open_seconds"] for t in times), 3),
                    "started_at": _iso(session.started_at),
                    "completed_at": _iso(session.completed_at),
                    "washout_ends_at": _iso(session_washout_ends_at(session)),
                    "washout_override": {
                        "by": user_ref(session.washout_override_by),
                        "at": _iso(session.washout_override_at),
                        "reason": session.washout_override_reason,
                    }
                    if session.washout_override_reason
                    else None,
                }
            )
        readers.append({"user": user_ref(assignment.reader), "sessions": sessions})
    return {"state": reader_study.state, "readers": readers}


def session_state(session: ReaderSession) -> str:
    """waiting | washout | ready | active | completed (see the API contract)."""
    from django.utils import timezone

    from readerstudies.services.design import session_washout_ends_at

    if session.completed_at is not None:
        return "completed"
    if session.started_at is not None:
        return "active"
    if session.assignment.reader_study.state == "draft":
        return "waiting"
    if session.number > 1:
        previous = ReaderSession.objects.filter(
            assignment=session.assignment, number=session.number - 1
        ).first()
        if previous is None or previous.completed_at is None:
            return "waiting"
        ends_at = session_washout_ends_at(session)
        if ends_at is not None and timezone.now() < ends_at:
            return "washout"
    return "ready"


def admin_reading_output(reading: CaseReading, *, include_flagged: bool = False) -> dict:
    session = reading.session
    return {
        "id": str(reading.id),
        "session_id": str(session.id),
        "session_number": session.number,
        "reader": user_ref(session.assignment.reader),
        "case_id": str(reading.case_id),
        "study_id": str(reading.case.study_id),
        "position": reading.position,
        "arm": session.arm,
        "state": reading.state,
        "answer": reading.answer_dict() if reading.first_opened_at else None,
        "submitted_at": _iso(reading.submitted_at),
        "times": reading_times_output(reading, include_flagged=include_flagged),
        "history": [
            {
                "kind": r.kind,
                "answer": r.answer,
                "state": r.state,
                "submitted_at": _iso(r.submitted_at),
                "changed_by": user_ref(r.changed_by),
                "changed_at": _iso(r.changed_at),
                "reason": r.reason,
            }
            for r in reading.revisions.select_related("changed_by")
        ],
    }


def readings_list(
    *, reader_study: ReaderStudy, reader_id: Any = None, session_number: Any = None
) -> list[CaseReading]:
    readings = CaseReading.objects.filter(
        session__assignment__reader_study=reader_study
    ).select_related("session__assignment__reader", "case")
    if reader_id is not None:
        readings = readings.filter(session__assignment__reader_id=reader_id)
    if session_number is not None:
        readings = readings.filter(session__number=session_number)
    return list(
        readings.prefetch_related("case_views", "revisions").order_by(
            "session__assignment__reader__username", "session__number", "position"
        )
    )


def flags_output(*, reader_study: ReaderStudy) -> dict[str, Any]:
    views = (
        CaseView.objects.filter(
            reading__session__assignment__reader_study=reader_study, flagged=True
        )
        .select_related("user")
        .order_by("opened_at")
    )
    events = (
        ReadingEvent.objects.filter(
            case_view__reading__session__assignment__reader_study=reader_study
        )
        .exclude(reject_code="")
        .select_related("case_view__user")
        .order_by("received_at")
    )
    return {
        "case_views": [
            {
                "view_id": str(v.client_view_id),
                "reading_id": str(v.reading_id),
                "reader": user_ref(v.user),
                "study_id": str(v.study_id),
                "reasons": v.flag_reasons,
                "total_seconds": v.total_seconds,
                "active_seconds": v.active_seconds,
                "opened_at": _iso(v.opened_at),
            }
            for v in views
        ],
        "rejected_events": [
            {
                "event_id": str(e.client_event_id),
                "view_id": str(e.case_view.client_view_id),
                "reader": user_ref(e.case_view.user),
                "type": e.kind,
                "client_time": _iso(e.client_time),
                "received_at": _iso(e.received_at),
                "code": e.reject_code,
                "reason": e.reject_reason,
            }
            for e in events
        ],
    }
