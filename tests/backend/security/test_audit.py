"""The audit trail: one row per audited action, append-only in the application and (PostgreSQL)
in the database, an admin-only CSV export that audits itself."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from audit.models import AuditEvent, AuditEventImmutable
from audit.services import audit_record

PASSWORD = "Bone-scan-2026"


@pytest.mark.django_db
def test_the_application_cannot_change_or_delete_an_event():
    event = audit_record(action="study.view", object_type="study", object_id="x")
    event.action = "nothing.happened"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(id=event.id).update(action="nothing.happened")
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(id=event.id).delete()
    assert AuditEvent.objects.get(id=event.id).action == "study.view"


@pytest.mark.django_db
def test_deleting_a_user_keeps_their_events(world):
    user = world.users["reader"]
    event = audit_record(action="auth.login", actor=user)
    user.delete()
    kept = AuditEvent.objects.get(id=event.id)
    assert kept.actor_username == "reader1" and kept.action == "auth.login"


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_raw_sql_cannot_update_delete_or_truncate_on_postgresql():
    event = audit_record(action="study.view", object_type="study", object_id="x")
    for sql in (
        "UPDATE audit_auditevent SET action = 'nothing.happened'",
        "DELETE FROM audit_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The test database allows TRUNCATE for its teardown; a production one does not.
        cursor.execute("SET LOCAL boneread.audit_truncate = 'deny'")
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.get(id=event.id).action == "study.view"


def _actions(**filters) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("at")
        .values_list("action", "outcome", "actor_username")
    )


def test_a_scripted_session_leaves_one_row_per_audited_action(world, rules, client_for):
    from inference.models import ModelVersion

    study = world.a.study
    physician = APIClient()
    assert (
        physician.post(
            "/api/auth/login", {"username": "doc", "password": "wrong"}, format="json"
        ).status_code
        == 400
    )
    assert (
        physician.post(
            "/api/auth/login", {"username": "doc", "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )
    for _ in range(3):  # one case view, several requests
        assert physician.get(f"/api/studies/{study.id}/").status_code == 200
        wado = physician.get(
            "/wado",
            {
                "requestType": "WADO",
                "objectUID": world.a.image.sop_instance_uid,
                "contentType": "application/dicom",
            },
        )
        assert wado.status_code == 200
        assert physician.get(f"/api/studies/{study.id}/report").status_code == 200
    body = {"findings": "第7胸椎浓聚，骨转移", "impression": "骨转移", "base_version": 1}
    assert physician.put(f"/api/studies/{study.id}/report", body, format="json").status_code == 201
    assert (
        physician.post(f"/api/studies/{study.id}/report/sign", {}, format="json").status_code == 200
    )
    addendum = physician.post(
        f"/api/studies/{study.id}/report/addenda", {"text": "补充"}, format="json"
    )
    assert addendum.status_code == 201
    rows = [{"study_instance_uid": world.b.study.study_instance_uid, "findings": "x", "version": 1}]
    assert physician.post("/api/reports/import", rows, format="json").status_code == 200
    assert physician.get("/api/reports/export", {"format": "json"}).status_code == 200
    export = physician.get(f"/api/studies/{study.id}/deidentified-export")
    assert export.status_code == 200
    ModelVersion.objects.filter(id=world.a.job.model_version_id).update(is_active=True)
    run = physician.post(
        "/api/inference/jobs/batch", {"study_ids": [str(study.id)], "rerun": True}, format="json"
    )
    assert run.status_code == 202
    assert physician.post("/api/auth/logout", {}, format="json").status_code == 204

    reader = client_for(world.users["reader"])
    assert reader.put(f"/api/studies/{study.id}/report", body, format="json").status_code == 403
    assert reader.get(f"/api/studies/{world.b.study.id}/").status_code == 404

    mine = _actions(actor_username="doc")
    assert ("auth.login", "failure", "") in _actions(object_id="doc")
    assert [a for a, _, _ in mine].count("study.view") == 1
    assert [a for a, _, _ in mine].count("study.retrieve") == 1
    assert [a for a, _, _ in mine].count("report.view") == 1
    for action in (
        "auth.login",
        "report.edit",
        "report.sign",
        "report.addendum",
        "report.import",
        "report.export",
        "study.export_deidentified",
        "auth.logout",
    ):
        assert (action, "success", "doc") in mine, action
    jobs_run = [a for a, _, _ in mine if a == "inference.run"]
    assert len(jobs_run) == len(run.json()["jobs"])
    readers = _actions(actor_username="reader1")
    assert ("access.denied", "denied", "reader1") in readers
    assert ("study.view", "denied", "reader1") in readers
    denied = AuditEvent.objects.get(action="access.denied", actor_username="reader1")
    assert denied.details["path"] == f"/api/studies/{study.id}/report"
    assert denied.details["method"] == "PUT"
    assert AuditEvent.objects.filter(client_address="127.0.0.1").exists()


def test_admin_actions_and_the_audited_csv_export(world, client_for):
    from django.test import Client

    admin_browser = Client()
    admin_browser.force_login(world.users["admin"])
    event = audit_record(action="study.view", object_type="study", object_id="x")
    refused = admin_browser.post(f"/admin/audit/auditevent/{event.id}/delete/", {"post": "yes"})
    assert refused.status_code == 403
    admin_browser.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [world.users["reader"].pk]},
    )
    changes = AuditEvent.objects.filter(action="admin.change", actor_username="boss")
    assert {e.outcome for e in changes} == {"denied", "success"}
    assert any(e.details["selected"] == [str(world.users["reader"].pk)] for e in changes)
    assert AuditEvent.objects.filter(id=event.id).exists()

    assert client_for(world.users["physician"]).get("/api/audit/events.csv").status_code == 403
    response = client_for(world.users["admin"]).get("/api/audit/events.csv", {"action": "a"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["action"] for r in rows if r["action"] == "audit.export"] == ["audit.export"]
    assert all(r["action"].startswith("a") for r in rows)
    assert AuditEvent.objects.filter(action="audit.export", actor_username="boss").count() == 1
    assert (
        client_for(world.users["admin"])
        .get("/api/audit/events.csv", {"outcome": "maybe"})
        .status_code
        == 400
    )
