"""Reads of the audit trail: filtered lists and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from audit.models import AuditEvent

EXPORT_FIELDS = [
    "at",
    "actor_username",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "client_address",
    "outcome",
    "details",
]


def audit_event_list(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    outcome: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(actor_username=actor)
    if action:
        events = events.filter(action__startswith=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if outcome:
        events = events.filter(outcome=outcome)
    if since:
        events = events.filter(at__gte=since)
    if until:
        events = events.filter(at__lt=until)
    return events.order_by("at", "id")


def _csv_safe(value: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is shown as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def audit_events_csv(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """CSV lines (header first), streamed row by row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(EXPORT_FIELDS)
    yield "\ufeff" + flush()
    for event in events.iterator(chunk_size=2000):
        writer.writerow(
            [
                event.at.isoformat(),
                _csv_safe(event.actor_username),
                event.actor_id or "",
                event.action,
                event.object_type,
                _csv_safe(event.object_id),
                event.client_address or "",
                event.outcome,
                _csv_safe(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
            ]
        )
        yield flush()
