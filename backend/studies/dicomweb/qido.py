"""QIDO-RS query parameters (PS3.18 8.3.4) -> database filters on the archive's tables."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from pydicom.datadict import keyword_for_tag

from core.exceptions import ApplicationError
from studies.dicom import parse_da
from studies.models import Series

CONTROL = {"limit", "offset", "includefield", "fuzzymatching"}

# keyword -> (level, field relative to that level's model, kind of matching)
MATCHABLE: dict[str, tuple[str, str, str]] = {
    "PatientName": ("study", "patient__name", "pn"),
    "PatientID": ("study", "patient__patient_id", "text"),
    "PatientBirthDate": ("study", "patient__birth_date", "date"),
    "PatientSex": ("study", "patient__sex", "text"),
    "StudyInstanceUID": ("study", "study_instance_uid", "uids"),
    "StudyDate": ("study", "study_date", "date"),
    "AccessionNumber": ("study", "accession_number", "text"),
    "StudyID": ("study", "study_id", "text"),
    "StudyDescription": ("study", "description", "text"),
    "ReferringPhysicianName": ("study", "referring_physician_name", "pn"),
    "ModalitiesInStudy": ("study", "", "modalities"),
    "SeriesInstanceUID": ("series", "series_instance_uid", "uids"),
    "Modality": ("series", "modality", "text"),
    "SeriesNumber": ("series", "series_number", "number"),
    "SeriesDescription": ("series", "description", "text"),
    "BodyPartExamined": ("series", "body_part_examined", "text"),
    "SOPInstanceUID": ("instance", "sop_instance_uid", "uids"),
    "SOPClassUID": ("instance", "sop_class_uid", "uids"),
    "InstanceNumber": ("instance", "instance_number", "number"),
}
LEVELS = ("study", "series", "instance")
# How to reach a level's model from the model being searched.
PREFIX = {
    ("study", "study"): "",
    ("series", "study"): "study__",
    ("series", "series"): "",
    ("instance", "study"): "series__study__",
    ("instance", "series"): "series__",
    ("instance", "instance"): "",
}


def keyword_of(key: str) -> str:
    """Query keys are keywords (PatientName) or tags (00100010)."""
    if re.fullmatch(r"[0-9A-Fa-f]{8}", key):
        return keyword_for_tag(int(key, 16)) or key
    return key


def _wildcard_regex(value: str, *, pn: bool) -> str:
    body = "".join(
        ("[^=]*" if pn else ".*")
        if ch == "*"
        else ("[^=]" if pn else ".")
        if ch == "?"
        else re.escape(ch)
        for ch in value
    )
    # A person name matches when any of its groups (alphabetic, ideographic, phonetic) matches.
    return f"(^|=){body}(=|$)" if pn else f"^{body}$"


def _values(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[\\,]", value) if v.strip()]


def _date_range(keyword: str, value: str) -> tuple[Any, Any]:
    start, dash, end = value.partition("-")
    low, high = parse_da(start) if start else None, parse_da(end) if end else None
    if (start and low is None) or (end and high is None):
        raise ApplicationError(f"{keyword}: '{value}' is not a date (YYYYMMDD) or date range.")
    return (low, high) if dash else (low, low)


def qido_filter(
    queryset: QuerySet, *, level: str, params, hidden_series: set | None = None
) -> tuple[QuerySet, list[str]]:
    """Apply every matching key of ``params`` for a search at ``level``; return ignored keys.

    ``hidden_series``: ids of series the user may not see (reader-study blinding,
    ``studies.selectors.hidden_series_ids_for_user``): they never make a study match
    ModalitiesInStudy (a search for SEG must not tell that a hidden SEG exists)."""
    ignored: list[str] = []
    for key in params:
        if key in CONTROL:
            continue
        keyword = keyword_of(key)
        rule = MATCHABLE.get(keyword)
        if rule is None or LEVELS.index(rule[0]) > LEVELS.index(level):
            ignored.append(key)
            continue
        value = params.get(key, "").strip()
        if not value:
            continue  # universal matching
        attr_level, field, kind = rule
        path = PREFIX[(level, attr_level)] + field
        if kind == "pn":
            queryset = queryset.filter(**{f"{path}__iregex": _wildcard_regex(value, pn=True)})
        elif kind == "text":
            if "*" in value or "?" in value:
                regex = _wildcard_regex(value, pn=False)
                queryset = queryset.filter(**{f"{path}__iregex": regex})
            else:
                queryset = queryset.filter(**{path: value})
        elif kind == "uids":
            queryset = queryset.filter(**{f"{path}__in": _values(value)})
        elif kind == "number":
            try:
                queryset = queryset.filter(**{f"{path}__in": [int(v) for v in _values(value)]})
            except ValueError as exc:
                raise ApplicationError(f"{keyword}: '{value}' is not a number.") from exc
        elif kind == "date":
            low, high = _date_range(keyword, value)
            if low:
                queryset = queryset.filter(**{f"{path}__gte": low})
            if high:
                queryset = queryset.filter(**{f"{path}__lte": high})
        elif kind == "modalities":
            study_ref = {"study": "pk", "series": "study", "instance": "series__study"}[level]
            matching = Series.objects.filter(
                study=OuterRef(study_ref), modality__in=[v.upper() for v in _values(value)]
            )
            if hidden_series:
                matching = matching.exclude(id__in=hidden_series)
            queryset = queryset.filter(Exists(matching))
    return queryset, ignored


def paging(params) -> tuple[int, int | None]:
    try:
        offset = int(params.get("offset") or 0)
        limit = int(params["limit"]) if params.get("limit") else None
    except ValueError as exc:
        raise ApplicationError("limit and offset must be whole numbers.") from exc
    if offset < 0 or (limit is not None and limit < 0):
        raise ApplicationError("limit and offset must not be negative.")
    if offset > settings.API_MAX_OFFSET:
        raise ApplicationError(
            f"offset {offset} is larger than the limit of {settings.API_MAX_OFFSET} "
            "(API_MAX_OFFSET)."
        )
    # A page larger than API_MAX_PAGE_SIZE (or none asked for) is cut to it (PS3.18 lets the
    # origin server return fewer results than asked); offset pages on.
    if limit is None or limit > settings.API_MAX_PAGE_SIZE:
        limit = settings.API_MAX_PAGE_SIZE
    return offset, limit


def include_fields(params) -> set[str]:
    fields: set[str] = set()
    for value in params.getlist("includefield"):
        fields.update(keyword_of(v) for v in _values(value))
    return fields
