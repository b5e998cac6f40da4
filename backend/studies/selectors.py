"""Reads of the archive. Every read of studies, series or instances for a user starts from
:func:`study_queryset_for_user`: the one place where object-level access is decided.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import IO, Any

import pydicom
from django.core.files.storage import default_storage
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

from core.exceptions import NotFoundError
from studies.models import Instance, Series, Study

# Worklist ordering keys the API accepts (a leading "-" reverses).
STUDY_ORDERINGS = {
    "study_date": ("study_date", "study_time"),
    "patient_name": ("patient__name",),
    "patient_id": ("patient__patient_id",),
    "accession_number": ("accession_number",),
    "created": ("created",),
    "modalities": ("modalities",),
    "report_status": ("report_status",),
    "ai_status": ("ai_status",),
}


def study_queryset_for_user(user: Any) -> QuerySet[Study]:
    """Studies ``user`` may see. Today: every study for every authenticated user.

    Reader-study blinding narrows this later (a reader sees only assigned cases); every API,
    DICOMweb and WADO read goes through here, so that is the only place to change.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return Study.objects.none()
    return Study.objects.all()


def series_queryset_for_user(user: Any) -> QuerySet[Series]:
    return Series.objects.filter(study__in=study_queryset_for_user(user))


def instance_queryset_for_user(user: Any) -> QuerySet[Instance]:
    return Instance.objects.filter(series__study__in=study_queryset_for_user(user))


