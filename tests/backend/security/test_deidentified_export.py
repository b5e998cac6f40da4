"""The de-identified export: no original name, ID, UID or date in any file of the zip; UIDs and
dates mapped consistently; the report stripped too."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pydicom

from deidentify.models import DeidPatient
from reports.services import report_save


def _export(client, study) -> zipfile.ZipFile:
    response = client.get(f"/api/studies/{study.id}/deidentified-export")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_export_holds_no_original_identifier(world, client_for):
    case = world.a
    study = case.study
    report_save(
        study=study,
        user=None,
        history="患者李梅（LI MEI），ID PA-1001，检查号 ACCA1，2026年3月15日于江南市第一人民医院检查",
        findings="2026-03-15 所见：第7胸椎浓聚。赵磊医师申请。",
        impression="骨转移",
        base_version=1,
    )
    archive = _export(client_for(world.users["physician"]), study)
    originals = {
        # names (every group and component form), IDs, accession, hospital, people
        "LI^MEI", "李^梅", "李梅", "LI MEI", "PA-1001", "ACCA1", "江南市第一人民医院",
        "江南市解放路1号", "ZHAO^LEI", "赵^磊", "赵磊", "QIAN^TECH",
        # dates (DICOM and written forms)
        "20260315", "2026-03-15", "2026年3月15日", "19580723",
        # UIDs
        study.study_instance_uid, case.series_uid, case.image.sop_instance_uid,
        case.seg.sop_instance_uid, case.seg.series.series_instance_uid,
    }  # fmt: skip
    from studies.selectors import instance_open

    originals.add(str(instance_open(case.image).FrameOfReferenceUID))
    names = archive.namelist()
    dicoms = [n for n in names if n.endswith(".dcm")]
    assert len(dicoms) == 2 and any(n.endswith("report.json") for n in names)
    for name in names:
        data = archive.read(name)
        for original in originals:
            assert original.encode("utf-8") not in data, (original, name)
            assert original not in name
    mapping = DeidPatient.objects.get(patient=study.patient)
    assert mapping.date_offset_days < 0
    for name in dicoms:
        ds = pydicom.dcmread(io.BytesIO(archive.read(name)))
        assert ds.PatientIdentityRemoved == "YES"
        # LO: every value at most 64 characters (one long value made an invalid element)
        method = ds.DeidentificationMethod
        values = list(method) if isinstance(method, pydicom.multival.MultiValue) else [method]
        assert "Basic Application Level Confidentiality Profile" in values[0]
        assert all(len(value) <= 64 for value in values), values
        assert str(ds.PatientName) == ds.PatientID == mapping.pseudonym
        assert not any(element.tag.is_private for element in ds)
        assert "InstitutionName" not in ds and "OtherPatientIDs" not in ds
        assert ds.PatientBirthDate == "" and ds.AccessionNumber == ""
        shifted = dt.date(2026, 3, 15) + dt.timedelta(days=mapping.date_offset_days)
        assert ds.StudyDate == shifted.strftime("%Y%m%d") == ds.ContentDate
        assert ds.AcquisitionDateTime == shifted.strftime("%Y%m%d") + "101500"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.SOPClassUID == pydicom.dcmread(io.BytesIO(_original_bytes(case, ds))).SOPClassUID
    report = json.loads(archive.read(next(n for n in names if n.endswith("report.json"))))
    assert report["patient"] == mapping.pseudonym
    assert "[姓名]" in report["report"]["history"] and "[医院]" in report["report"]["history"]
    assert "[日期]" in report["report"]["findings"]
    assert report["report"]["impression"] == "骨转移"  # the medical content stays


def _original_bytes(case, ds) -> bytes:
    from studies.selectors import instance_file_open

    instance = case.seg if ds.Modality == "SEG" else case.image
    with instance_file_open(instance) as handle:
        return handle.read()


def test_uids_and_dates_map_the_same_way_in_every_export(world, client_for):
    physician = client_for(world.users["physician"])

    def study_uids(archive):
        return sorted(
            pydicom.dcmread(io.BytesIO(archive.read(n))).StudyInstanceUID
            for n in archive.namelist()
            if n.endswith(".dcm")
        )

    first = study_uids(_export(physician, world.a.study))
    second = study_uids(_export(client_for(world.users["admin"]), world.a.study))
    assert first == second and len(set(first)) == 1  # one study, one replacement UID
    other = study_uids(_export(physician, world.b.study))
    assert set(other).isdisjoint(first)
    assert DeidPatient.objects.count() == 2  # one pseudonym per patient, reused


def test_blinded_reader_rules_apply_to_the_export(world, rules, client_for):
    """A study admin exports only their studies' cases; readers never export."""
    assert (
        client_for(world.users["reader"])
        .get(f"/api/studies/{world.a.study.id}/deidentified-export")
        .status_code
        == 403
    )
    assert (
        client_for(world.users["study_admin"])
        .get(f"/api/studies/{world.b.study.id}/deidentified-export")
        .status_code
        == 404
    )
    archive = _export(client_for(world.users["study_admin"]), world.a.study)
    assert len([n for n in archive.namelist() if n.endswith(".dcm")]) == 2


def test_report_export_deidentified_strips_identifiers_too(world, client_for):
    case = world.a
    study = case.study
    report_save(
        study=study,
        user=None,
        history="患者李梅 PA-1001，2026年3月15日于江南市第一人民医院就诊",
        findings="第7胸椎浓聚（检查号 ACCA1）",
        impression="骨转移",
        base_version=1,
    )
    physician = client_for(world.users["physician"])
    response = physician.get("/api/reports/export", {"format": "json", "deidentify": "1"})
    assert response.status_code == 200
    text = response.content.decode()
    for original in ("李梅", "LI^MEI", "PA-1001", "ACCA1", "江南市第一人民医院", "2026-03-15",
                     "2026年3月15日", study.study_instance_uid, world.b.study.study_instance_uid,
                     "PB-2002", "孙^华", "doc"):  # fmt: skip
        assert original not in text, original
    rows = {r["patient_id"]: r for r in json.loads(text)["reports"]}
    mine = rows[DeidPatient.objects.get(patient=study.patient).pseudonym]
    assert "[姓名]" in mine["history"] and "[医院]" in mine["history"]
    assert "[编号]" in mine["findings"] and mine["impression"] == "骨转移"
    # The same study UID as in the de-identified zip of that study.
    archive = _export(physician, study)
    dicom = next(n for n in archive.namelist() if n.endswith(".dcm"))
    zipped_uid = pydicom.dcmread(io.BytesIO(archive.read(dicom))).StudyInstanceUID
    assert zipped_uid == mine["study_instance_uid"]
