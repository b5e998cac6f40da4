"""Time while the study is paused is not reading time (issue 12): the reader can neither answer
nor submit, so a case left open in a browser through a pause would add the pause to its arm.
The times leave the paused spells (from the study's state history) out by default; the
analysis may include them. And the reading screen learns that the study is paused."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from readerstudies.models import CaseReading, StudyStateChange
from readerstudies.timing import (
    FOREVER,
    ReadingTimes,
    intervals_minus,
    paused_intervals,
    reading_summary,
)

MY = "/api/reader-studies/my-reading/"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_paused_spells_come_from_the_state_history():
    changes = [
        (at(0), "draft", "open"),
        (at(100), "open", "paused"),
        (at(160), "paused", "open"),
        (at(300), "open", "paused"),
        (at(400), "paused", "closed"),
    ]
    assert paused_intervals(changes) == [(at(100), at(160)), (at(300), at(400))]
    # a pause still running ends nowhere; order of the rows does not matter
    assert paused_intervals(list(reversed(changes[:2]))) == [(at(100), FOREVER)]
    assert paused_intervals(changes[:1]) == []


def test_intervals_minus_cuts_each_interval_around_the_pauses():
    pauses = [(at(10), at(20)), (at(30), at(40))]
    assert intervals_minus([(at(0), at(50))], pauses) == [
        (at(0), at(10)),
        (at(20), at(30)),
        (at(40), at(50)),
    ]
    assert intervals_minus([(at(12), at(18)), None], pauses) == []
    assert intervals_minus([(at(15), at(35))], pauses) == [(at(20), at(30))]
    assert intervals_minus([(at(0), at(5))], pauses) == [(at(0), at(5))]


def test_reading_summary_leaves_the_paused_time_out_and_says_how_much():
    view = ReadingTimes(
        opened_at=at(0), ended_at=at(100), ended_by="submitted", total_seconds=100,
        active_seconds=90, first_image_at=at(5), image_seconds=95,
        active_intervals=((at(0), at(50)), (at(60), at(100))), last_at=at(100),
    )  # fmt: skip
    kept = reading_summary([view], submitted_at=at(100))
    assert (kept.open_seconds, kept.image_seconds, kept.active_seconds) == (100, 95, 90)
    assert kept.paused_seconds == 0
    cut = reading_summary([view], submitted_at=at(100), paused=[(at(40), at(70))])
    assert cut.open_seconds == 70
    assert cut.image_seconds == 65
    assert cut.active_seconds == 90 - 10 - 10  # 40-50 and 60-70 were active
    assert cut.paused_seconds == 30
    assert cut.wall_seconds == 100  # for reference: the wall clock, interruptions included


@pytest.fixture
def open_reading(build_study, readers, rs):
    """A started study; reader1's first case opened 10 minutes ago (as the reading-time rule
    tests do, so that events can be placed in the recent past)."""
    reader_study = build_study()
    reader = readers[0]
    api = rs.client_for(reader)
    reading = CaseReading.objects.get(session=rs.session_of(reader_study, reader), position=1)
    assert api.post(f"{MY}readings/{reading.id}/open/").status_code == 200
    CaseReading.objects.filter(id=reading.id).update(
        first_opened_at=timezone.now() - timedelta(minutes=10)
    )
    reading.refresh_from_db()
    return reader_study, api, reading


def _heartbeats(reading, start, seconds: int, step: int = 15):
    """A view opened at ``start`` and kept active (input just before each heartbeat)."""
    view = str(uuid.uuid4())
    events = []
    for i, t in enumerate(range(0, seconds + 1, step)):
        time = start + timedelta(seconds=t)
        events.append(
            {
                "id": str(uuid.uuid4()),
                "view_id": view,
                "study_id": str(reading.case.study_id),
                "reading_id": str(reading.id),
                "type": "opened" if i == 0 else "heartbeat",
                "client_time": time.isoformat(),
                "sequence": i,
                "last_input_at": (time - timedelta(seconds=1)).isoformat(),
            }  # fmt: skip
        )
    return events


def _move_state_change(reader_study, to_state: str, when: datetime) -> None:
    change = StudyStateChange.objects.filter(reader_study=reader_study, to_state=to_state).latest(
        "at"
    )
    StudyStateChange.objects.filter(id=change.id).update(at=when)


def test_a_pause_during_an_open_case_is_not_counted_unless_asked_for(
    open_reading, admin_api, rs, readers
):
    from readerstudies.services.design import reader_study_transition

    reader_study, api, reading = open_reading
    now = timezone.now()
    start = now - timedelta(seconds=300)
    events = _heartbeats(reading, start, 300)
    answer = api.post("/api/reading-events/", {"events": events}, format="json")
    assert answer.status_code == 200 and not answer.json()["rejected"], answer.content
    # the admin paused the study for two minutes while the case was open in the browser
    admin = reader_study.admins.first()
    reader_study_transition(reader_study=reader_study, user=admin, action="pause", reason="scan")
    reader_study_transition(reader_study=reader_study, user=admin, action="resume")
    _move_state_change(reader_study, "paused", start + timedelta(seconds=100))
    _move_state_change(reader_study, "open", start + timedelta(seconds=220))

    readings = f"/api/reader-studies/{reader_study.id}/readings/"
    times = next(r for r in admin_api.get(readings).json() if r["id"] == str(reading.id))["times"]
    assert times["open_seconds"] == pytest.approx(300 - 120, abs=1)
    assert times["active_seconds"] == pytest.approx(300 - 120, abs=1)
    assert times["paused_seconds"] == pytest.approx(120, abs=1)
    assert times["paused_included"] is False
    asked = admin_api.get(readings, {"include_paused": "1"}).json()
    times = next(r for r in asked if r["id"] == str(reading.id))["times"]
    assert times["open_seconds"] == pytest.approx(300, abs=1)
    assert times["paused_seconds"] == 0 and times["paused_included"] is True
    # the progress page counts the same way (pauses left out)
    progress = admin_api.get(f"/api/reader-studies/{reader_study.id}/progress/").json()
    session = next(
        s for r in progress["readers"] for s in r["sessions"] if s["id"] == str(reading.session_id)
    )
    assert session["open_seconds"] == pytest.approx(180, abs=1)


def test_the_reading_screen_learns_that_the_study_is_paused(open_reading, rs):
    """The open case's screen polls its reading: paused -> the state says so, and answers and
    submits are refused with study_paused (the client shows the pause, not an error)."""
    from readerstudies.services.design import reader_study_transition

    reader_study, api, reading = open_reading
    detail = f"{MY}readings/{reading.id}/"
    assert api.get(detail).json()["reader_study_state"] == "open"
    admin = reader_study.admins.first()
    reader_study_transition(reader_study=reader_study, user=admin, action="pause", reason="break")
    polled = api.get(detail)
    assert polled.status_code == 200 and polled.json()["reader_study_state"] == "paused"
    assert polled.json()["ai"] is None  # nothing of the AI while paused, even in the aided arm
    refused = api.put(f"{detail}answer/", {"confidence": 50}, format="json")
    assert refused.status_code == 409 and refused.json()["extra"]["code"] == "study_paused"
    refused = api.post(
        f"{detail}submit/", {"metastasis_present": True, "confidence": 50}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["extra"]["code"] == "study_paused"
    listed = api.get(MY).json()["studies"][0]
    assert listed["reader_study"]["state"] == "paused"
    reader_study_transition(reader_study=reader_study, user=admin, action="resume")
    assert api.get(detail).json()["reader_study_state"] == "open"
