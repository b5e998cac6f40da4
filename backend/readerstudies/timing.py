"""Reading time from a case view's events: pure functions, no database.

The state machine mirrors the viewer's (frontend/src/readingTimer/timerState.ts): a view opens
visible and active; ``hidden``/``visible`` follow the page's visibility (coming back counts as
activity); ``idle`` is sent after a quiet spell and ``active`` when the reader moves again;
``submitted`` or ``closed`` ends the view. ``first_image`` marks the first rendered image and
``heartbeat`` only proves the view is still open (it bounds what a lost end can cost).

Active time is time that is visible and not idle. An ``idle`` event that carries the time of
the last input is cut back to it (the quiet spell before the idle threshold is not reading);
a ``heartbeat`` whose last input is older than the idle threshold counts as idle from that
input on (the idle event itself may never come, e.g. in a throttled background tab).

A reading may have several views (two tabs, or a resume after a crash): its time is the union
of the views' intervals, never their sum (:func:`reading_summary`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Interval = tuple[datetime, datetime]

#: The viewer's idle threshold (frontend/src/readingTimer/idleTimer.ts); heartbeats whose last
#: input is older than this count as idle from that input on.
IDLE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class TimedEvent:
    kind: str
    sequence: int
    time: datetime
    input_time: datetime | None = None  # last input before the event (idle, heartbeat)


@dataclass(frozen=True)
class ReadingTimes:
    opened_at: datetime | None
    ended_at: datetime | None
    ended_by: str
    total_seconds: float
    active_seconds: float
    first_image_at: datetime | None = None
    image_seconds: float = 0.0
    active_intervals: tuple[Interval, ...] = field(default_factory=tuple)
    last_at: datetime | None = None  # end, or the last event of a view still open / lost

    @property
    def open_interval(self) -> Interval | None:
        if self.opened_at is None or self.last_at is None:
            return None
        return (self.opened_at, self.last_at)

    @property
    def image_interval(self) -> Interval | None:
        if self.first_image_at is None or self.last_at is None:
            return None
        return (self.first_image_at, self.last_at)


def reading_times(
    events: Iterable[TimedEvent],
    *,
    end_at: datetime | None = None,
    idle_after: timedelta = IDLE_AFTER,
) -> ReadingTimes:
    """Open-to-end, first-image-to-end and active seconds of one case view.

    Events are taken in the client's sequence order (the order they happened); a view without an
    ``opened`` event yet (its first events still in flight) starts at its first event.

    Args:
        end_at: the reading's end when the server knows it (the answer's submit): nothing after
            it counts, and a view that never sent its end is ended there.
        idle_after: see :data:`IDLE_AFTER`.
    """
    ordered = sorted(events, key=lambda e: (e.sequence, e.time))
    if not ordered:
        return ReadingTimes(None, None, "", 0.0, 0.0)
    opened_at = next((e.time for e in ordered if e.kind == "opened"), ordered[0].time)
    if end_at is not None and end_at <= opened_at:
        return ReadingTimes(opened_at, opened_at, "submitted", 0.0, 0.0, last_at=opened_at)
    visible = True
    # Set when a heartbeat (not the client's idle event) made the view idle: a later heartbeat
    # with a newer input makes it active again from that input.
    heartbeat_idle_since: datetime | None = None
    active_start: datetime | None = opened_at
    intervals: list[Interval] = []
    previous = opened_at
    ended_at, ended_by = None, ""
    first_image_at = None

    def stop(at: datetime) -> None:
        nonlocal active_start
        if active_start is not None:
            if at > active_start:
                intervals.append((active_start, at))
            active_start = None

    for event in ordered:
        if event.time < opened_at:
            continue
        # A client clock that stepped backwards must not subtract time.
        now = max(event.time, previous)
        if end_at is not None and now >= end_at:
            stop(end_at)
            previous = end_at
            ended_at, ended_by = end_at, "submitted"
            break
        previous = now
        if event.kind != "heartbeat":
            heartbeat_idle_since = None
        if event.kind == "hidden":
            stop(now)
            visible = False
        elif event.kind == "visible":
            visible = True
            if active_start is None:
                active_start = now
        elif event.kind == "idle":
            cut = now
            if event.input_time is not None and active_start is not None:
                cut = min(now, max(event.input_time, active_start))
            stop(cut)
        elif event.kind == "active":
            if visible and active_start is None:
                active_start = now
        elif event.kind == "heartbeat" and event.input_time is not None:
            quiet = now - event.input_time > idle_after
            if quiet and active_start is not None:
                heartbeat_idle_since = max(event.input_time, active_start)
                stop(heartbeat_idle_since)
            elif (
                not quiet
                and heartbeat_idle_since is not None
                and event.input_time > heartbeat_idle_since
            ):
                active_start = min(event.input_time, now)
                heartbeat_idle_since = None
        elif event.kind == "first_image":
            if first_image_at is None:
                first_image_at = now
        elif event.kind in ("submitted", "closed"):
            stop(now)
            ended_at, ended_by = now, event.kind
            break
    if ended_at is None and end_at is not None:
        # The view never sent its end (tab closed, crash) but the reading was submitted: the
        # view ends at its last sign of life, never later than the submit.
        stop(previous)
        ended_at, ended_by = min(previous, end_at), "lost"
    elif ended_at is None:
        stop(previous)
    last = ended_at or previous
    active = sum((b - a).total_seconds() for a, b in intervals)
    return ReadingTimes(
        opened_at=opened_at,
        ended_at=ended_at,
        ended_by=ended_by,
        total_seconds=max((last - opened_at).total_seconds(), 0.0),
        active_seconds=active,
        first_image_at=first_image_at,
        image_seconds=max((last - first_image_at).total_seconds(), 0.0) if first_image_at else 0.0,
        active_intervals=tuple(intervals),
        last_at=last,
    )


def union_seconds(intervals: Iterable[Interval | None]) -> float:
    """Length of the union of intervals: overlapping time counts once."""
    spans = sorted(i for i in intervals if i is not None and i[1] > i[0])
    total, current_start, current_end = 0.0, None, None
    for start, end in spans:
        if current_end is None or start > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def intervals_minus(
    intervals: Iterable[Interval | None], cut: Iterable[Interval]
) -> list[Interval]:
    """``intervals`` with every part that lies in one of ``cut`` removed (e.g. the spells while
    the study was paused). The pieces are returned; overlaps among ``intervals`` are kept (the
    union is taken later)."""
    cuts = sorted(c for c in cut if c[1] > c[0])
    out: list[Interval] = []
    for interval in intervals:
        if interval is None or interval[1] <= interval[0]:
            continue
        start, end = interval
        for cut_start, cut_end in cuts:
            if cut_end <= start or cut_start >= end:
                continue
            if cut_start > start:
                out.append((start, cut_start))
            start = max(start, cut_end)
            if start >= end:
                break
        if start < end:
            out.append((start, end))
    return out


#: An open pause (the study is paused now) runs until this moment.
FOREVER = datetime.max.replace(tzinfo=UTC)


def paused_intervals(changes: Iterable[tuple[datetime, str, str]]) -> list[Interval]:
    """The spells a study spent paused, from its state history: ``(at, from_state, to_state)``
    in time order. A pause runs from the change into ``paused`` to the next change out of it
    (resume or close); one still running ends at :data:`FOREVER`."""
    spells: list[Interval] = []
    since: datetime | None = None
    for at, _from_state, to_state in sorted(changes, key=lambda c: c[0]):
        if to_state == "paused":
            if since is None:
                since = at
        elif since is not None:
            spells.append((since, at))
            since = None
    if since is not None:
        spells.append((since, FOREVER))
    return spells


@dataclass(frozen=True)
class ReadingSummary:
    open_seconds: float
    image_seconds: float
    active_seconds: float
    wall_seconds: float
    views: int
    #: open time that fell while the study was paused, left out of the three times above
    #: (0 when the pauses are included, or there were none)
    paused_seconds: float = 0.0


def reading_summary(
    views: Sequence[ReadingTimes],
    *,
    submitted_at: datetime | None = None,
    paused: Sequence[Interval] = (),
) -> ReadingSummary:
    """One reading's time from its views (two tabs, resumes): unions of their intervals.

    ``open_seconds``: time any view of the case was open; ``image_seconds``: from each view's
    first image; ``active_seconds``: visible and not idle in any view; ``wall_seconds``: the
    first opening to the submit (interruptions included; for reference only).

    Args:
        paused: spells while the study was paused (:func:`paused_intervals`): time in them is
            not reading time (the reader could neither answer nor submit) and is left out of
            the open, image and active times; ``paused_seconds`` says how much open time that
            was. Empty: nothing left out (the times as recorded).
    """
    opened = [v.opened_at for v in views if v.opened_at is not None]
    wall = 0.0
    if opened and submitted_at is not None:
        wall = max((submitted_at - min(opened)).total_seconds(), 0.0)
    open_spans = [v.open_interval for v in views]
    open_seconds = union_seconds(intervals_minus(open_spans, paused))
    return ReadingSummary(
        open_seconds=open_seconds,
        image_seconds=union_seconds(intervals_minus((v.image_interval for v in views), paused)),
        active_seconds=union_seconds(
            intervals_minus((i for v in views for i in v.active_intervals), paused)
        ),
        wall_seconds=wall,
        views=len(views),
        paused_seconds=union_seconds(open_spans) - open_seconds if paused else 0.0,
    )
