import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.permissions import roles_of
from accounts.services import user_create
from core.exceptions import ApplicationError


@pytest.fixture(autouse=True)
def clear_throttle_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_login_me_logout_with_csrf_enforced():
    user_create(
        username="wang", password="Bone-scan-2026", role=Role.PHYSICIAN, display_name="王医生"
    )
    client = APIClient(enforce_csrf_checks=True)
    token = client.get("/api/auth/csrf").json()["csrfToken"]

    refused = client.post(
        "/api/auth/login", {"username": "wang", "password": "Bone-scan-2026"}, format="json"
    )
    assert refused.status_code == 403  # no CSRF token

    ok = client.post(
        "/api/auth/login", {"username": "wang", "password": "Bone-scan-2026"},
        format="json", HTTP_X_CSRFTOKEN=token,
    )  # fmt: skip
    assert ok.status_code == 200, ok.content
    assert ok.json()["display_name"] == "王医生"
    assert client.get("/api/auth/me").json()["role"] == "physician"

    token = client.cookies["csrftoken"].value  # rotated at login
    assert client.post("/api/auth/logout", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert client.get("/api/auth/me").status_code == 403


@pytest.mark.django_db
def test_wrong_password_is_a_clear_400():
    user_create(username="li", password="Bone-scan-2026", role=Role.READER)
    response = APIClient().post(
        "/api/auth/login", {"username": "li", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Wrong user name or password."


@pytest.mark.django_db
def test_login_is_throttled(settings):
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/login", {"username": "x", "password": "y"}, format="json"
        ).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [400] * 10
    assert codes[-1] == 429


@pytest.mark.django_db
def test_unknown_role_is_refused():
    with pytest.raises(ApplicationError, match="Unknown role"):
        user_create(username="z", password="Bone-scan-2026", role="janitor")
    assert not User.objects.filter(username="z").exists()


@pytest.mark.django_db
def test_demo_users_printed_once(capsys, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("create_demo_users")
    first = capsys.readouterr().out
    assert {role for u in User.objects.all() for role in roles_of(u)} == set(Role.values)
    admin_password = next(
        line.split()[2] for line in first.splitlines() if line.strip().startswith("admin ")
    )
    assert APIClient().login(username="admin", password=admin_password)

    call_command("create_demo_users")
    second = capsys.readouterr().out
    assert admin_password not in second
    assert admin_password in (tmp_path / "demo-credentials.txt").read_text()
