"""Everything the phantom generator writes, ground-truth SEGs included, passes the archive's ingest."""

import pytest

from studies.models import Instance, Study
from studies.services import IngestStatus, instance_ingest

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


@pytest.fixture(scope="module")
def phantom_sets(tmp_path_factory):
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("phantom")
    return {
        kind: generate(kind, 1, 11, root / kind, workers=1, progress=False)
        for kind in ("planar", "spectct")
    }


@pytest.mark.django_db
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("kind", "modalities"), [("planar", "NM\\SEG"), ("spectct", "CT\\NM\\SEG")]
)
def test_every_generated_file_is_stored_with_its_study_kind(phantom_sets, kind, modalities):
    files = sorted((phantom_sets[kind] / "dicom").rglob("*.dcm"))
    assert files, f"the generator wrote no DICOM for {kind}"

    results = [
        instance_ingest(file=path.read_bytes(), source="import", filename=path.name)
        for path in files
    ]

    rejected = [
        (path.name, r.reason)
        for path, r in zip(files, results, strict=True)
        if r.status != IngestStatus.STORED
    ]
    assert rejected == []
    study = Study.objects.get()
    assert study.kind == kind
    assert study.modalities == modalities
    segs = Instance.objects.filter(sop_class_uid=SEG_STORAGE)
    assert segs.count() == len([p for p in files if p.name.startswith("SEG")])
    # A second pass is a no-op: every instance is a duplicate.
    again = {
        instance_ingest(file=p.read_bytes(), source="import", filename=p.name).status for p in files
    }
    assert again == {IngestStatus.DUPLICATE}
