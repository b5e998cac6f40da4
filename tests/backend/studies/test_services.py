"""The one ingest service: stored / duplicate / conflict, atomicity, bad input, character sets."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

from studies import services
from studies.dicom import DicomRejected, _meta_end
from studies.models import Instance, Patient, Series, Study
from studies.selectors import instance_open
from studies.services import IngestStatus, instance_ingest
from tests.backend.studies.conftest import make_dataset, to_bytes


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_ingest_stores_rows_and_a_content_addressed_file(dicom_bytes, media_root, physician):
    data = dicom_bytes(accession="A-17")
    result = instance_ingest(file=data, source="upload", user=physician, filename="a.dcm")
    assert result.status == IngestStatus.STORED, result.reason
    instance = result.instance
    assert instance.uploaded_by == physician
    assert instance.size == len(data)
    assert (
        instance.file == f"dicom/{instance.sha256[:2]}/{instance.sha256[2:4]}/{instance.sha256}.dcm"
    )
    assert default_storage.open(instance.file).read() == data
    study = Study.objects.get()
    assert study.accession_number == "A-17"
    assert study.modalities == "CT"
    assert study.patient.name == "WANG^XIAODONG=王^小东"
    assert instance_open(instance).SOPInstanceUID == instance.sop_instance_uid
    assert [p.name for p in stored_files(media_root)] == [f"{instance.sha256}.dcm"]


@pytest.mark.django_db
def test_identical_resend_is_a_noop(dicom_bytes, media_root):
    data = dicom_bytes()
    first = instance_ingest(file=data, source="upload")
    again = instance_ingest(file=data, source="cstore")
    assert again.status == IngestStatus.DUPLICATE
    assert again.instance.id == first.instance.id
    assert Instance.objects.count() == 1
    assert len(stored_files(media_root)) == 1


@pytest.mark.django_db
def test_same_uid_different_content_is_rejected_and_original_kept(media_root):
    ds = make_dataset(seed=1)
    original = to_bytes(ds)
    instance_ingest(file=original, source="upload")
    ds.PixelData = make_dataset(seed=2).PixelData
    result = instance_ingest(file=to_bytes(ds), source="upload", filename="changed.dcm")
    assert result.status == IngestStatus.REJECTED
    assert result.conflict
    assert "already stored with different content" in result.reason
    instance = Instance.objects.get()
    assert default_storage.open(instance.file).read() == original
    assert len(stored_files(media_root)) == 1


@pytest.mark.django_db
def test_failure_after_file_write_leaves_neither_row_nor_file(dicom_bytes, media_root, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("power cut between the file write and the commit")

    monkeypatch.setattr(services, "_after_file_written", boom)
    with pytest.raises(RuntimeError):
        instance_ingest(file=dicom_bytes(), source="upload")
    assert not Instance.objects.exists()
    assert not Series.objects.exists()
    assert not Study.objects.exists()
    assert not Patient.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_failed_file_write_leaves_no_rows(dicom_bytes, media_root, monkeypatch):
    def disk_full(name, content, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", disk_full)
    with pytest.raises(OSError):
        instance_ingest(file=dicom_bytes(), source="upload")
    assert not Instance.objects.exists()
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_retry_after_failure_stores(dicom_bytes, monkeypatch):
    data = dicom_bytes()
    monkeypatch.setattr(services, "_after_file_written", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        instance_ingest(file=data, source="upload")
    monkeypatch.undo()
    result = instance_ingest(file=data, source="upload")
    assert result.status == IngestStatus.STORED
    assert default_storage.exists(result.instance.file)


def _rejected(data: bytes, filename: str = "x.dcm") -> str:
    result = instance_ingest(file=data, source="upload", filename=filename)
    assert result.status == IngestStatus.REJECTED, result
    assert result.filename == filename
    return result.reason


@pytest.mark.django_db
def test_bad_input_is_rejected_with_a_reason(dicom_bytes):
    assert "not a DICOM file" in _rejected(b"%PDF-1.7 hello, this is not an image" * 10)
    assert "not a DICOM file" in _rejected(b"\x00" * 128 + b"DIC")
    good = dicom_bytes(rows=16, columns=16)
    assert "truncated" in _rejected(good[:-200]) or "pixel data" in _rejected(good[:-200])
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        ds = make_dataset()
        delattr(ds, keyword)
        assert _rejected(to_bytes(ds)) == f"missing {keyword}"
    ds = make_dataset()
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6.7"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True, implicit_vr=False, little_endian=True)
    assert _rejected(buffer.getvalue()) == "unknown transfer syntax 1.2.3.4.5.6.7"
    ds = make_dataset(rows=16, columns=16)
    ds.Rows = 512
    assert "pixel data does not match its header" in _rejected(to_bytes(ds))
    ds = make_dataset()
    ds.InstanceNumber = 99999999999  # a valid IS; too large for PostgreSQL's integer column
    result = instance_ingest(file=to_bytes(ds), source="upload")
    if connection.vendor == "postgresql":
        assert "invalid instance attribute (instance_number" in result.reason
    else:  # SQLite integers are 64-bit
        assert result.status == IngestStatus.STORED
        result.instance.series.study.delete()
        result.instance.series.study.patient.delete()
    assert not Instance.objects.exists()
    assert not Study.objects.exists()


@pytest.mark.django_db
def test_truncated_inside_header_is_rejected(dicom_bytes):
    good = dicom_bytes()
    for cut in (150, 400, 700):
        assert _rejected(good[:cut])


@pytest.mark.django_db
def test_conflicting_patient_data_for_the_same_study():
    study_uid = generate_uid()
    first = instance_ingest(file=to_bytes(make_dataset(study_uid=study_uid)), source="upload")
    assert first.status == IngestStatus.STORED
    other = make_dataset(study_uid=study_uid, patient_id="P999", patient_name="LI^SI=李^四")
    reason = _rejected(to_bytes(other), "other.dcm")
    assert "conflicting patient data" in reason and "P999" in reason
    assert Instance.objects.count() == 1


@pytest.mark.django_db
def test_bare_dataset_without_file_meta_is_wrapped_as_part10(media_root):
    ds = make_dataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    part10 = to_bytes(ds)
    raw = part10[_meta_end(part10) :]  # the data set alone: no preamble, no meta
    assert raw[128:132] != b"DICM"
    result = instance_ingest(file=raw, source="import")
    assert result.status == IngestStatus.STORED, result.reason
    stored = default_storage.open(result.instance.file).read()
    assert stored[128:132] == b"DICM" and stored.endswith(raw)
    assert result.instance.transfer_syntax_uid == "1.2.840.10008.1.2"
    assert instance_ingest(file=raw, source="import").status == IngestStatus.DUPLICATE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("charset", "name", "expected"),
    [
        ("GB18030", "Wang^XiaoDong=王^小东", "Wang^XiaoDong=王^小东"),
        ("ISO_IR 192", "Wang^XiaoDong=王^小東", "Wang^XiaoDong=王^小東"),
        ("\\ISO 2022 IR 58", "Zhang^SanFeng=张^三丰", "Zhang^SanFeng=张^三丰"),
    ],
)
def test_character_sets_are_decoded(charset, name, expected):
    ds = make_dataset(charset=charset, patient_name=name)
    if "2022" in charset:  # pydicom does not encode ISO 2022 G1 sets: write the bytes as sent
        ds.SpecificCharacterSet = ["", charset.strip("\\")]
        alphabetic, ideographic = name.split("=")
        ds.PatientName = f"{alphabetic}=".encode() + b"\x1b$)A" + ideographic.encode("gb2312")
    data = to_bytes(ds)
    result = instance_ingest(file=data, source="upload")
    assert result.status == IngestStatus.STORED, result.reason
    assert Patient.objects.get().name == expected


def test_dicom_rejected_carries_reason():
    assert DicomRejected("x").reason == "x"
    assert os.sep  # keep imports honest


@pytest.mark.django_db
def test_batch_failing_midway_keeps_nothing_of_the_batch(media_root, monkeypatch):
    files = [(f"ct{n}.dcm", to_bytes(make_dataset(seed=n))) for n in range(3)]
    calls = []

    def fail_on_second(*, instance):
        calls.append(instance.sop_instance_uid)
        if len(calls) == 2:
            raise OSError(5, "I/O error while storing the second object")

    monkeypatch.setattr(services, "_after_file_written", fail_on_second)
    with pytest.raises(OSError):
        services.instances_ingest(files=files, source="stow")
    assert not Instance.objects.exists() and not Study.objects.exists()
    assert stored_files(media_root) == []
    monkeypatch.undo()
    results = services.instances_ingest(files=[*files, files[0]], source="stow")
    assert [r.status for r in results] == ["stored", "stored", "stored", "duplicate"]
    assert len(stored_files(media_root)) == 3


@pytest.mark.django_db
def test_batch_with_one_refused_object_stores_the_others(media_root):
    study = generate_uid()
    good = [make_dataset(study_uid=study, seed=n) for n in range(3)]
    intruder = make_dataset(study_uid=study, patient_id="OTHER", patient_name="LI^SI")
    files = [(f"{n}.dcm", to_bytes(ds)) for n, ds in enumerate([good[0], intruder, *good[1:]])]
    results = services.instances_ingest(files=files, source="stow")
    assert [r.status for r in results] == ["stored", "rejected", "stored", "stored"]
    assert "conflicting patient data" in results[1].reason
    assert Instance.objects.count() == 3
    assert len(stored_files(media_root)) == 3
