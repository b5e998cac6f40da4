"""De-identified export of a study: its DICOM objects (PS3.15 basic profile, ``profile.py``) and
its report with names and identifiers stripped, as one zip. The mapping stays on the server."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import secrets
import zipfile
from typing import Any

import pydicom
from django.db import IntegrityError, transaction
from pydicom.uid import generate_uid

from deidentify.models import DeidPatient, DeidUid
from deidentify.profile import METHOD, deidentify_dataset
from studies.models import Instance, Patient, Study
from studies.selectors import instance_open

# Dates move back by 30 days to 3 years, per patient (never forward: no future study dates).
OFFSET_RANGE_DAYS = (30, 3 * 365)


def deid_patient_get_or_create(*, patient: Patient) -> DeidPatient:
    """The patient's pseudonym and date offset, created once and reused by every export."""
    existing = DeidPatient.objects.filter(patient=patient).first()
    if existing is not None:
        return existing
    low, high = OFFSET_RANGE_DAYS
    mapping = DeidPatient(
        patient=patient,
        pseudonym=f"BR{secrets.token_hex(6).upper()}",
        date_offset_days=-(low + secrets.randbelow(high - low + 1)),
    )
    mapping.full_clean(exclude=["patient"])
    try:
        with transaction.atomic():
            mapping.save(force_insert=True)
    except IntegrityError:  # a concurrent export made it first
        return DeidPatient.objects.get(patient=patient)
    return mapping


def deid_uid(*, original: str) -> str:
    """The replacement of a UID (a new 2.25 UID the first time, the same one afterwards)."""
    existing = DeidUid.objects.filter(original=original).values_list("replacement", flat=True)
    found = existing.first()
    if found:
        return found
    mapping = DeidUid(original=original, replacement=generate_uid(prefix=None))
    mapping.full_clean()
    try:
        with transaction.atomic():
            mapping.save(force_insert=True)
    except IntegrityError:
        return DeidUid.objects.get(original=original).replacement
    return mapping.replacement


# --- reports --------------------------------------------------------------------------------

_DATE_PATTERNS = [
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日",
    r"\d{4}\s*年\s*\d{1,2}\s*月",
    r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b",
    r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{4}\b",
    r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)",
]


def _name_variants(name: str) -> set[str]:
    """A DICOM person name's groups and components: "WANG^WEI=王^伟" -> 王伟, 王, 伟, WANG WEI..."""
    variants: set[str] = set()
    for group in name.split("="):
        parts = [p.strip() for p in group.split("^") if p.strip()]
        if not parts:
            continue
        variants.update({"".join(parts), " ".join(parts), group.strip()})
        variants.update(p for p in parts if len(p) >= 2 or not p.isascii())
    return {v for v in variants if v}


def identifiers_of_study(study: Study, datasets: list[pydicom.Dataset]) -> dict[str, set[str]]:
    """What must not appear in an exported text: names, IDs, accession numbers, hospitals."""
    names = _name_variants(study.patient.name)
    names |= _name_variants(study.referring_physician_name)
    ids = {study.patient.patient_id, study.accession_number, study.study_id}
    hospitals: set[str] = set()
    for ds in datasets:
        for keyword in ("InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
                        "StationName"):  # fmt: skip
            value = str(ds.get(keyword, "") or "").strip()
            if value:
                hospitals.add(value)
        for keyword in ("ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName"):
            value = ds.get(keyword)
            for item in value if isinstance(value, list | pydicom.multival.MultiValue) else [value]:
                if item:
                    names |= _name_variants(str(item))
        for keyword in ("OtherPatientIDs", "PatientID", "AccessionNumber"):
            value = str(ds.get(keyword, "") or "").strip()
            if value:
                ids.add(value)
    return {
        "names": {n for n in names if n},
        "ids": {i for i in ids if i},
        "hospitals": {h for h in hospitals if h},
    }


def text_deidentify(text: str, *, identifiers: dict[str, set[str]]) -> str:
    """Strip names, IDs, hospitals and dates from a report's text (longest first)."""
    if not text:
        return text
    for key, placeholder in (("hospitals", "[医院]"), ("ids", "[编号]"), ("names", "[姓名]")):
        for value in sorted(identifiers.get(key, ()), key=len, reverse=True):
            pattern = re.escape(value)
            if value.isascii():  # Latin names and IDs: whole words only ("LI" is not in "LIVER")
                pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
            text = re.sub(pattern, placeholder, text, flags=re.IGNORECASE)
    for pattern in _DATE_PATTERNS:
        text = re.sub(pattern, "[日期]", text)
    return text


