"""Lesion-probability calibration of the shipped models (issue 15, item 5):
benchmarks/experiment/calibration.py fits it on synthetic cases the model was not trained on and
measures it on another set; the shipped releases carry that fit."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "experiment" / "calibration.py"


def load_script():
    spec = importlib.util.spec_from_file_location("calibration_experiment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["planar", "spectct"])
def test_shipped_release_carries_the_held_out_calibration_of_the_committed_run(kind):
    """Before: the planar release's recalibration was fitted on 16 of its own training cases
    (held-out ECE 0.13-0.19) and the SPECT/CT release had none (raw 99-100 %)."""
    config = json.loads((REPO / "ml" / "checkpoints" / kind / "config.json").read_text("utf-8"))
    shipped = config["postprocess"]["lesion_calibration"]
    run = json.loads(
        (REPO / "docs" / "results" / "calibration" / f"{kind}.json").read_text("utf-8")
    )
    fitted = run["rows"]["held_out"]["calibration"]
    assert shipped["coef"] == pytest.approx(fitted["coef"])
    assert shipped["intercept"] == pytest.approx(fitted["intercept"])
    # fitted on a data set other than the training one (case ids name the data seed)
    assert shipped["fitted_on"]["data_seed"] == run["calibration_set"]["data_seed"]
    training_ids = config["postprocess"]["calibrated_on"]  # threshold: training cases
    assert all(case.startswith(f"{kind}-s0-") for case in training_ids)
    assert run["calibration_set"]["data_seed"] != 0
    assert run["evaluation_set"]["data_seed"] not in (0, run["calibration_set"]["data_seed"])
    assert run["weights_sha256"] == config["weights_sha256"]


def test_ece_with_ci_and_reliability_by_hand():
    cal = load_script()
    # every case: four lesions stated at 0.25, one of them right -> perfectly calibrated
    calibrated = [[(0.25, True), (0.25, False), (0.25, False), (0.25, False)]] * 5
    result = cal.with_ci(calibrated)
    assert result["ece"] == pytest.approx(0.0)
    assert result["ece_ci"] == pytest.approx([0.0, 0.0])
    assert result["brier"] == pytest.approx((0.75**2 + 3 * 0.25**2) / 4)
    # stated 0.95, right half the time -> ECE 0.45 whatever the resample
    overconfident = [[(0.95, True), (0.95, False)]] * 4
    assert cal.with_ci(overconfident)["ece"] == pytest.approx(0.45)
    table = cal.reliability(overconfident + calibrated)
    assert [row["lesions"] for row in table] == [20, 8]
    assert table[1]["fraction_right"] == pytest.approx(0.5)


def test_stated_probability_applies_a_calibration_or_keeps_the_raw_one():
    cal = load_script()
    lesions = [[(0.99, 30, True), (0.999, 5, False)]]
    assert cal.stated(lesions, None) == [[(0.99, True), (0.999, False)]]
    flat = {"coef": [0.0, 0.0], "intercept": 0.0}
    assert [p for p, _ in cal.stated(lesions, flat)[0]] == pytest.approx([0.5, 0.5])


@pytest.mark.slow
def test_calibration_run_records_a_fit_in_a_release_copy_without_touching_its_weights(tmp_path):
    cal = load_script()
    release = tmp_path / "planar"
    shutil.copytree(REPO / "ml" / "checkpoints" / "planar", release)
    weights = (release / "model.safetensors").read_bytes()
    # a floor fitted on the old calibration: it must neither hide lesions from the fit nor
    # survive it (it would cut the new probabilities at another point)
    config = json.loads((release / "config.json").read_text("utf-8"))
    config["postprocess"]["lesion_floor"] = {"min_probability": 0.99}
    (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "planar.json"
    argv = ["--kind", "planar", "--release", str(release), "--calibration-cases", "6",
            "--evaluation-cases", "3", "--data-dir", str(tmp_path / "data"), "--out", str(out),
            "--threads", "1", "--write-release"]  # fmt: skip
    assert cal.main(argv) == 0
    run = json.loads(out.read_text("utf-8"))
    assert set(run["rows"]) == {"raw", "current", "held_out"}
    lesions = run["rows"]["raw"]["evaluation"]["lesions"]
    assert lesions == run["rows"]["held_out"]["evaluation"]["lesions"] > 0
    config = json.loads((release / "config.json").read_text("utf-8"))
    written = config["postprocess"]["lesion_calibration"]
    assert run["rows"]["held_out"]["calibration"] is not None  # right and wrong lesions both
    assert written["coef"] == pytest.approx(run["rows"]["held_out"]["calibration"]["coef"])
    assert written["fitted_on"] == {"data_seed": 1, "cases": 6, "command": run["command"]}
    assert (release / "model.safetensors").read_bytes() == weights
    assert np.isfinite(run["rows"]["held_out"]["evaluation"]["ece"])
    assert "lesion_floor" not in config["postprocess"]
    assert any(r["bin"][1] <= 0.9 and r["lesions"] for r in run["rows"]["current"]["reliability"])
