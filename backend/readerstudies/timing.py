"""Reading time from a case view's events: pure functions, no database.

The state machine mirrors the viewer's (frontend/src/readingTimer/timerState.ts): a view opens
visible and active; ``hidden``/``visible`` follow the page's visibility (coming back counts as
activity); ``idle`` is sent after a quiet spell and ``active`` when the reader moves again;
``submitted`` or ``closed`` ends the view. Active time is time that is visible and not idle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimedEvent:
    kind: str
    sequence: int
    time: datetime


@dataclass(frozen=True)
class ReadingTimes:
    opened_at: datetime | None
    ended_at: datetime | None
    ended_by: str
    total_seconds: float
    active_seconds: float


def reading_times(events: Iterable[TimedEvent]) -> ReadingTimes:
    """Open-to-end and active seconds of one case view.

    Events are taken in the client's sequence order (the order they happened); a view without an
    ``opened`` event yet (its first events still in flight) starts at its first event.
    """
    ordered = sorted(events, key=lambda e: (e.sequence, e.time))
    if not ordered:
        return ReadingTimes(None, None, "", 0.0, 0.0)
    opened_at = next((e.time for e in ordered if e.kind == "opened"), ordered[0].time)
    visible, idle = True, False
    active = 0.0
    previous = opened_at
    ended_at, ended_by = None, ""
    for event in ordered:
        if event.time < opened_at:
            continue
        # A client clock that stepped backwards must not subtract time.
        now = max(event.time, previous)
        if visible and not idle:
            active += (now - previous).total_seconds()
        previous = now
        if event.kind == "hidden":
            visible = False
        elif event.kind == "visible":
            visible, idle = True, False
        elif event.kind == "idle":
            idle = True
        elif event.kind == "active":
            idle = False
        elif event.kind in ("submitted", "closed"):
            ended_at, ended_by = now, event.kind
            break
    last = ended_at or previous
    return ReadingTimes(
        opened_at=opened_at,
        ended_at=ended_at,
        ended_by=ended_by,
        total_seconds=max((last - opened_at).total_seconds(), 0.0),
        active_seconds=active,
    )
