"""SPECT/CT lesion regions follow the stored CT's orientation (the model assumes the standard one)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from inference.ct_regions import orient_regions
from inference.imaging import ModelInput
from inference.regions import region_code

NAMES = ["第3腰椎", "左侧第7肋", "右侧髂骨", "胸骨", "左侧肋骨"]


def _input(orientation, task="spectct") -> ModelInput:
    ds = Dataset()
    ds.ImageOrientationPatient = [float(v) for v in orientation]
    return ModelInput(task, np.zeros((2, 2, 4, 4), np.float32), (3.0, 3.9, 3.9), [], [([ds], [0])])


def _regions(orientation, task="spectct"):
    lesions = [{"region": name} for name in NAMES]
    orient_regions(lesions, _input(orientation, task))
    return [lesion["region"] for lesion in lesions]


def test_standard_axial_ct_keeps_the_models_names():
    assert _regions([1, 0, 0, 0, 1, 0]) == NAMES


def test_columns_running_to_the_patients_right_swap_the_sides():
    assert _regions([-1, 0, 0, 0, 1, 0]) == ["第3腰椎", "右侧第7肋", "左侧髂骨", "胸骨", "右侧肋骨"]


@pytest.mark.parametrize("orientation", [[1, 0, 0, 0, -1, 0], [0, 1, 0, 1, 0, 0]])
def test_rows_not_running_to_the_back_give_no_region_rather_than_a_wrong_one(orientation):
    assert _regions(orientation) == [None] * len(NAMES)


def test_planar_lesions_are_left_alone():
    assert _regions([-1, 0, 0, 0, 1, 0], task="planar") == NAMES


def test_every_name_the_ct_labeller_gives_has_a_region_code():
    """The viewer translates codes: each name boneread_ml.ct_regions can return must have one."""
    from boneread_ml.ct_regions import possible_names

    names = possible_names()
    assert {"第3腰椎", "左侧第7肋", "右侧骶髂关节", "胸椎", "左侧肋骨"} <= names
    assert all(region_code(name) for name in names), sorted(n for n in names if not region_code(n))
