"""Models of reader studies: design (study, cases, truth, frozen AI, readers), reading
(sessions, case readings, answers) and timing (case views and their events)."""

from readerstudies.models.design import (
    DESIGN_FIELDS,
    AiTextSource,
    Arm,
    Design,
    FrozenAiResult,
    LesionLabel,
    ReaderAssignment,
    ReaderStudy,
    ReaderStudyCase,
    StudyState,
    StudyStateChange,
    TruthLesion,
    TruthSource,
)
from readerstudies.models.reading import (
    AnswerRevision,
    CaseReading,
    ReaderSession,
    ReadingState,
)
from readerstudies.models.timing import CaseView, EventKind, ReadingEvent

__all__ = [
    "DESIGN_FIELDS",
    "AiTextSource",
    "AnswerRevision",
    "Arm",
    "CaseReading",
    "CaseView",
    "Design",
    "EventKind",
    "FrozenAiResult",
    "LesionLabel",
    "ReaderAssignment",
    "ReaderSession",
    "ReaderStudy",
    "ReaderStudyCase",
    "ReadingEvent",
    "ReadingState",
    "StudyState",
    "StudyStateChange",
    "TruthLesion",
    "TruthSource",
]
