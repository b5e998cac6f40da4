"""The shipped SPECT/CT release, run as an AI job on the SPECT/CT case of the viewer's end-to-end
tests (the same phantom, archive and report as there), in this process and without a browser:
it must state lesions of both classes, or the viewer tests have no benign and metastatic mask
to show.

Before: the viewer tests read a case with metastases only and no report, and passed because
the release shipped then called some false positives benign; a release that did better on the
ground truth failed three browser tests on CI only. Now the case has lesions of both classes
and its report. A release must state a lesion of each class over a true lesion of that class:
"both classes stated" alone was passed by a release that called a benign vertebral osteophyte
metastatic and missed the true rib metastasis (generator seed 1, the case used before).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from inference import services
from inference.models import JobState, Lesion
from inference.runner import inference_job_run
from tests.e2e.test_viewer import (  # noqa: F401  (fixtures)
    phantom_files,
    phantom_root,
    studies,
    study_with_lesions,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SHIPPED = Path(django_settings.MODEL_DIR) / "spectct"


def test_the_shipped_spectct_release_finds_a_true_lesion_of_each_class_on_the_viewer_case(
    studies,  # noqa: F811
    phantom_root,  # noqa: F811
):
    import json

    assert (SHIPPED / "config.json").is_file(), f"no shipped SPECT/CT release in {SHIPPED}"
    manifest = json.loads((phantom_root / "spectct" / "manifest.json").read_text("utf-8"))
    truth = {les["label"] for case in manifest["cases"] for les in case["lesions"]}
    assert truth == {1, 2}, "the viewer tests' SPECT/CT case must have both classes"
    model_version, _ = services.model_version_register(path=SHIPPED, activate=True)
    study = study_with_lesions(phantom_root, "spectct")
    job, _ = services.inference_job_create(study=study, model_version_id=model_version.id)
    assert job.report_version is not None

    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    case = next(c for c in manifest["cases"] if c["lesions"])
    stated = list(Lesion.objects.filter(job=job).order_by("number"))
    right = {over_true_lesion(les, case["lesions"]) for les in stated}
    assert right >= {"benign", "metastatic"}, [
        (les.class_name, les.region, over_true_lesion(les, case["lesions"], any_class=True))
        for les in stated
    ]


def over_true_lesion(lesion, truth: list[dict], *, any_class: bool = False) -> str | None:
    """The class of ``lesion`` (a stated one) when a true lesion of that class has its centre
    inside the stated lesion's box (1 voxel of margin), else None; ``any_class``: the class of
    any true lesion there, whatever the stated class."""
    lo, hi = lesion.bbox[:3], lesion.bbox[3:]
    for true in truth:
        inside = all(a - 1 <= c < b + 1 for c, a, b in zip(true["centroid"], lo, hi, strict=True))
        if inside and (any_class or true["class_name"] == lesion.class_name):
            return true["class_name"]
    return None
