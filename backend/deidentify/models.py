"""The server-side mapping of a de-identified export (never leaves the server).

A patient gets one pseudonym and one date offset, the same in every export; an original UID gets
one replacement UID, the same in every export. So two exports of a patient's studies line up with
each other, and nobody outside can map them back.
"""

from __future__ import annotations

from django.db import models

from core.models import BaseModel


class DeidPatient(BaseModel):
    patient = models.OneToOneField(
        "studies.Patient", on_delete=models.CASCADE, related_name="deid_mapping"
    )
    pseudonym = models.CharField(max_length=32, unique=True)
    # Every date of the patient's exported objects and reports moves by this many days.
    date_offset_days = models.IntegerField()

    def __str__(self) -> str:
        return self.pseudonym


class DeidUid(BaseModel):
    # Originals longer than DICOM's 64 characters exist in the wild; they are mapped too.
    original = models.CharField(max_length=255, unique=True)
    replacement = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.replacement
