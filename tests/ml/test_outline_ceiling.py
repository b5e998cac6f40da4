"""Per-lesion threshold ceilings of an outline (boneread_ml.evaluation.outline), worked by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from boneread_ml.evaluation.outline import (
    best_joint_threshold_dice,
    best_threshold_dice,
    lesion_boxes,
    lesion_ceilings,
    predicted_outline_dice,
)


def brute_force(values, truth, allowed, sides):
    """Every distinct threshold tried one by one (the definition the fast search must equal)."""
    best = 0.0
    for side, t in itertools.product(sides, np.unique(values[allowed])):
        mark = allowed & ((values >= t) if side == ">=" else (values <= t))
        best = max(best, 2 * (mark & truth).sum() / (mark.sum() + truth.sum()))
    return best


def test_a_map_that_separates_the_lesion_reaches_dice_one():
    values = np.array([0.1, 0.2, 0.9, 0.8, 0.3])
    truth = values > 0.5
    dice, threshold, side = best_threshold_dice(values, truth)
    assert (dice, threshold, side) == (1.0, 0.8, ">=")


def test_the_best_threshold_by_hand_with_overlap_and_ties():
    # truth: the first three; the map ranks a background voxel (0.85) between them
    values = np.array([0.9, 0.8, 0.8, 0.85, 0.1, 0.1])
    truth = np.array([1, 1, 1, 0, 0, 0], bool)
    # >= 0.9: 2*1/(1+3) = 0.5; >= 0.85: 2*1/(2+3) = 0.4; >= 0.8 (both ties kept): 2*3/(4+3)
    dice, threshold, _ = best_threshold_dice(values, truth)
    assert dice == pytest.approx(6 / 7)
    assert threshold == 0.8


def test_a_dark_lesion_needs_the_lower_side():
    values = np.array([300.0, 310.0, 40.0, 35.0, 320.0])
    truth = values < 100
    assert best_threshold_dice(values, truth)[0] < 1.0
    assert best_threshold_dice(values, truth, both_sides=True) == (1.0, 40.0, "<=")


def test_truth_outside_the_allowed_region_is_missed_by_every_threshold():
    values = np.array([0.9, 0.9, 0.9, 0.9, 0.0])
    truth = np.array([1, 1, 1, 1, 0], bool)
    allowed = np.array([1, 1, 0, 0, 1], bool)
    # at best the two allowed truth voxels: 2*2/(2+4)
    assert best_threshold_dice(values, truth, allowed)[0] == pytest.approx(4 / 6)
    assert best_threshold_dice(values, truth, np.zeros(5, bool))[0] == 0.0
    assert np.isnan(best_threshold_dice(values, np.zeros(5, bool))[0])


@pytest.mark.parametrize("seed", range(6))
def test_the_search_equals_trying_every_threshold(seed):
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(size=(6, 7)), 1)  # rounded: many ties
    truth = rng.random((6, 7)) < 0.3
    allowed = rng.random((6, 7)) < 0.8
    for both in (False, True):
        sides = (">=", "<=") if both else (">=",)
        expected = brute_force(values, truth, allowed, sides)
        assert best_threshold_dice(values, truth, allowed, both_sides=both)[0] == pytest.approx(
            expected
        )


def test_maps_of_another_shape_are_refused():
    with pytest.raises(ValueError, match="shapes differ"):
        best_threshold_dice(np.zeros(4), np.zeros(5, bool))
    with pytest.raises(ValueError, match="does not match"):
        lesion_ceilings({"spect": (np.zeros((3, 3)), None, False)}, np.zeros((4, 4), int), 1)


def test_two_maps_together_outline_what_neither_does_alone():
    # uptake: the lesion (first three) and a hot normal joint beside it (next two) alike; the
    # CT: the lesion lytic (low HU), the joint and the rest normal bone
    spect = np.array([9.0, 8.0, 9.0, 9.0, 8.0, 1.0, 1.0])
    ct = np.array([60.0, 50.0, 70.0, 400.0, 420.0, 410.0, 60.0])
    truth = np.array([1, 1, 1, 0, 0, 0, 0], bool)
    assert best_threshold_dice(spect, truth)[0] == pytest.approx(2 * 3 / (5 + 3))
    assert best_threshold_dice(ct, truth, both_sides=True)[0] == pytest.approx(2 * 3 / (4 + 3))
    assert best_joint_threshold_dice(spect, ct, truth) == 1.0
    # never below the first map alone, and NaN without a truth
    assert best_joint_threshold_dice(spect, -spect, truth) >= best_threshold_dice(spect, truth)[0]
    assert np.isnan(best_joint_threshold_dice(spect, ct, np.zeros(7, bool)))


@pytest.mark.parametrize("seed", range(4))
def test_the_joint_search_equals_trying_every_pair_of_its_thresholds(seed):
    rng = np.random.default_rng(seed)
    first, second = np.round(rng.normal(size=(2, 5, 6)), 1)
    truth = rng.random((5, 6)) < 0.3
    allowed = rng.random((5, 6)) < 0.9
    levels = np.unique(np.quantile(second[allowed], np.linspace(0, 1, 16)))
    expected = brute_force(first, truth, allowed, (">=",))
    for level in levels:
        for where in (second >= level, second <= level):
            expected = max(expected, brute_force(first, truth, allowed & where, (">=",)))
    assert best_joint_threshold_dice(first, second, truth, allowed) == pytest.approx(expected)


def two_lesion_scene():
    """Lesion 1 (3 x 3, counts 10) with a hot lesion 2 (counts 50) two columns away and a
    background bump (counts 6) beside lesion 1 on the other side."""
    instance = np.zeros((12, 16), np.uint16)
    instance[4:7, 4:7] = 1
    instance[4:7, 9:11] = 2
    counts = np.ones((12, 16), np.float32)
    counts[instance == 1] = 10.0
    counts[instance == 2] = 50.0
    counts[4:7, 2:4] = 6.0
    return counts, instance


def test_other_lesions_in_the_box_are_neither_right_nor_wrong():
    counts, instance = two_lesion_scene()
    ceilings = lesion_ceilings({"counts": (counts, None, False)}, instance, margin=4)
    # lesion 2 (50 counts) sits in lesion 1's box; left out, lesion 1 is separable
    assert ceilings[1]["counts"] == 1.0
    assert ceilings[1]["volume_vox"] == 9 and ceilings[2]["volume_vox"] == 6
    # the bump becomes part of lesion 1 when it is as bright: 2*9/(9+6+9)
    bumped = counts.copy()
    bumped[4:7, 2:4] = 10.0
    assert lesion_ceilings({"c": (bumped, None, False)}, instance, 4)[1]["c"] == pytest.approx(
        18 / 24
    )
    # limited to where a lesion can lie (not the bump's columns), separable again
    allowed = np.ones_like(instance, bool)
    allowed[:, 2:4] = False
    assert lesion_ceilings({"c": (bumped, allowed, False)}, instance, 4)[1]["c"] == 1.0


def test_boxes_grow_by_the_margin_and_stop_at_the_edge():
    _, instance = two_lesion_scene()
    boxes = lesion_boxes(instance, 2)
    assert boxes[1] == (slice(2, 9), slice(2, 9))
    assert lesion_boxes(instance, 20)[2] == (slice(0, 12), slice(0, 16))


def test_the_networks_outline_takes_the_components_touching_the_lesion():
    _, instance = two_lesion_scene()
    box = lesion_boxes(instance, 4)[1]
    pred = np.zeros(instance.shape, bool)
    pred[4:8, 4:7] = True  # lesion 1 and one row too many: 2*9/(12+9)
    pred[4:7, 9:11] = True  # lesion 2: left out of lesion 1's score
    pred[0:2, 0:2] = True  # a false positive in the box that does not touch it: not counted
    assert predicted_outline_dice(pred, instance, 1, box) == pytest.approx(18 / 21)
    pred[4:8, 4:7] = False
    assert predicted_outline_dice(pred, instance, 1, box) == 0.0


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("benchmarks/experiment/outline_ceiling.py")


def test_lesions_weigh_alike_or_by_their_size_and_cases_stay_together(script):
    values = [np.array([1.0, 0.0, np.nan]), np.array([1.0])]
    sizes = [np.array([3.0, 1.0, 7.0]), np.array([1.0])]
    mean, low, high = script.cluster_bootstrap(values, 200, 0)
    assert mean == pytest.approx(2 / 3)  # the NaN left out
    assert low <= mean <= high
    assert script.cluster_bootstrap(values, 200, 0, sizes)[0] == pytest.approx(4 / 5)
    # one case: every draw is that case, so the CI is the mean
    assert script.cluster_bootstrap(values[:1], 50, 0) == [0.5, 0.5, 0.5]


class _Prediction:
    def __init__(self, label_map, probabilities):
        self.label_map, self.probabilities = label_map, probabilities


def test_a_case_gives_one_row_per_lesion_with_what_the_network_drew(script):
    """Two lesions in a small volume: the SPECT shows both, the CT only the first (lytic); the
    release states the first exactly and, before its floor, a part of the second."""
    shape = (6, 16, 16)
    instance = np.zeros(shape, np.uint16)
    instance[2:4, 3:6, 3:6] = 1
    instance[2:4, 10:12, 10:13] = 2
    bone = np.zeros(shape, np.uint8)
    bone[1:5, 2:14, 2:14] = 1
    spect = np.where(instance > 0, 50.0, 10.0) * bone + 1.0
    ct = np.where(instance == 1, 40.0, 300.0)
    stated = (instance == 1).astype(np.uint8)
    unfloored = stated.copy()
    unfloored[2:3, 10:12, 10:13] = 2
    probabilities = np.stack([1.0 - 0.9 * (instance > 0), 0.9 * (instance > 0), 0 * instance])
    lesions = [{"id": 1, "class_name": "metastatic", "kind": "lytic"},
               {"id": 2, "class_name": "benign", "kind": "degenerative"}]  # fmt: skip
    rows = script.case_rows(
        {"image": np.stack([spect, ct]), "instance": instance, "bone": bone},
        _Prediction(stated, probabilities),
        _Prediction(unfloored, probabilities),
        lesions,
        margin=2,
    )
    first, second = sorted(rows, key=lambda r: r["lesion_id"])
    assert (first["kind"], second["class_name"]) == ("lytic", "benign")
    assert first["volume_vox"] == 18 and second["volume_vox"] == 12
    assert first["spect"] == first["spect_in_bone"] == first["network_probability"] == 1.0
    assert first["ct_in_bone"] == 1.0 and second["ct_in_bone"] < 1.0
    assert first["network"] == first["network_unfloored"] == 1.0
    assert second["network"] == 0.0  # missed as stated
    assert second["network_unfloored"] == pytest.approx(2 * 6 / (6 + 12))
    assert first["cnr"] > 5
    summary = script.summarise([{**r, "case_id": "c"} for r in rows], 50, 0)
    assert (summary["found_share"], summary["found_share_unfloored"]) == (0.5, 1.0)
    assert summary["network_found"][0] == 1.0
    assert "| all | 2 | 0.50 / 1.00 |" in script.markdown({"all": summary, "found": summary})


def test_bad_arguments_are_refused_with_what_is_wrong(script, tmp_path, capsys):
    def refused(*argv) -> str:
        with pytest.raises(SystemExit):
            script.main([*argv, "--out", str(tmp_path / "o.json")])
        return capsys.readouterr().err

    assert "--margin must be 0 or more" in refused("--data-root", str(tmp_path), "--margin", "-1")
    assert "no manifest.json" in refused("--data-root", str(tmp_path))
    planar = tmp_path / "planar"
    planar.mkdir()
    (planar / "manifest.json").write_text('{"kind": "planar", "cases": []}', encoding="utf-8")
    assert "holds planar cases, not spectct" in refused("--data-root", str(planar))
    spectct = tmp_path / "spectct"
    spectct.mkdir()
    (spectct / "manifest.json").write_text('{"kind": "spectct", "cases": []}', encoding="utf-8")
    error = refused("--data-root", str(spectct), "--release", str(tmp_path / "none"))
    assert "--release" in error and "none" in error
    assert not (tmp_path / "o.json").exists()  # nothing written on a refusal
