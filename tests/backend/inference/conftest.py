"""Fixtures of the AI job tests: phantom studies in the archive, a registered model, users.

Images: planar whole-body phantom cases written as real DICOM by the project's generator and
ingested through the archive's ingest service (session-scoped generation, ~1 s per case).
Model: the shipped planar checkpoint (settings.MODEL_DIR/planar) when present; otherwise a
tiny MT-UNet trained for two steps by the ML package (the same release format and load path).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.INFERENCE_AUTO_RUN = False
    return tmp_path / "media"


@pytest.fixture(scope="session")
def phantom_planar(tmp_path_factory) -> dict:
    """Three planar phantom cases: {"root": Path, "cases": [manifest case, ...]}."""
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("phantom-planar")
    generate("planar", 3, 11, str(root))
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return {"root": root, "cases": manifest["cases"]}


@pytest.fixture(scope="session")
def planar_model_dir(tmp_path_factory) -> Path:
    shipped = Path(django_settings.MODEL_DIR) / "planar"
    if (shipped / "config.json").is_file():
        return shipped
    from boneread_ml.training.config import load_config
    from boneread_ml.training.run import train_fold
    from boneread_ml.training.toy_data import make_toy_dataset

    fast = {
        "input_scale": 0.5,
        "text": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 64, "max_length": 64},
        "mt_unet": {"features": [8, 8, 16, 16, 32, 8]},
        "train": {"max_steps": 2, "batch_size": 2, "val_every": 0},
    }  # fmt: skip
    data = make_toy_dataset(tmp_path_factory.mktemp("toy"), "planar", cases=4, seed=0)
    summary = train_fold(
        load_config(None, fast), data, tmp_path_factory.mktemp("run"), val_folds=[]
    )
    return Path(summary["release"])


@pytest.fixture
def model_version(db, planar_model_dir):
    from inference.services import model_version_register

    model_version, _ = model_version_register(path=planar_model_dir, activate=True)
    return model_version


@pytest.fixture
def ingest_case(db, phantom_planar):
    """Factory: ingest phantom case ``index`` (NM whole-body only), optionally with its report."""
    from reports.services import report_save
    from studies.models import IngestSource, Study
    from studies.services import instance_ingest

    def ingest(index: int = 0, *, with_report: bool = True) -> Study:
        case = phantom_planar["cases"][index]
        path = phantom_planar["root"] / case["dicom_dir"] / "NM_WB.dcm"
        result = instance_ingest(file=path.read_bytes(), source=IngestSource.DEMO)
        assert result.ok, result.reason
        study = Study.objects.get(study_instance_uid=case["study"]["study_instance_uid"])
        if with_report:
            report = case["report"]
            report_save(
                study=study,
                user=None,
                history=report["history"],
                findings=report["findings"],
                impression=report["impression"],
                base_version=None,
            )
        return study

    return ingest


def _user(role: str, username: str):
    return user_create(username=username, password="Bone-scan-2026", role=role)


@pytest.fixture
def physician(db):
    return _user(Role.PHYSICIAN, "doc")


@pytest.fixture
def admin_user(db):
    return _user(Role.ADMIN, "boss")


@pytest.fixture
def api(physician):
    client = APIClient()
    client.force_authenticate(physician)
    return client


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def tampered_model_dir(planar_model_dir, tmp_path) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(planar_model_dir, copy)
    return copy


@pytest.fixture
def make_empty_study(db):
    """Factory: a study row without images."""
    import itertools

    from studies.models import Patient, Study

    counter = itertools.count(1)

    def make():
        n = next(counter)
        patient = Patient.objects.create(patient_key=f"empty-{n}", patient_id=f"E{n}")
        return Study.objects.create(
            study_instance_uid=f"1.2.826.0.1.3680043.9.7778.{n}", patient=patient
        )

    return make
