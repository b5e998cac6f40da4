"""SPECT/CT: the model reads a CT in the standard frame it was trained on, whatever the stored
CT's orientation, and its result is put back on the stored CT."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from boneread_ml.predict import Prediction
from inference.ct_regions import from_standard, to_standard
from inference.imaging import ModelInput
from inference.regions import region_code

NAMES = ["第3腰椎", "左侧第7肋", "右侧髂骨", "胸骨", "左侧肋骨"]
STANDARD, MIRRORED = [1, 0, 0, 0, 1, 0], [-1, 0, 0, 0, 1, 0]
UNUSABLE = [[1, 0, 0, 0, -1, 0], [0, 1, 0, 1, 0, 0]]  # rows not running to the back


def _input(orientation, task="spectct") -> ModelInput:
    ds = Dataset()
    ds.ImageOrientationPatient = [float(v) for v in orientation]
    images = np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4)
    return ModelInput(task, images, (3.0, 3.9, 3.9), [], [([ds], [0])])


def _prediction() -> Prediction:
    """One lesion over columns 0-1 of a (2, 3, 4) volume (the patient's right on a standard CT)."""
    label = np.zeros((2, 3, 4), np.uint8)
    label[1, 1:3, 0:2] = 2
    probs = np.stack([1.0 - label / 2, label / 4, label / 4]).astype(np.float32)
    lesion = {"id": 1, "label": 2, "centroid": [1.0, 1.5, 0.5], "bbox": [1, 1, 0, 2, 3, 2],
              "region": NAMES[2]}  # fmt: skip
    return Prediction(label, probs, [dict(lesion)], label.astype(np.uint16))


def test_a_standard_ct_is_read_as_stored_and_its_result_kept():
    model_input = _input(STANDARD)
    images, sites = to_standard(model_input)
    assert sites and images is model_input.images
    prediction = _prediction()
    from_standard(prediction, model_input)
    assert prediction.lesions == _prediction().lesions
    assert np.array_equal(prediction.label_map, _prediction().label_map)


def test_a_mirrored_ct_is_read_in_the_standard_frame_and_its_result_mirrored_back():
    """Before: the model read the mirrored volume with the report's sides exchanged and the
    lesion names were swapped afterwards, so the same patient stored the other way gave other
    probabilities (and, at a lesion floor, other lesions)."""
    model_input = _input(MIRRORED)
    images, sites = to_standard(model_input)
    assert sites and np.array_equal(images, model_input.images[..., ::-1])
    assert images.flags["C_CONTIGUOUS"]
    prediction = _prediction()  # as the model states it in the standard frame
    from_standard(prediction, model_input)
    assert np.array_equal(prediction.label_map, _prediction().label_map[..., ::-1])
    assert np.array_equal(prediction.instance_map, _prediction().instance_map[..., ::-1])
    assert np.array_equal(prediction.probabilities, _prediction().probabilities[..., ::-1])
    (lesion,) = prediction.lesions
    # stored columns 2-3; the region, read in the standard frame, already names the patient's side
    assert lesion["centroid"] == [1.0, 1.5, 2.5]
    assert lesion["bbox"] == [1, 1, 2, 2, 3, 4]
    assert lesion["region"] == "右侧髂骨"
    zs, ys, xs = np.nonzero(prediction.label_map)
    assert [xs.min(), xs.max() + 1] == lesion["bbox"][2::3]
    assert xs.mean() == pytest.approx(lesion["centroid"][2])


def test_held_back_findings_are_mirrored_back_and_unnamed_like_the_listed_ones():
    """The floor's held-back findings are shown on request, so they must point at the stored
    CT's columns too (before, only the listed lesions were mirrored back: a held-back finding
    on a mirrored CT pointed at the patient's other side)."""
    held = {"id": 2, "label": 1, "centroid": [0.0, 0.5, 0.5], "bbox": [0, 0, 0, 1, 1, 2],
            "region": NAMES[1], "held_back": "below_floor"}  # fmt: skip
    prediction = _prediction()
    prediction.held_back = [dict(held)]
    from_standard(prediction, _input(MIRRORED))
    (moved,) = prediction.held_back
    assert moved["centroid"] == [0.0, 0.5, 2.5] and moved["bbox"] == [0, 0, 2, 1, 1, 4]
    assert moved["region"] == NAMES[1]
    prediction = _prediction()
    prediction.held_back = [dict(held)]
    from_standard(prediction, _input(UNUSABLE[0]))
    assert [x["region"] for x in prediction.held_back] == [None]


@pytest.mark.parametrize("orientation", UNUSABLE)
def test_a_ct_the_reading_cannot_use_places_no_site_and_names_no_region(orientation):
    model_input = _input(orientation)
    images, sites = to_standard(model_input)
    assert not sites and images is model_input.images
    prediction = _prediction()
    from_standard(prediction, model_input)
    assert [lesion["region"] for lesion in prediction.lesions] == [None]
    assert np.array_equal(prediction.label_map, _prediction().label_map)


def test_planar_images_and_lesions_are_left_alone():
    model_input = _input(MIRRORED, task="planar")
    images, sites = to_standard(model_input)
    assert sites and images is model_input.images
    prediction = _prediction()
    from_standard(prediction, model_input)
    assert prediction.lesions == _prediction().lesions


def test_every_name_the_ct_labeller_gives_has_a_region_code():
    """The viewer translates codes: each name boneread_ml.ct_regions can return must have one."""
    from boneread_ml.ct_regions import possible_names

    names = possible_names()
    assert {"第3腰椎", "左侧第7肋", "右侧骶髂关节", "胸椎", "左侧肋骨"} <= names
    assert all(region_code(name) for name in names), sorted(n for n in names if not region_code(n))
