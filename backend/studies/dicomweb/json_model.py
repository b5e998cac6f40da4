"""The DICOM JSON model (PS3.18 F): search results from the database, metadata from files."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydicom.dataset import Dataset

from studies.models import Instance, Series, Study

# Attributes answered from the database, by level: keyword -> (tag, VR).
STUDY_ATTRIBUTES = {
    "SpecificCharacterSet": ("00080005", "CS"),
    "StudyDate": ("00080020", "DA"),
    "StudyTime": ("00080030", "TM"),
    "AccessionNumber": ("00080050", "SH"),
    "ModalitiesInStudy": ("00080061", "CS"),
    "ReferringPhysicianName": ("00080090", "PN"),
    "StudyDescription": ("00081030", "LO"),
    "RetrieveURL": ("00081190", "UR"),
    "PatientName": ("00100010", "PN"),
    "PatientID": ("00100020", "LO"),
    "IssuerOfPatientID": ("00100021", "LO"),
    "PatientBirthDate": ("00100030", "DA"),
    "PatientSex": ("00100040", "CS"),
    "StudyInstanceUID": ("0020000D", "UI"),
    "StudyID": ("00200010", "SH"),
    "NumberOfStudyRelatedSeries": ("00201206", "IS"),
    "NumberOfStudyRelatedInstances": ("00201208", "IS"),
}
SERIES_ATTRIBUTES = {
    "Modality": ("00080060", "CS"),
    "SeriesDate": ("00080021", "DA"),
    "SeriesTime": ("00080031", "TM"),
    "SeriesDescription": ("0008103E", "LO"),
    "BodyPartExamined": ("00180015", "CS"),
    "SeriesInstanceUID": ("0020000E", "UI"),
    "SeriesNumber": ("00200011", "IS"),
    "NumberOfSeriesRelatedInstances": ("00201209", "IS"),
}
INSTANCE_ATTRIBUTES = {
    "SOPClassUID": ("00080016", "UI"),
    "SOPInstanceUID": ("00080018", "UI"),
    "AvailableTransferSyntaxUID": ("00083002", "UI"),
    "InstanceNumber": ("00200013", "IS"),
    "NumberOfFrames": ("00280008", "IS"),
    "Rows": ("00280010", "US"),
    "Columns": ("00280011", "US"),
    "BitsAllocated": ("00280100", "US"),
}


def _da(value: dt.date | None) -> str | None:
    return value.strftime("%Y%m%d") if value else None


def _tm(value: dt.time | None) -> str | None:
    if value is None:
        return None
    text = value.strftime("%H%M%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def pn_value(name: str) -> dict[str, str] | None:
    if not name:
        return None
    groups = name.split("=")
    return {
        key: group
        for key, group in zip(("Alphabetic", "Ideographic", "Phonetic"), groups, strict=False)
        if group
    }


def _element(vr: str, value: Any) -> dict[str, Any]:
    if value is None or value == "" or value == []:
        return {"vr": vr}
    if vr == "PN":
        value = pn_value(value)
        return {"vr": vr, "Value": [value]} if value else {"vr": vr}
    if vr in ("IS", "US"):
        return {"vr": vr, "Value": [int(value)]}
    values = value if isinstance(value, list) else [value]
    return {"vr": vr, "Value": values}


def _attributes(table: dict[str, tuple[str, str]], values: dict[str, Any]) -> dict[str, Any]:
    return {table[k][0]: _element(table[k][1], v) for k, v in values.items() if k in table}


def study_json(study: Study, *, base_url: str) -> dict[str, Any]:
    patient = study.patient
    values = {
        "SpecificCharacterSet": "ISO_IR 192",
        "StudyDate": _da(study.study_date),
        "StudyTime": _tm(study.study_time),
        "AccessionNumber": study.accession_number,
        # what the user may see (studies.selectors.with_visible_modalities), else all
        "ModalitiesInStudy": getattr(study, "visible_modality_list", study.modality_list),
        "ReferringPhysicianName": study.referring_physician_name,
        "StudyDescription": study.description,
        "RetrieveURL": f"{base_url}/studies/{study.study_instance_uid}",
        "PatientName": patient.name,
        "PatientID": patient.patient_id,
        "IssuerOfPatientID": patient.issuer_of_patient_id,
        "PatientBirthDate": _da(patient.birth_date),
        "PatientSex": patient.sex,
        "StudyInstanceUID": study.study_instance_uid,
        "StudyID": study.study_id,
        "NumberOfStudyRelatedSeries": getattr(study, "number_of_series", None),
        "NumberOfStudyRelatedInstances": getattr(study, "number_of_instances", None),
    }
    return _attributes(STUDY_ATTRIBUTES, values)


def series_json(series: Series, *, base_url: str, with_study: bool = True) -> dict[str, Any]:
    study = series.study
    result = study_json(study, base_url=base_url) if with_study else {}
    for keyword in ("NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"):
        result.pop(STUDY_ATTRIBUTES[keyword][0], None)
    result.update(
        _attributes(
            SERIES_ATTRIBUTES,
            {
                "Modality": series.modality,
                "SeriesDate": _da(series.series_date),
                "SeriesTime": _tm(series.series_time),
                "SeriesDescription": series.description,
                "BodyPartExamined": series.body_part_examined,
                "SeriesInstanceUID": series.series_instance_uid,
                "SeriesNumber": series.series_number,
                "NumberOfSeriesRelatedInstances": getattr(series, "number_of_instances", None),
            },
        )
    )
    result[STUDY_ATTRIBUTES["RetrieveURL"][0]] = _element(
        "UR", f"{base_url}/studies/{study.study_instance_uid}/series/{series.series_instance_uid}"
    )
    return result


def instance_json(instance: Instance, *, base_url: str) -> dict[str, Any]:
    series = instance.series
    result = series_json(series, base_url=base_url)
    result.pop(SERIES_ATTRIBUTES["NumberOfSeriesRelatedInstances"][0], None)
    result.update(
        _attributes(
            INSTANCE_ATTRIBUTES,
            {
                "SOPClassUID": instance.sop_class_uid,
                "SOPInstanceUID": instance.sop_instance_uid,
                "AvailableTransferSyntaxUID": instance.transfer_syntax_uid,
                "InstanceNumber": instance.instance_number,
                "NumberOfFrames": instance.number_of_frames,
                "Rows": instance.rows,
                "Columns": instance.columns,
                "BitsAllocated": instance.bits_allocated,
            },
        )
    )
    result[STUDY_ATTRIBUTES["RetrieveURL"][0]] = _element("UR", instance_url(instance, base_url))
    return result


def instance_url(instance: Instance, base_url: str) -> str:
    series = instance.series
    return (
        f"{base_url}/studies/{series.study.study_instance_uid}/series/"
        f"{series.series_instance_uid}/instances/{instance.sop_instance_uid}"
    )


BULK_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
BULK_THRESHOLD = 1024
PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


def dataset_json(ds: Dataset, *, instance_url: str, has_pixels: bool) -> dict[str, Any]:
    """Metadata of one instance: top-level bulk data (pixels, large OB/OW) as BulkDataURI."""
    result: dict[str, Any] = {}
    for element in ds:
        tag = f"{element.tag:08X}"
        if element.tag.group == 0x0002 or element.tag in PIXEL_TAGS:
            continue
        try:
            if element.VR in BULK_VRS and len(element.value or b"") > BULK_THRESHOLD:
                result[tag] = {"vr": element.VR, "BulkDataURI": f"{instance_url}/bulkdata/{tag}"}
            else:
                result[tag] = element.to_json_dict(None, 10**9)
        except Exception:  # an undecodable value: leave it out rather than fail the answer
            continue
    if has_pixels:
        result["7FE00010"] = {"vr": "OW", "BulkDataURI": f"{instance_url}/bulkdata/7FE00010"}
    return result