def study_header(study: Study) -> pydicom.Dataset | None:
    """The header of one of the study's stored objects (for its hospital and people names)."""
    instance = Instance.objects.filter(series__study=study).order_by("created").first()
    return instance_open(instance, stop_before_pixels=True) if instance is not None else None


def report_row_deidentify(row: dict[str, Any], *, study: Study) -> dict[str, Any]:
    """A report export row (``reports.selectors``) with names and identifiers stripped: the
    patient's pseudonym for the ID, the mapped study UID, the shifted study date, no name and no
    accession number; free text cleaned like the zip's report."""
    mapping = deid_patient_get_or_create(patient=study.patient)
    header = study_header(study)
    identifiers = identifiers_of_study(study, [header] if header is not None else [])
    out = dict(row)
    out["study_instance_uid"] = deid_uid(original=study.study_instance_uid)
    out["patient_id"] = mapping.pseudonym
    out["patient_name"] = ""
    out["accession_number"] = ""
    out["study_date"] = (
        (study.study_date + dt.timedelta(days=mapping.date_offset_days)).isoformat()
        if study.study_date
        else ""
    )
    for key in ("history", "findings", "impression", "addenda"):
        out[key] = text_deidentify(out.get(key) or "", identifiers=identifiers)
    # Staff names and the signing time identify the hospital and the day as well.
    for key in ("author", "signed_by", "signed_at"):
        if key in out:
            out[key] = ""
    return out


# --- the export -----------------------------------------------------------------------------


def study_deidentified_zip(*, study: Study, instances: list[Instance]) -> tuple[bytes, str]:
    """The zip of a de-identified study and the name to give it.

    ``instances``: what the caller may export (the selector's view of the study).
    Layout: ``<pseudonym>/<study uid>/<series uid>/<sop uid>.dcm`` and ``report.json``.
    """
    mapping = deid_patient_get_or_create(patient=study.patient)
    datasets = [instance_open(instance) for instance in instances]
    identifiers = identifiers_of_study(study, datasets)
    cache: dict[str, str] = {}

    def uid_map(original: str) -> str:
        if original not in cache:
            cache[original] = deid_uid(original=original)
        return cache[original]

    study_uid = uid_map(study.study_instance_uid)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for ds in datasets:
            deidentify_dataset(
                ds,
                uid_map=uid_map,
                date_offset_days=mapping.date_offset_days,
                pseudonym=mapping.pseudonym,
            )
            out = io.BytesIO()
            ds.save_as(out, enforce_file_format=True)
            path = f"{mapping.pseudonym}/{study_uid}/{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm"
            archive.writestr(path, out.getvalue())
        archive.writestr(
            f"{mapping.pseudonym}/{study_uid}/report.json",
            json.dumps(
                _report_payload(study, identifiers, mapping, study_uid),
                ensure_ascii=False,
                indent=1,
            ),
        )
        archive.writestr(
            "README.txt",
            f"De-identified export.\nMethod: {METHOD}.\n"
            "Dates are shifted by a per-patient offset; UIDs are replaced consistently.\n"
            "The mapping back to the originals is kept only on the BoneRead server.\n",
        )
    return buffer.getvalue(), f"{mapping.pseudonym}-{study_uid}.zip"


def _report_payload(study: Study, identifiers, mapping: DeidPatient, study_uid: str) -> dict:
    from reports.models import Report

    report = Report.objects.filter(study=study).first()
    payload: dict[str, Any] = {"patient": mapping.pseudonym, "study_instance_uid": study_uid}
    if report is None:
        return {**payload, "report": None}
    clean = lambda text: text_deidentify(text, identifiers=identifiers)  # noqa: E731
    payload["report"] = {
        "status": report.status,
        "version": report.version,
        "history": clean(report.history),
        "findings": clean(report.findings),
        "impression": clean(report.impression),
        "addenda": [clean(a.text) for a in report.addenda.order_by("number")],
    }
    return payload
