"""Helpers shared by the reader-study services: refusals with a code, the audit hook."""

from __future__ import annotations

import logging
from typing import Any

from core.exceptions import ApplicationError, ConflictError

log = logging.getLogger("readerstudies")


def refuse(message: str, code: str, *, status: int = 400, **extra: Any) -> ApplicationError:
    """An ApplicationError with a stable ``extra.code`` (409 errors as ConflictError)."""
    if status == 409:
        return ConflictError(message, extra={"code": code, **extra})
    return ApplicationError(message, extra={"code": code, **extra}, status_code=status)


def record_change(*, user: Any, action: str, obj: Any, **details: Any) -> None:
    """Every reader-study change passes here: one audit event (``reader_study.<action>``) with
    the object and the details (reasons, counts), in the caller's transaction."""
    from audit.services import audit_record

    audit_record(
        action=f"reader_study.{action}",
        actor=user,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "pk", ""),
        details=details,
    )
    log.debug("reader study change: %s on %s %s", action, type(obj).__name__, obj.pk)
