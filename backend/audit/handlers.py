"""Permission refusals into the audit trail: the API's exception handler, wrapped."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from audit.models import AuditOutcome
from audit.services import audit_record
from core.exceptions import api_exception_handler

# Anonymous clients probing the API: one row per address and path per minute is enough.
ANONYMOUS_COALESCE_SECONDS = 60


def audited_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``core.exceptions.api_exception_handler``, plus an audit event for every 401/403."""
    response = api_exception_handler(exc, context)
    if response is not None and response.status_code in (401, 403):
        request = context.get("request")
        user = getattr(request, "user", None)
        signed_in = bool(getattr(user, "is_authenticated", False))
        path = getattr(request, "path", "")
        audit_record(
            action="access.denied",
            request=request,
            object_type="endpoint",
            object_id=path[:128],
            outcome=AuditOutcome.DENIED,
            details={
                "method": getattr(request, "method", ""),
                "path": path,
                "status": response.status_code,
                "reason": (response.data or {}).get("message", "")
                if isinstance(response.data, dict)
                else "",
            },
            coalesce_seconds=None if signed_in else ANONYMOUS_COALESCE_SECONDS,
        )
    return response
