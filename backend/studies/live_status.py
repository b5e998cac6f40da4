"""Selectors of the live status: what worklists and open viewers poll to stay current.

One SQL query answers for up to :data:`MAX_STATUS_IDS` studies (report status and version, the
newest AI job's state and progress, the newest result's job). The answer carries an ETag made
from its content, so an unchanged answer costs the client a 304 and no rendering.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.db.models import OuterRef, Subquery

from core.exceptions import ApplicationError
from studies.selectors import study_queryset_for_user

MAX_STATUS_IDS = 100


def parse_status_ids(raw: str) -> list[uuid.UUID]:
    """``"id1,id2"`` -> UUIDs (duplicates dropped); ApplicationError names a bad or missing id."""
    parts = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not parts:
        raise ApplicationError(
            "Give the studies to report on: ?ids=<study id>,<study id>,...",
            code="status_ids_missing",
        )
    if len(parts) > MAX_STATUS_IDS:
        raise ApplicationError(
            f"At most {MAX_STATUS_IDS} studies per status request ({len(parts)} given).",
            code="status_too_many_ids",
            params={"max": MAX_STATUS_IDS, "given": len(parts)},
        )
    ids: list[uuid.UUID] = []
    for part in parts:
        try:
            value = uuid.UUID(part)
        except ValueError:
            raise ApplicationError(
                f"'{part[:64]}' is not a study id.",
                code="status_bad_id",
                params={"id": part[:64]},
            ) from None
        if value not in ids:
            ids.append(value)
    return ids


def study_statuses(*, user: Any, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The live status of each study the user may see among ``ids`` (others are left out).

    AI fields are only for users who work with the clinical AI (physicians, study admins,
    admins): a reader-study participant gets them empty, since whether and which AI a reader
    sees is the reader study's decision (blinding), and a frozen AI result does not change.
    """
    from accounts.models import Role
    from accounts.permissions import has_role
    from inference.models import InferenceJob, JobState
    from inference.selectors import ai_job_filter
    from reports.models import Report

    with_ai = has_role(user, Role.PHYSICIAN, Role.STUDY_ADMIN, Role.ADMIN)
    # the one blinding rule: a user who is also a reader sees only the jobs it allows
    visible = InferenceJob.objects.all()
    job_filter = ai_job_filter(user)
    if job_filter is not None:
        visible = visible.filter(job_filter)

    report = Report.objects.filter(study=OuterRef("pk"))
    newest_job = visible.filter(study=OuterRef("pk")).order_by("-created")
    newest_result = visible.filter(study=OuterRef("pk"), state=JobState.SUCCEEDED).order_by(
        "-finished_at", "-created"
    )
    rows = (
        study_queryset_for_user(user)
        .filter(id__in=ids)
        .annotate(
            report_status=Subquery(report.values("status")[:1]),
            report_version=Subquery(report.values("version")[:1]),
            ai_job_id=Subquery(newest_job.values("id")[:1]),
            ai_status=Subquery(newest_job.values("state")[:1]),
            ai_progress=Subquery(newest_job.values("progress")[:1]),
            ai_result_job_id=Subquery(newest_result.values("id")[:1]),
        )
        .order_by("id")
        .values(
            "id",
            "report_status",
            "report_version",
            "ai_job_id",
            "ai_status",
            "ai_progress",
            "ai_result_job_id",
        )
    )
    out = []
    for row in rows:
        if not with_ai:
            row.update(ai_job_id=None, ai_status=None, ai_progress=None, ai_result_job_id=None)
        out.append(
            {
                "id": str(row["id"]),
                "report_status": row["report_status"],
                "report_version": row["report_version"],
                "ai_status": row["ai_status"],
                "ai_job_id": str(row["ai_job_id"]) if row["ai_job_id"] else None,
                "ai_progress": round(row["ai_progress"] or 0.0, 3) if row["ai_job_id"] else None,
                "ai_result_job_id": (
                    str(row["ai_result_job_id"]) if row["ai_result_job_id"] else None
                ),
            }
        )
    return out


def statuses_etag(statuses: list[dict[str, Any]]) -> str:
    """A weak ETag of the answer's content (same statuses, same tag, in any process)."""
    digest = hashlib.sha256(
        json.dumps(statuses, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()[:32]
    return f'W/"{digest}"'
