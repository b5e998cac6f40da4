"""Writes of reader-study design: the study and its settings, cases, ground truth, readers,
the start (schedule frozen) and the state machine draft -> open <-> paused -> closed."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import has_role
from readerstudies.models import (
    DESIGN_FIELDS,
    Arm,
    CaseReading,
    LesionLabel,
    ReaderAssignment,
    ReaderSession,
    ReaderStudy,
    ReaderStudyCase,
    StudyState,
    StudyStateChange,
    TruthLesion,
    TruthSource,
)
from readerstudies.schedule import schedule
from readerstudies.services.common import record_change, refuse

EDITABLE_AFTER_START = ("title", "description")
_UID = re.compile(r"[0-9][0-9.]{0,63}")


def _require_draft(reader_study: ReaderStudy, what: str) -> None:
    if reader_study.state != StudyState.DRAFT:
        raise refuse(
            f"{what} cannot change after the study started (it is {reader_study.state}).",
            "design_locked",
            status=409,
        )


def _state_change(reader_study: ReaderStudy, to_state: str, *, user: Any, reason: str = "") -> None:
    change = StudyStateChange(
        reader_study=reader_study,
        from_state=reader_study.state,
        to_state=to_state,
        by=user if getattr(user, "is_authenticated", False) else None,
        at=timezone.now(),
        reason=reason,
    )
    change.full_clean(exclude=["reader_study", "by"])
    change.save()
    reader_study.state = to_state
    record_change(user=user, action=f"state:{to_state}", obj=reader_study, reason=reason)


# --- the study ----------------------------------------------------------------------------


@transaction.atomic
def reader_study_create(
    *,
    user: Any,
    title: str,
    description: str = "",
    design: str = "crossover",
    washout_days: int = 28,
    ai_text_source: str = "history",
    max_case_seconds: int = 7200,
    seed: int | None = None,
    admins: list[Any] | None = None,
) -> ReaderStudy:
    reader_study = ReaderStudy(
        title=title,
        description=description,
        design=design,
        washout_days=washout_days,
        ai_text_source=ai_text_source,
        max_case_seconds=max_case_seconds,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if seed is not None:
        reader_study.seed = seed
    reader_study.full_clean(exclude=["created_by"])
    reader_study.save()
    owners = [user] if getattr(user, "is_authenticated", False) else []
    reader_study.admins.set([*owners, *(admins or [])])
    record_change(user=user, action="create", obj=reader_study)
    return reader_study


@transaction.atomic
def reader_study_update(
    *, reader_study: ReaderStudy, user: Any, admins: list[Any] | None = None, **fields: Any
) -> ReaderStudy:
    """Change settings. After the start only title and description (and admins) may change."""
    reader_study = ReaderStudy.objects.select_for_update().get(pk=reader_study.pk)
    for name, value in fields.items():
        if name not in (*DESIGN_FIELDS, *EDITABLE_AFTER_START):
            raise refuse(f"Unknown setting {name}.", "invalid")
        if (
            name in DESIGN_FIELDS
            and reader_study.state != StudyState.DRAFT
            and getattr(reader_study, name) != value
        ):
            raise refuse(
                f"{name} cannot change after the study started: the schedule and the arms are "
                "frozen.",
                "design_locked",
                status=409,
                field=name,
            )
        setattr(reader_study, name, value)
    reader_study.full_clean(exclude=["created_by"])
    reader_study.save()
    if admins is not None:
        if not admins:
            raise refuse("A reader study needs at least one admin.", "invalid")
        reader_study.admins.set(admins)
    record_change(user=user, action="update", obj=reader_study, fields=sorted(fields))
    return reader_study


# --- cases and ground truth --------------------------------------------------------------


@transaction.atomic
def reader_study_cases_add(
    *, reader_study: ReaderStudy, user: Any, study_ids: list[Any]
) -> list[ReaderStudyCase]:
    from studies.models import Study

    _require_draft(reader_study, "The case set")
    ids = list(dict.fromkeys(str(i) for i in study_ids))
    found = {str(s.id): s for s in Study.objects.filter(id__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise refuse(
            f"No archive study with id {', '.join(missing)}.", "unknown_study", study_ids=missing
        )
    existing = {
        str(i)
        for i in ReaderStudyCase.objects.filter(
            reader_study=reader_study, study_id__in=ids
        ).values_list("study_id", flat=True)
    }
    if existing:
        raise refuse(
            f"Already a case of this reader study: {', '.join(sorted(existing))}.",
            "duplicate_case",
            study_ids=sorted(existing),
        )
    cases = []
    for study_id in ids:
        case = ReaderStudyCase(reader_study=reader_study, study=found[study_id])
        case.full_clean(exclude=["reader_study", "study"], validate_constraints=False)
        try:
            with transaction.atomic():
                case.save(force_insert=True)
        except IntegrityError as exc:  # a concurrent request added it first
            raise refuse(
                f"Already a case of this reader study: {study_id}.",
                "duplicate_case",
                study_ids=[study_id],
            ) from exc
        cases.append(case)
    record_change(user=user, action="cases_add", obj=reader_study, study_ids=ids)
    return cases


@transaction.atomic
def reader_study_case_remove(*, case: ReaderStudyCase, user: Any) -> None:
    _require_draft(case.reader_study, "The case set")
    record_change(user=user, action="case_remove", obj=case.reader_study, study_id=case.study_id)
    case.delete()


def _location_clean(location: Any, *, where: str) -> dict:
    """Validate a lesion location in image coordinates (planar view + x,y or SPECT/CT x,y,z)."""
    if not isinstance(location, dict):
        raise refuse(f"{where}: location must be an object.", "invalid")
    kind = location.get("kind")
    numbers = ("x", "y") if kind == "planar" else ("x", "y", "z")
    if kind not in ("planar", "spectct"):
        raise refuse(f"{where}: location.kind must be 'planar' or 'spectct'.", "invalid")
    clean: dict[str, Any] = {"kind": kind}
    for name in numbers:
        value = location.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise refuse(
                f"{where}: location.{name} must be a non-negative number (image coordinates).",
                "invalid",
            )
        clean[name] = float(value)
    if kind == "planar":
        if location.get("view") not in ("anterior", "posterior"):
            raise refuse(f"{where}: location.view must be 'anterior' or 'posterior'.", "invalid")
        clean["view"] = location["view"]
        if location.get("frame") is not None:
            frame = location["frame"]
            if isinstance(frame, bool) or not isinstance(frame, int) or frame < 1:
                raise refuse(f"{where}: location.frame must be a frame number >= 1.", "invalid")
            clean["frame"] = frame
    uid = location.get("sop_instance_uid")
    if uid:
        if not isinstance(uid, str) or not _UID.fullmatch(uid):
            raise refuse(
                f"{where}: location.sop_instance_uid must be a DICOM UID (digits and dots).",
                "invalid",
            )
        clean["sop_instance_uid"] = uid
    return clean


def truth_lesions_clean(lesions: list[Any]) -> list[dict]:
    clean = []
    for index, lesion in enumerate(lesions or []):
        where = f"lesions[{index}]"
        if not isinstance(lesion, dict):
            raise refuse(f"{where} must be an object.", "invalid")
        if lesion.get("label") not in LesionLabel.values:
            raise refuse(f"{where}.label must be 'benign' or 'metastatic'.", "invalid")
        clean.append(
            {
                "label": lesion["label"],
                "location": _location_clean(lesion.get("location"), where=where),
            }
        )
    return clean


@transaction.atomic
def case_truth_set(
    *,
    case: ReaderStudyCase,
    user: Any,
    metastasis_present: bool,
    lesions: list[Any] | None = None,
    source: str = TruthSource.MANUAL,
) -> ReaderStudyCase:
    """Replace the case's ground truth (draft only)."""
    _require_draft(case.reader_study, "Ground truth")
    clean = truth_lesions_clean(lesions or [])
    if not metastasis_present and any(lesion["label"] == "metastatic" for lesion in clean):
        raise refuse(
            "metastasis_present is no but a lesion is labelled metastatic.", "truth_inconsistent"
        )
    case.truth_metastasis = bool(metastasis_present)
    case.truth_source = source
    case.truth_entered_by = user if getattr(user, "is_authenticated", False) else None
    case.truth_entered_at = timezone.now()
    case.full_clean(exclude=["reader_study", "study", "truth_entered_by", "ai_job"])
    case.save()
    case.lesions.all().delete()
    for lesion in clean:
        row = TruthLesion(case=case, **lesion)
        row.full_clean(exclude=["case"])
        row.save()
    record_change(user=user, action="truth_set", obj=case, source=source, lesions=len(clean))
    return case


