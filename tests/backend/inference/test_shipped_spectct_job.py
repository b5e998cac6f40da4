"""The shipped SPECT/CT release, run as an AI job on the SPECT/CT phantom the viewer's end-to-end
tests read (generator seed 7), through the archive's DICOM path and, as there, before any report
is written: it must state lesions of both classes, or the viewer tests have no benign and
metastatic mask to show.

Before: a retrained SPECT/CT release was judged on its npz arrays only; read back from DICOM
(the SPECT resampled onto the CT grid by the archive's own code) it found no lesion on this
case, and three browser tests failed on CI only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from inference import services
from inference.models import JobState, Lesion
from inference.runner import inference_job_run
from studies.models import Study
from studies.services import instances_ingest

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SHIPPED = Path(django_settings.MODEL_DIR) / "spectct"


@pytest.fixture(scope="session")
def viewer_spectct_phantom(tmp_path_factory) -> list[Path]:
    from boneread_ml.data.manifest import generate

    root = tmp_path_factory.mktemp("viewer-spectct")
    generate("spectct", 1, 7, root)  # the case of tests/e2e/test_viewer.py
    return sorted(p for p in root.rglob("*.dcm") if not p.name.startswith("SEG"))


def test_the_shipped_spectct_release_states_both_classes_on_the_viewer_tests_case(
    viewer_spectct_phantom,
):
    assert (SHIPPED / "config.json").is_file(), f"no shipped SPECT/CT release in {SHIPPED}"
    model_version, _ = services.model_version_register(path=SHIPPED, activate=True)
    files = viewer_spectct_phantom
    for start in range(0, len(files), 25):
        results = instances_ingest(
            files=[(p.name, p.read_bytes()) for p in files[start : start + 25]], source="import"
        )
        assert all(r.ok for r in results), [r.as_dict() for r in results if not r.ok]
    (study,) = Study.objects.filter(kind="spectct")
    job, _ = services.inference_job_create(study=study, model_version_id=model_version.id)
    assert job.report_version is None  # as in the viewer tests: images, no report yet

    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    classes = set(Lesion.objects.filter(job=job).values_list("class_name", flat=True))
    assert classes >= {"benign", "metastatic"}, classes
