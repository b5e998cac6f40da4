"""Reading-timer events through the API: server time, idempotent replays, access checks."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from readerstudies.models import CaseView, ReadingEvent
from studies.models import Patient, Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    patient = Patient.objects.create(
        patient_key="P1", patient_id="P1", name="WANG^XIAODONG=王^小东"
    )
    return Study.objects.create(study_instance_uid="1.2.3.4", patient=patient)


@pytest.fixture
def client():
    user = user_create(username="wang", password="Bone-scan-2026", role=Role.PHYSICIAN)
    api = APIClient()
    api.force_authenticate(user)
    api.user = user
    return api


def make_events(study, view_id, spec, start):
    return [
        {
            "id": str(uuid.uuid4()),
            "view_id": str(view_id),
            "study_id": str(study.id),
            "type": kind,
            "client_time": (start + timedelta(seconds=t)).isoformat(),
            "sequence": i,
        }
        for i, (kind, t) in enumerate(spec)
    ]


def post(client, events, **extra):
    return client.post("/api/reading-events/", {"events": events, **extra}, format="json")


def test_times_are_computed_and_a_replay_counts_once(client, study):
    view = uuid.uuid4()
    now = timezone.now()
    batch = make_events(
        study, view, [("opened", -100), ("hidden", -70), ("visible", -40), ("closed", 0)], now
    )
    first = post(client, batch, sent_at=now.isoformat())
    assert first.status_code == 200, first.content
    assert len(first.json()["accepted"]) == 4
    summary = first.json()["case_views"][0]
    assert summary["total_seconds"] == pytest.approx(100, abs=1)
    assert summary["active_seconds"] == pytest.approx(70, abs=1)

    replay = post(client, batch, sent_at=now.isoformat())
    assert replay.json()["accepted"] == []
    assert sorted(replay.json()["duplicates"]) == sorted(e["id"] for e in batch)
    assert ReadingEvent.objects.count() == 4
    assert CaseView.objects.get(client_view_id=view).active_seconds == pytest.approx(70, abs=1)


def test_offline_events_keep_their_time_when_replayed_hours_later(client, study):
    """The client's clock is 1 h fast and the batch arrives 3 h after the reading: the server
    places the reading 3 h ago (shifting by the offset measured on the batch)."""
    client_clock = timezone.now() + timedelta(hours=1)
    reading_start = client_clock - timedelta(hours=3)
    events = make_events(study, uuid.uuid4(), [("opened", 0), ("closed", 120)], reading_start)
    response = post(client, events, sent_at=client_clock.isoformat())
    assert response.status_code == 200
    opened = ReadingEvent.objects.get(kind="opened").server_time
    assert abs((timezone.now() - timedelta(hours=3)) - opened) < timedelta(seconds=5)
    assert response.json()["case_views"][0]["total_seconds"] == pytest.approx(120, abs=0.01)


def test_batch_split_across_requests_accumulates(client, study):
    view = uuid.uuid4()
    now = timezone.now()
    events = make_events(study, view, [("opened", -60), ("idle", -30), ("active", -10)], now)
    post(client, events[:2])
    post(client, events[2:])
    closed = make_events(study, view, [("closed", 0)], now)
    closed[0]["sequence"] = 3
    response = post(client, closed)
    assert response.json()["case_views"][0]["active_seconds"] == pytest.approx(40, abs=1)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda e: e.update(type="dancing"), "type"),
        (lambda e: e.update(client_time="yesterday"), "client_time"),
        (lambda e: e.update(id="not-a-uuid"), "id"),
        (lambda e: e.update(sequence=-1), "sequence"),
    ],
)
def test_a_malformed_event_is_rejected_alone_with_the_field_named(client, study, mutate, fragment):
    """One bad event in a batch is refused with the field named; the others are stored (a
    poison event must not block the outbox)."""
    events = make_events(study, uuid.uuid4(), [("opened", -5), ("closed", 0)], timezone.now())
    mutate(events[1])
    response = post(client, events)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == [events[0]["id"]]
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["code"] == "invalid"
    assert fragment in body["results"][1]["reason"]
    assert ReadingEvent.objects.count() == 1


def test_empty_batch_and_duplicate_ids_are_rejected(client, study):
    assert post(client, []).status_code == 400
    events = make_events(study, uuid.uuid4(), [("opened", 0)], timezone.now())
    response = post(client, events + events)
    assert response.status_code == 400
    assert "twice" in response.json()["message"]


def test_unknown_study_is_rejected_and_nothing_is_stored(client, study):
    events = make_events(study, uuid.uuid4(), [("opened", 0)], timezone.now())
    events[0]["study_id"] = str(uuid.uuid4())
    response = post(client, events)
    assert response.status_code == 200
    assert response.json()["rejected"][0]["code"] == "not_found"
    assert CaseView.objects.count() == 0


def test_another_users_view_is_refused(client, study):
    view = uuid.uuid4()
    post(client, make_events(study, view, [("opened", 0)], timezone.now()))
    other = APIClient()
    other.force_authenticate(
        user_create(username="li", password="Bone-scan-2026", role=Role.PHYSICIAN)
    )
    response = post(other, make_events(study, view, [("closed", 1)], timezone.now()))
    assert response.json()["rejected"][0]["code"] == "forbidden"
    assert ReadingEvent.objects.count() == 1


def test_absurd_client_clock_is_refused(client, study):
    events = make_events(study, uuid.uuid4(), [("opened", 0)], timezone.now())
    response = post(client, events, sent_at=(timezone.now() - timedelta(days=30)).isoformat())
    assert response.status_code == 400
    assert "clock" in response.json()["message"]


def test_case_view_detail_is_private(client, study):
    view = uuid.uuid4()
    post(client, make_events(study, view, [("opened", -10), ("closed", 0)], timezone.now()))
    assert client.get(f"/api/case-views/{view}/").json()["total_seconds"] == pytest.approx(
        10, abs=1
    )
    other = APIClient()
    other.force_authenticate(
        user_create(username="li", password="Bone-scan-2026", role=Role.READER)
    )
    assert other.get(f"/api/case-views/{view}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_concurrently_is_stored_once(study):
    """Two tabs' outboxes (or a retry racing the original) send the same new view's events at
    once: no error, every event stored once, the view once."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    user = user_create(username="wang", password="Bone-scan-2026", role=Role.PHYSICIAN)
    view = uuid.uuid4()
    events = make_events(
        study, view, [("opened", -30), ("hidden", -20), ("visible", -10), ("closed", 0)],
        timezone.now(),
    )  # fmt: skip

    def send(_: int):
        try:
            api = APIClient()
            api.force_authenticate(user)
            response = post(api, events)
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(send, range(4)))
    assert [status for status, _ in outcomes] == [200] * 4, outcomes
    assert sum(len(body["accepted"]) for _, body in outcomes) == 4
    assert ReadingEvent.objects.count() == 4
    assert CaseView.objects.get(client_view_id=view).active_seconds == pytest.approx(20, abs=1)
