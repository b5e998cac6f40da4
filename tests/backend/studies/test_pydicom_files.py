"""Every file pydicom ships (test_files and charset_files) through the ingest service.

Valid objects are stored with the metadata pydicom reads from them; the others are rejected with a
reason; nothing raises. Several of pydicom's files are the same SOP instance in other encodings
(MR_small_*, rtdose_*): the uncompressed re-encodings are duplicates, the compressed ones conflicts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file

from studies.models import Instance
from studies.services import IngestStatus, instance_ingest

TEST_FILES = Path(get_testdata_file("CT_small.dcm")).parent
CHARSET_FILES = Path(get_charset_files("chrX2.dcm")[0]).parent

MUST_STORE = [
    "CT_small.dcm", "MR_small.dcm", "693_J2KI.dcm", "JPEG-lossy.dcm", "SC_rgb_jpeg_dcmtk.dcm",
    "SC_rgb_small_odd.dcm", "ExplVR_BigEnd.dcm", "ExplVR_BigEndNoMeta.dcm", "image_dfl.dcm",
    "examples_palette.dcm", "rtplan.dcm", "rtstruct.dcm", "test-SR.dcm", "waveform_ecg.dcm",
    "dicomdirtests/98892003/MR2/6605",
]  # fmt: skip
MUST_REJECT = {
    "MR_truncated.dcm": "truncated",
    "rtplan_truncated.dcm": "truncated",
    "meta_missing_tsyntax.dcm": "no TransferSyntaxUID",
    "README.txt": "not a DICOM file",
    "crayons.icc": "not a DICOM file",
    "dicomdirtests/DICOMDIR": "missing SOPInstanceUID",
    "JPEGLSNearLossless_08.dcm": "missing StudyInstanceUID",
    "badVR.dcm": "pixel data does not match its header",
}
NAMES = {
    "chrX2.dcm": "Wang^XiaoDong=王^小东",
    "chrX1.dcm": "Wang^XiaoDong=王^小東",
    "chrH31.dcm": "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "chrI2.dcm": "Hong^Gildong=洪^吉洞=홍^길동",
    "chrRuss.dcm": "Люкceмбypг",
    "chrGreek.dcm": "Διονυσιος",
    "chrArab.dcm": "قباني^لنزار",
    "chrGerm.dcm": "Äneas^Rüdiger",
}


def all_files() -> list[Path]:
    found = []
    for root in (TEST_FILES, CHARSET_FILES):
        found += sorted(p for p in root.rglob("*") if p.is_file())
    return found


@pytest.mark.django_db
def test_every_pydicom_file_is_stored_or_rejected_with_a_reason(api):
    results = {}
    for path in all_files():
        with path.open("rb") as handle:
            result = instance_ingest(file=handle, source="import", filename=str(path))
        results[path] = result
        assert result.status in (IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.REJECTED)
        if result.status == IngestStatus.REJECTED:
            assert result.reason, path
    by_name = {os.path.relpath(p, TEST_FILES): r for p, r in results.items()}
    by_name.update({p.name: r for p, r in results.items() if p.parent == CHARSET_FILES})
    for name in MUST_STORE:
        assert by_name[name].status == IngestStatus.STORED, (name, by_name[name].reason)
    for name, reason in MUST_REJECT.items():
        assert by_name[name].status == IngestStatus.REJECTED, name
        assert reason in by_name[name].reason, (name, by_name[name].reason)
    # The same instance re-encoded without compression is the same data set: a duplicate.
    assert by_name["MR_small_implicit.dcm"].status == IngestStatus.DUPLICATE
    assert by_name["MR_small_jp2klossless.dcm"].conflict
    # Trailing padding after the pixel data is accepted (it only conflicts with MR_small).
    assert by_name["MR_small_padded.dcm"].conflict

    stored = [(p, r) for p, r in results.items() if r.status == IngestStatus.STORED]
    assert len(stored) >= 100
    for path, result in stored:  # the indexed metadata is what pydicom reads from the file
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
        instance = Instance.objects.select_related("series__study__patient").get(
            id=result.instance.id
        )
        assert instance.sop_instance_uid == ds.SOPInstanceUID
        assert instance.sop_class_uid == ds.SOPClassUID
        assert instance.series.series_instance_uid == ds.SeriesInstanceUID
        assert instance.series.study.study_instance_uid == ds.StudyInstanceUID
        assert instance.rows == ds.get("Rows")
        assert instance.series.modality == (ds.get("Modality") or "OT")
        assert instance.series.study.patient.patient_id == str(ds.get("PatientID", "")).strip()

    for name, expected in NAMES.items():
        patient = by_name[name].instance.series.study.patient
        assert patient.name == expected, name
    rows = api.get("/api/studies/", {"search": "王"}).json()["results"]
    assert {row["patient"]["name"] for row in rows} >= {NAMES["chrX1.dcm"], NAMES["chrX2.dcm"]}
    rows = api.get("/api/studies/", {"search": "山田"}).json()["results"]
    assert NAMES["chrH31.dcm"] in {row["patient"]["name"] for row in rows}
    assert not any("Wang" in row["patient"]["name"] for row in rows)
