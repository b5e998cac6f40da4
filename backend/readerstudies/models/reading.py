"""Reading: a reader's sessions (frozen at the start), their case readings and answers."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from core.models import BaseModel
from readerstudies.models.design import Arm, ReaderAssignment, ReaderStudyCase


class ReaderSession(BaseModel):
    """One reading session of one reader: an arm and a frozen case order.

    Crossover: sessions 1 and 2 in opposite arms; session 2 may start only ``washout_days``
    after session 1 was completed, unless an admin overrides (recorded here). Parallel: one.
    """

    assignment = models.ForeignKey(
        ReaderAssignment, on_delete=models.CASCADE, related_name="sessions"
    )
    number = models.PositiveSmallIntegerField()
    arm = models.CharField(max_length=16, choices=Arm.choices)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    washout_override_reason = models.TextField(blank=True)
    washout_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    washout_override_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assignment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="reader_session_unique")
        ]

    def __str__(self) -> str:
        return f"session {self.number} ({self.arm}) of {self.assignment_id}"


class ReadingState(models.TextChoices):
    PENDING = "pending", "Not opened yet"
    OPEN = "open", "Opened, not submitted"
    SUBMITTED = "submitted", "Submitted (locked)"


class CaseReading(BaseModel):
    """One case read by one reader in one session: its place in the order and the answer."""

    session = models.ForeignKey(ReaderSession, on_delete=models.CASCADE, related_name="readings")
    case = models.ForeignKey(ReaderStudyCase, on_delete=models.PROTECT, related_name="readings")
    position = models.PositiveIntegerField()
    state = models.CharField(
        max_length=16, choices=ReadingState.choices, default=ReadingState.PENDING
    )
    first_opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The answer (autosaved draft until submitted).
    metastasis_present = models.BooleanField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    comment = models.TextField(blank=True)
    lesions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "case"], name="case_reading_unique"),
            models.UniqueConstraint(
                fields=["session", "position"], name="case_reading_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"reading {self.position} of {self.session_id} ({self.state})"

    def answer_dict(self) -> dict:
        return {
            "metastasis_present": self.metastasis_present,
            "confidence": self.confidence,
            "comment": self.comment,
            "lesions": self.lesions,
        }


class AnswerRevision(BaseModel):
    """A previous answer kept when an admin reopens or corrects a submitted reading."""

    reading = models.ForeignKey(CaseReading, on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField(max_length=16)  # "reopen" | "admin_change"
    answer = models.JSONField()
    state = models.CharField(max_length=16)
    submitted_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.TextField()

    class Meta:
        ordering = ["reading", "changed_at"]
