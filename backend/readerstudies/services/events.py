"""Writes of reading time: the viewer's timer events, recorded idempotently, placed on the
server's clock, checked for plausibility, one verdict per event.

A batch is never refused as a whole for one bad event: each event is accepted, a duplicate (a
replay; changes nothing) or rejected with a code and a reason, so that the browser's outbox can
drop or quarantine exactly the refused ones and keep sending the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from core.exceptions import ApplicationError
from readerstudies.models import Arm, CaseReading, CaseView, EventKind, ReadingEvent, ReadingState
from readerstudies.timing import TimedEvent, reading_times

#: A batch may say when it was sent; a clock offset beyond this is refused as nonsense.
MAX_CLOCK_OFFSET = timedelta(days=2)
#: How far in the future of its batch's arrival (server clock) an event may be (clock jitter).
FUTURE_TOLERANCE = timedelta(seconds=5)
#: Events older than this when they arrive are refused (no offline outbox keeps them so long).
MAX_EVENT_AGE = timedelta(days=7)
#: Clinical case views (no reader study) longer than this are flagged.
DEFAULT_MAX_VIEW_SECONDS = 7200


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    view_id = serializers.UUIDField()
    study_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=EventKind.choices)
    client_time = serializers.DateTimeField()
    sequence = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    reading_id = serializers.UUIDField(required=False, allow_null=True)
    session_id = serializers.UUIDField(required=False, allow_null=True)  # old clients; ignored
    ai_shown = serializers.BooleanField(required=False, allow_null=True)
    last_input_at = serializers.DateTimeField(required=False, allow_null=True)


class EventRejected(Exception):
    def __init__(self, code: str, reason: str, *, store: bool = False) -> None:
        super().__init__(reason)
        self.code, self.reason, self.store = code, reason, store


@dataclass
class EventsRecorded:
    results: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    case_views: list[CaseView] = field(default_factory=list)

    def add(self, event_id: str, status: str, code: str = "", reason: str = "") -> None:
        entry: dict[str, Any] = {"id": event_id, "status": status}
        if status == "rejected":
            entry.update(code=code, reason=reason)
            self.rejected.append({"id": event_id, "code": code, "reason": reason})
        elif status == "accepted":
            self.accepted.append(event_id)
        else:
            self.duplicates.append(event_id)
        self.results.append(entry)


def clock_offset(
    *, sent_at: datetime | None, received_at: datetime, client_offset_ms: float | None = None
) -> timedelta:
    """Server clock minus client clock for this batch.

    Preferred: the client's own estimate from ``GET /api/reading-events/clock/`` (half the round
    trip removed). Otherwise ``received_at - sent_at`` (which includes the request's latency).
    Either way the server still refuses events that land in the future of the batch's arrival.
    """
    if client_offset_ms is not None:
        offset = timedelta(milliseconds=client_offset_ms)
    elif sent_at is not None:
        offset = received_at - sent_at
    else:
        return timedelta(0)
    if abs(offset) > MAX_CLOCK_OFFSET:
        raise ApplicationError(
            "The batch's clock differs by more than two days from the server's clock; "
            "check the computer's date and time.",
            extra={
                "sent_at": sent_at.isoformat() if sent_at else None,
                "server_time": received_at.isoformat(),
            },
        )
    return offset


def _first_error(errors: dict) -> str:
    name, messages = next(iter(errors.items()))
    message = messages[0] if isinstance(messages, list) else messages
    return f"{name}: {message}"


@transaction.atomic
def reading_events_record(
    *,
    user: Any,
    events: list[Any],
    sent_at: datetime | None = None,
    client_offset_ms: float | None = None,
) -> EventsRecorded:
    """Store a batch of timer events and refresh the times of the case views they touch.

    Each event is ``{id, view_id, study_id, type, client_time, sequence, reading_id?,
    ai_shown?, last_input_at?}`` (ids made by the browser). See the module docstring for the
    per-event verdicts; an event id seen before is answered with its earlier verdict.
    """
    received_at = timezone.now()
    offset = clock_offset(
        sent_at=sent_at, received_at=received_at, client_offset_ms=client_offset_ms
    )
    result = EventsRecorded()
    raw_ids = [str(e.get("id")) if isinstance(e, dict) else None for e in events]
    present = [i for i in raw_ids if i]
    if len(set(present)) != len(present):
        raise ApplicationError("The batch contains the same event id twice.")
    known: dict[str, ReadingEvent] = {}
    valid_ids = []
    for raw in present:
        try:
            valid_ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    for row in ReadingEvent.objects.filter(client_event_id__in=valid_ids):
        known[str(row.client_event_id)] = row
    views: dict[uuid.UUID, CaseView | EventRejected] = {}
    touched: dict[uuid.UUID, CaseView] = {}
    for index, raw in enumerate(events):
        parsed = EventSerializer(data=raw if isinstance(raw, dict) else {})
        event_id = raw_ids[index] or f"#{index}"
        if not parsed.is_valid():
            result.add(event_id, "rejected", "invalid", _first_error(parsed.errors))
            continue
        event = parsed.validated_data
        event_id = str(event["id"])
        previous = known.get(event_id)
        if previous is not None:
            if previous.reject_code:
                result.add(event_id, "rejected", previous.reject_code, previous.reject_reason)
            else:
                result.add(event_id, "duplicate")
            continue
        view = views.get(event["view_id"])
        if view is None:
            try:
                view = _case_view_for(user=user, event=event)
            except EventRejected as exc:
                view = exc
            views[event["view_id"]] = view
        if isinstance(view, EventRejected):
            result.add(event_id, "rejected", view.code, view.reason)
            continue
        try:
            _check_view_matches(view, event)
        except EventRejected as exc:
            result.add(event_id, "rejected", exc.code, exc.reason)
            continue
        try:
            server_time = event["client_time"] + offset
            last_input = event.get("last_input_at")
            last_input_server = last_input + offset if last_input else None
        except OverflowError:
            result.add(event_id, "rejected", "invalid", "client_time: out of range")
            continue
        code, reason = _implausible(view, server_time, received_at)
        if code is None:
            server_time = min(server_time, received_at)
        if last_input_server is not None:
            last_input_server = min(last_input_server, server_time)
        reading_event = ReadingEvent(
            case_view=view,
            client_event_id=event["id"],
            kind=event["type"],
            sequence=event["sequence"],
            client_time=event["client_time"],
            server_time=server_time,
            received_at=received_at,
            last_input_client_time=last_input,
            last_input_at=last_input_server,
            ai_shown=event.get("ai_shown"),
            reject_code=code or "",
            reject_reason=reason or "",
        )
        reading_event.full_clean(exclude=["case_view"], validate_unique=False)
        try:
            with transaction.atomic():  # a savepoint: a concurrent replay stored it first
                reading_event.save(force_insert=True)
        except IntegrityError:
            result.add(event_id, "duplicate")
            continue
        if code is not None:
            result.add(event_id, "rejected", code, reason)
        else:
            result.add(event_id, "accepted")
            if event.get("ai_shown"):
                view.ai_shown = True
        touched[view.client_view_id] = view
    for view in touched.values():
        result.case_views.append(case_view_times_refresh(case_view=view))
    return result


def _implausible(
    view: CaseView, server_time: datetime, received_at: datetime
) -> tuple[str | None, str | None]:
    """An event time the server does not believe: (code, reason), or (None, None)."""
    if server_time > received_at + FUTURE_TOLERANCE:
        ahead = (server_time - received_at).total_seconds()
        return "future", (
            f"The event is {ahead:.0f} s in the future of its arrival on the server clock "
            f"(tolerance {FUTURE_TOLERANCE.total_seconds():.0f} s)."
        )
    if server_time < received_at - MAX_EVENT_AGE:
        return "too_old", (
            f"The event is more than {MAX_EVENT_AGE.days} days older than its arrival."
        )
    reading = view.reading
    if reading is not None:
        opened = reading.first_opened_at
        if opened is None or server_time < opened - FUTURE_TOLERANCE:
            return "before_opening", (
                "The event is before the case was opened for this reading "
                f"({opened.isoformat() if opened else 'not opened yet'})."
            )
    return None, None


def _check_view_matches(view: CaseView, event: dict[str, Any]) -> None:
    if view.study_id != event["study_id"]:
        raise EventRejected(
            "view_mismatch", f"Case view {event['view_id']} was opened on another study."
        )
    reading_id = event.get("reading_id")
    if reading_id is not None and view.reading_id not in (None, reading_id):
        raise EventRejected(
            "view_mismatch", f"Case view {event['view_id']} belongs to another reading."
        )


def _reading_for(*, user: Any, event: dict[str, Any]) -> CaseReading | None:
    reading_id = event.get("reading_id")
    readings = CaseReading.objects.select_related(
        "session__assignment__reader_study", "case"
    ).filter(session__assignment__reader=user)
    if reading_id is not None:
        reading = readings.filter(id=reading_id).first()
        if reading is None or reading.case.study_id != event["study_id"]:
            raise EventRejected(
                "not_found", f"No reading {reading_id} of yours for study {event['study_id']}."
            )
        return reading
    # An old client that does not send reading_id: the reader's open reading of that study.
    return (
        readings.filter(case__study_id=event["study_id"], state=ReadingState.OPEN)
        .order_by("-first_opened_at")
        .first()
    )


def _case_view_for(*, user: Any, event: dict[str, Any]) -> CaseView:
    from studies.selectors import study_queryset_for_user

    view_id = event["view_id"]
    view = (
        CaseView.objects.select_for_update(of=("self",))
        .select_related("reading__session__assignment__reader_study")
        .filter(client_view_id=view_id)
        .first()
    )
    if view is not None:
        if view.user_id != user.pk:
            raise EventRejected("forbidden", f"Case view {view_id} belongs to another user.")
        return view
    reading = _reading_for(user=user, event=event)
    if reading is None and not study_queryset_for_user(user).filter(id=event["study_id"]).exists():
        raise EventRejected("not_found", f"No study {event['study_id']} that you may read.")
    view = CaseView(
        client_view_id=view_id,
        user=user,
        study_id=event["study_id"],
        reading=reading,
        reader_session=reading.session if reading else None,
        arm=reading.session.arm if reading else "",
    )
    view.full_clean(exclude=["user", "study", "reading", "reader_session"], validate_unique=False)
    try:
        with transaction.atomic():  # a savepoint: a concurrent batch may create the view first
            view.save(force_insert=True)
    except IntegrityError:
        existing = CaseView.objects.select_for_update(of=("self",)).get(client_view_id=view_id)
        if existing.user_id != user.pk:
            raise EventRejected(
                "forbidden", f"Case view {view_id} belongs to another user."
            ) from None
        return existing
    return view


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def case_view_times_refresh(*, case_view: CaseView) -> CaseView:
    """Recompute the view's times from its accepted events (clipped at the reading's submit),
    and its flags."""
    rows = list(
        case_view.events.filter(reject_code="").values_list(
            "kind", "sequence", "server_time", "last_input_at"
        )
    )
    reading = case_view.reading
    end_at = None
    max_seconds = DEFAULT_MAX_VIEW_SECONDS
    if reading is not None:
        reading = CaseReading.objects.select_related("session__assignment__reader_study").get(
            pk=reading.pk
        )
        max_seconds = reading.session.assignment.reader_study.max_case_seconds
        if reading.state == ReadingState.SUBMITTED:
            end_at = reading.submitted_at
    times = reading_times(
        (TimedEvent(kind, seq, at, last_input) for kind, seq, at, last_input in rows),
        end_at=end_at,
    )
    case_view.opened_at = times.opened_at
    case_view.ended_at = times.ended_at
    case_view.ended_by = times.ended_by
    case_view.total_seconds = times.total_seconds
    case_view.active_seconds = times.active_seconds
    case_view.first_image_at = times.first_image_at
    case_view.image_seconds = times.image_seconds
    case_view.intervals = {
        "open": [_iso(times.opened_at), _iso(times.last_at)] if times.opened_at else None,
        "image": [_iso(times.first_image_at), _iso(times.last_at)]
        if times.first_image_at
        else None,
        "active": [[_iso(a), _iso(b)] for a, b in times.active_intervals],
    }
    case_view.event_count = case_view.events.count()
    reasons = []
    if times.total_seconds > max_seconds:
        reasons.append(
            f"The view lasted {times.total_seconds:.0f} s, longer than the maximum of "
            f"{max_seconds} s."
        )
    if case_view.ai_shown and case_view.arm == Arm.UNAIDED:
        reasons.append("The browser reported AI output shown in the unaided arm.")
    case_view.flag_reasons = reasons
    case_view.flagged = bool(reasons)
    case_view.save()
    return case_view


__all__ = ["EventKind", "reading_events_record", "case_view_times_refresh", "clock_offset"]
