"""Reading time from timer events, on hand-made event sequences."""

from datetime import UTC, datetime, timedelta

import pytest

from readerstudies.timing import TimedEvent, reading_times

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def events(*spec: tuple[str, float]) -> list[TimedEvent]:
    return [TimedEvent(kind, i, at(t)) for i, (kind, t) in enumerate(spec)]


def test_visible_throughout_counts_all_time_as_active():
    times = reading_times(events(("opened", 0), ("closed", 90)))
    assert times.total_seconds == 90
    assert times.active_seconds == 90
    assert times.ended_by == "closed"


def test_hidden_and_idle_spells_are_not_active():
    times = reading_times(
        events(
            ("opened", 0),
            ("hidden", 30),  # 30 s active
            ("visible", 50),  # 20 s hidden
            ("idle", 110),  # 60 s active
            ("active", 200),  # 90 s idle
            ("submitted", 210),  # 10 s active
        )
    )
    assert times.total_seconds == 210
    assert times.active_seconds == 100
    assert times.ended_by == "submitted"


def test_view_opened_hidden_starts_inactive():
    times = reading_times(events(("opened", 0), ("hidden", 0), ("visible", 40), ("closed", 100)))
    assert times.active_seconds == 60


def test_order_follows_sequence_not_arrival():
    shuffled = list(
        reversed(events(("opened", 0), ("hidden", 10), ("visible", 20), ("closed", 30)))
    )
    assert reading_times(shuffled).active_seconds == 20


def test_events_after_the_end_are_ignored():
    times = reading_times(events(("opened", 0), ("closed", 10), ("visible", 50)))
    assert times.total_seconds == 10


def test_clock_stepping_back_never_subtracts():
    seq = [
        TimedEvent("opened", 0, at(0)),
        TimedEvent("hidden", 1, at(20)),
        TimedEvent("visible", 2, at(15)),
    ]
    seq.append(TimedEvent("closed", 3, at(25)))
    times = reading_times(seq)
    assert times.active_seconds == pytest.approx(25)  # 20 visible, 0 hidden, 5 visible
    assert times.total_seconds == 25


def test_open_view_runs_to_its_last_event():
    times = reading_times(events(("opened", 0), ("idle", 45)))
    assert times.ended_at is None
    assert times.total_seconds == 45
    assert times.active_seconds == 45


def test_no_events():
    assert reading_times([]).total_seconds == 0
