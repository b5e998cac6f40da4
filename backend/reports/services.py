"""Writes of the reports app: save a version (optimistic locking), sign, add an addendum, import.

Every write locks the report row (``select_for_update``) so that two saves of the same report
serialise; the second one then sees that its ``base_version`` is no longer the newest and gets a
409 carrying the current version, instead of silently overwriting the first.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import ApplicationError, ConflictError
from reports.models import (
    Report,
    ReportAddendum,
    ReportSource,
    ReportStatus,
    ReportVersion,
)
from reports.permissions import can_sign_reports
from studies.models import Study

log = logging.getLogger(__name__)

FIELDS = ("history", "findings", "impression")
MAX_FIELD_LENGTH = 20000


def _search_text(report: Report, addenda: list[str]) -> str:
    return "\n".join([report.history, report.findings, report.impression, *addenda]).lower()


def report_snapshot(report: Report) -> dict[str, Any]:
    """The current state of a report, as a 409 carries it (same fields as the API's output)."""
    from reports.selectors import report_output

    return report_output(report)


def _lock_report(study: Study) -> Report | None:
    return Report.objects.select_for_update().filter(study=study).first()


def _check_lengths(values: dict[str, str]) -> None:
    too_long = [name for name, value in values.items() if len(value) > MAX_FIELD_LENGTH]
    if too_long:
        raise ApplicationError(
            f"Report text longer than {MAX_FIELD_LENGTH} characters: {', '.join(too_long)}.",
            extra={"fields": {name: ["too long"] for name in too_long}},
        )


@transaction.atomic
def report_save(
    *,
    study: Study,
    user: Any,
    history: str,
    findings: str,
    impression: str,
    base_version: int | None,
    source: str = ReportSource.EDITOR,
) -> tuple[Report, bool]:
    """Save a new version of the study's report.

    Args:
        study: the study the report belongs to.
        user: the author of this version.
        history, findings, impression: the full new text of each part.
        base_version: the version the author edited (None or 0 for a new report).
        source: editor or import.

    Returns:
        ``(report, created_version)``; saving unchanged text creates no version.

    Raises:
        ConflictError: ``base_version`` is not the newest version (``extra.current`` is the
            current report), or the report is signed (use an addendum).
    """
    values = {"history": history or "", "findings": findings or "", "impression": impression or ""}
    _check_lengths(values)
    report = _lock_report(study)
    if report is None:
        if base_version:
            raise ConflictError(
                f"This study has no report yet, so version {base_version} cannot be edited.",
                extra={"current": None},
            )
        report = Report(study=study)
        try:
            with transaction.atomic():
                report.full_clean(exclude=["study", "author", "signed_by"])
                report.save(force_insert=True)
        except IntegrityError:
            # Another request created it between our read and our insert: that one wins.
            current = Report.objects.get(study=study)
            raise ConflictError(
                "Someone else created this report at the same time; reload and edit theirs.",
                extra={"current": report_snapshot(current)},
            ) from None
    elif report.status == ReportStatus.SIGNED:
        raise ConflictError(
            "The report is signed and can no longer be edited; add an addendum instead.",
            extra={"current": report_snapshot(report)},
        )
    elif (base_version or 0) != report.version:
        raise ConflictError(
            f"The report was changed by someone else (you edited version {base_version or 0}, "
            f"the current version is {report.version}); reload it and apply your changes again.",
            extra={"current": report_snapshot(report)},
        )

    changed = [name for name in FIELDS if getattr(report, name) != values[name]]
    if report.version and not changed:
        return report, False
    if not report.version and not any(values.values()):
        raise ApplicationError("An empty report cannot be saved.")
    number = report.version + 1
    version = ReportVersion(
        report=report,
        number=number,
        author=user if getattr(user, "is_authenticated", False) else None,
        changed_fields=changed,
        source=source,
        **values,
    )
    version.full_clean(exclude=["report", "author"], validate_unique=False)
    version.save(force_insert=True)
    for name, value in values.items():
        setattr(report, name, value)
    report.version = number
    report.author = version.author
    addenda = list(report.addenda.values_list("text", flat=True))
    report.search_text = _search_text(report, addenda)
    report.save()
    _maybe_auto_run(report=report, reason="report saved")
    return report, True


@transaction.atomic
def report_sign(*, study: Study, user: Any, version: int | None = None) -> Report:
    """Sign the current version; a signed report never changes again.

    Raises:
        ConflictError: no report, already signed, or ``version`` is not the newest.
        ApplicationError: findings and impression both empty.
    """
    report = _lock_report(study)
    if report is None:
        raise ConflictError("This study has no report to sign yet.", extra={"current": None})
    if report.status == ReportStatus.SIGNED:
        raise ConflictError(
            "The report is already signed.", extra={"current": report_snapshot(report)}
        )
    if version is not None and version != report.version:
        raise ConflictError(
            f"You are signing version {version} but the current version is {report.version}; "
            "reload the report and check it before signing.",
            extra={"current": report_snapshot(report)},
        )
    if not (report.findings.strip() or report.impression.strip()):
        raise ApplicationError("A report needs findings or an impression before it is signed.")
    report.status = ReportStatus.SIGNED
    report.signed_by = user if getattr(user, "is_authenticated", False) else None
    report.signed_at = timezone.now()
    report.signed_version = report.version
    report.save()
    _maybe_auto_run(report=report, reason="report signed")
    return report


@transaction.atomic
def report_addendum_add(*, study: Study, user: Any, text: str) -> ReportAddendum:
    """Append an addendum to a signed report (the signed text is kept as it was)."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(
            "An addendum needs text.", extra={"fields": {"text": ["This field may not be blank."]}}
        )
    _check_lengths({"text": text})
    report = _lock_report(study)
    if report is None or report.status != ReportStatus.SIGNED:
        raise ConflictError(
            "Addenda are for signed reports; edit the draft report instead.",
            extra={"current": report_snapshot(report) if report else None},
        )
    number = (report.addenda.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    addendum = ReportAddendum(
        report=report,
        number=number,
        text=text,
        author=user if getattr(user, "is_authenticated", False) else None,
    )
    addendum.full_clean(exclude=["report", "author"], validate_unique=False)
    addendum.save(force_insert=True)
    addenda = list(report.addenda.order_by("number").values_list("text", flat=True))
    report.search_text = _search_text(report, addenda)
    report.save(update_fields=["search_text", "modified"])
    return addendum


def _maybe_auto_run(*, report: Report, reason: str) -> None:
    """Auto-run: queue an AI job when a study with images gets its first report version or is
    signed (one job per report version; later drafts are re-run on request, not on every save).
    """
    if not getattr(settings, "INFERENCE_AUTO_RUN", False):
        return
    if report.version != 1 and report.status != ReportStatus.SIGNED:
        return
    from inference.services import inference_auto_run

    inference_auto_run(study=report.study, reason=reason)


# --- import ---------------------------------------------------------------------------------

IMPORT_MAX_ROWS = 10000


@dataclass
class ImportRowResult:
    row: int
    status: str  # imported / skipped / error
    reason: str = ""
    study_id: str | None = None
    report_version: int | None = None
    key: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "status": self.status,
            "reason": self.reason,
            "study_id": self.study_id,
            "report_version": self.report_version,
            **self.key,
        }


def parse_import_file(*, data: bytes, filename: str = "", content_type: str = "") -> list[dict]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030) or JSON (list or {"reports": [...]}).

    Raises:
        ApplicationError: the file as a whole cannot be read.
    """
    name = filename.lower()
    head = data.lstrip()[:1]
    is_json = name.endswith(".json") or "json" in content_type or head in (b"[", b"{")
    if is_json:
        try:
            payload = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApplicationError(f"{filename or 'the file'} is not valid JSON: {exc}") from exc
        if isinstance(payload, dict):
            payload = payload.get("reports")
        if not isinstance(payload, list):
            raise ApplicationError(
                'JSON import must be a list of report objects or {"reports": [...]}.'
            )
        rows = payload
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ApplicationError("CSV import must be UTF-8 or GB18030 text.")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise ApplicationError("The CSV file is empty (no header row).")
        rows = [dict(row) for row in reader]
    if len(rows) > IMPORT_MAX_ROWS:
        raise ApplicationError(f"At most {IMPORT_MAX_ROWS} rows per import; got {len(rows)}.")
    return rows


def _clean(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _find_study(row: dict, studies: Any) -> tuple[Study | None, str, dict[str, str]]:
    uid = _clean(row.get("study_instance_uid"))
    accession = _clean(row.get("accession_number"))
    key = {"study_instance_uid": uid, "accession_number": accession}
    if uid:
        study = studies.filter(study_instance_uid=uid).first()
        if study is None:
            return None, f"no study with StudyInstanceUID {uid}", key
        if accession and study.accession_number != accession:
            return (
                None,
                (
                    f"accession number {accession} does not match the study's "
                    f"({study.accession_number or 'none'})"
                ),
                key,
            )
        return study, "", key
    if accession:
        matches = list(studies.filter(accession_number=accession)[:2])
        if not matches:
            return None, f"no study with accession number {accession}", key
        if len(matches) > 1:
            return (
                None,
                (f"accession number {accession} matches several studies; give study_instance_uid"),
                key,
            )
        return matches[0], "", key
    return None, "neither accession_number nor study_instance_uid given", key


def reports_import(*, rows: list[Any], user: Any) -> list[ImportRowResult]:
    """Import reports row by row; each row succeeds or fails on its own.

    A row needs ``accession_number`` or ``study_instance_uid`` and at least one of
    ``history`` / ``findings`` / ``impression``; ``status: signed`` signs it after saving (only
    for physicians and admins, or ``user=None``: a trusted command). A row replacing an existing
    draft must give the draft's ``version`` (optimistic locking, as the editor).
    Re-importing the same file is a no-op (rows are ``skipped``: unchanged).
    """
    from studies.selectors import study_queryset_for_user

    # user None: a trusted command (demo set-up, scripts) that may reach every study.
    studies = Study.objects.all() if user is None else study_queryset_for_user(user)
    results: list[ImportRowResult] = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            results.append(ImportRowResult(index, "error", "row is not an object"))
            continue
        study, problem, key = _find_study(row, studies)
        if study is None:
            results.append(ImportRowResult(index, "error", problem, key=key))
            continue
        values = {name: _clean(row.get(name) or row.get(f"clinical_{name}")) for name in FIELDS}
        status = _clean(row.get("status")).lower() or ReportStatus.DRAFT
        result = ImportRowResult(index, "imported", study_id=str(study.id), key=key)
        if status not in ReportStatus.values:
            result.status, result.reason = "error", f"unknown status {status!r} (draft or signed)"
        elif not any(values.values()):
            result.status, result.reason = "error", "history, findings and impression all empty"
        elif status == ReportStatus.SIGNED and user is not None and not can_sign_reports(user):
            result.status, result.reason = (
                "error",
                "only physicians and admins may sign clinical reports (import it as a draft)",
            )
        else:
            try:
                base_version = _import_base_version(row)
                with transaction.atomic():
                    _import_one(
                        study=study,
                        user=user,
                        values=values,
                        status=status,
                        result=result,
                        base_version=base_version,
                    )
            except ApplicationError as exc:
                result.status, result.reason = "error", exc.message
        results.append(result)
    return results


def _import_base_version(row: dict) -> int | None:
    raw = _clean(row.get("base_version") if "base_version" in row else row.get("version"))
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApplicationError(f"version {raw!r} is not a whole number") from None
    if value < 0:
        raise ApplicationError(f"version {raw!r} is negative")
    return value


def _import_one(
    *,
    study: Study,
    user: Any,
    values: dict[str, str],
    status: str,
    result: ImportRowResult,
    base_version: int | None,
) -> None:
    """One row. The optimistic version check holds as in the editor: a row that would replace an
    existing draft must name the version it replaces (``version``/``base_version``, as the export
    writes it); otherwise the row is refused, never a silent overwrite of someone's draft."""
    current = Report.objects.select_for_update().filter(study=study).first()
    if current is not None and current.status == ReportStatus.SIGNED:
        same = all(getattr(current, name) == values[name] for name in FIELDS)
        result.status = "skipped"
        result.reason = "unchanged" if same else "the study's report is already signed"
        result.report_version = current.version
        return
    if current is not None:
        same = all(getattr(current, name) == values[name] for name in FIELDS)
        if same:
            base_version = current.version
        elif base_version is None:
            author = current.author.username if current.author else "someone"
            raise ConflictError(
                f"the study already has a draft report (version {current.version}, by {author}); "
                f"give version {current.version} in the row to replace it"
            )
    report, created = report_save(
        study=study,
        user=user,
        base_version=base_version,
        source=ReportSource.IMPORT,
        **values,
    )
    result.report_version = report.version
    if not created:
        result.status, result.reason = "skipped", "unchanged"
    if status == ReportStatus.SIGNED:
        report_sign(study=study, user=user)
        if not created:
            result.status, result.reason = "imported", "signed"
