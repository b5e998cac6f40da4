"""Lock-out after repeated failed logins (django-axes), on every way to present a password."""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create

PASSWORD = "Bone-scan-2026"


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def settings_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = []
    return settings


def login(client, username, password, **extra):
    return client.post(
        "/api/auth/login", {"username": username, "password": password}, format="json", **extra
    )


@pytest.mark.django_db
def test_account_is_locked_after_failures_even_with_the_right_password(settings_lockout):
    user_create(username="wang", password=PASSWORD, role=Role.PHYSICIAN)
    client = APIClient()
    codes = [login(client, "wang", f"guess-{i}").status_code for i in range(5)]
    assert codes == [400] * 4 + [429]  # the failure that reaches the limit locks
    locked = login(client, "wang", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.json()["message"]
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="auth.login_locked_out", outcome="denied").exists()


@pytest.mark.django_db
def test_account_lock_holds_from_another_client_address(settings_lockout):
    user_create(username="wang", password=PASSWORD, role=Role.PHYSICIAN)
    for i in range(5):
        login(APIClient(REMOTE_ADDR=f"10.0.0.{i + 1}"), "wang", "wrong")
    assert login(APIClient(REMOTE_ADDR="10.0.9.9"), "wang", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_client_is_locked_across_accounts(settings_lockout):
    user_create(username="li", password=PASSWORD, role=Role.READER)
    client = APIClient(REMOTE_ADDR="10.1.1.1")
    for i in range(5):
        login(client, f"nobody-{i}", "wrong")
    assert login(client, "li", PASSWORD).status_code == 429
    # another client is not locked out, the account is not either
    assert login(APIClient(REMOTE_ADDR="10.1.1.2"), "li", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_rotating_x_forwarded_for_from_an_untrusted_client_does_not_reset_the_count(
    settings_lockout,
):
    user_create(username="li", password=PASSWORD, role=Role.READER)
    codes = [
        login(
            APIClient(REMOTE_ADDR="203.0.113.7"),
            f"user-{i}",
            "wrong",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(6)
    ]
    assert codes[-1] == 429
    spoofed = login(
        APIClient(REMOTE_ADDR="203.0.113.7"), "li", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.55"
    )
    assert spoofed.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(settings_lockout):
    settings_lockout.TRUSTED_PROXIES = ["10.9.0.0/16"]
    user_create(username="li", password=PASSWORD, role=Role.READER)
    proxy = {"REMOTE_ADDR": "10.9.0.2"}
    for i in range(5):
        login(APIClient(**proxy), f"x{i}", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.1")
    # the locked-out client behind the proxy, even claiming another address on the left
    blocked = login(
        APIClient(**proxy), "li", PASSWORD, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1"
    )
    assert blocked.status_code == 429
    # a different client behind the same proxy is not locked out
    other = login(APIClient(**proxy), "li", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.status_code == 200


@pytest.mark.django_db
def test_admin_login_page_is_locked_out_too(settings_lockout):
    user_create(username="boss", password=PASSWORD, role=Role.ADMIN)
    client = Client()
    codes = [
        client.post("/admin/login/", {"username": "boss", "password": f"wrong{i}"}).status_code
        for i in range(5)
    ]
    assert codes == [200] * 4 + [429]  # the form again with an error, then locked
    locked = client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


@pytest.mark.django_db
def test_basic_auth_is_locked_out(settings_lockout):
    user_create(username="pacs", password=PASSWORD, role=Role.PHYSICIAN)
    client = APIClient()
    codes = [
        client.get("/dicomweb/studies", **basic("pacs", "wrong")).status_code for _ in range(5)
    ]
    assert set(codes[:4]) <= {401, 403} and codes[4] == 429
    locked = client.get("/dicomweb/studies", **basic("pacs", PASSWORD))
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.json()["message"]
    wado = client.get("/wado?requestType=WADO&objectUID=1.2.3", **basic("pacs", PASSWORD))
    assert wado.status_code == 429


@pytest.mark.django_db
def test_basic_auth_hashes_the_password_once_then_uses_the_cache(settings_lockout, monkeypatch):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user = user_create(username="pacs", password=PASSWORD, role=Role.PHYSICIAN)
    calls = []
    original = PBKDF2PasswordHasher.verify
    monkeypatch.setattr(
        PBKDF2PasswordHasher,
        "verify",
        lambda self, password, encoded: calls.append(1) or original(self, password, encoded),
    )
    client = APIClient()
    for _ in range(5):
        assert client.get("/dicomweb/studies", **basic("pacs", PASSWORD)).status_code == 200
    assert len(calls) == 1
    # a password change ends the remembered credential
    user.set_password("Another-pass-2027")
    user.save()
    assert client.get("/dicomweb/studies", **basic("pacs", PASSWORD)).status_code in (401, 403)


@pytest.mark.django_db
def test_logins_without_a_request_are_not_counted_but_work(settings_lockout):
    """Server-side code (tests' client.login, commands) has no request: no lock-out check."""
    user_create(username="cmd", password=PASSWORD, role=Role.PHYSICIAN)
    assert Client().login(username="cmd", password=PASSWORD)
    assert not Client().login(username="cmd", password="wrong")
