"""Reads of reader studies. This module holds the reader-study side of the one study-access
rule (the contract other apps call); the admin and reader views' reads are in
:mod:`readerstudies.selectors.design` and :mod:`readerstudies.selectors.reading`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Role
from accounts.permissions import has_role
from core.exceptions import NotFoundError
from readerstudies.models import (
    Arm,
    CaseReading,
    CaseView,
    ReaderSession,
    ReaderStudyCase,
    ReadingState,
    StudyState,
)


def case_view_get_for_user(*, user: Any, view_id: str) -> CaseView:
    """A case view of this user (admins and study admins may read anyone's)."""
    views: QuerySet[CaseView] = CaseView.objects.select_related("study")
    if not has_role(user, Role.ADMIN, Role.STUDY_ADMIN):
        views = views.filter(user=user)
    view = views.filter(client_view_id=view_id).first()
    if view is None:
        raise NotFoundError(f"No case view {view_id}.")
    return view


# --- the reader's current sessions -----------------------------------------------------------


def session_is_readable(session: ReaderSession) -> bool:
    """The session may be read now: started, or startable (session 1; or the previous session
    completed and the washout over, or overridden by an admin)."""
    from readerstudies.services.sessions import session_washout_ends_at

    if session.completed_at is not None:
        return False
    if session.started_at is not None:
        return True
    if session.number == 1:
        return True
    previous = ReaderSession.objects.filter(
        assignment=session.assignment, number=session.number - 1
    ).first()
    if previous is None or previous.completed_at is None:
        return False
    ends_at = session_washout_ends_at(session)
    from django.utils import timezone

    return ends_at is None or timezone.now() >= ends_at


def current_sessions_for_user(*, user: Any, states=(StudyState.OPEN,)) -> list[ReaderSession]:
    """Per reader study (in ``states``) the reader's first session not completed."""
    sessions = (
        ReaderSession.objects.filter(
            assignment__reader=user,
            assignment__reader_study__state__in=states,
            completed_at__isnull=True,
        )
        .select_related("assignment__reader_study")
        .order_by("assignment_id", "number")
    )
    current: dict[Any, ReaderSession] = {}
    for session in sessions:
        current.setdefault(session.assignment_id, session)
    return list(current.values())


def current_readings_for_user(*, user: Any) -> list[CaseReading]:
    """The reading each current, readable session of the reader is at (its next case)."""
    from readerstudies.services.reading import next_reading

    readings = []
    for session in current_sessions_for_user(user=user):
        if not session_is_readable(session):
            continue
        reading = next_reading(session)
        if reading is not None:
            readings.append(reading)
    return readings


# --- the contract (issues 11 and 12) ---------------------------------------------------------
# ``studies.selectors.study_queryset_for_user`` (the single study-access selector) asks these for
# readers and study admins; ``inference.selectors.ai_access_check`` asks ``ai_job_ids_allowed``
# for every AI read (results, lesion tables, label maps, SEG series).


def reader_study_ids_for_user(*, user: Any) -> QuerySet:
    """Ids of the studies (archive ``Study`` rows) a reader may open now: in each open reader
    study they take part in, the case their current session is at (the next case in the frozen
    order; a case reopened by the admin becomes the next one again). Submitted cases, later
    cases, paused or closed studies and sessions still in washout give nothing. A values
    queryset, usable in ``id__in=``."""
    from studies.models import Study

    ids = [reading.case.study_id for reading in current_readings_for_user(user=user)]
    return Study.objects.filter(id__in=ids).values("id")


def study_admin_study_ids_for_user(*, user: Any) -> QuerySet:
    """Ids of the studies that are cases of the reader studies ``user`` administers."""
    from studies.models import Study

    return (
        Study.objects.filter(reader_study_cases__reader_study__admins=user).values("id").distinct()
    )


def ai_job_ids_allowed(*, user: Any, study: Any) -> frozenset | None:
    """Which AI results (``InferenceJob`` ids) of ``study`` the user may see.

    * Not a reader: None (no reader-study restriction).
    * A reader whose current case is ``study``: the aided arm -> only the case's frozen job;
      the unaided arm -> frozenset() (none).
    * A reader who also holds another role (physician, study admin, admin): for studies that are
      cases of a reader study they read in that is not closed, the reader rule applies
      (outside their current case: none, so that a later session is not contaminated); other
      studies: None.
    * A reader only: any other study -> frozenset().
    """
    if not has_role(user, Role.READER):
        return None
    study_id = getattr(study, "pk", study)
    for reading in current_readings_for_user(user=user):
        if reading.case.study_id != study_id:
            continue
        if reading.session.arm != Arm.AIDED:
            return frozenset()
        frozen = getattr(reading.case, "frozen_ai", None)
        return frozenset({frozen.job_id}) if frozen is not None else frozenset()
    if has_role(user, Role.PHYSICIAN, Role.STUDY_ADMIN, Role.ADMIN):
        in_study = ReaderStudyCase.objects.filter(
            study_id=study_id,
            reader_study__readers__reader=user,
        ).exclude(reader_study__state=StudyState.CLOSED)
        if not in_study.exists():
            return None
    return frozenset()


def ai_restricted_study_ids(*, user: Any) -> set:
    """Ids of the archive studies where :func:`ai_job_ids_allowed` restricts ``user`` (may
    answer something other than None): a reader's current cases and, for a reader who also
    holds another role, every case of the reader studies they read in that are not closed.
    Lists that are not about one study (QIDO searches, the worklist's counts and filters, the
    live status) narrow AI results and SEG series in these studies."""
    if not has_role(user, Role.READER):
        return set()
    ids = set(reader_study_ids_for_user(user=user).values_list("id", flat=True))
    if has_role(user, Role.PHYSICIAN, Role.STUDY_ADMIN, Role.ADMIN):
        ids |= set(
            ReaderStudyCase.objects.filter(reader_study__readers__reader=user)
            .exclude(reader_study__state=StudyState.CLOSED)
            .values_list("study_id", flat=True)
        )
    return ids


def reader_study_study_ids(*, user: Any, reader_study_id: Any) -> list:
    """Study ids of a reader study's cases, for its admins (the inference batch endpoint)."""
    from readerstudies.selectors.design import reader_study_get_for_admin

    if not has_role(user, Role.ADMIN, Role.STUDY_ADMIN):
        raise NotFoundError(f"No reader study {reader_study_id} that you administer.")
    reader_study = reader_study_get_for_admin(user=user, reader_study_id=reader_study_id)
    return list(
        ReaderStudyCase.objects.filter(reader_study=reader_study).values_list("study_id", flat=True)
    )


__all__ = [
    "ReadingState",
    "ai_job_ids_allowed",
    "ai_restricted_study_ids",
    "case_view_get_for_user",
    "current_readings_for_user",
    "current_sessions_for_user",
    "reader_study_ids_for_user",
    "reader_study_study_ids",
    "study_admin_study_ids_for_user",
]
