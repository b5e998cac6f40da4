"""Reads for the reader ("My reading"): only their own sessions and readings, never ground
truth, other readers' answers or the schedule of cases to come."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from accounts.permissions import has_role
from core.exceptions import ApplicationError, NotFoundError
from readerstudies.models import Arm, CaseReading, ReaderSession, ReadingState, StudyState
from readerstudies.selectors import current_sessions_for_user
from readerstudies.selectors.design import _iso, _uuid, frozen_ai_output
from readerstudies.selectors.progress import session_state


def require_reader(user: Any) -> None:
    if not has_role(user, Role.READER):
        raise ApplicationError("Only readers have a reading list.", status_code=403)


def reading_get_for_reader(*, user: Any, reading_id: Any) -> CaseReading:
    require_reader(user)
    reading = (
        CaseReading.objects.select_related(
            "session__assignment__reader_study", "case__study", "case__frozen_ai__model_version"
        )
        .filter(id=_uuid(reading_id, "reading"), session__assignment__reader=user)
        .first()
    )
    if reading is None:
        raise NotFoundError(f"No reading {reading_id} of yours.")
    return reading


def reading_is_current(reading: CaseReading) -> bool:
    """The reading is the case its reader is at: the next case of their current (first not
    completed), readable session, in a study that is open or paused (a pause does not move it)."""
    from readerstudies.selectors import session_is_readable
    from readerstudies.services.reading import next_reading

    session = reading.session
    if reading.state == ReadingState.SUBMITTED or session.assignment.reader_study.state not in (
        StudyState.OPEN,
        StudyState.PAUSED,
    ):
        return False
    first_open = (
        ReaderSession.objects.filter(assignment_id=session.assignment_id, completed_at__isnull=True)
        .order_by("number")
        .first()
    )
    if first_open is None or first_open.pk != session.pk or not session_is_readable(session):
        return False
    upcoming = next_reading(session)
    return upcoming is not None and upcoming.pk == reading.pk


def reading_detail_for_reader(*, user: Any, reading_id: Any) -> CaseReading:
    """One of the reader's readings for the reading screen: the current one (also while the
    study is paused, so that the screen can say so) or a submitted one. A case to come is
    refused like its opening (409 ``not_next_case``): its study and AI belong to later."""
    reading = reading_get_for_reader(user=user, reading_id=reading_id)
    if reading.state != ReadingState.SUBMITTED and not reading_is_current(reading):
        from readerstudies.services.common import refuse

        raise refuse(
            "This is not your next case: cases are read in the order of your session.",
            "not_next_case",
            status=409,
        )
    return reading


def _session_output(session: ReaderSession) -> dict[str, Any]:
    from readerstudies.services.sessions import session_washout_ends_at

    readings = session.readings.all()
    return {
        "id": str(session.id),
        "number": session.number,
        "arm": session.arm,
        "state": session_state(session),
        "cases_total": readings.count(),
        "cases_done": readings.filter(state=ReadingState.SUBMITTED).count(),
        "started_at": _iso(session.started_at),
        "washout_ends_at": _iso(session_washout_ends_at(session)),
    }


def my_reading(*, user: Any) -> dict[str, Any]:
    """Per open or paused reader study of the reader: the current session, its next case."""
    from readerstudies.services.reading import next_reading

    require_reader(user)
    current = {
        s.assignment.reader_study_id: s
        for s in current_sessions_for_user(user=user, states=(StudyState.OPEN, StudyState.PAUSED))
    }
    from readerstudies.models import ReaderAssignment

    out = []
    for assignment in (
        ReaderAssignment.objects.filter(
            reader=user, reader_study__state__in=(StudyState.OPEN, StudyState.PAUSED)
        )
        .select_related("reader_study")
        .order_by("reader_study__created")
    ):
        reader_study = assignment.reader_study
        session = current.get(reader_study.id)
        next_out = None
        if session is not None and session_state(session) in ("ready", "active"):
            upcoming = next_reading(session)
            if upcoming is not None:
                next_out = {
                    "id": str(upcoming.id),
                    "position": upcoming.position,
                    "study_id": str(upcoming.case.study_id),
                    "arm": session.arm,
                    "state": upcoming.state,
                }
        out.append(
            {
                "reader_study": {
                    "id": str(reader_study.id),
                    "title": reader_study.title,
                    "state": reader_study.state,
                    "design": reader_study.design,
                },
                "session": _session_output(session) if session else None,
                "next_reading": next_out,
                "sessions_total": reader_study.sessions_per_reader,
            }
        )
    return {"studies": out}


def reading_output(reading: CaseReading) -> dict[str, Any]:
    """What the reader may know about their reading (no truth, no one else's answers)."""
    session = reading.session
    ai = None
    # The frozen AI only with the case being read (not a submitted one, not one to come).
    if session.arm == Arm.AIDED and reading_is_current(reading):
        frozen = frozen_ai_output(getattr(reading.case, "frozen_ai", None))
        if frozen is not None:
            frozen.pop("frozen_at", None)
            ai = frozen
    return {
        "id": str(reading.id),
        "reader_study_id": str(session.assignment.reader_study_id),
        # open | paused | closed: the reading screen polls this to say that the study is paused
        "reader_study_state": session.assignment.reader_study.state,
        "session_id": str(session.id),
        "session_number": session.number,
        "position": reading.position,
        "cases_total": session.readings.count(),
        "study_id": str(reading.case.study_id),
        "arm": session.arm,
        "state": reading.state,
        "answer": reading.answer_dict() if reading.first_opened_at else None,
        "submitted_at": _iso(reading.submitted_at),
        "ai": ai,
    }
