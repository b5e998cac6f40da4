from unittest import mock

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from core.selectors import ComponentHealth

pytestmark = pytest.mark.services


def get_health():
    """/api/health as an admin sees it (with the parts)."""
    from accounts.models import Role, User
    from accounts.services import user_create

    admin = User.objects.filter(username="health-admin").first() or user_create(
        username="health-admin", password="Bone-scan-2026", role=Role.ADMIN
    )
    client = APIClient()
    client.force_authenticate(admin)
    response = client.get("/api/health")
    return response.status_code, response.json()


def test_health_reports_live_worker_then_stopped_worker_as_down(start_worker):
    worker = start_worker()
    code, body = get_health()
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["broker"]["ok"] is True
    assert body["components"]["worker"]["ok"] is True, body
    assert worker.node in body["components"]["worker"]["detail"]

    worker.stop()
    code, body = get_health()
    assert code == 503
    assert body["status"] == "down"
    assert body["components"]["worker"]["ok"] is False
    assert "no worker" in body["components"]["worker"]["detail"]


@pytest.mark.django_db
def test_health_reports_unreachable_broker_as_down():
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    # Celery reads the broker URL from settings live; the worker ping is left out so that it does
    # not cache a connection pool to the unreachable broker for the rest of the session.
    no_ping = ComponentHealth(ok=False, detail="not checked in this test")
    with (
        override_settings(CELERY_BROKER_URL=unreachable),
        mock.patch("core.selectors._worker", return_value=no_ping),
    ):
        code, body = get_health()
    assert code == 503
    assert body["components"]["broker"]["ok"] is False
    assert "broker unreachable" in body["components"]["broker"]["detail"]


@pytest.mark.django_db
def test_health_reports_missing_model_files(tmp_path):
    with override_settings(MODEL_DIR=tmp_path / "checkpoints", HEALTH_WORKER_PING_TIMEOUT=0.2):
        code, body = get_health()
    assert code == 503
    assert body["components"]["models"]["ok"] is False
    assert "planar" in body["components"]["models"]["detail"]


@pytest.mark.django_db
def test_anonymous_health_says_only_up_or_down(tmp_path):
    from accounts.models import Role
    from accounts.services import user_create

    with override_settings(MODEL_DIR=tmp_path, HEALTH_WORKER_PING_TIMEOUT=0.2):
        anonymous = APIClient().get("/api/health")
        reader = APIClient()
        reader.force_authenticate(
            user_create(username="r1", password="Bone-scan-2026", role=Role.READER)
        )
        as_reader = reader.get("/api/health")
        code, admin_body = get_health()
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "down"}  # no hosts, engines, worker names, paths
    assert as_reader.json() == {"status": "down"}
    assert admin_body["status"] == "down" and "models" in admin_body["components"]
