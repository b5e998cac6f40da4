"""API tokens (hashed, expiring, revocable by their owner), session timeouts, logout everywhere."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.middleware import LOGIN_AT, SEEN_AT
from accounts.models import ApiToken, Role, User
from accounts.services import user_create
from accounts.tokens import token_hash

PASSWORD = "Bone-scan-2026"


def signed_in(username="wang", role=Role.PHYSICIAN):
    user = user_create(username=username, password=PASSWORD, role=role)
    client = APIClient()
    assert (
        client.post(
            "/api/auth/login", {"username": username, "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )
    return user, client


@pytest.mark.django_db
def test_token_create_use_revoke():
    user, client = signed_in()
    created = client.post("/api/auth/tokens", {"name": "PACS script"}, format="json")
    assert created.status_code == 201, created.content
    key = created.json()["key"]
    assert key.startswith("br_") and created.json()["prefix"] == key[3:11]

    # stored hashed: the key is nowhere in the table, and the list shows only the prefix
    row = ApiToken.objects.get(user=user)
    assert row.key_hash == token_hash(key) and key not in str(row.__dict__)
    listed = client.get("/api/auth/tokens").json()
    assert "key" not in listed[0] and listed[0]["prefix"] == key[3:11]

    script = APIClient()
    assert (
        script.get("/api/auth/me", HTTP_AUTHORIZATION=f"Token {key}").json()["username"] == "wang"
    )
    assert script.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert script.get("/dicomweb/studies", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    assert client.delete(f"/api/auth/tokens/{row.id}").status_code == 204
    refused = script.get("/api/auth/me", HTTP_AUTHORIZATION=f"Token {key}")
    assert refused.status_code in (401, 403)
    assert "revoked" in refused.json()["message"]


@pytest.mark.django_db
def test_expired_token_is_refused():
    user, client = signed_in()
    key = client.post("/api/auth/tokens", {"name": "t", "expires_in_days": 1}).json()["key"]
    ApiToken.objects.filter(user=user).update(expires=timezone.now() - timedelta(seconds=1))
    response = APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code in (401, 403)
    assert "expired" in response.json()["message"]


@pytest.mark.django_db
def test_token_lifetime_is_bounded(settings):
    _, client = signed_in()
    response = client.post(
        "/api/auth/tokens", {"name": "t", "expires_in_days": 10_000}, format="json"
    )
    assert response.status_code == 400
    assert "expires_in_days" in response.json()["message"]


@pytest.mark.django_db
def test_only_the_owner_can_revoke_a_token():
    owner, owner_client = signed_in("owner")
    token_id = owner_client.post("/api/auth/tokens", {"name": "t"}).json()["id"]
    _, other = signed_in("other", Role.ADMIN)
    assert other.delete(f"/api/auth/tokens/{token_id}").status_code == 404
    assert other.get("/api/auth/tokens").json() == []
    assert ApiToken.objects.get(id=token_id).revoked is None


@pytest.mark.django_db
def test_admin_page_cannot_show_or_create_a_token():
    from django.test import Client

    from accounts.admin import ApiTokenAdmin

    owner, owner_client = signed_in("owner")
    key = owner_client.post("/api/auth/tokens", {"name": "t"}).json()["key"]
    user_create(username="boss", password=PASSWORD, role=Role.ADMIN)
    admin = Client()
    admin.force_login(User.objects.get(username="boss"))
    page = admin.get(f"/admin/accounts/apitoken/{ApiToken.objects.get().id}/change/")
    assert page.status_code == 200 and key.encode() not in page.content
    assert key[3:11].encode() in page.content  # the prefix is shown
    assert not ApiTokenAdmin.has_add_permission(None, None)


@pytest.mark.django_db
def test_session_ends_after_the_idle_timeout(settings):
    settings.SESSION_IDLE_TIMEOUT = 900
    _, client = signed_in()
    assert client.get("/api/auth/me").status_code == 200
    session = client.session
    session[SEEN_AT] = time.time() - 901
    session.save()
    response = client.get("/api/auth/me")
    assert response.status_code == 403
    assert client.get("/api/auth/me").status_code == 403  # the session is gone, not only refused


@pytest.mark.django_db
def test_activity_keeps_the_session_but_the_absolute_lifetime_ends_it(settings):
    settings.SESSION_IDLE_TIMEOUT = 900
    settings.SESSION_ABSOLUTE_TIMEOUT = 12 * 3600
    _, client = signed_in()
    session = client.session
    session[SEEN_AT] = time.time() - 600  # active 10 minutes ago: still signed in
    session.save()
    assert client.get("/api/auth/me").status_code == 200
    assert time.time() - client.session[SEEN_AT] < 5  # the activity was recorded

    session = client.session
    session[LOGIN_AT] = time.time() - 12 * 3600 - 1
    session.save()
    assert client.get("/api/auth/me").status_code == 403


@pytest.mark.django_db
def test_logout_everywhere_ends_every_session_and_token():
    user, first = signed_in()
    second = APIClient()
    second.post("/api/auth/login", {"username": "wang", "password": PASSWORD}, format="json")
    key = first.post("/api/auth/tokens", {"name": "t"}).json()["key"]
    assert second.get("/api/auth/me").status_code == 200

    response = first.post("/api/auth/logout-everywhere")
    assert response.status_code == 200
    assert response.json() == {"sessions_ended": 2, "tokens_revoked": 1}
    assert first.get("/api/auth/me").status_code == 403
    assert second.get("/api/auth/me").status_code == 403
    assert APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Token {key}").status_code in (
        401,
        403,
    )
    assert not Session.objects.exists()
    from audit.models import AuditEvent

    (event,) = AuditEvent.objects.filter(action="auth.logout_everywhere")
    assert event.details == {"sessions_ended": 2, "tokens_revoked": 1}
