"""nnU-Net v2 peer: the exporter writes a dataset that nnU-Net's own integrity check accepts."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks" / "experiment"))

# nnU-Net is installed by `make setup` (requirements-nnunet.txt); its absence is a failure.
if importlib.util.find_spec("nnunetv2") is None:
    pytest.fail(
        "nnunetv2 is not installed: run `make setup` (pip install --no-deps -r "
        "requirements-nnunet.txt)",
        pytrace=False,
    )


def _test_fold(root):
    from boneread_ml.data.datasets import read_manifest

    return int(read_manifest(root)["cases"][0]["fold"])


def test_export_matches_the_experiment_split_and_passes_nnunet_verification(planar_set, tmp_path):
    import SimpleITK as sitk
    from nnunet_peer import export_dataset, split
    from nnunetv2.experiment_planning.verify_dataset_integrity import verify_dataset_integrity

    from boneread_ml.data.datasets import load_arrays, read_manifest

    fold = _test_fold(planar_set)
    folder = export_dataset(planar_set, tmp_path, 501, "planar", test_fold=fold)
    assert folder.name == "Dataset501_BoneReadPlanar"
    manifest = read_manifest(planar_set)
    train, test = split(manifest, fold)
    assert train and test
    ds = json.loads((folder / "dataset.json").read_text())
    assert ds["numTraining"] == len(train)
    assert ds["labels"] == {"background": 0, "benign": 1, "metastatic": 2}
    assert set(ds["channel_names"]) == {"0", "1"}
    cases = json.loads((folder / "boneread_cases.json").read_text())
    assert cases["test"] == [c["case_id"] for c in test]  # the held-out fold, never trained on
    assert sorted(p.name for p in (folder / "labelsTr").iterdir()) == sorted(
        f"{c['case_id']}.nii.gz" for c in train
    )
    assert len(list((folder / "imagesTs").iterdir())) == 2 * len(test)
    # the pixels and the labels survive the round trip, with the scan's spacing
    case = train[0]
    arrays = load_arrays(planar_set, case)
    img = sitk.ReadImage(str(folder / "imagesTr" / f"{case['case_id']}_0001.nii.gz"))
    np.testing.assert_allclose(sitk.GetArrayFromImage(img)[0], arrays["image"][1], rtol=1e-6)
    np.testing.assert_allclose(img.GetSpacing()[:2], arrays["pixel_spacing_mm"][::-1], rtol=1e-6)
    lab = sitk.GetArrayFromImage(
        sitk.ReadImage(str(folder / "labelsTr" / f"{case['case_id']}.nii.gz"))
    )
    np.testing.assert_array_equal(lab[0], arrays["label"])
    verify_dataset_integrity(str(folder), num_processes=1)  # nnU-Net's own check; raises if invalid


def test_a_broken_export_fails_nnunet_verification(planar_set, tmp_path):
    """The check above is not vacuous: a label outside dataset.json's labels is caught."""
    import SimpleITK as sitk
    from nnunet_peer import export_dataset
    from nnunetv2.experiment_planning.verify_dataset_integrity import verify_dataset_integrity

    folder = export_dataset(planar_set, tmp_path, 502, "planar", test_fold=_test_fold(planar_set))
    path = next((folder / "labelsTr").iterdir())
    image = sitk.ReadImage(str(path))
    array = sitk.GetArrayFromImage(image)
    array[0, 0, 0] = 7
    broken = sitk.GetImageFromArray(array)
    broken.CopyInformation(image)
    sitk.WriteImage(broken, str(path))
    with pytest.raises((AssertionError, RuntimeError)):
        verify_dataset_integrity(str(folder), num_processes=1)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_tiny_end_to_end_run_through_nnunets_command_line(planar_set, tmp_path):
    """Export, plan, train 2 iterations, predict and evaluate with the project's metrics."""
    results = tmp_path / "results"
    cmd = [sys.executable, str(REPO / "benchmarks" / "experiment" / "nnunet_peer.py"),
           "--task", "planar", "--cases", "8", "--seed", "11", "--data-root", str(planar_set),
           "--test-fold", str(_test_fold(planar_set)), "--work", str(tmp_path / "work"),
           "--results", str(results), "--epochs", "1", "--iters-per-epoch", "2",
           "--val-iters-per-epoch", "1", "--n-boot", "20"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((results / "nnunet_run.json").read_text())
    assert [s["command"].split()[0] for s in record["steps"]] == [
        "nnUNetv2_plan_and_preprocess", "nnUNetv2_train", "nnUNetv2_predict",
    ]  # fmt: skip
    assert record["trainer_budget"]["iterations"] == 2
    summary = record["summary"]
    assert summary["cases"] == record["test_cases"] > 0
    assert 0.0 <= summary["lesion_accuracy"] <= 1.0
    assert len(record["per_case"]) == record["test_cases"]
