"""One error shape for the whole API, and 4xx instead of 500 for bad requests."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_unknown_api_path_is_json_404():
    response = APIClient().get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["message"]


@pytest.mark.django_db
def test_validation_error_names_the_field():
    response = APIClient().post("/api/auth/login", {"username": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "password" in body["message"]
    assert "password" in body["extra"]["fields"]


@pytest.mark.django_db
def test_malformed_json_is_400_not_500():
    response = APIClient().post(
        "/api/auth/login", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


@pytest.mark.django_db
def test_unauthenticated_api_call_is_403_with_message():
    english = APIClient().get("/api/auth/me", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 403
    assert "credentials" in english.json()["message"].lower()
    chinese = APIClient().get("/api/auth/me", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "身份认证" in chinese.json()["message"]


@pytest.mark.django_db
def test_schema_and_docs_pages_are_served():
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/health" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