def related_count(model, link: str, *, exclude: Q | None = None) -> Coalesce:
    """An annotation: how many ``model`` rows point at this row through ``link`` (a subquery,
    so counts of two relations never multiply each other as joins would), leaving out the rows
    that match ``exclude``."""
    rows = model.objects.all() if exclude is None else model.objects.exclude(exclude)
    counts = (
        rows.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


# DICOM Segmentation Storage: a result drawn over the images (AI or another tool), not an image.
SEGMENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def with_counts(studies: QuerySet[Study]) -> QuerySet[Study]:
    """``number_of_series`` and ``number_of_instances``: the images (SEG objects not counted)."""
    return studies.annotate(
        number_of_series=related_count(Series, "study"),
        number_of_instances=related_count(
            Instance, "series__study", exclude=Q(sop_class_uid=SEGMENTATION_SOP_CLASS)
        ),
    )


def study_list(
    *,
    user: Any,
    search: str = "",
    modality: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    kind: str = "",
    report_status: str = "",
    ai_status: str = "",
    ordering: str = "",
) -> QuerySet[Study]:
    """The worklist: studies the user may see, filtered, with series/instance counts.

    ``search`` matches the patient's name (any group: 王 finds 王^小东, "wang xiaodong" and
    "wangxiaodong" find WANG^XIAODONG), patient ID and accession number.
    """
    studies = study_queryset_for_user(user).select_related("patient")
    search = " ".join(search.split())
    if search:
        lowered = search.lower()
        studies = studies.filter(
            Q(patient__name_search__contains=lowered)
            | Q(patient__name_search__contains=lowered.replace(" ", ""))
            | Q(patient__patient_id__icontains=search)
            | Q(accession_number__icontains=search)
        )
    if modality:
        wanted = [m.strip().upper() for m in modality.replace("\\", ",").split(",") if m.strip()]
        studies = studies.filter(
            Exists(Series.objects.filter(study=OuterRef("pk"), modality__in=wanted))
        )
    if date_from:
        studies = studies.filter(study_date__gte=date_from)
    if date_to:
        studies = studies.filter(study_date__lte=date_to)
    if kind:
        studies = studies.filter(kind=kind)
    studies = with_workflow_statuses(studies)
    if report_status:
        studies = _status_filter(studies, "report_status", report_status)
    if ai_status:
        studies = _status_filter(studies, "ai_status", ai_status)
    # Rows without a value (no date, no report, never run) come last in either direction, the
    # same on PostgreSQL and SQLite (whose defaults differ).
    order: list[OrderBy] = []
    for key in [k.strip() for k in ordering.split(",") if k.strip()] or ["-study_date"]:
        descending = key.startswith("-")
        for column in STUDY_ORDERINGS[key.lstrip("-")]:
            field = F(column)
            order.append(field.desc(nulls_last=True) if descending else field.asc(nulls_last=True))
    return with_counts(studies).order_by(*order, "id")


def with_workflow_statuses(studies: QuerySet[Study]) -> QuerySet[Study]:
    """Annotate ``report_status`` (draft / signed; NULL: no report) and ``ai_status`` (the state of
    the study's newest AI job; NULL: never run), as SQL so the worklist can filter and sort on them."""
    from inference.models import InferenceJob
    from reports.models import Report

    newest_job = InferenceJob.objects.filter(study=OuterRef("pk")).order_by("-created")
    return studies.annotate(
        report_status=Subquery(Report.objects.filter(study=OuterRef("pk")).values("status")[:1]),
        ai_status=Subquery(newest_job.values("state")[:1]),
    )


def _status_filter(studies: QuerySet[Study], field: str, wanted: str) -> QuerySet[Study]:
    """``wanted`` is one status, several separated by commas, and/or "none" (no report / no job)."""
    values = {v.strip() for v in wanted.split(",") if v.strip()}
    condition = Q(**{f"{field}__in": values - {"none"}})
    if "none" in values:
        condition |= Q(**{f"{field}__isnull": True})
    return studies.filter(condition)


def study_get_for_user(user: Any, study_id: uuid.UUID | str) -> Study:
    """One study with its series and instances (ordered), or NotFoundError."""
    try:
        study_uuid = uuid.UUID(str(study_id))
    except ValueError as exc:
        raise NotFoundError(f"No study with id {study_id}.") from exc
    instances = Instance.objects.order_by("instance_number", "created")
    series = Series.objects.order_by("series_number", "created").prefetch_related(
        Prefetch("instances", queryset=instances)
    )
    study = (
        with_workflow_statuses(with_counts(study_queryset_for_user(user)))
        .select_related("patient")
        .prefetch_related(Prefetch("series", queryset=series))
        .filter(id=study_uuid)
        .first()
    )
    if study is None:
        raise NotFoundError(f"No study with id {study_id}.")
    return study


def instance_get_for_user(
    user: Any, *, sop_instance_uid: str, series_uid: str = "", study_uid: str = ""
) -> Instance:
    """One instance by its UIDs (series/study UIDs checked when given), or NotFoundError."""
    query = instance_queryset_for_user(user).select_related("series__study")
    query = query.filter(sop_instance_uid=sop_instance_uid)
    if series_uid:
        query = query.filter(series__series_instance_uid=series_uid)
    if study_uid:
        query = query.filter(series__study__study_instance_uid=study_uid)
    instance = query.first()
    if instance is None:
        raise NotFoundError(f"No instance {sop_instance_uid} in this archive.")
    return instance


def instance_file_open(instance: Instance) -> IO[bytes]:
    """The stored Part 10 file of an instance, opened for binary reading."""
    return default_storage.open(instance.file, "rb")


def instance_open(instance: Instance, *, stop_before_pixels: bool = False) -> pydicom.Dataset:
    """The instance's DICOM data set, read from storage."""
    with instance_file_open(instance) as handle:
        return pydicom.dcmread(handle, stop_before_pixels=stop_before_pixels)


def wado_uri(instance: Instance, *, study_uid: str, series_uid: str) -> str:
    """The WADO-URI address of an instance, as Cornerstone's ``wadouri:`` loader reads it."""
    return (
        f"/wado?requestType=WADO&studyUID={study_uid}&seriesUID={series_uid}"
        f"&objectUID={instance.sop_instance_uid}&contentType=application%2Fdicom"
    )
