"""The read model: one reader study's rows as the statistics engine's long-format tables.

It reads through ``readerstudies``' own selectors (the readings with their answers, and each
reading's time as the union of its case views, ``reading_times_output``) and only reshapes:
one row per submitted reading, readers and cases under pseudonyms unless asked otherwise.

* ``times``: reader, arm, session, case, seconds (the chosen measure), open_seconds,
  active_seconds, flagged. Readings with a flagged case view are left out by default (listed
  in ``flagged``); ``include_flagged`` keeps them with the flagged views counted.
* ``answers``: reader, arm, session, case, truth (0/1), answer (yes/no), rating (the 0-100
  confidence that metastases are present).
* ``marks``: one row per lesion the reader marked, and ``truth_lesions`` one per truth lesion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.utils import timezone

from readerstudies.models import (
    CaseReading,
    ReaderAssignment,
    ReaderStudy,
    ReaderStudyCase,
    ReadingState,
    TruthLesion,
)
from readerstudies.selectors.progress import reading_times_output

TIME_MEASURES = {"active": "active_seconds", "total": "open_seconds"}


@dataclass
class StudyTables:
    study: dict[str, Any]
    design: dict[str, Any]
    times: pd.DataFrame
    answers: pd.DataFrame
    marks: pd.DataFrame
    truth_lesions: pd.DataFrame
    flagged: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reader_labels: dict[Any, str] = field(default_factory=dict)
    case_labels: dict[Any, str] = field(default_factory=dict)


def reader_labels_for(*, reader_study: ReaderStudy, identified: bool) -> dict[Any, str]:
    """user id -> label: ``R1``, ``R2``... in the order readers were added (or user names)."""
    assignments = ReaderAssignment.objects.filter(reader_study=reader_study).select_related(
        "reader"
    )
    return {
        a.reader_id: (a.reader.username if identified else f"R{index}")
        for index, a in enumerate(assignments.order_by("created", "id"), start=1)
    }


def case_labels_for(*, reader_study: ReaderStudy, identified: bool) -> dict[Any, str]:
    """case id -> label: ``C001``... in the order cases were added (de-identified: no patient
    name, patient ID, accession number or study UID), or the accession number / study UID."""
    cases = ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study")
    return {
        case.id: (
            (case.study.accession_number or case.study.study_instance_uid)
            if identified
            else f"C{index:03d}"
        )
        for index, case in enumerate(cases.order_by("created", "id"), start=1)
    }


def study_tables(
    *,
    reader_study: ReaderStudy,
    time_measure: str = "active",
    include_flagged: bool = False,
    identified: bool = False,
) -> StudyTables:
    """The study's tables for the engine (see the module docstring)."""
    seconds_key = TIME_MEASURES[time_measure]
    readers = reader_labels_for(reader_study=reader_study, identified=identified)
    cases = case_labels_for(reader_study=reader_study, identified=identified)
    readings = list(
        CaseReading.objects.filter(session__assignment__reader_study=reader_study)
        .select_related("session__assignment", "case")
        .prefetch_related("case_views")
        .order_by("session__assignment__created", "session__number", "position")
    )
    time_rows, answer_rows, mark_rows, flagged = [], [], [], []
    notes: list[str] = []
    done = 0
    for reading in readings:
        if reading.state != ReadingState.SUBMITTED:
            continue
        done += 1
        session = reading.session
        base = {
            "reader": readers.get(session.assignment.reader_id, "?"),
            "arm": session.arm,
            "session": session.number,
            "case": cases.get(reading.case_id, "?"),
        }
        times = reading_times_output(reading, include_flagged=include_flagged)
        if times["flagged"]:
            flagged_views = [v for v in reading.case_views.all() if v.flagged]
            flagged.append(
                {
                    **base,
                    "seconds": max((v.total_seconds for v in flagged_views), default=0.0),
                    "reason": "; ".join(r for v in flagged_views for r in (v.flag_reasons or [])),
                    "included": include_flagged,
                }
            )
        if (not times["flagged"] or include_flagged) and times[seconds_key] > 0:
            time_rows.append(
                {
                    **base,
                    "seconds": times[seconds_key],
                    "open_seconds": times["open_seconds"],
                    "active_seconds": times["active_seconds"],
                    "flagged": times["flagged"],
                }
            )
        truth = reading.case.truth_metastasis
        if truth is not None and reading.metastasis_present is not None:
            answer_rows.append(
                {
                    **base,
                    "truth": int(truth),
                    "answer": "yes" if reading.metastasis_present else "no",
                    "rating": float(reading.confidence if reading.confidence is not None else 50),
                }
            )
        for index, lesion in enumerate(reading.lesions or [], start=1):
            location = lesion.get("location") or {}
            mark_rows.append(
                {
                    **base,
                    "mark": index,
                    "label": lesion.get("label", ""),
                    "shape": lesion.get("shape", ""),
                    "view": location.get("view", ""),
                    "x": location.get("x"),
                    "y": location.get("y"),
                    "z": location.get("z"),
                    "ai_lesion_id": lesion.get("ai_lesion_id"),
                }
            )
    truth_rows = [
        {
            "case": cases.get(lesion.case_id, "?"),
            "lesion": index,
            "label": lesion.label,
            "view": (lesion.location or {}).get("view", ""),
            "x": (lesion.location or {}).get("x"),
            "y": (lesion.location or {}).get("y"),
            "z": (lesion.location or {}).get("z"),
        }
        for index, lesion in enumerate(
            TruthLesion.objects.filter(case__reader_study=reader_study).order_by(
                "case__created", "created", "id"
            ),
            start=1,
        )
    ]
    all_cases = ReaderStudyCase.objects.filter(reader_study=reader_study)
    n_positive = all_cases.filter(truth_metastasis=True).count()
    n_negative = all_cases.filter(truth_metastasis=False).count()
    if all_cases.filter(truth_metastasis__isnull=True).exists():
        notes.append("Some cases have no ground truth: their answers are left out of accuracy.")
    design = {
        "design": reader_study.design,
        "state": reader_study.state,
        "n_readers": len(readers),
        "n_cases": len(cases),
        "n_positive": n_positive,
        "n_negative": n_negative,
        "arms": ["unaided", "aided"],
        "n_sessions": reader_study.sessions_per_reader,
        "washout_days": reader_study.washout_days if reader_study.design == "crossover" else None,
        "readings_done": done,
        "readings_expected": len(readings),
        "complete": bool(readings) and done == len(readings),
        "time_measure": time_measure,
        "include_flagged": include_flagged,
        "flagged_excluded": 0 if include_flagged else len(flagged),
        "identified": identified,
    }
    study = {
        "id": str(reader_study.id),
        "name": reader_study.title,
        "generated_at": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
    }
    return StudyTables(
        study=study,
        design=design,
        times=pd.DataFrame(
            time_rows,
            columns=[
                "reader",
                "arm",
                "session",
                "case",
                "seconds",
                "open_seconds",
                "active_seconds",
                "flagged",
            ],
        ),
        answers=pd.DataFrame(
            answer_rows,
            columns=["reader", "arm", "session", "case", "truth", "answer", "rating"],
        ),
        marks=pd.DataFrame(
            mark_rows,
            columns=[
                "reader",
                "arm",
                "session",
                "case",
                "mark",
                "label",
                "shape",
                "view",
                "x",
                "y",
                "z",
                "ai_lesion_id",
            ],
        ),
        truth_lesions=pd.DataFrame(
            truth_rows, columns=["case", "lesion", "label", "view", "x", "y", "z"]
        ),
        flagged=flagged,
        notes=notes,
        reader_labels=readers,
        case_labels=cases,
    )
