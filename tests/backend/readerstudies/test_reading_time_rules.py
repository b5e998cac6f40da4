"""Reading time of reader-study readings through /api/reading-events/: linked to the reading
(session, arm, AI shown), implausible times rejected or flagged with a reason, a refused event
never blocks the others, two tabs are one reading, a resume is not counted twice, the end is
the submit."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from readerstudies.models import CaseReading, CaseView, ReadingEvent

pytestmark = pytest.mark.django_db
MY = "/api/reader-studies/my-reading/"


@pytest.fixture
def opened(build_study, readers, rs):
    """A started study; reader1's first reading opened through the API."""
    reader_study = build_study()
    reader = readers[0]
    api = rs.client_for(reader)
    session = rs.session_of(reader_study, reader, 1)
    reading = CaseReading.objects.get(session=session, position=1)
    assert api.post(f"{MY}readings/{reading.id}/open/").status_code == 200
    # As if opened 10 minutes ago, so that the tests' events (placed in the recent past) are
    # after the opening.
    CaseReading.objects.filter(id=reading.id).update(
        first_opened_at=timezone.now() - timedelta(minutes=10)
    )
    reading.refresh_from_db()
    return reader_study, api, reading


def _events(reading, view, spec, start, **extra):
    return [
        {
            "id": str(uuid.uuid4()),
            "view_id": str(view),
            "study_id": str(reading.case.study_id),
            "reading_id": str(reading.id),
            "type": kind,
            "client_time": (start + timedelta(seconds=t)).isoformat(),
            "sequence": i,
            **extra,
        }
        for i, (kind, t) in enumerate(spec)
    ]


