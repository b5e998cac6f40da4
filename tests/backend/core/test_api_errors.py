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


@pytest.mark.django_db
def test_every_error_carries_a_stable_code_and_params():
    client = APIClient()
    unknown = client.get("/api/no-such-thing").json()
    assert unknown["code"] == "not_found" and unknown["params"] == {}
    invalid = client.post("/api/auth/login", {"username": "x"}, format="json").json()
    assert invalid["code"] == "invalid"
    assert invalid["params"] == {"fields": ["password"]}
    anonymous = client.get("/api/auth/me").json()
    assert anonymous["code"] in ("not_authenticated", "permission_denied")


@pytest.mark.django_db
def test_a_missing_study_says_so_by_code(django_user_model):
    user = django_user_model.objects.create_user(username="doc", password="Bone-scan-2026")
    client = APIClient()
    client.force_authenticate(user)
    for study_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = client.get(f"/api/studies/{study_id}/")
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "study_not_found"
        assert body["params"] == {"id": study_id}
        assert study_id in body["message"]
