"""Reads for the study admin about reading: times (unions over a reading's case views),
progress per reader and session, readings with answers and history, flagged times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from readerstudies.models import (
    CaseReading,
    CaseView,
    ReaderAssignment,
    ReaderSession,
    ReaderStudy,
    ReadingEvent,
    ReadingState,
)
from readerstudies.selectors.design import _iso, user_ref
from readerstudies.timing import Interval, ReadingTimes, paused_intervals, reading_summary


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


def study_paused_intervals(reader_study: ReaderStudy | Any) -> list[Interval]:
    """The spells the reader study spent paused (from its state history)."""
    from readerstudies.models import StudyStateChange

    changes = StudyStateChange.objects.filter(reader_study=reader_study).values_list(
        "at", "from_state", "to_state"
    )
    return paused_intervals(changes)


def reading_times_output(
    reading: CaseReading,
    *,
    include_flagged: bool = False,
    include_paused: bool = False,
    paused: Sequence[Interval] | None = None,
) -> dict:
    """A reading's time: unions over its case views (two tabs = one reading); flagged views
    are left out unless asked for; time while the study was paused is left out unless
    ``include_paused`` (``paused``: the study's pauses when the caller has them already, for
    many readings of one study; default: read from the state history)."""
    views = list(reading.case_views.all())
    flagged = any(v.flagged for v in views)
    used = [v for v in views if include_flagged or not v.flagged]
    if include_paused:
        paused = ()
    elif paused is None:
        paused = study_paused_intervals(reading.session.assignment.reader_study_id)
    summary = reading_summary(
        [view_times(v) for v in used], submitted_at=reading.submitted_at, paused=paused
    )
    return {
        "open_seconds": round(summary.open_seconds, 3),
        "image_seconds": round(summary.image_seconds, 3),
        "active_seconds": round(summary.active_seconds, 3),
        "wall_seconds": round(summary.wall_seconds, 3),
        "views": len(views),
        "flagged": flagged,
        # open time while the study was paused, left out of the times above (0 if included)
        "paused_seconds": round(summary.paused_seconds, 3),
        "paused_included": include_paused,
    }


def progress_output(*, reader_study: ReaderStudy) -> dict[str, Any]:
    from readerstudies.services.sessions import session_washout_ends_at

    pauses = study_paused_intervals(reader_study)
    readers = []
    for assignment in (
        ReaderAssignment.objects.filter(reader_study=reader_study)
        .select_related("reader")
        .order_by("reader__username")
    ):
        sessions = []
        for session in assignment.sessions.select_related("washout_override_by").order_by("number"):
            readings = list(session.readings.prefetch_related("case_views"))
            done = sum(1 for r in readings if r.state == ReadingState.SUBMITTED)
            times = [reading_times_output(r, paused=pauses) for r in readings]
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

    from readerstudies.services.sessions import session_washout_ends_at

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


def admin_reading_output(
    reading: CaseReading,
    *,
    include_flagged: bool = False,
    include_paused: bool = False,
    paused: Sequence[Interval] | None = None,
) -> dict:
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
        "times": reading_times_output(
            reading, include_flagged=include_flagged, include_paused=include_paused, paused=paused
        ),
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
