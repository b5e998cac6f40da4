"""Reads of the reports app: one report, its versions, search, export, worklist statuses."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from core.exceptions import NotFoundError
from reports.models import Report, ReportStatus, ReportVersion
from studies.models import Study
from studies.selectors import study_queryset_for_user


def study_for_user(user: Any, study_id: uuid.UUID | str) -> Study:
    """A study the user may see (for the report and AI endpoints), or NotFoundError."""
    try:
        study_uuid = uuid.UUID(str(study_id))
    except ValueError as exc:
        raise NotFoundError(f"No study with id {study_id}.") from exc
    study = study_queryset_for_user(user).select_related("patient").filter(id=study_uuid).first()
    if study is None:
        raise NotFoundError(f"No study with id {study_id}.")
    return study


def report_get(*, study: Study) -> Report:
    report = (
        Report.objects.select_related("author", "signed_by", "study").filter(study=study).first()
    )
    if report is None:
        raise NotFoundError("This study has no report yet.", extra={"study_id": str(study.id)})
    return report


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": getattr(user, "display_name", "") or user.get_full_name() or user.username,
    }


def report_output(report: Report) -> dict[str, Any]:
    """The API representation of a report (also carried by a 409 as ``extra.current``)."""
    addenda = [
        {
            "number": a.number,
            "text": a.text,
            "author": _person(a.author),
            "created": a.created.isoformat(),
        }
        for a in report.addenda.select_related("author").order_by("number")
    ]
    return {
        "id": str(report.id),
        "study_id": str(report.study_id),
        "status": report.status,
        "version": report.version,
        "history": report.history,
        "findings": report.findings,
        "impression": report.impression,
        "author": _person(report.author),
        "created": report.created.isoformat(),
        "modified": report.modified.isoformat(),
        "signed_by": _person(report.signed_by),
        "signed_at": report.signed_at.isoformat() if report.signed_at else None,
        "signed_version": report.signed_version,
        "addenda": addenda,
    }


def version_output(version: ReportVersion) -> dict[str, Any]:
    return {
        "version": version.number,
        "history": version.history,
        "findings": version.findings,
        "impression": version.impression,
        "author": _person(version.author),
        "created": version.created.isoformat(),
        "changed_fields": version.changed_fields,
        "source": version.source,
    }


def report_versions(*, study: Study) -> list[ReportVersion]:
    report = report_get(study=study)
    return list(report.versions.select_related("author").order_by("-number"))


def report_list(
    *, user: Any, search: str = "", status: str = "", author: str = ""
) -> QuerySet[Report]:
    """Reports of studies the user may see, newest first.

    ``search``: a substring of history, findings, impression or an addendum (Chinese or not,
    case-insensitive). PostgreSQL answers it from a pg_trgm GIN index on ``search_text``;
    SQLite scans (LIKE), which is fine at a single site's size.
    ``author``: user id, or a username / display name substring (the newest version's author
    or the signer).
    """
    reports = Report.objects.filter(study__in=study_queryset_for_user(user)).select_related(
        "study__patient", "author", "signed_by"
    )
    search = " ".join(search.split()).lower()
    if search:
        # search_text is stored lower-cased, so a plain LIKE (which the trigram index serves)
        # is case-insensitive for Latin text too.
        for term in search.split(" "):
            reports = reports.filter(search_text__contains=term)
    if status:
        if status not in ReportStatus.values:
            from core.exceptions import ApplicationError

            raise ApplicationError(
                f"Unknown status {status!r}; use one of {', '.join(ReportStatus.values)}.",
                extra={"fields": {"status": ["invalid choice"]}},
            )
        reports = reports.filter(status=status)
    author = author.strip()
    if author:
        if author.isdigit():
            reports = reports.filter(Q(author_id=int(author)) | Q(signed_by_id=int(author)))
        else:
            reports = reports.filter(
                Q(author__username__iexact=author)
                | Q(author__display_name__icontains=author)
                | Q(signed_by__username__iexact=author)
                | Q(signed_by__display_name__icontains=author)
            )
    return reports.order_by("-modified", "id")


def report_list_item(report: Report) -> dict[str, Any]:
    study = report.study
    return {
        "id": str(report.id),
        "study_id": str(study.id),
        "study_instance_uid": study.study_instance_uid,
        "accession_number": study.accession_number,
        "study_date": study.study_date.isoformat() if study.study_date else None,
        "patient_name": study.patient.name,
        "patient_id": study.patient.patient_id,
        "status": report.status,
        "version": report.version,
        "impression": report.impression,
        "author": _person(report.author),
        "signed_by": _person(report.signed_by),
        "signed_at": report.signed_at.isoformat() if report.signed_at else None,
        "modified": report.modified.isoformat(),
    }


EXPORT_FIELDS = [
    "study_instance_uid",
    "accession_number",
    "study_date",
    "patient_id",
    "patient_name",
    "status",
    "version",
    "history",
    "findings",
    "impression",
    "author",
    "signed_by",
    "signed_at",
    "addenda",
]
DEIDENTIFIED = {"patient_id", "patient_name", "accession_number"}


def _export_rows(reports: Iterable[Report], deidentify: bool) -> Iterable[dict[str, Any]]:
    for report in reports.prefetch_related("addenda"):
        study = report.study
        row = {
            "study_instance_uid": study.study_instance_uid,
            "accession_number": study.accession_number,
            "study_date": study.study_date.isoformat() if study.study_date else "",
            "patient_id": study.patient.patient_id,
            "patient_name": study.patient.name,
            "status": report.status,
            "version": report.version,
            "history": report.history,
            "findings": report.findings,
            "impression": report.impression,
            "author": report.author.username if report.author else "",
            "signed_by": report.signed_by.username if report.signed_by else "",
            "signed_at": report.signed_at.isoformat() if report.signed_at else "",
            "addenda": "\n".join(
                a.text for a in sorted(report.addenda.all(), key=lambda a: a.number)
            ),
        }
        if deidentify:
            # The same mapping as the de-identified study export (kept on the server): study
            # UID, pseudonym and shifted date line up with the zips; names, IDs, hospitals and
            # dates stripped from the text (docs/security.md).
            from deidentify.services import report_row_deidentify

            row = report_row_deidentify(row, study=study)
            for name in DEIDENTIFIED - {"patient_id"}:
                row[name] = ""
        yield row


def reports_export(*, reports: QuerySet[Report], fmt: str, deidentify: bool) -> tuple[bytes, str]:
    """CSV (UTF-8 with BOM, so that Excel shows Chinese) or JSON; re-importable as is."""
    rows = list(_export_rows(reports, deidentify))
    if fmt == "json":
        return json.dumps({"reports": rows}, ensure_ascii=False, indent=1).encode(), "json"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "csv"
