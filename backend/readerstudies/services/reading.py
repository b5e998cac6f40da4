"""Writes of reading: a reader opens the next case of their session, autosaves, submits (locks);
an admin reopens or corrects a submitted answer (the previous one kept)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from readerstudies.models import (
    AnswerRevision,
    Arm,
    CaseReading,
    LesionLabel,
    ReaderSession,
    ReadingState,
    StudyState,
)
from readerstudies.services.common import record_change, refuse
from readerstudies.services.design import _location_clean
from readerstudies.services.sessions import reader_session_start

ANSWER_FIELDS = ("metastasis_present", "confidence", "comment", "lesions")
MAX_ANSWER_LESIONS = 200


def _locked_reading(reading: CaseReading) -> CaseReading:
    return (
        CaseReading.objects.select_for_update()
        .select_related("session__assignment__reader_study", "case")
        .get(pk=reading.pk)
    )


def _require_open_study(reading: CaseReading) -> None:
    state = reading.session.assignment.reader_study.state
    if state == StudyState.PAUSED:
        raise refuse(
            "The study is paused by its admin; reading resumes when it is reopened.",
            "study_paused",
            status=409,
        )
    if state != StudyState.OPEN:
        raise refuse(f"The study is {state}.", "bad_state", status=409)


def next_reading(session: ReaderSession) -> CaseReading | None:
    """The first reading of the session's frozen order not submitted yet."""
    return (
        CaseReading.objects.filter(session=session)
        .exclude(state=ReadingState.SUBMITTED)
        .order_by("position")
        .first()
    )


@transaction.atomic
def reading_open(*, reading: CaseReading, user: Any) -> CaseReading:
    """Open the reading (the session's next case only). Starts a ready session; records when
    the server first served the case (events before it are refused as implausible)."""
    reading = _locked_reading(reading)
    session = reading.session
    _require_open_study(reading)
    current = next_reading(session)
    if reading.state == ReadingState.SUBMITTED:
        raise refuse("This case is already submitted.", "answer_locked", status=409)
    if current is None or current.pk != reading.pk:
        raise refuse(
            "This is not your next case: cases are read in the order of your session.",
            "not_next_case",
            status=409,
        )
    if session.started_at is None:
        reader_session_start(session=session, user=user)
    if reading.first_opened_at is None:
        reading.first_opened_at = timezone.now()
        reading.state = ReadingState.OPEN
        reading.save(update_fields=["first_opened_at", "state", "modified"])
        record_change(user=user, action="reading_open", obj=reading)
    return reading


def answer_clean(data: dict[str, Any], *, arm: str, ai_lesion_ids: set[int]) -> dict[str, Any]:
    """Validate a (possibly partial) answer; returns only the fields given."""
    clean: dict[str, Any] = {}
    if "metastasis_present" in data:
        value = data["metastasis_present"]
        if value is not None and not isinstance(value, bool):
            raise refuse("metastasis_present must be true, false or null.", "invalid")
        clean["metastasis_present"] = value
    if "confidence" in data:
        value = data["confidence"]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100
        ):
            raise refuse("confidence must be an integer from 0 to 100.", "invalid")
        clean["confidence"] = value
    if "comment" in data:
        value = data["comment"] or ""
        if not isinstance(value, str) or len(value) > 5000 or "\x00" in value:
            raise refuse(
                "comment must be text of at most 5000 characters (no NUL bytes).", "invalid"
            )
        clean["comment"] = value
    if "lesions" in data:
        lesions = data["lesions"] or []
        if not isinstance(lesions, list) or len(lesions) > MAX_ANSWER_LESIONS:
            raise refuse(f"lesions must be a list of at most {MAX_ANSWER_LESIONS}.", "invalid")
        out = []
        for index, lesion in enumerate(lesions):
            where = f"lesions[{index}]"
            if not isinstance(lesion, dict):
                raise refuse(f"{where} must be an object.", "invalid")
            if lesion.get("label") not in LesionLabel.values:
                raise refuse(f"{where}.label must be 'benign' or 'metastatic'.", "invalid")
            shape = lesion.get("shape", "point")
            if shape not in ("point", "box"):
                raise refuse(f"{where}.shape must be 'point' or 'box'.", "invalid")
            location = _location_clean(lesion.get("location"), where=where)
            if shape == "box":
                raw = lesion.get("location") or {}
                for name in ("x2", "y2") + (("z2",) if location["kind"] == "spectct" else ()):
                    value = raw.get(name)
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                        raise refuse(f"{where}: a box needs location.{name} >= 0.", "invalid")
                    location[name] = float(value)
            ai_lesion = lesion.get("ai_lesion_id")
            if ai_lesion is not None:
                if isinstance(ai_lesion, bool) or not isinstance(ai_lesion, int):
                    raise refuse(f"{where}.ai_lesion_id must be an integer or null.", "invalid")
                if arm != Arm.AIDED:
                    raise refuse(
                        f"{where}.ai_lesion_id: there is no AI result in the unaided arm.",
                        "invalid",
                    )
                if ai_lesion not in ai_lesion_ids:
                    raise refuse(
                        f"{where}.ai_lesion_id {ai_lesion} is not a lesion of the AI result.",
                        "invalid",
                    )
            out.append(
                {
                    "label": lesion["label"],
                    "shape": shape,
                    "location": location,
                    "ai_lesion_id": ai_lesion,
                }
            )
        clean["lesions"] = out
    return clean


