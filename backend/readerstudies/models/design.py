"""Reader-study design: the study, its cases with ground truth and frozen AI, its readers.

Rows are written only by :mod:`readerstudies.services`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import BaseModel


class Design(models.TextChoices):
    CROSSOVER = "crossover", "Crossover (every reader reads every case in both arms)"
    PARALLEL = "parallel", "Parallel (readers split between the arms)"


class Arm(models.TextChoices):
    UNAIDED = "unaided", "Unaided"
    AIDED = "aided", "AI-aided"


class AiTextSource(models.TextChoices):
    HISTORY = "history", "Clinical history / referral only"
    REPORT = "report", "The existing report"


class StudyState(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"


class LesionLabel(models.TextChoices):
    BENIGN = "benign", "Benign"
    METASTATIC = "metastatic", "Metastatic"


class TruthSource(models.TextChoices):
    MANUAL = "manual", "Entered by the study admin"
    CSV = "csv", "Imported from CSV"
    SEG = "seg", "From the study's ground-truth SEG"


def _new_seed() -> int:
    return secrets.randbelow(2**31)


#: Settings that decide the design; frozen when the study starts.
DESIGN_FIELDS = ("design", "washout_days", "ai_text_source", "max_case_seconds", "seed")


class ReaderStudy(BaseModel):
    """A timed reader study comparing unaided and AI-aided reading of one case set."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    design = models.CharField(max_length=16, choices=Design.choices, default=Design.CROSSOVER)
    washout_days = models.PositiveIntegerField(
        default=28,
        validators=[MaxValueValidator(365)],
        help_text="Crossover: days between sessions",
    )
    ai_text_source = models.CharField(
        max_length=16, choices=AiTextSource.choices, default=AiTextSource.HISTORY
    )
    max_case_seconds = models.PositiveIntegerField(
        default=7200, validators=[MinValueValidator(60), MaxValueValidator(86400)]
    )
    seed = models.BigIntegerField(default=_new_seed, validators=[MinValueValidator(0)])
    state = models.CharField(max_length=16, choices=StudyState.choices, default=StudyState.DRAFT)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_reader_studies"
    )

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "reader studies"

    def __str__(self) -> str:
        return f"{self.title} ({self.design}, {self.state})"

    @property
    def sessions_per_reader(self) -> int:
        return 2 if self.design == Design.CROSSOVER else 1


class StudyStateChange(BaseModel):
    """Who moved the study from one state to another, when and why. Never updated."""

    reader_study = models.ForeignKey(
        ReaderStudy, on_delete=models.CASCADE, related_name="state_changes"
    )
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at"]


class ReaderStudyCase(BaseModel):
    """An archive study read in a reader study, with its ground truth and frozen AI result."""

    reader_study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="cases")
    study = models.ForeignKey(
        "studies.Study", on_delete=models.PROTECT, related_name="reader_study_cases"
    )
    truth_metastasis = models.BooleanField(null=True, blank=True)
    truth_source = models.CharField(max_length=16, choices=TruthSource.choices, blank=True)
    truth_entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    truth_entered_at = models.DateTimeField(null=True, blank=True)
    # The job queued by the precompute (any state); the frozen result is FrozenAiResult.
    ai_job = models.ForeignKey(
        "inference.InferenceJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["reader_study", "created"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader_study", "study"], name="reader_study_case_unique"
            )
        ]

    def __str__(self) -> str:
        return f"case {self.study_id} of {self.reader_study_id}"


class TruthLesion(BaseModel):
    """One ground-truth lesion of a case, in image coordinates (see ``location``)."""

    case = models.ForeignKey(ReaderStudyCase, on_delete=models.CASCADE, related_name="lesions")
    label = models.CharField(max_length=16, choices=LesionLabel.choices)
    # planar: {"kind": "planar", "view": "anterior"|"posterior", "frame"?, "sop_instance_uid"?,
    # "x", "y"}; SPECT/CT: {"kind": "spectct", "sop_instance_uid"?, "x", "y", "z"}.
    location = models.JSONField()

    class Meta:
        ordering = ["case", "created"]


class FrozenAiResult(BaseModel):
    """The AI result every reader of the aided arm sees for a case, fixed before the start.

    It points at one succeeded job and records what identifies that result (the model version,
    a checksum of the label map and lesion table, the text the model was conditioned on). Later
    reports, re-runs or model activations create other jobs; this row never changes.
    """

    case = models.OneToOneField(ReaderStudyCase, on_delete=models.CASCADE, related_name="frozen_ai")
    job = models.ForeignKey("inference.InferenceJob", on_delete=models.PROTECT, related_name="+")
    model_version = models.ForeignKey(
        "inference.ModelVersion", on_delete=models.PROTECT, related_name="+"
    )
    checksum = models.CharField(max_length=64)
    conditioning_text = models.TextField(blank=True)
    text_source = models.CharField(max_length=16, choices=AiTextSource.choices)
    lesion_count = models.PositiveIntegerField(default=0)
    frozen_at = models.DateTimeField()


class ReaderAssignment(BaseModel):
    """A reader taking part in a reader study (once)."""

    reader_study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="readers")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reader_assignments"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["reader_study", "created"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader_study", "reader"], name="reader_assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"reader {self.reader_id} of {self.reader_study_id}"
