"""SPECT/CT lesion regions follow the stored CT's orientation (the model assumes the standard one)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from inference.ct_regions import frame_report, orient_regions
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


REPORT = "检查所见：左侧第7肋见点状浓聚，考虑骨折。右侧髂骨见放射性浓聚，考虑骨转移。"


def test_a_standard_ct_reads_the_report_as_written():
    assert frame_report(REPORT, _input([1, 0, 0, 0, 1, 0])) == (REPORT, True)


def test_a_mirrored_ct_reads_the_report_with_its_sides_exchanged():
    """The CT reading's left is the patient's right there: the report's 左侧第7肋 lies on the
    bone the reading calls 右侧第7肋, so the site maps must be painted from the swapped report
    (and orient_regions turns the lesions' names back)."""
    text, sites = frame_report(REPORT, _input([-1, 0, 0, 0, 1, 0]))
    assert (
        sites
        and text == "检查所见：右侧第7肋见点状浓聚，考虑骨折。左侧髂骨见放射性浓聚，考虑骨转移。"
    )


@pytest.mark.parametrize("orientation", [[1, 0, 0, 0, -1, 0], [0, 1, 0, 1, 0, 0]])
def test_a_ct_the_reading_cannot_use_places_no_site(orientation):
    assert frame_report(REPORT, _input(orientation)) == (REPORT, False)


def test_planar_reports_are_read_as_written():
    assert frame_report(REPORT, _input([-1, 0, 0, 0, 1, 0], task="planar")) == (REPORT, True)


def test_planar_lesions_are_left_alone():
    assert _regions([-1, 0, 0, 0, 1, 0], task="planar") == NAMES


def test_every_name_the_ct_labeller_gives_has_a_region_code():
    """The viewer translates codes: each name boneread_ml.ct_regions can return must have one."""
    from boneread_ml.ct_regions import possible_names

    names = possible_names()
    assert {"第3腰椎", "左侧第7肋", "右侧骶髂关节", "胸椎", "左侧肋骨"} <= names
    assert all(region_code(name) for name in names), sorted(n for n in names if not region_code(n))
