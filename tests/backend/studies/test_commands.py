"""import_dicom and load_demo_data, through the real ingest service."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from studies.models import IngestSource, Instance, Study
from tests.backend.studies.conftest import make_dataset, to_bytes


@pytest.mark.django_db
def test_import_dicom_folder_tree_with_summary(tmp_path):
    tmp_path = tmp_path / "incoming"
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.dcm").write_bytes(to_bytes(make_dataset()))
    (tmp_path / "a" / "b" / "two").write_bytes(to_bytes(make_dataset()))
    (tmp_path / "a" / "b" / "README.txt").write_text("scanner notes")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dicom", str(tmp_path), stdout=out, stderr=err)
    assert "3 file(s): 2 stored, 0 duplicate(s), 1 rejected" in out.getvalue()
    assert "README.txt: not a DICOM file" in out.getvalue()
    assert "100%" in err.getvalue()  # the progress bar
    assert Instance.objects.filter(source=IngestSource.IMPORT).count() == 2
    out = io.StringIO()
    call_command("import_dicom", str(tmp_path), "--exclude", "*.txt", stdout=out, stderr=err)
    assert "2 file(s): 0 stored, 2 duplicate(s), 0 rejected" in out.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_dicom", str(tmp_path / "missing"))


@pytest.mark.django_db
@pytest.mark.timeout(120)
def test_load_demo_data_generates_once_and_skips_ground_truth(tmp_path):
    tmp_path = tmp_path / "demo"
    out = io.StringIO()
    args = ["--planar", "1", "--spectct", "0", "--seed", "3", "--out", str(tmp_path)]
    call_command("load_demo_data", *args, stdout=out, stderr=io.StringIO())
    assert "1 file(s): 1 stored" in out.getvalue()
    assert sorted(p.name for p in tmp_path.rglob("*.dcm")) == [
        "NM_WB.dcm", "SEG_ANT.dcm", "SEG_POST.dcm",
    ]  # fmt: skip
    study = Study.objects.get()
    assert study.kind == "planar"
    assert not Instance.objects.filter(sop_class_uid="1.2.840.10008.5.1.4.1.1.66.4").exists()
    instance = Instance.objects.get()
    assert instance.frame_views == ["anterior", "posterior"]
    assert "\u4e00" <= study.patient.name.split("=")[1][0] <= "\u9fff"  # an ideographic name
    again = io.StringIO()
    call_command("load_demo_data", *args, stdout=again, stderr=io.StringIO())
    assert "1 file(s): 0 stored, 1 duplicate(s)" in again.getvalue()


@pytest.mark.django_db
def test_archive_verify_reports_orphans_and_missing_files(media_root):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from studies.services import instance_ingest

    kept = instance_ingest(file=to_bytes(make_dataset()), source="upload").instance
    out = io.StringIO()
    call_command("archive_verify", stdout=out)
    assert "0 missing, 0 orphan(s)" in out.getvalue()
    default_storage.save("dicom/00/00/" + "0" * 64 + ".dcm", ContentFile(b"left by a crash"))
    out = io.StringIO()
    call_command("archive_verify", "--delete-orphans", "--min-age", "0", stdout=out)
    assert "1 orphan(s), 1 orphan(s) removed" in out.getvalue()
    default_storage.delete(kept.file)
    with pytest.raises(CommandError, match="have no file"):
        call_command("archive_verify", stdout=io.StringIO())