def _ai_lesion_ids(reading: CaseReading) -> set[int]:
    frozen = getattr(reading.case, "frozen_ai", None)
    if frozen is None or reading.session.arm != Arm.AIDED:
        return set()
    return set(frozen.job.lesions.values_list("number", flat=True))


@transaction.atomic
def reading_answer_save(*, reading: CaseReading, user: Any, data: dict[str, Any]) -> CaseReading:
    """Autosave (partial answer). A submitted reading is locked."""
    reading = _locked_reading(reading)
    _require_open_study(reading)
    if reading.state == ReadingState.SUBMITTED:
        raise refuse(
            "This case is submitted and locked; only a study admin can change it.",
            "answer_locked",
            status=409,
        )
    if reading.first_opened_at is None:
        raise refuse("Open the case before answering.", "not_opened", status=409)
    clean = answer_clean(data, arm=reading.session.arm, ai_lesion_ids=_ai_lesion_ids(reading))
    for name, value in clean.items():
        setattr(reading, name, value)
    reading.full_clean(exclude=["session", "case"], validate_constraints=False)
    reading.save()
    return reading


def _require_complete(reading: CaseReading) -> None:
    for name in ("metastasis_present", "confidence"):
        if getattr(reading, name) is None:
            raise refuse(
                f"The answer is incomplete: {name} is required to submit.",
                "answer_incomplete",
                field=name,
            )


@transaction.atomic
def reading_submit(
    *, reading: CaseReading, user: Any, data: dict[str, Any] | None = None
) -> tuple[CaseReading, CaseReading | None, bool]:
    """Submit: the answer is locked and the reading ends now (server time). Returns the
    reading, the session's next reading (or None) and whether the session is completed."""
    reading = _locked_reading(reading)
    if data:
        reading_answer_save(reading=reading, user=user, data=data)
        reading.refresh_from_db()
    elif reading.state == ReadingState.SUBMITTED:
        raise refuse("This case is already submitted.", "answer_locked", status=409)
    _require_open_study(reading)
    if reading.first_opened_at is None:
        raise refuse("Open the case before submitting.", "not_opened", status=409)
    _require_complete(reading)
    reading.state = ReadingState.SUBMITTED
    reading.submitted_at = timezone.now()
    reading.save(update_fields=["state", "submitted_at", "modified"])
    record_change(user=user, action="reading_submit", obj=reading)
    session = ReaderSession.objects.select_for_update().get(pk=reading.session_id)
    upcoming = next_reading(session)
    completed = upcoming is None
    if completed and session.completed_at is None:
        session.completed_at = reading.submitted_at
        session.save(update_fields=["completed_at", "modified"])
    _refresh_reading_views(reading)
    return reading, upcoming, completed


def _refresh_reading_views(reading: CaseReading) -> None:
    from readerstudies.services.events import case_view_times_refresh

    for view in reading.case_views.all():
        case_view_times_refresh(case_view=view)


def _keep_previous(reading: CaseReading, *, kind: str, user: Any, reason: str) -> None:
    revision = AnswerRevision(
        reading=reading,
        kind=kind,
        answer=reading.answer_dict(),
        state=reading.state,
        submitted_at=reading.submitted_at,
        changed_by=user,
        changed_at=timezone.now(),
        reason=reason,
    )
    revision.full_clean(exclude=["reading", "changed_by"])
    revision.save()


@transaction.atomic
def reading_reopen(*, reading: CaseReading, user: Any, reason: str) -> CaseReading:
    """Admin: reopen a submitted case for its reader; the submitted answer is kept."""
    reading = _locked_reading(reading)
    if not reason.strip():
        raise refuse("A reason is required to reopen a case.", "reason_required")
    if reading.state != ReadingState.SUBMITTED:
        raise refuse("Only a submitted case can be reopened.", "bad_state", status=409)
    _keep_previous(reading, kind="reopen", user=user, reason=reason)
    reading.state = ReadingState.OPEN
    reading.submitted_at = None
    reading.save(update_fields=["state", "submitted_at", "modified"])
    session = reading.session
    if session.completed_at is not None:
        session.completed_at = None
        session.save(update_fields=["completed_at", "modified"])
    record_change(user=user, action="reading_reopen", obj=reading, reason=reason)
    return reading


@transaction.atomic
def reading_answer_correct(
    *, reading: CaseReading, user: Any, data: dict[str, Any], reason: str
) -> CaseReading:
    """Admin: change a submitted answer; the previous answer is kept with the reason."""
    reading = _locked_reading(reading)
    if not reason.strip():
        raise refuse("A reason is required to change a submitted answer.", "reason_required")
    if reading.state != ReadingState.SUBMITTED:
        raise refuse("Only a submitted answer is corrected by an admin.", "bad_state", status=409)
    clean = answer_clean(data, arm=reading.session.arm, ai_lesion_ids=_ai_lesion_ids(reading))
    _keep_previous(reading, kind="admin_change", user=user, reason=reason)
    for name, value in clean.items():
        setattr(reading, name, value)
    _require_complete(reading)
    reading.full_clean(exclude=["session", "case"], validate_constraints=False)
    reading.save()
    record_change(user=user, action="answer_correct", obj=reading, reason=reason)
    return reading
