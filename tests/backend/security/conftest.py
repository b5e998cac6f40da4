"""A small archive and one user per role, for the access and audit tests.

Study A ("assigned") is the reader's case and the study admin's study; study B is neither.
Until the reader-study app fills in its rules, ``reader_study_ids_for_user`` and
``study_admin_study_ids_for_user`` are REPLACED here (``rules`` fixture) by these assignments:
the real rules (readerstudies.selectors) then only have to give the same answers.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create

NM_STORAGE = "1.2.840.10008.5.1.4.1.1.20"
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
PASSWORD = "Bone-scan-2026"


def dicom_bytes(
    *,
    study_uid: str,
    series_uid: str,
    patient_id: str,
    patient_name: str,
    accession: str,
    modality: str = "NM",
    study_date: str = "20260315",
    sop_uid: str | None = None,
    frame_uid: str | None = None,
) -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    sop_uid = sop_uid or generate_uid()
    sop_class = SEG_STORAGE if modality == "SEG" else NM_STORAGE
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid or generate_uid()
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.PatientBirthDate = "19580723"
    ds.PatientSex = "F"
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.ContentDate = study_date
    ds.AcquisitionDateTime = study_date + "101500"
    ds.StudyTime = "101500"
    ds.AccessionNumber = accession
    ds.StudyID = "S" + accession
    ds.StudyDescription = "全身骨显像 " + patient_name.split("=")[-1]
    ds.InstitutionName = "江南市第一人民医院"
    ds.InstitutionAddress = "江南市解放路1号"
    ds.ReferringPhysicianName = "ZHAO^LEI=赵^磊"
    ds.OperatorsName = "QIAN^TECH"
    ds.OtherPatientIDs = "MRN-" + patient_id
    ds.Modality = modality
    ds.SeriesNumber = 900 if modality == "SEG" else 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = 8, 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = np.arange(64, dtype=np.uint16).tobytes()
    ds.add_new(0x00091010, "LO", "PRIVATE " + patient_id)  # a private element with the ID
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _ingest_study(*, patient_id: str, patient_name: str, accession: str, with_seg: bool):
    from inference.models import InferenceJob, JobState, ModelVersion
    from studies.models import IngestSource, Instance, Study
    from studies.services import instance_ingest

    study_uid, series_uid = generate_uid(), generate_uid()
    common = {"patient_id": patient_id, "patient_name": patient_name, "accession": accession}
    result = instance_ingest(
        file=dicom_bytes(study_uid=study_uid, series_uid=series_uid, **common),
        source=IngestSource.DEMO,
    )
    assert result.ok, result.reason
    study = Study.objects.get(study_instance_uid=study_uid)
    image = Instance.objects.get(series__study=study, series__series_instance_uid=series_uid)
    job = seg = None
    if with_seg:
        model = ModelVersion.objects.filter(
            name="test-model"
        ).first() or ModelVersion.objects.create(
            name="test-model", task="planar", version="1", path="x", checksum="0" * 64
        )
        seg_series = generate_uid()
        result = instance_ingest(
            file=dicom_bytes(study_uid=study_uid, series_uid=seg_series, modality="SEG", **common),
            source=IngestSource.AI,
        )
        assert result.ok, result.reason
        seg = result.instance
        job = InferenceJob.objects.create(
            study=study, model_version=model, state=JobState.SUCCEEDED, seg_series_uid=seg_series
        )
        job.seg_instances.add(seg)
        from inference.results import labelmap_store

        job.labelmap_file = labelmap_store(job_id=job.id, frames=np.zeros((1, 8, 8), np.uint8))
        job.labelmap_shape = [1, 8, 8]
        job.save(update_fields=["labelmap_file", "labelmap_shape"])
    return SimpleNamespace(
        study=study, image=image, seg=seg, job=job, series_uid=series_uid, patient=common
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Fast password hashing: these tests create several users per case.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.INFERENCE_AUTO_RUN = False
    return tmp_path / "media"


@pytest.fixture
def world(db):
    """Two studies (A: assigned, B: not), each with an NM image, a SEG of a succeeded AI job and
    a draft report; one user per role (plus one holding two roles)."""
    from reports.services import report_save

    a = _ingest_study(
        patient_id="PA-1001", patient_name="LI^MEI=李^梅", accession="ACCA1", with_seg=True
    )
    b = _ingest_study(
        patient_id="PB-2002", patient_name="SUN^HUA=孙^华", accession="ACCB2", with_seg=True
    )
    for case in (a, b):
        report_save(
            study=case.study, user=None, history="乳腺癌术后", findings="第7胸椎浓聚",
            impression="骨转移", base_version=None,
        )  # fmt: skip
    users = {
        "physician": user_create(username="doc", password=PASSWORD, role=Role.PHYSICIAN),
        "reader": user_create(username="reader1", password=PASSWORD, role=Role.READER),
        "study_admin": user_create(username="sadmin", password=PASSWORD, role=Role.STUDY_ADMIN),
        "admin": user_create(username="boss", password=PASSWORD, role=Role.ADMIN),
        "reader_study_admin": user_create(
            username="both", password=PASSWORD, roles=[Role.READER, Role.STUDY_ADMIN]
        ),
    }
    return SimpleNamespace(a=a, b=b, users=users)


@pytest.fixture
def rules(world, monkeypatch):
    """STAND-IN for the reader-study rules (readers-backend fills them in): the reader (and the
    reader+study-admin user) read study A; the study admin administers study A; the
    reader+study-admin administers study B. AI: ``ai_allowed`` (study id -> job ids or None)
    says which jobs a user may see per study; default None (no restriction)."""
    from readerstudies import selectors as rs
    from studies.models import Study

    readers = {world.users["reader"].pk: [world.a.study.id],
               world.users["reader_study_admin"].pk: [world.a.study.id]}  # fmt: skip
    admins = {world.users["study_admin"].pk: [world.a.study.id],
              world.users["reader_study_admin"].pk: [world.b.study.id]}  # fmt: skip
    state = SimpleNamespace(ai_allowed={})

    def reader_ids(*, user):
        return Study.objects.filter(id__in=readers.get(user.pk, [])).values("id")

    def admin_ids(*, user):
        return Study.objects.filter(id__in=admins.get(user.pk, [])).values("id")

    def ai_allowed(*, user, study):
        return state.ai_allowed.get((user.pk, study.id))

    monkeypatch.setattr(rs, "reader_study_ids_for_user", reader_ids)
    monkeypatch.setattr(rs, "study_admin_study_ids_for_user", admin_ids)
    monkeypatch.setattr(rs, "ai_job_ids_allowed", ai_allowed)
    return state


@pytest.fixture
def new_series_dicom():
    """Factory: Part 10 bytes of a new NM series of an archived case (same patient)."""

    def make(case) -> bytes:
        return dicom_bytes(
            study_uid=case.study.study_instance_uid, series_uid=generate_uid(), **case.patient
        )

    return make


def _client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def client_for():
    """Factory: an API client authenticated as the user (anonymous for None)."""
    return _client_for
