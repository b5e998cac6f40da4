"""Metrics on hand-made arrays, bootstrap, tables and plots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from boneread_ml.evaluation.metrics import (
    bootstrap_ci,
    case_dice,
    case_metrics,
    confusion_counts,
    dice,
    lesion_detection,
    metrics_from_counts,
    paired_bootstrap_difference,
    roc_auc,
    roc_curve,
)
from boneread_ml.evaluation.plots import plot_dice_ci, plot_roc
from boneread_ml.evaluation.tables import markdown_table, write_csv


def test_confusion_counts_and_metrics_by_hand():
    pred = np.array([[1, 1, 0, 0], [0, 1, 0, 0]])
    truth = np.array([[1, 0, 0, 0], [0, 1, 1, 0]])
    c = confusion_counts(pred, truth)
    assert (c.tp, c.fp, c.tn, c.fn) == (2, 1, 4, 1)
    m = metrics_from_counts(c)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(4 / 5)
    assert m["iou"] == pytest.approx(2 / 4)
    assert m["dice"] == pytest.approx(4 / 6)


def test_dice_edge_cases():
    z = np.zeros((3, 3), bool)
    one = z.copy()
    one[1, 1] = True
    assert math.isnan(dice(z, z))  # undefined, skipped in means
    assert dice(one, z) == 0.0
    assert dice(one, one) == 1.0
    with pytest.raises(ValueError, match="shapes differ"):
        confusion_counts(one, np.zeros((2, 2)))


def test_case_metrics_per_class():
    truth = np.zeros((4, 6), np.uint8)
    truth[0, :2] = 1  # benign, 2 px
    truth[3, 3:] = 2  # metastatic, 3 px
    pred = truth.copy()
    pred[3, 3:] = 1  # right place, wrong class
    row = case_metrics(pred, truth)
    assert row["benign_dice"] == pytest.approx(2 * 2 / (2 * 2 + 3))
    assert row["metastatic_dice"] == 0.0
    assert row["lesion_dice"] == 1.0
    assert row["mean_class_dice"] == pytest.approx((4 / 7 + 0.0) / 2)
    only_benign = np.where(truth == 2, 0, truth)
    assert case_metrics(only_benign, only_benign)["mean_class_dice"] == 1.0  # absent class skipped


def test_case_dice_scores_a_lesion_free_scan_by_whether_anything_is_stated():
    """mean_class_dice is NaN on a lesion-free scan stated empty (dropped from means and pairs)
    and 0 with a false positive; case_dice scores the first 1, so a model that states lesions on
    normal scans loses against one that does not. Lesion cases keep their Dice."""
    empty = np.zeros((4, 6), np.uint8)
    stated = empty.copy()
    stated[1, 1] = 2
    assert math.isnan(case_metrics(empty, empty)["mean_class_dice"])
    assert case_metrics(empty, empty)["case_dice"] == 1.0
    assert case_metrics(stated, empty)["mean_class_dice"] == 0.0
    assert case_metrics(stated, empty)["case_dice"] == 0.0
    assert case_metrics(empty, stated)["case_dice"] == 0.0  # a missed lesion is no empty scan
    truth = stated.copy()
    truth[1, 2] = 2
    assert case_metrics(stated, truth)["case_dice"] == pytest.approx(2 / 3)
    # as stored in a per-case CSV
    assert case_dice("nan") == 1.0 and case_dice("0.25") == 0.25
    for bad in (None, "", "n/a"):
        with pytest.raises(ValueError, match="mean_class_dice must be a number or 'nan'"):
            case_dice(bad)


def test_the_comparison_counts_false_positives_on_lesion_free_scans():
    """Two models alike on the lesion cases; on the lesion-free scans the reference states
    nothing and the other a false positive (ten cases each). The mean-class-Dice difference (pairs with an
    undefined value dropped) sees no difference; the all-case one does."""
    from boneread_ml.evaluation.compare import compare_to_reference
    from boneread_ml.evaluation.evaluate import ModelEvaluation

    y = np.array([True, False, True, False])
    scores = {1: (y, np.array([0.9, 0.1, 0.8, 0.2])), 2: (y, np.array([0.7, 0.3, 0.6, 0.4]))}
    truth = np.zeros((4, 6), np.uint8)
    truth[0, :3] = 1
    found, empty = truth.copy(), np.zeros_like(truth)
    fp = empty.copy()
    fp[3, 3] = 2
    cases = [(truth, found, found)] * 10 + [(empty, empty, fp)] * 10

    def evaluation(name: str, which: int) -> ModelEvaluation:
        rows = [{"case_id": f"c{i}", **case_metrics(c[which], c[0])} for i, c in enumerate(cases)]
        return ModelEvaluation(name=name, rows=rows, scores=scores)

    (row,) = compare_to_reference(evaluation("ref", 1), [evaluation("fp", 2)], n_boot=200)
    assert row["mean_class_dice_difference"] == 0.0
    assert row["case_dice_difference"] == pytest.approx(0.5)  # 10 of 20 cases, 1 - 0 each
    assert row["case_dice_difference_ci"][0] > 0


def test_auc_matches_sklearn_and_roc_ends():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = y + rng.normal(0, 1.2, 300)
    s[:40] = np.round(s[:40])  # ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    fpr, tpr = roc_curve(y, s)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert math.isnan(roc_auc(np.ones(3), [1, 2, 3]))


def test_lesion_detection_counts_hits_classes_and_false_positives():
    truth_label = np.zeros((10, 10), np.uint8)
    inst = np.zeros((10, 10), np.uint16)
    truth_label[1:3, 1:3], inst[1:3, 1:3] = 2, 1
    truth_label[6:8, 6:8], inst[6:8, 6:8] = 1, 2
    pred = np.zeros_like(truth_label)
    pred[1:3, 1:2] = 2  # hits lesion 1 with the right class
    pred[0, 8] = 1  # a false positive
    d = lesion_detection(pred, inst, truth_label)
    assert d == {"n_lesions": 2.0, "detected": 1.0, "correct_class": 1.0, "false_positives": 1.0}


def test_lesion_detection_counts_the_lesions_the_report_describes_apart():
    truth_label = np.zeros((10, 10), np.uint8)
    inst = np.zeros((10, 10), np.uint16)
    truth_label[1:3, 1:3], inst[1:3, 1:3] = 2, 1  # described, found, right class
    truth_label[6:8, 6:8], inst[6:8, 6:8] = 1, 2  # not described, found, wrong class
    truth_label[1:3, 6:8], inst[1:3, 6:8] = 1, 3  # described, found, wrong class
    pred = np.zeros_like(truth_label)
    pred[1:3, 1:3] = 2
    pred[6:8, 6:8] = 2
    pred[1:3, 6:8] = 2
    d = lesion_detection(pred, inst, truth_label, described={1, 3})
    assert (d["detected"], d["correct_class"]) == (3.0, 1.0)
    assert (d["detected_described"], d["correct_class_described"]) == (2.0, 1.0)
    assert "detected_described" not in lesion_detection(pred, inst, truth_label)


def test_bootstrap_intervals():
    v = np.array([0.5, 0.6, 0.7, np.nan, 0.8])
    mean, lo, hi = bootstrap_ci(v, seed=3)
    assert mean == pytest.approx(0.65) and 0.5 <= lo < mean < hi <= 0.8
    assert bootstrap_ci(v, seed=3) == (mean, lo, hi)  # seeded
    a = np.array([0.8, 0.7, 0.9, 0.75, 0.85])
    diff, lo, hi = paired_bootstrap_difference(a, a - 0.05)
    assert diff == pytest.approx(0.05) and lo == pytest.approx(0.05) and hi == pytest.approx(0.05)
    diff, lo, hi = paired_bootstrap_difference(a, a[::-1])
    assert lo < 0 < hi


def test_tables_and_plots(tmp_path):
    rows = [
        {"model": "a", "dice": 0.5, "dice_ci": (0.4, 0.6)},
        {"model": "b", "dice": float("nan")},
    ]
    md = markdown_table(rows, [("model", "model"), ("dice", "Dice")])
    assert "| a | 0.500 (0.400–0.600) |" in md and "n/a" in md
    text = write_csv(rows, tmp_path / "t.csv").read_text()
    assert text.splitlines()[0] == "model,dice,dice_ci_low,dice_ci_high"
    summaries = [{"model": "a", "mean_class_dice": 0.5, "mean_class_dice_ci": (0.4, 0.6)}]
    assert plot_dice_ci(summaries, tmp_path / "d.png").stat().st_size > 1000
    y = np.array([0, 1, 0, 1])
    assert plot_roc(
        {"a": (y, np.array([0.1, 0.9, 0.2, 0.7]), 1.0)}, tmp_path / "r.png", "t"
    ).exists()


def test_threshold_labels_and_choice():
    from boneread_ml.evaluation.calibrate import choose_threshold, labels_at

    # background, benign, metastatic probabilities for 4 pixels
    p = np.array([[0.4, 0.95, 0.02, 0.6], [0.5, 0.03, 0.18, 0.1], [0.1, 0.02, 0.8, 0.3]])[
        :, None, :
    ]
    np.testing.assert_array_equal(labels_at(p, None)[0], [1, 0, 2, 0])  # argmax
    np.testing.assert_array_equal(labels_at(p, 0.5)[0], [1, 0, 2, 0])
    np.testing.assert_array_equal(
        labels_at(p, 0.3)[0], [1, 0, 2, 2]
    )  # 1 - 0.6 > 0.3, metastatic likelier
    np.testing.assert_array_equal(labels_at(p, 0.9)[0], [0, 0, 2, 0])
    truth = np.array([[1, 0, 2, 0]])
    best, scores = choose_threshold([p], [truth], thresholds=(0.3, 0.5, 0.9))
    assert best == 0.5 and scores[0.5] == 1.0 and scores[0.9] < 1.0


def test_lesion_outcomes_and_expected_calibration_error_by_hand():
    from boneread_ml.evaluation.metrics import expected_calibration_error, lesion_outcomes

    truth = np.zeros((4, 6), np.uint8)
    truth[0, 0:2] = 2  # metastasis
    truth[3, 4:6] = 1  # benign
    instances = np.zeros((4, 6), np.uint16)
    instances[0, 0:3] = 1  # over the metastasis (and one background pixel)
    instances[3, 4:6] = 2  # over the benign lesion
    instances[2, 0] = 3  # over background only
    lesions = [
        {"id": 1, "label": 2, "probability": 0.9},
        {"id": 2, "label": 2, "probability": 0.8},  # wrong class
        {"id": 3, "label": 1, "probability": 0.3},  # false positive
    ]
    assert lesion_outcomes(instances, lesions, truth) == [(0.9, True), (0.8, False), (0.3, False)]
    # bins: 0.9 and 0.8 in their own bins (acc 1 and 0), 0.3 alone (acc 0)
    expected = (abs(1 - 0.9) + abs(0 - 0.8) + abs(0 - 0.3)) / 3
    assert expected_calibration_error([0.9, 0.8, 0.3], [1, 0, 0]) == pytest.approx(expected)
    assert expected_calibration_error([0.55, 0.56], [1, 0]) == pytest.approx(abs(0.5 - 0.555))
    assert np.isnan(expected_calibration_error([], []))


def test_labels_at_matches_its_definition_on_a_volume():
    """The class map of a SPECT/CT-sized volume: lesion where 1 - p(background) > threshold,
    metastatic only where strictly likelier than benign (ties benign), uint8."""
    from boneread_ml.evaluation.calibrate import labels_at

    rng = np.random.default_rng(3)
    p = rng.random((3, 16, 32, 32), dtype=np.float32)
    p[2, :4] = p[1, :4]  # ties between the lesion classes
    p /= p.sum(axis=0, keepdims=True)
    for threshold in (0.3, 0.5, 0.9):
        lesion = (1.0 - p[0]) > threshold
        expected = np.where(lesion, np.where(p[2] > p[1], 2, 1), 0)
        got = labels_at(p, threshold)
        assert got.dtype == np.uint8 and got.shape == p.shape[1:]
        np.testing.assert_array_equal(got, expected)
        assert set(np.unique(got[:4][lesion[:4]])) == {1}  # ties go to benign
