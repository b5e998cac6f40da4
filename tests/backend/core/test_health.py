from unittest import mock

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from core.selectors import ComponentHealth

pytestmark = pytest.mark.services


def get_health():
    response = APIClient().get("/api/health")
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
