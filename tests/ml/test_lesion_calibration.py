"""Lesion-probability calibration of the shipped models (issue 15, item 5):
benchmarks/experiment/calibration.py fits it on synthetic cases the model was not trained on and
measures it on another set; the shipped releases carry that fit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cal(load_script):
    return load_script("benchmarks/experiment/calibration.py")


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
    # the same fit, up to the float noise of predicting with other CPU threads (a rerun that
    # only measures, on one thread, refits the planar coefficients 3e-5 apart)
    assert shipped["coef"] == pytest.approx(fitted["coef"], rel=1e-4)
    assert shipped["intercept"] == pytest.approx(fitted["intercept"], rel=1e-4)
    # fitted on a data set other than the training one (case ids name the data seed)
    assert shipped["fitted_on"]["data_seed"] == run["calibration_set"]["data_seed"]
    training_ids = config["postprocess"]["calibrated_on"]  # threshold: training cases
    assert all(case.startswith(f"{kind}-s0-") for case in training_ids)
    assert run["calibration_set"]["data_seed"] != 0
    assert run["evaluation_set"]["data_seed"] not in (0, run["calibration_set"]["data_seed"])
    assert run["weights_sha256"] == config["weights_sha256"]
    # the lesions a reader is shown: measured under the release's floor (SPECT/CT since
    # 2026-12-05, planar since 2026-12-06)
    floor = config["postprocess"]["lesion_floor"]
    assert run["rows"]["shown"]["floor"] == floor["min_probability"]
    shown, every = (run["rows"][r]["evaluation"]["lesions"] for r in ("shown", "current"))
    assert 0 < shown < every


def test_ece_with_ci_and_reliability_by_hand(cal):
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


def test_ece_a_perfectly_calibrated_model_would_show_by_hand():
    """Binning noise: 20 lesions stated at 0.25 and right with that probability have an expected
    ECE of E|k/20 - 0.25| (k binomial), not 0; the band shrinks with more lesions, and a clearly
    overconfident set lies far above its 95th percentile."""
    from math import comb

    from boneread_ml.evaluation.metrics import ece_if_calibrated, expected_calibration_error

    exact = sum(comb(20, k) * 0.25**k * 0.75 ** (20 - k) * abs(k / 20 - 0.25) for k in range(21))
    band = ece_if_calibrated(np.full(20, 0.25), draws=4000)
    assert band["mean"] == pytest.approx(exact, abs=0.01)
    assert band["p95"] > band["mean"]
    assert ece_if_calibrated(np.full(2000, 0.25))["mean"] < band["mean"] / 4
    stated = np.full(200, 0.95)
    right = np.arange(200) % 2 == 0
    assert expected_calibration_error(stated, right) > 10 * ece_if_calibrated(stated)["p95"]
    assert np.isnan(ece_if_calibrated(np.array([]))["mean"])


def test_shown_lesions_are_those_the_floor_keeps(cal):
    per_case = [[(0.2, False), (0.6, True)], [(0.59, True)], []]
    assert cal.shown(per_case, None) is per_case
    assert cal.shown(per_case, 0.6) == [[(0.6, True)], [], []]  # below is dropped, at is kept
    assert cal.with_ci(cal.shown(per_case, 0.6))["ece"] == pytest.approx(0.4)


def test_stated_probability_applies_a_calibration_or_keeps_the_raw_one(cal):
    lesions = [[(0.99, 30, True), (0.999, 5, False)]]
    assert cal.stated(lesions, None) == [[(0.99, True), (0.999, False)]]
    flat = {"coef": [0.0, 0.0], "intercept": 0.0}
    assert [p for p, _ in cal.stated(lesions, flat)[0]] == pytest.approx([0.5, 0.5])


def test_quadratic_features_by_hand_and_an_unknown_feature_refused():
    from boneread_ml.evaluation.calibrate import (
        LESION_FEATURE_SETS,
        apply_lesion_calibration,
        lesion_features,
    )

    logit, log_size = np.log(0.8 / 0.2), np.log(20)
    assert lesion_features(0.8, 20) == pytest.approx([logit, log_size])
    quadratic = LESION_FEATURE_SETS["quadratic"]
    assert lesion_features(0.8, 20, quadratic) == pytest.approx(
        [logit, log_size, logit**2, log_size**2]
    )
    calibration = {"features": list(quadratic), "coef": [0.0, 0.0, 1.0, -0.5], "intercept": 0.2}
    z = 0.2 + logit**2 - 0.5 * log_size**2
    assert apply_lesion_calibration(calibration, 0.8, 20) == pytest.approx(1 / (1 + np.exp(-z)))
    with pytest.raises(ValueError, match=r"unknown lesion-calibration feature\(s\) \['size'\]"):
        lesion_features(0.8, 20, ["logit_probability", "size"])


def _cases(rng, n_cases: int, truth) -> list[list[tuple[float, int, bool]]]:
    """Per case 6 lesions: raw probability with logit in [-4, 8], size 5-200 px, right with the
    probability ``truth(logit, log size)``."""
    cases = []
    for _ in range(n_cases):
        logit = rng.uniform(-4, 8, 6)
        size = rng.integers(5, 200, 6)
        right = rng.random(6) < truth(logit, np.log(size))
        cases.append(
            [
                (float(1 / (1 + np.exp(-z))), int(n), bool(r))
                for z, n, r in zip(logit, size, right, strict=True)
            ]
        )
    return cases


def test_cross_validation_picks_the_quadratic_set_where_the_curve_bends():
    """A lesion is right most often at middling raw logits (a bend no fit linear in the logit
    and log size can follow): the cross-validated Brier score picks the quadratic set, though
    the linear fit, stating about the base rate everywhere, has the lower ECE (why ECE does not
    choose); where the truth is linear the two score alike; too few cases are refused."""
    from boneread_ml.evaluation.calibrate import choose_lesion_features

    rng = np.random.default_rng(3)
    bent = _cases(rng, 200, lambda z, s: 1 / (1 + np.exp(0.4 * (z - 2) ** 2 - 2)))
    chosen, scores = choose_lesion_features(bent)
    assert chosen == "quadratic" and set(scores) == {"linear", "quadratic"}
    assert scores["quadratic"]["brier"] < scores["linear"]["brier"] - 0.03
    assert scores["linear"]["ece"] < scores["quadratic"]["ece"]
    straight = _cases(rng, 200, lambda z, s: 1 / (1 + np.exp(-(0.5 * z + 0.5 * s - 3))))
    _, scores = choose_lesion_features(straight)
    assert abs(scores["quadratic"]["brier"] - scores["linear"]["brier"]) < 0.005
    one = [[(0.9, 10, True)]] * 4
    with pytest.raises(ValueError, match="4 calibration cases, fewer than 5 folds"):
        choose_lesion_features(one)


def test_a_release_may_name_either_feature_set_and_nothing_else():
    """Before: a release whose recalibration named the quadratic set was refused."""
    from boneread_ml.evaluation.calibrate import LESION_FEATURE_SETS
    from boneread_ml.models.release import CheckpointError, check_postprocess

    quadratic = list(LESION_FEATURE_SETS["quadratic"])
    good = {"features": quadratic, "coef": [0.1, 0.2, 0.3, 0.4], "intercept": 0.0}
    check_postprocess({"postprocess": {"lesion_calibration": good}})
    with pytest.raises(CheckpointError, match=r"\.coef must be 4 finite numbers"):
        check_postprocess({"postprocess": {"lesion_calibration": {**good, "coef": [0.1, 0.2]}}})
    bad = {**good, "features": [*quadratic[:3], "size_cubed"]}
    with pytest.raises(CheckpointError, match=r"lesion_calibration\.features must be \["):
        check_postprocess({"postprocess": {"lesion_calibration": bad}})


@pytest.mark.slow
def test_calibration_run_records_a_fit_in_a_release_copy_without_touching_its_weights(
    tmp_path, cal, monkeypatch
):
    release = tmp_path / "planar"
    shutil.copytree(REPO / "ml" / "checkpoints" / "planar", release)
    weights = (release / "model.safetensors").read_bytes()
    # a floor fitted on the old calibration: it must neither hide lesions from the fit nor
    # survive it (it would cut the new probabilities at another point)
    config = json.loads((release / "config.json").read_text("utf-8"))
    config["postprocess"]["lesion_floor"] = {"min_probability": 0.3}
    (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "planar.json"
    argv = ["--kind", "planar", "--release", str(release), "--calibration-cases", "6",
            "--evaluation-cases", "3", "--data-dir", str(tmp_path / "data"), "--out", str(out),
            "--threads", "1", "--write-release"]  # fmt: skip
    assert cal.main(argv) == 0
    run = json.loads(out.read_text("utf-8"))
    assert set(run["rows"]) == {"raw", "current", "held_out", "shown"}
    lesions = run["rows"]["raw"]["evaluation"]["lesions"]
    assert lesions == run["rows"]["held_out"]["evaluation"]["lesions"] > 0
    # the lesions a reader is shown: the release's own recalibration, its floor applied
    shown_row = run["rows"]["shown"]
    assert shown_row["floor"] == 0.3
    assert shown_row["calibration"] == run["rows"]["current"]["calibration"]
    (kept_ev,) = (tmp_path / "data").glob("planar-s2/lesions-*.json")
    ev = [[tuple(les) for les in case] for case in json.loads(kept_ev.read_text())["lesions"]]
    stated_now = cal.stated(ev, shown_row["calibration"])
    above = sum(q >= 0.3 for case in stated_now for q, _ in case)
    assert shown_row["evaluation"]["lesions"] == above
    config = json.loads((release / "config.json").read_text("utf-8"))
    written = config["postprocess"]["lesion_calibration"]
    assert run["rows"]["held_out"]["calibration"] is not None  # right and wrong lesions both
    assert written["coef"] == pytest.approx(run["rows"]["held_out"]["calibration"]["coef"])
    assert written["fitted_on"] == {"data_seed": 1, "cases": 6, "command": run["command"]}
    held_out = run["rows"]["held_out"]  # the feature set chosen on the calibration cases
    cv = held_out["feature_sets_cv"]
    assert set(cv) == {"linear", "quadratic"}
    assert held_out["feature_set"] == min(cv, key=lambda name: cv[name]["brier"])
    assert written["features"] == list(cal.LESION_FEATURE_SETS[held_out["feature_set"]])
    assert (release / "model.safetensors").read_bytes() == weights
    assert np.isfinite(run["rows"]["held_out"]["evaluation"]["ece"])
    assert "lesion_floor" not in config["postprocess"]
    assert any(r["bin"][1] <= 0.9 and r["lesions"] for r in run["rows"]["current"]["reliability"])
    band = run["rows"]["held_out"]["evaluation"]["ece_if_calibrated"]
    assert 0 < band["mean"] <= band["p95"]
    # the predicted lesions are kept: a refit with other features predicts nothing again
    kept = sorted((tmp_path / "data").glob("*/lesions-*.json"))
    assert len(kept) == 2, kept

    def no_prediction(*args, **kwargs):
        raise AssertionError("predicted again")

    monkeypatch.setattr(cal, "lesions_of", no_prediction)
    refit = tmp_path / "refit.json"
    argv[argv.index(str(out))] = str(refit)
    assert cal.main([*argv, "--features", "linear"]) == 0
    again = json.loads(refit.read_text("utf-8"))
    assert again["rows"]["raw"]["evaluation"]["ece"] == run["rows"]["raw"]["evaluation"]["ece"]
    assert again["rows"]["held_out"]["feature_set"] == "linear"
    # another report-site rule states other lesions: predicted again, not reused (the kept
    # lesions were once keyed by the weights and the lesion threshold only)
    config = json.loads((release / "config.json").read_text("utf-8"))
    assert config["postprocess"]["site_rule"] == {"min_cover": 0.5}
    config["postprocess"]["site_rule"] = {"min_cover": 0.9}
    (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(AssertionError, match="predicted again"):
        cal.main(argv)
