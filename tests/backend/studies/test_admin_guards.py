"""Django admin: no (cascade) deletion of a study with a signed report; moving a study to
another patient needs a reason."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_create
from reports.models import Report, ReportStatus
from studies.models import Patient, Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(user_create(username="boss", password="Bone-scan-2026", role=Role.ADMIN))
    return client


@pytest.fixture
def signed_study():
    patient = Patient.objects.create(patient_key="P1", patient_id="P1", name="WANG")
    study = Study.objects.create(study_instance_uid="1.2.3.4", patient=patient)
    Report.objects.create(
        study=study, status=ReportStatus.SIGNED, version=1, impression="骨转移",
        signed_at=timezone.now(),
    )  # fmt: skip
    return study


def test_study_with_signed_report_cannot_be_deleted(admin_client, signed_study):
    url = f"/admin/studies/study/{signed_study.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="post"' not in page.content.decode()  # no confirmation form: refused
    admin_client.post(url, {"post": "yes"})
    assert Study.objects.filter(pk=signed_study.pk).exists()


def test_bulk_delete_action_refuses_too(admin_client, signed_study):
    response = admin_client.post(
        "/admin/studies/study/",
        {"action": "delete_selected", "_selected_action": [signed_study.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Study.objects.filter(pk=signed_study.pk).exists()


def test_patient_delete_would_cascade_and_is_refused(admin_client, signed_study):
    page = admin_client.get(f"/admin/studies/patient/{signed_study.patient.pk}/delete/")
    assert 'name="post"' not in page.content.decode()
    admin_client.post(f"/admin/studies/patient/{signed_study.patient.pk}/delete/", {"post": "yes"})
    assert Report.objects.filter(study=signed_study).exists()


def test_signed_report_cannot_be_deleted_in_admin(admin_client, signed_study):
    report = Report.objects.get(study=signed_study)
    response = admin_client.post(f"/admin/reports/report/{report.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()


def test_study_without_signed_report_can_be_deleted(admin_client):
    patient = Patient.objects.create(patient_key="P9", patient_id="P9", name="LI")
    study = Study.objects.create(study_instance_uid="1.2.3.9", patient=patient)
    admin_client.post(f"/admin/studies/study/{study.pk}/delete/", {"post": "yes"})
    assert not Study.objects.filter(pk=study.pk).exists()


def _change_form(study, **overrides):
    data = {
        "study_instance_uid": study.study_instance_uid,
        "patient": str(study.patient_id),
        "accession_number": study.accession_number,
        "description": study.description,
        "modalities": study.modalities,
        "kind": study.kind,
        "move_reason": "",
    }
    for field in ("study_date", "study_time"):
        value = getattr(study, field)
        data[field] = value.isoformat() if value else ""
    data.update(overrides)
    return data


def test_moving_a_study_to_another_patient_needs_a_reason(admin_client, signed_study):
    other = Patient.objects.create(patient_key="P2", patient_id="P2", name="ZHAO")
    url = f"/admin/studies/study/{signed_study.pk}/change/"
    refused = admin_client.post(url, _change_form(signed_study, patient=str(other.pk)))
    assert refused.status_code == 200  # the form again
    assert "Give the reason" in refused.content.decode()
    signed_study.refresh_from_db()
    assert signed_study.patient.patient_id == "P1"

    moved = admin_client.post(
        url, _change_form(signed_study, patient=str(other.pk), move_reason="wrong patient ID at the modality")
    )  # fmt: skip
    assert moved.status_code == 302, moved.content.decode()[:2000]
    signed_study.refresh_from_db()
    assert signed_study.patient_id == other.pk
    from audit.models import AuditEvent

    (event,) = AuditEvent.objects.filter(action="study.move_patient")
    assert event.object_id == str(signed_study.pk)
    assert event.details["reason"] == "wrong patient ID at the modality"
    assert event.details["to_patient"] == str(other.pk)