def _post(api, events, **extra):
    response = api.post("/api/reading-events/", {"events": events, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_view_is_linked_to_the_reading_session_and_arm(opened):
    reader_study, api, reading = opened
    view = uuid.uuid4()
    now = timezone.now()
    body = _post(api, _events(reading, view, [("opened", 0), ("first_image", 0.5)], now,
                              ai_shown=reading.session.arm == "aided"))  # fmt: skip
    assert len(body["accepted"]) == 2
    row = CaseView.objects.get(client_view_id=view)
    assert row.reading_id == reading.id and row.reader_session_id == reading.session_id
    assert row.arm == reading.session.arm
    assert row.ai_shown == (reading.session.arm == "aided")
    assert row.first_image_at is not None


def test_a_poison_event_is_refused_alone_and_the_rest_of_the_batch_is_kept(opened, admin_api):
    """The old failure: one refused event (an unknown case view's study) blocked every later
    batch. Now each event has its own verdict, and a replay repeats the verdict."""
    reader_study, api, reading = opened
    now = timezone.now() - timedelta(seconds=5)
    good = _events(reading, uuid.uuid4(), [("opened", 0), ("heartbeat", 1)], now)
    poison = _events(reading, uuid.uuid4(), [("opened", 0)], now)[0]
    poison["study_id"] = str(uuid.uuid4())
    future = _events(reading, uuid.UUID(good[0]["view_id"]), [("active", 3600)], now)[0]
    future["sequence"] = 5
    body = _post(api, [good[0], poison, good[1], future])
    assert body["accepted"] == [good[0]["id"], good[1]["id"]]
    verdicts = {r["id"]: r for r in body["results"]}
    assert verdicts[poison["id"]]["code"] == "not_found"
    assert verdicts[future["id"]]["code"] == "future"
    assert "in the future" in verdicts[future["id"]]["reason"]
    replay = _post(api, [good[0], poison, good[1], future])
    assert replay["duplicates"] == [good[0]["id"], good[1]["id"]]
    assert {r["code"] for r in replay["rejected"]} == {"not_found", "future"}
    # The future event is stored as refused, not counted, and listed for the admin.
    assert ReadingEvent.objects.filter(reject_code="future").count() == 1
    view = CaseView.objects.get(client_view_id=good[0]["view_id"])
    assert view.total_seconds == pytest.approx(1, abs=0.5)
    flags = admin_api.get(f"/api/reader-studies/{reader_study.id}/flags/").json()
    [listed] = flags["rejected_events"]
    assert listed["event_id"] == future["id"] and listed["code"] == "future"
    assert listed["reader"]["username"] == "reader1"


def test_events_within_the_tolerance_are_accepted_and_placed_at_arrival(opened):
    reader_study, api, reading = opened
    now = timezone.now()
    body = _post(api, _events(reading, uuid.uuid4(), [("opened", 3)], now))
    assert len(body["accepted"]) == 1
    stored = ReadingEvent.objects.get(client_event_id=body["accepted"][0])
    assert stored.server_time <= stored.received_at


def test_events_before_the_case_was_opened_are_rejected(opened):
    reader_study, api, reading = opened
    before = reading.first_opened_at - timedelta(minutes=10)
    body = _post(api, _events(reading, uuid.uuid4(), [("opened", 0), ("closed", 60)], before))
    assert {r["code"] for r in body["rejected"]} == {"before_opening"}
    assert body["accepted"] == []


def test_a_reading_that_is_not_opened_yet_refuses_events(build_study, readers, rs):
    reader_study = build_study()
    reader = readers[0]
    api = rs.client_for(reader)
    reading = CaseReading.objects.get(session=rs.session_of(reader_study, reader, 1), position=1)
    body = _post(api, _events(reading, uuid.uuid4(), [("opened", 0)], timezone.now()))
    assert body["rejected"][0]["code"] == "before_opening"


def test_another_readers_reading_is_refused(opened, readers, rs):
    reader_study, api, reading = opened
    other = rs.client_for(readers[1])
    body = _post(other, _events(reading, uuid.uuid4(), [("opened", 0)], timezone.now()))
    assert body["rejected"][0]["code"] == "not_found"


def test_a_view_longer_than_the_maximum_is_flagged_excluded_and_listed(opened, admin_api):
    reader_study, api, reading = opened
    # Pretend the case was opened 3 hours ago (the maximum is 2 h).
    CaseReading.objects.filter(id=reading.id).update(
        first_opened_at=timezone.now() - timedelta(hours=3)
    )
    start = timezone.now() - timedelta(hours=2, minutes=30)
    view = uuid.uuid4()
    body = _post(api, _events(reading, view, [("opened", 0), ("heartbeat", 9000)], start))
    assert len(body["accepted"]) == 2
    summary = body["case_views"][0]
    assert summary["flagged"] is True
    assert "longer than the maximum of 7200 s" in summary["flag_reasons"][0]
    base = f"/api/reader-studies/{reader_study.id}/"
    flags = admin_api.get(f"{base}flags/").json()
    assert flags["case_views"][0]["view_id"] == str(view)
    readings = admin_api.get(
        f"{base}readings/?session=1&reader={reading.session.assignment.reader_id}"
    ).json()  # noqa: E501
    times = next(r for r in readings if r["id"] == str(reading.id))["times"]
    assert times["flagged"] is True and times["active_seconds"] == 0  # excluded by default
    with_flagged = admin_api.get(f"{base}readings/?include_flagged=1").json()
    times = next(r for r in with_flagged if r["id"] == str(reading.id))["times"]
    assert times["active_seconds"] == pytest.approx(9000, abs=1)


def test_two_tabs_on_one_case_are_one_reading(opened, admin_api):
    """Tab A 0-13.5 s, tab B 2-12 s of the same case: 13.5 s of reading, not 23.5 s."""
    reader_study, api, reading = opened
    start = timezone.now() - timedelta(seconds=20)
    _post(api, _events(reading, uuid.uuid4(), [("opened", 0), ("closed", 13.5)], start))
    _post(api, _events(reading, uuid.uuid4(), [("opened", 2), ("closed", 12)], start))
    readings = admin_api.get(f"/api/reader-studies/{reader_study.id}/readings/").json()
    times = next(r for r in readings if r["id"] == str(reading.id))["times"]
    assert times["views"] == 2
    assert times["active_seconds"] == pytest.approx(13.5, abs=0.01)
    assert times["open_seconds"] == pytest.approx(13.5, abs=0.01)


def test_resume_after_a_browser_quit_counts_each_second_once_and_ends_at_submit(opened, admin_api):
    reader_study, api, reading = opened
    start = timezone.now() - timedelta(seconds=100)
    # First view: opened, heartbeats, then the browser quits (no closed event ever comes).
    first = _events(reading, uuid.uuid4(), [("opened", 0), ("heartbeat", 15), ("heartbeat", 30)],
                    start)  # fmt: skip
    _post(api, first)
    # Resumed 50 s later in a new view; its closing event comes after the submit.
    second_view = uuid.uuid4()
    _post(api, _events(reading, second_view, [("opened", 80)], start))
    submitted = api.post(
        f"{MY}readings/{reading.id}/submit/",
        {"metastasis_present": False, "confidence": 40},
        format="json",
    )
    assert submitted.status_code == 200
    reading.refresh_from_db()
    # The page's closing event arrives after the submit: the view is clipped at the submit.
    after_submit = (reading.submitted_at - start).total_seconds() + 0.5
    late = _events(reading, second_view, [("closed", after_submit)], start)
    late[0]["sequence"] = 1
    _post(api, late)
    readings = admin_api.get(f"/api/reader-studies/{reader_study.id}/readings/").json()
    times = next(r for r in readings if r["id"] == str(reading.id))["times"]
    expected_second = (reading.submitted_at - (start + timedelta(seconds=80))).total_seconds()
    assert times["active_seconds"] == pytest.approx(30 + expected_second, abs=0.5)
    view = CaseView.objects.get(client_view_id=second_view)
    assert view.ended_by == "submitted" and view.ended_at == reading.submitted_at


def test_idle_events_with_the_last_input_cut_active_time(opened):
    reader_study, api, reading = opened
    start = timezone.now() - timedelta(seconds=200)
    events = _events(reading, uuid.uuid4(), [("opened", 0), ("idle", 90), ("active", 150),
                                             ("closed", 160)], start)  # fmt: skip
    events[1]["last_input_at"] = (start + timedelta(seconds=30)).isoformat()
    body = _post(api, events)
    assert body["case_views"][0]["active_seconds"] == pytest.approx(40, abs=0.01)


def test_server_clock_endpoint_and_client_offset(opened):
    reader_study, api, reading = opened
    clock = api.get("/api/reading-events/clock/")
    assert clock.status_code == 200 and "server_time" in clock.json()
    # The client's clock is 1 h slow; it measured the offset itself (half the round trip).
    client_now = timezone.now() - timedelta(hours=1)
    body = _post(
        api,
        _events(reading, uuid.uuid4(), [("opened", -10), ("closed", 0)], client_now),
        clock_offset_ms=3600 * 1000,
    )
    assert len(body["accepted"]) == 2
    assert body["case_views"][0]["total_seconds"] == pytest.approx(10, abs=0.01)


def test_absurd_times_are_refused_per_event_not_a_server_error(opened):
    reader_study, api, reading = opened
    events = _events(reading, uuid.uuid4(), [("opened", 0), ("heartbeat", 1)], timezone.now())
    events[1]["client_time"] = "9999-12-31T23:59:59Z"
    body = _post(api, events, clock_offset_ms=86400 * 1000)
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["code"] in ("invalid", "future")
