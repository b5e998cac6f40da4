"""Fixtures of the archive tests: a media folder per test, users, and DICOM objects made here."""

from __future__ import annotations

import io

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import user_create

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
NM_STORAGE = "1.2.840.10008.5.1.4.1.1.20"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def physician(db):
    return user_create(username="doc", password="Bone-scan-2026", role=Role.PHYSICIAN)


@pytest.fixture
def api(physician):
    client = APIClient()
    client.force_authenticate(physician)
    return client


def make_dataset(
    *,
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    patient_id: str = "P001",
    patient_name: str = "WANG^XIAODONG=王^小东",
    charset: str = "ISO_IR 192",
    modality: str = "CT",
    rows: int = 8,
    columns: int = 8,
    instance_number: int = 1,
    study_date: str = "20260315",
    accession: str = "ACC001",
    seed: int = 0,
    image_type: str = "ORIGINAL\\PRIMARY\\AXIAL",
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    sop_uid = sop_uid or generate_uid()
    sop_class = CT_STORAGE if modality == "CT" else NM_STORAGE
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "M"
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = accession
    ds.StudyDescription = "骨显像"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    ds.ImageType = image_type.split("\\")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    pixels = np.random.default_rng(seed).integers(0, 4000, (rows, columns), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    return ds


def to_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.fixture
def dicom_bytes():
    """Factory: Part 10 bytes of a small CT image (keyword arguments as make_dataset)."""

    def make(**kwargs) -> bytes:
        return to_bytes(make_dataset(**kwargs))

    return make
