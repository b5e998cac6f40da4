"""Fixtures of the reader-study tests: users by role, archive studies, succeeded AI jobs made
directly in the database (the model itself is exercised by the inference tests), and a factory
that builds a reader study up to any point (draft with cases/truth/readers, frozen AI, started).
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_auto_run(settings, tmp_path):
    settings.INFERENCE_AUTO_RUN = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Users are made per test; the production hasher's cost is not what these tests measure.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(role: str, username: str | None = None):
    return user_create(
        username=username or f"{role}{next(_counter)}", password="Bone-scan-2026", role=role
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


@pytest.fixture
def study_admin(db, _no_auto_run):
    return make_user(Role.STUDY_ADMIN, "sadmin")


@pytest.fixture
def admin_api(study_admin):
    return client_for(study_admin)


@pytest.fixture
def readers(db, _no_auto_run):
    return [make_user(Role.READER, f"reader{i}") for i in range(1, 5)]


@pytest.fixture
def make_archive_study(db):
    """Factory: an archive study row (no images), with a report (history + findings)."""
    from reports.services import report_save
    from studies.models import Patient, Study

    def make(*, kind: str = "planar", report: bool = True) -> Study:
        n = next(_counter)
        patient = Patient.objects.create(patient_key=f"P{n}", patient_id=f"P{n}", name=f"P^{n}")
        study = Study.objects.create(
            study_instance_uid=f"1.2.826.0.1.{n}",
            accession_number=f"ACC{n:04d}",
            patient=patient,
            kind=kind,
        )
        if report:
            report_save(
                study=study,
                user=None,
                history="乳腺癌术后",
                findings="左侧第5肋见异常放射性浓聚",
                impression="骨转移",
                base_version=None,
            )
        return study

    return make


@pytest.fixture
def model_version(db):
    from inference.models import ModelVersion

    return ModelVersion.objects.create(
        name="mt_unet", task="planar", version="t1", path="planar", checksum="c" * 64,
        is_active=True,
    )  # fmt: skip


@pytest.fixture
def make_succeeded_job(db, model_version):
    """Factory: a succeeded InferenceJob with two lesions (1 benign, 2 metastatic)."""
    from inference.models import InferenceJob, JobState, Lesion

    def make(study, *, conditioning_text: str | None = "临床病史：乳腺癌术后"):
        job = InferenceJob.objects.create(
            study=study,
            model_version=model_version,
            state=JobState.SUCCEEDED,
            progress=1.0,
            trigger="reader_study",
            conditioning_text=conditioning_text,
            finished_at=timezone.now(),
        )
        for number, label in ((1, 1), (2, 2)):
            Lesion.objects.create(
                job=job, number=number, label=label,
                class_name="benign" if label == 1 else "metastatic", probability=0.9,
                centroid=[10 * number, 20], bbox=[0, 0, 5, 5],
            )  # fmt: skip
        return job

    return make


@pytest.fixture
def build_study(db, study_admin, readers, make_archive_study, make_succeeded_job):
    """Factory: a reader study built up to ``stage`` ("draft", "frozen", "started")."""
    from readerstudies.models import ReaderStudyCase
    from readerstudies.services.ai import reader_study_ai_freeze
    from readerstudies.services.design import (
        case_truth_set,
        reader_study_cases_add,
        reader_study_create,
        reader_study_reader_add,
        reader_study_start,
    )

    def build(
        *,
        design: str = "crossover",
        cases: int = 4,
        n_readers: int = 2,
        stage: str = "started",
        truth: bool = True,
        seed: int = 1234,
        washout_days: int = 28,
    ):
        reader_study = reader_study_create(
            user=study_admin,
            title=f"Study {uuid.uuid4().hex[:6]}",
            design=design,
            seed=seed,
            washout_days=washout_days,
        )
        studies = [make_archive_study() for _ in range(cases)]
        reader_study_cases_add(
            reader_study=reader_study, user=study_admin, study_ids=[s.id for s in studies]
        )
        for i, case in enumerate(ReaderStudyCase.objects.filter(reader_study=reader_study)):
            if truth:
                case_truth_set(
                    case=case,
                    user=study_admin,
                    metastasis_present=i % 2 == 0,
                    lesions=[
                        {
                            "label": "metastatic",
                            "location": {"kind": "planar", "view": "anterior", "x": 1, "y": 2},
                        }
                    ]
                    if i % 2 == 0
                    else [],
                )
        for reader in readers[:n_readers]:
            reader_study_reader_add(reader_study=reader_study, user=study_admin, reader=reader)
        if stage in ("frozen", "started"):
            for case in ReaderStudyCase.objects.filter(reader_study=reader_study).select_related(
                "study"
            ):
                case.ai_job = make_succeeded_job(case.study)
                case.save()
            reader_study_ai_freeze(reader_study=reader_study, user=study_admin)
        if stage == "started":
            reader_study = reader_study_start(reader_study=reader_study, user=study_admin)
        reader_study.refresh_from_db()
        return reader_study

    return build


def session_of(reader_study, reader, number: int = 1):
    from readerstudies.models import ReaderSession

    return ReaderSession.objects.get(
        assignment__reader_study=reader_study, assignment__reader=reader, number=number
    )


def finish_session(session, *, ago: timedelta = timedelta(0)):
    """Read every case of a session through the services (opened, answered, submitted), then
    move its completion ``ago`` into the past."""
    from readerstudies.services.reading import next_reading, reading_open, reading_submit

    user = session.assignment.reader
    while (reading := next_reading(session)) is not None:
        reading_open(reading=reading, user=user)
        reading_submit(
            reading=reading, user=user, data={"metastasis_present": True, "confidence": 70}
        )
    session.refresh_from_db()
    if ago:
        session.completed_at = timezone.now() - ago
        session.save()
    return session


@pytest.fixture
def rs():
    """The helpers above, for the test modules (test directories are not packages)."""

    class Helpers:
        client_for = staticmethod(client_for)
        make_user = staticmethod(make_user)
        session_of = staticmethod(session_of)
        finish_session = staticmethod(finish_session)

    return Helpers


@pytest.fixture(scope="session")
def phantom_planar(tmp_path_factory) -> dict:
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("rs-phantom")
    generate("planar", 2, 5, str(root))
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return {"root": root, "cases": manifest["cases"]}


@pytest.fixture
def ingest_phantom(db, phantom_planar):
    """Factory: ingest phantom case ``index`` (images and ground-truth SEGs) with its report."""
    from reports.services import report_save
    from studies.models import IngestSource, Study
    from studies.services import instance_ingest

    def ingest(index: int):
        case = phantom_planar["cases"][index]
        folder = phantom_planar["root"] / case["dicom_dir"]
        for name in ("NM_WB.dcm", "SEG_ANT.dcm", "SEG_POST.dcm"):
            result = instance_ingest(file=(folder / name).read_bytes(), source=IngestSource.DEMO)
            assert result.ok, result.reason
        study = Study.objects.get(study_instance_uid=case["study"]["study_instance_uid"])
        report = case["report"]
        report_save(study=study, user=None, history=report["history"],
                    findings=report["findings"], impression=report["impression"],
                    base_version=None)  # fmt: skip
        return study, case

    return ingest


@pytest.fixture
def shipped_model(db):
    from inference.services import model_version_register

    path = django_settings.MODEL_DIR / "planar"
    if not (path / "config.json").is_file():
        pytest.skip("no shipped planar checkpoint in MODEL_DIR")
    model_version, _ = model_version_register(path=path, activate=True)
    return model_version
