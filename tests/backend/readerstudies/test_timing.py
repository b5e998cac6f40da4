"""Reading time from timer events, on hand-made event sequences."""

from datetime import UTC, datetime, timedelta

import pytest

from readerstudies.timing import TimedEvent, reading_summary, reading_times, union_seconds

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


# --- idle cut, heartbeats, the reading's end, several views of one reading -----------------------


def test_idle_is_cut_back_to_the_last_input():
    """The idle event arrives at the threshold (60 s after the last input at 30 s): the quiet
    minute is not reading."""
    seq = events(("opened", 0), ("idle", 90), ("active", 200), ("submitted", 210))
    seq[1] = TimedEvent("idle", 1, at(90), input_time=at(30))
    times = reading_times(seq)
    assert times.active_seconds == 40  # 0-30 and 200-210
    assert times.active_intervals == ((at(0), at(30)), (at(200), at(210)))


def test_an_input_time_before_the_active_spell_cannot_cut_earlier_than_its_start():
    seq = events(("opened", 0), ("hidden", 10), ("visible", 50), ("idle", 120))
    seq[3] = TimedEvent("idle", 3, at(120), input_time=at(5))
    assert reading_times(seq).active_seconds == 10  # the 50-120 spell starts at 50, cut to 50


def test_a_heartbeat_with_a_stale_last_input_counts_as_idle_from_that_input():
    seq = [
        TimedEvent("opened", 0, at(0)),
        TimedEvent("heartbeat", 1, at(15), input_time=at(10)),
        TimedEvent("heartbeat", 2, at(120), input_time=at(20)),  # 100 s without input
        TimedEvent("active", 3, at(130)),
        TimedEvent("closed", 4, at(140)),
    ]
    assert reading_times(seq).active_seconds == 30  # 0-20 and 130-140


def test_a_heartbeat_with_a_new_input_after_a_heartbeat_idle_resumes_from_that_input():
    seq = [
        TimedEvent("opened", 0, at(0)),
        TimedEvent("heartbeat", 1, at(120), input_time=at(20)),  # quiet since 20
        TimedEvent("heartbeat", 2, at(135), input_time=at(125)),  # moved again at 125
        TimedEvent("closed", 3, at(140)),
    ]
    assert reading_times(seq).active_seconds == 35  # 0-20 and 125-140


def test_heartbeats_bound_a_lost_end():
    """Browser quit: no closed event; the view runs to its last heartbeat, not further."""
    seq = events(("opened", 0), ("heartbeat", 15), ("heartbeat", 30), ("heartbeat", 45))
    times = reading_times(seq)
    assert times.total_seconds == 45 and times.active_seconds == 45 and times.ended_at is None


def test_the_reading_ends_at_the_submit_even_when_the_view_never_ended():
    lost = events(("opened", 0), ("first_image", 4), ("heartbeat", 15))
    times = reading_times(lost, end_at=at(20))
    assert times.ended_by == "lost" and times.ended_at == at(15)
    alive = events(("opened", 0), ("heartbeat", 15), ("heartbeat", 30))  # still open at submit
    times = reading_times(alive, end_at=at(20))
    assert times.ended_by == "submitted" and times.active_seconds == 20
    times = reading_times(events(("opened", 0), ("first_image", 4), ("closed", 60)), end_at=at(20))
    assert times.ended_by == "submitted" and times.total_seconds == 20
    assert times.image_seconds == 16 and times.active_seconds == 20


def test_first_image_to_end():
    times = reading_times(events(("opened", 0), ("first_image", 3.5), ("submitted", 33.5)))
    assert times.first_image_at == at(3.5) and times.image_seconds == 30


def test_union_counts_overlapping_time_once():
    assert union_seconds([(at(0), at(10)), (at(5), at(15)), (at(20), at(25)), None]) == 20
    assert union_seconds([]) == 0


def test_two_tabs_are_one_reading_and_a_resume_is_not_counted_twice():
    tab_a = reading_times(events(("opened", 0), ("hidden", 8), ("visible", 10), ("closed", 13.5)))
    tab_b = reading_times(events(("opened", 2), ("closed", 12)))
    both = reading_summary([tab_a, tab_b], submitted_at=at(13.5))
    assert both.active_seconds == pytest.approx(13.5)  # not 11.5 + 10
    assert both.open_seconds == pytest.approx(13.5)
    assert both.views == 2
    # A crash at 40 s (last heartbeat), resumed 5 minutes later for 20 s more.
    before = reading_times(events(("opened", 0), ("heartbeat", 15), ("heartbeat", 40)))
    after = reading_times(events(("opened", 340), ("submitted", 360)))
    resumed = reading_summary([before, after], submitted_at=at(360))
    assert resumed.active_seconds == 60 and resumed.open_seconds == 60
    assert resumed.wall_seconds == 360
