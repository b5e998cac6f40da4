"""Bad input is a 4xx with a reason, never a 500: NUL bytes, absurd numbers, deep JSON, races."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from studies.models import Patient, Study


@pytest.fixture
def admin_api(db):
    client = APIClient()
    client.force_authenticate(
        user_create(username="boss", password="Bone-scan-2026", role=Role.ADMIN)
    )
    return client


@pytest.fixture
def study(db):
    patient = Patient.objects.create(patient_key="P1", patient_id="P1", name="WANG^XIAODONG")
    return Study.objects.create(study_instance_uid="1.2.3.4", patient=patient)


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/?search=bone%00scan",
        "/api/reports/export?search=%00",
        "/api/studies/?search=%00",
        "/dicomweb/studies?PatientName=WANG%00*",
        "/dicomweb/studies?00100020=%00",
        "/wado?requestType=WADO&objectUID=1.2%00.3",
        "/api/studies/abc%00def/",
        "/api/studies/abc%00def/report/",
    ],
)
@pytest.mark.django_db
def test_nul_in_any_text_parameter_is_a_400(admin_api, path):
    response = admin_api.get(path)
    assert response.status_code == 400, response.content
    assert "NUL" in response.json()["message"]


@pytest.mark.django_db
def test_nul_in_json_bodies_is_a_400(admin_api, study):
    response = admin_api.put(
        f"/api/studies/{study.id}/report/", {"findings": "T12\x00"}, format="json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]
    from reports.models import Report

    assert not Report.objects.filter(study=study).exists()


@pytest.mark.django_db
def test_nul_in_import_rows_is_a_row_error(admin_api, study):
    csv = b"study_instance_uid,findings\n1.2.3.4,ok\n1.2.3.4\x00,bad\n"
    upload = io.BytesIO(csv)
    upload.name = "reports.csv"
    response = admin_api.post("/api/reports/import/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    assert rows[0]["status"] == "imported"
    assert rows[1]["status"] == "error" and "NUL" in rows[1]["reason"]


@pytest.mark.django_db
def test_absurd_offsets_and_limits_are_4xx(admin_api, settings):
    assert admin_api.get("/dicomweb/studies", {"offset": 10**30}).status_code == 400
    assert (
        "API_MAX_OFFSET" in admin_api.get("/dicomweb/studies", {"offset": 10**12}).json()["message"]
    )
    assert admin_api.get("/dicomweb/studies", {"limit": 10**30}).status_code == 200  # capped
    assert admin_api.get("/dicomweb/series", {"offset": -1}).status_code == 400
    assert admin_api.get("/api/studies/", {"page": 10**30}).status_code == 404
    assert admin_api.get("/api/reports/", {"page": 10**30, "page_size": 10**30}).status_code == 404
    assert admin_api.get("/api/studies/", {"page": "x"}).status_code == 404


@pytest.mark.django_db
def test_timestamps_out_of_range_are_400(admin_api, study):
    def event(client_time: str) -> dict:
        return {
            "id": str(uuid.uuid4()),
            "view_id": str(uuid.uuid4()),
            "study_id": str(study.id),
            "type": "opened",
            "client_time": client_time,
            "sequence": 0,
        }

    # A reading-event batch answers per event (a refused event must never block the others):
    # each out-of-range time is rejected with a reason naming client_time, and nothing is stored.
    from readerstudies.models import ReadingEvent

    for when in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "+275760-01-01"):
        response = admin_api.post("/api/reading-events/", {"events": [event(when)]}, format="json")
        assert response.status_code == 200, (when, response.content)
        (verdict,) = response.json()["results"]
        assert verdict["status"] == "rejected" and "client_time" in verdict["reason"], verdict
    # a valid event time, but the server-time shift overflows
    response = admin_api.post(
        "/api/reading-events/",
        {
            "events": [event("9999-12-31T12:00:00Z")],
            "sent_at": (timezone.now() - timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    (verdict,) = response.json()["results"]
    assert verdict["status"] == "rejected" and "out of range" in verdict["reason"]
    assert not ReadingEvent.objects.exists()
    assert admin_api.get("/api/studies/", {"date_from": "99999-01-01"}).status_code == 400
    assert admin_api.get("/dicomweb/studies", {"StudyDate": "99999999"}).status_code == 400


@pytest.mark.django_db
def test_deeply_nested_json_is_a_400(admin_api, settings):
    deep = "[" * 100_000 + "]" * 100_000
    response = admin_api.post("/api/reading-events/", deep, content_type="application/json")
    assert response.status_code == 400
    assert "API_MAX_JSON_DEPTH" in response.json()["message"]
    moderate = '{"events": ' + "[" * 40 + "]" * 40 + "}"
    response = admin_api.post("/api/reading-events/", moderate, content_type="application/json")
    assert response.status_code == 400 and "API_MAX_JSON_DEPTH" in response.json()["message"]


# Two first batches of one new case view racing: tests/backend/readerstudies/test_reading_events.py
# (test_the_same_batch_sent_concurrently_is_stored_once) sends them from four threads at once.
