"""Writes of reading time: recording the viewer's timer events, idempotently."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from readerstudies.models import CaseView, EventKind, ReadingEvent
from readerstudies.timing import TimedEvent, reading_times

#: A batch may say when it was sent; a clock offset beyond this is refused as nonsense.
MAX_CLOCK_OFFSET = timedelta(days=2)


@dataclass
class EventsRecorded:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    case_views: list[CaseView] = field(default_factory=list)


def _clock_offset(sent_at: datetime | None, received_at: datetime) -> timedelta:
    """Server clock minus client clock, measured on this batch (zero when the batch has no time).

    Events kept offline and replayed later carry their own client times; shifting them by the
    offset measured now puts them at the server time when they happened, not when they arrived.
    """
    if sent_at is None:
        return timedelta(0)
    offset = received_at - sent_at
    if abs(offset) > MAX_CLOCK_OFFSET:
        raise ApplicationError(
            "The batch's sent_at is more than two days away from the server's clock; "
            "check the computer's date and time.",
            extra={"sent_at": sent_at.isoformat(), "server_time": received_at.isoformat()},
        )
    return offset


@transaction.atomic
def reading_events_record(
    *, user: Any, events: list[dict[str, Any]], sent_at: datetime | None = None
) -> EventsRecorded:
    """Store a batch of timer events and refresh the reading times of the case views they touch.

    Each event is ``{id, view_id, study_id, type, client_time, sequence}`` (ids made by the browser).
    An event id seen before is reported as a duplicate and changes nothing, so a replayed batch
    never counts twice. A case view belongs to one user and one study: an event that names another
    user's view, or the same view with another study, is refused and nothing of the batch is stored.
    """
    from studies.selectors import study_queryset_for_user

    received_at = timezone.now()
    offset = _clock_offset(sent_at, received_at)
    result = EventsRecorded()
    event_ids = [e["id"] for e in events]
    if len(set(event_ids)) != len(event_ids):
        raise ApplicationError("The batch contains the same event id twice.")
    known = {
        str(i)
        for i in ReadingEvent.objects.filter(client_event_id__in=event_ids).values_list(
            "client_event_id", flat=True
        )
    }
    visible_studies = study_queryset_for_user(user)
    views: dict[uuid.UUID, CaseView] = {}
    for event in events:
        event_id = str(event["id"])
        if event_id in known:
            result.duplicates.append(event_id)
            continue
        view = views.get(event["view_id"])
        if view is None:
            view = _case_view_for(
                user=user,
                view_id=event["view_id"],
                study_id=event["study_id"],
                studies=visible_studies,
            )
            views[event["view_id"]] = view
        elif view.study_id != event["study_id"]:
            raise ApplicationError(
                f"Event {event_id} names case view {event['view_id']} with another study.",
                extra={"event_id": event_id},
            )
        try:
            server_time = min(event["client_time"] + offset, received_at)
        except OverflowError as exc:
            raise ApplicationError(
                f"Event {event_id}: client_time {event['client_time'].isoformat()} is out of "
                "range.",
                extra={"event_id": event_id},
            ) from exc
        reading_event = ReadingEvent(
            case_view=view,
            client_event_id=event["id"],
            kind=event["type"],
            sequence=event["sequence"],
            client_time=event["client_time"],
            server_time=server_time,
            received_at=received_at,
        )
        reading_event.full_clean(validate_unique=False)
        try:
            with transaction.atomic():  # a savepoint: a concurrent batch may hold the same event
                reading_event.save()
        except IntegrityError:
            result.duplicates.append(event_id)
            continue
        result.accepted.append(event_id)
    for view in views.values():
        result.case_views.append(case_view_times_refresh(case_view=view))
    return result


def _case_view_for(*, user: Any, view_id: uuid.UUID, study_id: uuid.UUID, studies) -> CaseView:
    view = CaseView.objects.select_for_update().filter(client_view_id=view_id).first()
    if view is not None:
        return _case_view_check(view, user=user, view_id=view_id, study_id=study_id)
    if not studies.filter(id=study_id).exists():
        raise ApplicationError(f"No study {study_id} that you may read.", status_code=404)
    view = CaseView(client_view_id=view_id, user=user, study_id=study_id)
    view.full_clean(validate_unique=False)
    try:
        # Two first batches of one new view may race (the page's beacon and its timer): the
        # loser's insert fails on the unique view id and it goes on with the winner's row.
        with transaction.atomic():
            view.save()
    except IntegrityError:
        view = CaseView.objects.select_for_update().get(client_view_id=view_id)
        return _case_view_check(view, user=user, view_id=view_id, study_id=study_id)
    return view


def _case_view_check(view: CaseView, *, user: Any, view_id: uuid.UUID, study_id: uuid.UUID):
    if view.user_id != user.pk:
        raise ApplicationError(f"Case view {view_id} belongs to another user.", status_code=403)
    if view.study_id != study_id:
        raise ApplicationError(f"Case view {view_id} was opened on another study.")
    return view


def case_view_times_refresh(*, case_view: CaseView) -> CaseView:
    rows = case_view.events.values_list("kind", "sequence", "server_time")
    times = reading_times(TimedEvent(kind, seq, at) for kind, seq, at in rows)
    case_view.opened_at = times.opened_at
    case_view.ended_at = times.ended_at
    case_view.ended_by = times.ended_by
    case_view.total_seconds = times.total_seconds
    case_view.active_seconds = times.active_seconds
    case_view.event_count = len(rows)
    case_view.save()
    return case_view


__all__ = ["EventKind", "reading_events_record", "case_view_times_refresh"]
