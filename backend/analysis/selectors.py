"""Reads of the analysis: a reader study's results, plots, report and exports, for its admins.

Access: the study admins of that reader study and admins (``readerstudies``' own
``reader_study_get_for_admin``: 403 for other roles, 404 for a study one does not administer).
Identified exports (user names, accession numbers) only for admins.

The results are cached per study and options, keyed by a fingerprint of the rows they are
computed from (readings, answers, case views, truth), so the page, its five plots and the PDF
compute once and any new answer or event invalidates them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max

from accounts.models import Role
from accounts.permissions import has_role
from analysis.results import results_compute
from analysis.tables import TIME_MEASURES, StudyTables, study_tables
from core.exceptions import ApplicationError
from readerstudies.models import CaseReading, CaseView, ReaderStudy, ReaderStudyCase
from readerstudies.selectors.design import reader_study_get_for_admin

CACHE_SECONDS = 3600


def analysis_reader_study_get(*, user: Any, reader_study_id: Any) -> ReaderStudy:
    return reader_study_get_for_admin(user=user, reader_study_id=reader_study_id)


def check_options(*, user: Any, time_measure: str, identified: bool) -> None:
    if time_measure not in TIME_MEASURES:
        raise ApplicationError(
            f"Unknown time measure {time_measure!r}; use one of {', '.join(TIME_MEASURES)}.",
            extra={"time": sorted(TIME_MEASURES)},
        )
    if identified and not has_role(user, Role.ADMIN):
        raise ApplicationError(
            "Only admins may export identified data; study admins get de-identified exports.",
            status_code=403,
        )


def _fingerprint(reader_study: ReaderStudy) -> str:
    readings = CaseReading.objects.filter(session__assignment__reader_study=reader_study)
    views = CaseView.objects.filter(reading__session__assignment__reader_study=reader_study)
    cases = ReaderStudyCase.objects.filter(reader_study=reader_study)
    parts = [
        reader_study.modified,
        readings.aggregate(n=Count("id"), m=Max("modified")),
        views.aggregate(n=Count("id"), m=Max("modified")),
        cases.aggregate(n=Count("id"), m=Max("modified"), t=Max("lesions__modified")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def reader_study_tables(
    *,
    reader_study: ReaderStudy,
    time_measure: str = "active",
    include_flagged: bool = False,
    identified: bool = False,
) -> StudyTables:
    return study_tables(
        reader_study=reader_study,
        time_measure=time_measure,
        include_flagged=include_flagged,
        identified=identified,
    )


def reader_study_results(
    *,
    reader_study: ReaderStudy,
    time_measure: str = "active",
    include_flagged: bool = False,
    identified: bool = False,
) -> dict[str, Any]:
    """The results JSON (computed by the statistics engine; cached until the data change)."""
    key = f"analysis:results:{reader_study.pk}:{time_measure}:{int(include_flagged)}:{int(identified)}:{_fingerprint(reader_study)}"
    results = cache.get(key)
    if results is None:
        tables = reader_study_tables(
            reader_study=reader_study,
            time_measure=time_measure,
            include_flagged=include_flagged,
            identified=identified,
        )
        results = results_compute(tables=tables)
        cache.set(key, results, CACHE_SECONDS)
    return results
