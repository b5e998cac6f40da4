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


def test_spectct_findings_below_a_floor_are_held_back_on_the_studys_ct_slices(
    studies,  # noqa: F811
    phantom_root,  # noqa: F811
    tmp_path,
):
    """The shipped release with a floor between its stated probabilities (the shipped floor
    removes nothing on this case): the job keeps what the floor removed for the viewer, below
    the floor, numbered after the listed lesions, each placed on a CT slice of the study and
    on the stored CT's grid (where the viewer jumps)."""
    import json
    import shutil

    plain, _ = services.model_version_register(path=SHIPPED, activate=True)
    study = study_with_lesions(phantom_root, "spectct")
    job, _ = services.inference_job_create(study=study, model_version_id=plain.id)
    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    listed = sorted(Lesion.objects.filter(job=job).values_list("probability", flat=True))
    assert len(listed) >= 2, "the viewer case needs two stated lesions; pick another case"
    floor = (listed[0] + listed[-1]) / 2
    release = shutil.copytree(SHIPPED, tmp_path / "spectct-floor")
    config = json.loads((release / "config.json").read_text("utf-8"))
    config["postprocess"]["lesion_floor"] = {"min_probability": floor}
    (release / "config.json").write_text(json.dumps(config), "utf-8")
    floored, _ = services.model_version_register(path=release, activate=True)
    job, _ = services.inference_job_create(study=study, model_version_id=floored.id)
    assert inference_job_run(job_id=str(job.id)) == "succeeded"
    job.refresh_from_db()
    kept = Lesion.objects.filter(job=job).count()
    held = job.summary["held_back"]
    assert len(held) == job.summary["suppressed_below_floor"] == sum(p < floor for p in listed)
    assert kept + len(held) == len(listed) and held
    assert [h["number"] for h in held] == list(range(kept + 1, kept + len(held) + 1))
    slices = {f["sop_instance_uid"]: i for i, f in enumerate(job.labelmap_frames)}
    depth, rows, cols = job.labelmap_shape
    for finding in held:
        assert finding["reason"] == "below_floor" and finding["probability"] < floor
        where = finding["locations"]
        assert slices[where["sop_instance_uid"]] == where["slice"] == round(finding["centroid"][0])
        z0, y0, x0, z1, y1, x1 = finding["bbox"]
        assert 0 <= z0 < z1 <= depth and 0 <= y0 < y1 <= rows and 0 <= x0 < x1 <= cols
        assert finding["volume_ml"] is not None


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
