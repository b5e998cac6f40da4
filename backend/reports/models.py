"""Chinese diagnostic reports: one :class:`Report` per study, every save a :class:`ReportVersion`.

The ``Report`` row holds the current text (denormalised from its newest version, so that lists
and search read one table) and the optimistic-locking counter ``version``. Versions and addenda
are append-only. Rows are written only by :mod:`reports.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import BaseModel


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class ReportSource(models.TextChoices):
    EDITOR = "editor", "Edited in BoneRead"
    IMPORT = "import", "Imported"


class Report(BaseModel):
    study = models.OneToOneField("studies.Study", on_delete=models.CASCADE, related_name="report")
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT, db_index=True
    )
    # Number of the newest ReportVersion; a save must name it (optimistic locking).
    version = models.PositiveIntegerField(default=0)
    history = models.TextField("clinical history", blank=True)
    findings = models.TextField("findings (检查所见)", blank=True)
    impression = models.TextField("impression (诊断意见)", blank=True)
    # Lower-cased history + findings + impression + addenda: what substring search scans
    # (PostgreSQL: a pg_trgm GIN index on it, see migration 0002).
    search_text = models.TextField(blank=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who saved the newest version.",
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-modified"]

    def __str__(self) -> str:
        return f"report of {self.study_id} v{self.version} ({self.status})"


class ReportVersion(BaseModel):
    """One saved state of a report: who saved it, when, what changed. Never updated."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    history = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    impression = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_fields = models.JSONField(default=list, blank=True)
    source = models.CharField(
        max_length=16, choices=ReportSource.choices, default=ReportSource.EDITOR
    )

    class Meta:
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"

    @property
    def text(self) -> str:
        """The report as one text, as MT-UNet reads it."""
        return report_text(self.history, self.findings, self.impression)


class ReportAddendum(BaseModel):
    """Text added to a signed report; the signed text stays as it was. Never updated."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="addenda")
    number = models.PositiveIntegerField()
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["report", "number"]
        verbose_name_plural = "report addenda"
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_addendum_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report_id} addendum {self.number}"


def report_text(history: str, findings: str, impression: str) -> str:
    """History, findings and impression joined with their Chinese headings."""
    parts = [
        f"{label}：{value.strip()}"
        for label, value in (
            ("临床病史", history),
            ("检查所见", findings),
            ("诊断意见", impression),
        )
        if value and value.strip()
    ]
    return "\n".join(parts)
