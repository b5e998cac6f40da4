"""benchmarks/experiment/class_verdicts.py: why a true lesion's class verdict changes, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from boneread_ml.predict import lesion_table


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("benchmarks/experiment/class_verdicts.py")


def run(script, benign, metastatic, true_instance, true_label):
    """One row of pixels through the product's lesion table, then the verdicts."""
    p1 = np.array([benign], np.float32)
    p2 = np.array([metastatic], np.float32)
    probs = np.stack([1.0 - p1 - p2, p1, p2])
    lesion = (p1 + p2) > 0.5
    before = np.where(lesion, np.where(p2 > p1, 2, 1), 0).astype(np.uint8)
    after = before.copy()
    stated, _ = lesion_table(after, probs, np.ones((2, *p1.shape), np.float32), "planar")
    assert np.array_equal(script.per_pixel_classes(after, probs), before)
    return script.verdicts(
        after, before, stated, probs, np.array([true_instance]), np.array([true_label])
    )


def test_a_neighbour_of_the_other_class_decides_the_joined_lesion(script):
    # true benign lesion 1 (2 px, mildly benign) touching metastatic lesion 2 (3 px, strongly)
    rows = run(
        script,
        benign=[0.0, 0.5, 0.5, 0.05, 0.05, 0.05, 0.0],
        metastatic=[0.0, 0.4, 0.4, 0.9, 0.9, 0.9, 0.0],
        true_instance=[0, 1, 1, 2, 2, 2, 0],
        true_label=[0, 1, 1, 2, 2, 2, 0],
    )
    one, two = rows
    assert (one["right_before"], one["right_after"], one["cause"]) == (
        True, False, "other_class_neighbour",
    )  # fmt: skip
    assert (two["right_before"], two["right_after"], two["cause"]) == (True, True, None)


def test_a_stated_lesion_reaching_into_background_decides(script):
    rows = run(
        script,
        benign=[0.5, 0.5, 0.05, 0.05, 0.05],
        metastatic=[0.4, 0.4, 0.9, 0.9, 0.9],
        true_instance=[1, 1, 0, 0, 0],
        true_label=[1, 1, 0, 0, 0],
    )
    assert [(r["right_before"], r["right_after"], r["cause"]) for r in rows] == [
        (True, False, "background")
    ]


def test_summed_probability_and_pixel_count_disagree_over_the_lesion_itself(script):
    # 2 of 3 pixels benign, but the metastatic one outweighs them summed
    rows = run(
        script,
        benign=[0.5, 0.5, 0.05],
        metastatic=[0.4, 0.4, 0.9],
        true_instance=[1, 1, 1],
        true_label=[1, 1, 1],
    )
    assert [(r["right_before"], r["right_after"], r["cause"]) for r in rows] == [
        (True, False, "sum_vs_count")
    ]
    assert rows[0]["pixels"] == 3
    assert rows[0]["true_class_pixel_share"] == pytest.approx(2 / 3)
    assert rows[0]["true_class_probability_share"] == pytest.approx(1.05 / (1.05 + 1.7))


def test_two_stated_lesions_over_one_true_lesion_and_the_summary(script):
    # a metastatic true lesion with a gap: pixel 0 alone, pixels 2-4 one stated lesion whose
    # summed probability is metastatic while two of its three pixels are benign; before, the
    # vote over the true lesion was a tie (2 and 2: benign, wrong), after it is metastatic
    rows = run(
        script,
        benign=[0.05, 0.0, 0.3, 0.5, 0.5],
        metastatic=[0.9, 0.0, 0.6, 0.45, 0.45],
        true_instance=[1, 1, 1, 1, 1],
        true_label=[2, 2, 2, 2, 2],
    )
    assert [(r["right_before"], r["right_after"], r["cause"]) for r in rows] == [
        (False, True, "several_stated")
    ]
    summary = script.summarise(rows + [{**rows[0], "right_before": True, "cause": None}])
    assert summary["found_lesions"] == 2
    assert summary["class_accuracy_before"] == pytest.approx(0.5)
    assert summary["class_accuracy_after"] == pytest.approx(1.0)
    assert summary["wrong_to_right"]["several_stated"] == 1
    assert sum(summary["right_to_wrong"].values()) == 0


def test_a_lesion_missed_is_no_row_and_a_set_without_manifest_is_refused(script, tmp_path, capsys):
    rows = run(script, [0.0, 0.0], [0.0, 0.0], [1, 1], [2, 2])
    assert rows == []
    with pytest.raises(SystemExit):
        script.main(["--release", "x", "--data-root", str(tmp_path), "--out", str(tmp_path / "o")])
    assert "no manifest.json" in capsys.readouterr().err
