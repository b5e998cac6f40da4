"""Reads of the archive. Every read of studies, series or instances for a user starts from
:func:`study_queryset_for_user`: the one place where object-level access is decided.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
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

from accounts.models import Role
from accounts.permissions import roles_of
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
    """Studies ``user`` may see: THE study-access rule (docs/security.md).

    * physicians and admins: the whole archive;
    * study admins: the cases of the reader studies they administer;
    * readers: the cases of their current reader-study session;
    * anonymous users and users without a role: nothing;
    * several roles: the union.

    The reader-study side comes from ``readerstudies.selectors`` (``reader_study_ids_for_user``,
    ``study_admin_study_ids_for_user``), imported here at call time, not at module level: the
    archive sits below the reader-study app, which imports it (no import cycle), and a test may
    replace those functions on their module.
    """
    roles = roles_of(user)
    if not roles:
        return Study.objects.none()
    if Role.ADMIN in roles or Role.PHYSICIAN in roles:
        return Study.objects.all()
    from readerstudies import selectors as readerstudies_selectors

    visible = Q(pk__in=[])
    if Role.STUDY_ADMIN in roles:
        visible |= Q(id__in=readerstudies_selectors.study_admin_study_ids_for_user(user=user))
    if Role.READER in roles:
        visible |= Q(id__in=readerstudies_selectors.reader_study_ids_for_user(user=user))
    return Study.objects.filter(visible)


def hidden_instance_ids_for_user(user: Any, *, study: Study | None = None) -> set | None:
    """Ids of the archive's AI result instances (DICOM SEG of an inference job) that ``user``
    may not see in ``study`` (or, without ``study``, in the cases of their reader-study session);
    None when nothing is hidden. Reader-study blinding: see ``inference.selectors.ai_job_filter``.
    """
    from inference.selectors import hidden_seg_instance_ids

    return hidden_seg_instance_ids(user, study=study)


def hidden_series_ids_for_user(user: Any, *, study: Study | None = None) -> set | None:
    """Ids of the series holding an AI result instance hidden from ``user`` (see
    :func:`hidden_instance_ids_for_user`); None when nothing is hidden."""
    hidden = hidden_instance_ids_for_user(user, study=study)
    if not hidden:
        return None
    return set(Series.objects.filter(instances__id__in=hidden).values_list("id", flat=True))


def with_visible_modalities(studies: Iterable[Study], *, user: Any) -> list[Study]:
    """Set ``visible_modality_list`` on each study: its modalities as ``user`` may see them.

    ``Study.modalities`` is stored at ingest and names every series, AI results and a
    ground-truth SEG included; for a reader whose arm hides those series, "SEG" in
    ModalitiesInStudy (0008,0061) would tell that a segmentation exists. A modality stays only
    while a series the user may see has it (one query, only when something is hidden)."""
    studies = list(studies)
    hidden_series = hidden_series_ids_for_user(user)
    visible: dict[Any, set[str]] | None = None
    if hidden_series:
        visible = {}
        rows = (
            Series.objects.filter(study__in=[s.pk for s in studies])
            .exclude(id__in=hidden_series)
            .values_list("study_id", "modality")
            .distinct()
        )
        for study_id, modality in rows:
            visible.setdefault(study_id, set()).add(modality)
    for study in studies:
        modalities = study.modality_list
        if visible is not None:
            modalities = [m for m in modalities if m in visible.get(study.pk, set())]
        study.visible_modality_list = modalities
    return studies


def series_queryset_for_user(user: Any, *, study: Study | None = None) -> QuerySet[Series]:
    """Series of the studies ``user`` may see, less the AI result series hidden from them."""
    series = Series.objects.filter(study__in=study_queryset_for_user(user))
    if study is not None:
        series = series.filter(study=study)
    hidden = hidden_instance_ids_for_user(user, study=study)
    if hidden:
        series = series.exclude(id__in=Series.objects.filter(instances__id__in=hidden).values("id"))
    return series


def instance_queryset_for_user(user: Any, *, study: Study | None = None) -> QuerySet[Instance]:
    """Instances of the studies ``user`` may see, less the AI results hidden from them."""
    instances = Instance.objects.filter(series__study__in=study_queryset_for_user(user))
    if study is not None:
        instances = instances.filter(series__study=study)
    hidden = hidden_instance_ids_for_user(user, study=study)
    if hidden:
        instances = instances.exclude(id__in=hidden)
    return instances


def related_count(
    model, link: str, *, exclude_ids: set | None = None, exclude: Q | None = None
) -> Coalesce:
    """An annotation: how many ``model`` rows point at this row through ``link`` (a subquery,
    so counts of two relations never multiply each other as joins would), not counting the rows
    whose id is in ``exclude_ids`` (AI results hidden from the user) or that match ``exclude``."""
    rows = model.objects.filter(**{link: OuterRef("pk")})
    if exclude_ids:
        rows = rows.exclude(id__in=exclude_ids)
    if exclude is not None:
        rows = rows.exclude(exclude)
    counts = rows.order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


# DICOM Segmentation Storage: a result drawn over the images (AI or another tool), not an image.
SEGMENTATION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def with_counts(studies: QuerySet[Study], *, user: Any = None) -> QuerySet[Study]:
    """Series and instance counts; ``number_of_instances`` counts images only (SEG objects are
    results, not images); with ``user``, what that user may see (hidden AI results are not
    counted)."""
    hidden = hidden_instance_ids_for_user(user) if user is not None else None
    hidden_series = (
        set(Series.objects.filter(instances__id__in=hidden).values_list("id", flat=True))
        if hidden
        else None
    )
    return studies.annotate(
        number_of_series=related_count(Series, "study", exclude_ids=hidden_series),
        number_of_instances=related_count(
            Instance,
            "series__study",
            exclude_ids=hidden,
            exclude=Q(sop_class_uid=SEGMENTATION_SOP_CLASS),
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
        matching = Series.objects.filter(study=OuterRef("pk"), modality__in=wanted)
        # A series hidden from the user (an AI or ground-truth SEG a blinded reader may not
        # see) must not make its study match: modality=SEG would tell that it exists.
        hidden_series = hidden_series_ids_for_user(user)
        if hidden_series:
            matching = matching.exclude(id__in=hidden_series)
        studies = studies.filter(Exists(matching))
    if date_from:
        studies = studies.filter(study_date__gte=date_from)
    if date_to:
        studies = studies.filter(study_date__lte=date_to)
    if kind:
        studies = studies.filter(kind=kind)
    studies = with_workflow_statuses(studies, user=user)
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
    return with_counts(studies, user=user).order_by(*order, "id")


def with_workflow_statuses(studies: QuerySet[Study], *, user: Any = None) -> QuerySet[Study]:
    """Annotate ``report_status`` (draft / signed; NULL: no report) and ``ai_status`` (the state of
    the study's newest AI job; NULL: never run), as SQL so the worklist can filter and sort on them.
    With ``user``: only the AI jobs that user may see (reader-study blinding)."""
    from inference.models import InferenceJob
    from inference.selectors import ai_job_filter
    from reports.models import Report

    newest_job = InferenceJob.objects.filter(study=OuterRef("pk")).order_by("-created")
    visible_jobs = ai_job_filter(user) if user is not None else None
    if visible_jobs is not None:
        newest_job = newest_job.filter(visible_jobs)
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
        raise NotFoundError(
            f"No study with id {study_id}.", code="study_not_found", params={"id": str(study_id)}
        ) from exc
    study = study_queryset_for_user(user).filter(id=study_uuid).first()
    if study is None:
        raise NotFoundError(
            f"No study with id {study_id}.", code="study_not_found", params={"id": str(study_id)}
        )
    instances = Instance.objects.order_by("instance_number", "created")
    series = Series.objects.order_by("series_number", "created")
    # AI result series/instances hidden from this user (reader-study blinding) are left out.
    hidden = hidden_instance_ids_for_user(user, study=study)
    hidden_series = None
    if hidden:
        hidden_series = set(
            Series.objects.filter(instances__id__in=hidden).values_list("id", flat=True)
        )
        instances = instances.exclude(id__in=hidden)
        series = series.exclude(id__in=hidden_series)
    series = series.prefetch_related(Prefetch("instances", queryset=instances))
    return (
        with_workflow_statuses(Study.objects.filter(id=study.id), user=user)
        .annotate(
            number_of_series=related_count(Series, "study", exclude_ids=hidden_series),
            number_of_instances=related_count(
                Instance,
                "series__study",
                exclude_ids=hidden,
                exclude=Q(sop_class_uid=SEGMENTATION_SOP_CLASS),
            ),
        )
        .select_related("patient")
        .prefetch_related(Prefetch("series", queryset=series))
        .get()
    )


def study_exists(study_id: uuid.UUID | str) -> bool:
    """Whether a study with this id is archived at all (for auditing refusals only: never
    tell a user about a study the selector hides from them)."""
    try:
        return Study.objects.filter(id=uuid.UUID(str(study_id))).exists()
    except ValueError:
        return False


def instance_get_for_user(
    user: Any, *, sop_instance_uid: str, series_uid: str = "", study_uid: str = ""
) -> Instance:
    """One instance by its UIDs (series/study UIDs checked when given), or NotFoundError."""
    query = Instance.objects.filter(series__study__in=study_queryset_for_user(user))
    query = query.select_related("series__study").filter(sop_instance_uid=sop_instance_uid)
    if series_uid:
        query = query.filter(series__series_instance_uid=series_uid)
    if study_uid:
        query = query.filter(series__study__study_instance_uid=study_uid)
    instance = query.first()
    if instance is not None:
        hidden = hidden_instance_ids_for_user(user, study=instance.series.study)
        if hidden and instance.id in hidden:
            instance = None
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