# --- readers ------------------------------------------------------------------------------


@transaction.atomic
def reader_study_reader_add(
    *, reader_study: ReaderStudy, user: Any, reader: Any
) -> ReaderAssignment:
    _require_draft(reader_study, "The readers")
    if not has_role(reader, Role.READER):
        raise refuse(
            f"{reader.username} does not hold the reader role; only readers can be assigned.",
            "not_a_reader",
        )
    if ReaderAssignment.objects.filter(reader_study=reader_study, reader=reader).exists():
        raise refuse(
            f"{reader.username} is already a reader of this study.",
            "duplicate_reader",
            user_id=reader.pk,
        )
    assignment = ReaderAssignment(
        reader_study=reader_study,
        reader=reader,
        added_by=user if getattr(user, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:  # a concurrent request assigned them first
        raise refuse(
            f"{reader.username} is already a reader of this study.", "duplicate_reader"
        ) from exc
    record_change(user=user, action="reader_add", obj=reader_study, reader=reader.username)
    return assignment


@transaction.atomic
def reader_study_reader_remove(*, assignment: ReaderAssignment, user: Any) -> None:
    _require_draft(assignment.reader_study, "The readers")
    record_change(
        user=user, action="reader_remove", obj=assignment.reader_study, reader=assignment.reader_id
    )
    assignment.delete()


# --- schedule, start and states -----------------------------------------------------------


def reader_study_plan(*, reader_study: ReaderStudy):
    """The schedule computed from the stored seed (what the start will freeze)."""
    reader_keys = [
        str(pk)
        for pk in ReaderAssignment.objects.filter(reader_study=reader_study).values_list(
            "reader_id", flat=True
        )
    ]
    case_keys = [
        str(pk)
        for pk in ReaderStudyCase.objects.filter(reader_study=reader_study).values_list(
            "id", flat=True
        )
    ]
    return schedule(
        seed=reader_study.seed,
        design=reader_study.design,
        reader_keys=reader_keys,
        case_keys=case_keys,
    )


def reader_study_start_problems(*, reader_study: ReaderStudy) -> list[dict[str, Any]]:
    """Everything that stops the start, each with a code and a message naming the problem."""
    problems: list[dict[str, Any]] = []
    cases = list(
        ReaderStudyCase.objects.filter(reader_study=reader_study)
        .select_related("study", "frozen_ai")
        .order_by("created")
    )
    if not cases:
        problems.append({"code": "no_cases", "message": "The study has no cases."})
    if not ReaderAssignment.objects.filter(reader_study=reader_study).exists():
        problems.append({"code": "no_readers", "message": "The study has no readers."})
    for case in cases:
        if case.truth_metastasis is None:
            problems.append(
                {
                    "code": "missing_truth",
                    "message": f"Case {_case_name(case)} has no ground truth.",
                    "case_id": str(case.id),
                    "study_id": str(case.study_id),
                }
            )
    # Both designs have an aided arm; every case is read aided by someone.
    for case in cases:
        if not hasattr(case, "frozen_ai"):
            problems.append(
                {
                    "code": "missing_frozen_ai",
                    "message": f"Case {_case_name(case)} has no frozen AI result: precompute "
                    "and freeze the AI before the start.",
                    "case_id": str(case.id),
                    "study_id": str(case.study_id),
                }
            )
    return problems


def _case_name(case: ReaderStudyCase) -> str:
    study = case.study
    return study.accession_number or study.study_instance_uid


@transaction.atomic
def reader_study_start(*, reader_study: ReaderStudy, user: Any) -> ReaderStudy:
    """draft -> open: freeze the AI results that are ready, check, and freeze the schedule."""
    from readerstudies.services.ai import reader_study_ai_freeze

    reader_study = ReaderStudy.objects.select_for_update().get(pk=reader_study.pk)
    if reader_study.state != StudyState.DRAFT:
        raise refuse(f"The study is already {reader_study.state}.", "not_draft", status=409)
    reader_study_ai_freeze(reader_study=reader_study, user=user)
    problems = reader_study_start_problems(reader_study=reader_study)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise refuse(
            f"The study cannot start: {first['message']}{more}",
            first["code"],
            problems=problems,
        )
    assignments = {
        str(a.reader_id): a for a in ReaderAssignment.objects.filter(reader_study=reader_study)
    }
    cases = {str(c.id): c for c in ReaderStudyCase.objects.filter(reader_study=reader_study)}
    for plan in reader_study_plan(reader_study=reader_study):
        for session_plan in plan.sessions:
            session = ReaderSession(
                assignment=assignments[plan.reader_key],
                number=session_plan.number,
                arm=session_plan.arm,
            )
            session.full_clean(exclude=["assignment"], validate_constraints=False)
            session.save()
            CaseReading.objects.bulk_create(
                CaseReading(session=session, case=cases[case_key], position=position)
                for position, case_key in enumerate(session_plan.case_order, start=1)
            )
    reader_study.started_at = timezone.now()
    _state_change(reader_study, StudyState.OPEN, user=user)
    reader_study.save()
    return reader_study


_TRANSITIONS = {
    "pause": ((StudyState.OPEN,), StudyState.PAUSED),
    "resume": ((StudyState.PAUSED,), StudyState.OPEN),
    "close": ((StudyState.OPEN, StudyState.PAUSED), StudyState.CLOSED),
}


@transaction.atomic
def reader_study_transition(
    *, reader_study: ReaderStudy, user: Any, action: str, reason: str = ""
) -> ReaderStudy:
    """pause (open -> paused), resume (paused -> open), close (open|paused -> closed)."""
    reader_study = ReaderStudy.objects.select_for_update().get(pk=reader_study.pk)
    allowed, target = _TRANSITIONS[action]
    if reader_study.state not in allowed:
        raise refuse(
            f"Cannot {action} a study that is {reader_study.state}.", "bad_state", status=409
        )
    if target == StudyState.CLOSED:
        reader_study.closed_at = timezone.now()
    _state_change(reader_study, target, user=user, reason=reason)
    reader_study.save()
    return reader_study


__all__ = [
    "Arm",
    "reader_study_cases_add",
    "reader_study_case_remove",
    "reader_study_create",
    "reader_study_plan",
    "reader_study_reader_add",
    "reader_study_reader_remove",
    "reader_study_start",
    "reader_study_start_problems",
    "reader_study_transition",
    "reader_study_update",
    "case_truth_set",
]
