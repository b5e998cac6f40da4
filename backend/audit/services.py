"""Writes of the audit trail: :func:`audit_record`, the one way to add an audit event."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent, AuditOutcome


def client_address(request: Any) -> str | None:
    """The client's address as Django sees it (REMOTE_ADDR; the deployment's trusted-proxy
    handling decides what that is behind a proxy). None when absent or not an IP address."""
    if request is None:
        return None
    meta = getattr(request, "META", None)
    if meta is None:  # a DRF Request
        meta = getattr(getattr(request, "_request", None), "META", {})
    raw = (meta or {}).get("REMOTE_ADDR", "") or ""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def _jsonable(details: dict[str, Any] | None) -> dict[str, Any]:
    return json.loads(json.dumps(details or {}, default=str, ensure_ascii=False))


def audit_record(
    *,
    action: str,
    actor: Any = None,
    request: Any = None,
    object_type: str = "",
    object_id: Any = "",
    outcome: str = AuditOutcome.SUCCESS,
    details: dict[str, Any] | None = None,
    coalesce_seconds: float | None = None,
) -> AuditEvent | None:
    """Append one audit event.

    Args:
        action: what happened, ``<area>.<verb>``: "study.view", "report.sign", "auth.login", ...
        actor: who (a user; default: ``request.user`` when signed in; anonymous: none).
        request: the HTTP request, for the actor and the client address.
        object_type, object_id: which object ("study", study id; "report", ...).
        outcome: "success", "denied" (a refusal) or "failure".
        details: anything else worth keeping (counts, versions, reasons), as JSON.
        coalesce_seconds: record nothing when the same actor already has the same action on the
            same object with the same outcome from the same address within this many seconds (a case view, not every
            image of it). Returns None then.

    Returns:
        The new event (or None when coalesced). Never updates an existing row.
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            actor = user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    object_id = "" if object_id is None else str(object_id)
    if coalesce_seconds:
        since = timezone.now() - dt.timedelta(seconds=coalesce_seconds)
        recent = AuditEvent.objects.filter(
            actor_id=getattr(actor, "pk", None),
            action=action,
            object_type=object_type,
            object_id=object_id,
            outcome=outcome,
            client_address=client_address(request),
            at__gte=since,
        )
        if recent.exists():
            return None
    event = AuditEvent(
        actor=actor,
        actor_username=getattr(actor, "username", "") if actor is not None else "",
        action=action,
        object_type=object_type,
        object_id=object_id[:128],
        client_address=client_address(request),
        outcome=outcome,
        details=_jsonable(details),
    )
    event.full_clean(exclude=["actor"])
    event.save()
    return event


def view_window_seconds() -> float:
    """How long one case view lasts for the audit trail (``AUDIT_VIEW_WINDOW_SECONDS``)."""
    return float(getattr(settings, "AUDIT_VIEW_WINDOW_SECONDS", 900))
