"""The DICOM archive: Patient -> Study -> Series -> Instance, one row per DICOM entity.

The files themselves live in Django's default storage under a content-addressed name
(``dicom/ab/cd/<sha256>.dcm``); the rows hold what a worklist, a viewer and QIDO-RS search on.
Rows and files are written only by :func:`studies.services.instance_ingest`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import BaseModel


class StudyKind(models.TextChoices):
    PLANAR = "planar", "NM whole-body (planar)"
    SPECTCT = "spectct", "Bone SPECT/CT"
    OTHER = "other", "Other"


class IngestSource(models.TextChoices):
    UPLOAD = "upload", "REST upload"
    IMPORT = "import", "Folder import"
    CSTORE = "cstore", "DICOM C-STORE"
    STOW = "stow", "DICOMweb STOW-RS"
    AI = "ai", "AI result"
    DEMO = "demo", "Demo data"
    OTHER = "other", "Other"


class Patient(BaseModel):
    """A patient as identified by PatientID (+ issuer); anonymous files by name and birth date."""

    patient_key = models.CharField(max_length=400, unique=True, editable=False)
    patient_id = models.CharField(max_length=64, blank=True, db_index=True)
    issuer_of_patient_id = models.CharField(max_length=64, blank=True)
    # The decoded DICOM person name, all component groups: "WANG^XIAODONG=王^小东".
    name = models.CharField(max_length=400, blank=True)
    # Lower-case name with separators as spaces and also squeezed out, for worklist search.
    name_search = models.CharField(max_length=900, blank=True, editable=False)
    sex = models.CharField(max_length=16, blank=True)
    birth_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name or '(no name)'} [{self.patient_id}]"


class Study(BaseModel):
    study_instance_uid = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="studies")
    study_date = models.DateField(null=True, blank=True, db_index=True)
    study_time = models.TimeField(null=True, blank=True)
    accession_number = models.CharField(max_length=64, blank=True, db_index=True)
    study_id = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=255, blank=True)
    referring_physician_name = models.CharField(max_length=400, blank=True)
    # Backslash-separated, sorted (the DICOM multi-value form): "CT\\NM". Kept by the ingest.
    modalities = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=16, choices=StudyKind.choices, default=StudyKind.OTHER)

    class Meta:
        ordering = ["-study_date", "-study_time"]
        verbose_name_plural = "studies"
        indexes = [models.Index(fields=["study_date", "study_time"])]

    def __str__(self) -> str:
        return f"{self.study_instance_uid} ({self.study_date})"

    @property
    def modality_list(self) -> list[str]:
        return [m for m in self.modalities.split("\\") if m]

    @property
    def image_modality_list(self) -> list[str]:
        """The modalities of the study's images, for the worklist: a SEG (an AI result or another
        tool's segmentation) is drawn over the images, it is not a modality the patient had."""
        return [m for m in self.modality_list if m != "SEG"]


class Series(BaseModel):
    series_instance_uid = models.CharField(max_length=64, unique=True)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="series")
    modality = models.CharField(max_length=16, db_index=True)
    series_number = models.IntegerField(null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)
    body_part_examined = models.CharField(max_length=64, blank=True)
    series_date = models.DateField(null=True, blank=True)
    series_time = models.TimeField(null=True, blank=True)
    # ImageType of the first instance, backslash-separated: tells whole-body from tomographic NM.
    image_type = models.CharField(max_length=255, blank=True)
    frame_of_reference_uid = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["series_number", "created"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.modality} {self.series_number}: {self.description}"


class Instance(BaseModel):
    sop_instance_uid = models.CharField(max_length=64, unique=True)
    sop_class_uid = models.CharField(max_length=64, db_index=True)
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="instances")
    instance_number = models.IntegerField(null=True, blank=True)
    number_of_frames = models.IntegerField(null=True, blank=True)
    rows = models.IntegerField(null=True, blank=True)
    columns = models.IntegerField(null=True, blank=True)
    bits_allocated = models.IntegerField(null=True, blank=True)
    transfer_syntax_uid = models.CharField(max_length=64)
    # Planar NM: the view of each frame ("anterior", "posterior"), from the detector view codes.
    frame_views = models.JSONField(default=list, blank=True)
    # Content-addressed file: storage name derived from the sha256 of the stored bytes.
    file = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    source = models.CharField(max_length=16, choices=IngestSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["instance_number", "created"]
        indexes = [models.Index(fields=["series", "instance_number"])]

    def __str__(self) -> str:
        return self.sop_instance_uid
