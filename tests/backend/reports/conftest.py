"""Fixtures of the report tests: users of each role, API clients, archive studies (rows only)."""

from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create
from studies.models import Patient, Study

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def no_auto_run(settings):
    settings.INFERENCE_AUTO_RUN = False


def _make_study(*, accession: str = "", uid: str = "", name: str = "WANG^WEI=王^伟") -> Study:
    n = next(_counter)
    patient = Patient.objects.create(
        patient_key=f"key-{n}-{uid}", patient_id=f"P{n:05d}", name=name, name_search=name.lower()
    )
    return Study.objects.create(
        study_instance_uid=uid or f"1.2.826.0.1.3680043.9.7777.{n}",
        patient=patient,
        accession_number=accession or f"ACC{n:05d}",
        kind="planar",
    )


@pytest.fixture
def make_study(db):
    """Factory: a study row (no images) with its patient."""
    return _make_study


@pytest.fixture
def study(db):
    return _make_study()


def _user(role: str, username: str, display_name: str = ""):
    return user_create(
        username=username, password="Bone-scan-2026", role=role, display_name=display_name
    )


@pytest.fixture
def physician(db):
    return _user(Role.PHYSICIAN, "zhang", "张医生")


@pytest.fixture
def physician2(db):
    return _user(Role.PHYSICIAN, "li", "李医生")


@pytest.fixture
def reader(db):
    return _user(Role.READER, "reader1")


@pytest.fixture
def admin_user(db):
    return _user(Role.ADMIN, "boss")


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def client_for():
    """Factory: an API client authenticated as the given user."""
    return _client_for


@pytest.fixture
def api(physician):
    return _client_for(physician)
