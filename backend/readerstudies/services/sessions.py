"""Writes of a reader's sessions: the start, with the washout between crossover sessions and
the admin's recorded override."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from readerstudies.models import ReaderSession, StudyState
from readerstudies.services.common import record_change, refuse


def session_washout_ends_at(session: ReaderSession):
    """When the washout before this session ends (None: no washout applies)."""
    if session.number == 1:
        return None
    previous = (
        ReaderSession.objects.filter(assignment=session.assignment, number=session.number - 1)
        .only("completed_at")
        .first()
    )
    if previous is None or previous.completed_at is None:
        return None
    days = session.assignment.reader_study.washout_days
    return previous.completed_at + timedelta(days=days)


@transaction.atomic
def reader_session_start(
    *, session: ReaderSession, user: Any, override_reason: str = "", by_admin: bool = False
) -> ReaderSession:
    """Start a reader's session. Session 2 of a crossover needs session 1 completed and the
    washout over; an admin may start it early with a reason, which is recorded."""
    session = (
        ReaderSession.objects.select_for_update()
        .select_related("assignment__reader_study")
        .get(pk=session.pk)
    )
    reader_study = session.assignment.reader_study
    if reader_study.state == StudyState.PAUSED:
        raise refuse("The study is paused.", "study_paused", status=409)
    if reader_study.state != StudyState.OPEN:
        raise refuse(f"The study is {reader_study.state}.", "bad_state", status=409)
    if session.started_at is not None:
        return session
    previous = ReaderSession.objects.filter(
        assignment=session.assignment, number__lt=session.number, completed_at__isnull=True
    ).first()
    if previous is not None:
        raise refuse(
            f"Session {previous.number} is not completed yet.", "previous_session_open", status=409
        )
    ends_at = session_washout_ends_at(session)
    now = timezone.now()
    if ends_at is not None and now < ends_at:
        reason = override_reason.strip()
        if not by_admin or not reason:
            raise refuse(
                f"The washout of {reader_study.washout_days} days ends at "
                f"{ends_at.isoformat(timespec='minutes')}; session {session.number} cannot start "
                "before then" + ("; give override_reason to start early." if by_admin else "."),
                "washout",
                status=409,
                washout_ends_at=ends_at.isoformat(),
            )
        session.washout_override_reason = reason
        session.washout_override_by = user
        session.washout_override_at = now
        record_change(
            user=user,
            action="washout_override",
            obj=session,
            reason=reason,
            washout_ends_at=ends_at.isoformat(),
        )
    session.started_at = now
    session.save()
    record_change(user=user, action="session_start", obj=session)
    return session
