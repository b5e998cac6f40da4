"""Region codes: what the viewer translates instead of the model's Chinese region names."""

import pytest

from inference.regions import region_code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("右侧肋骨", "rib:right"),
        ("左侧锁骨/肩部", "clavicle_shoulder:left"),
        ("左侧肩胛/肱骨", "scapula_humerus:left"),
        ("胸椎", "thoracic_spine"),
        ("骶骨", "sacrum"),
        ("右侧下肢", "lower_limb:right"),
        ("左侧第5肋", "rib:left:5"),
        ("第3腰椎", "lumbar_spine:mid:3"),
        ("右侧骶髂关节", "sacroiliac:right"),
        ("rib:left:5", "rib:left:5"),  # already a code
        ("pelvis", "pelvis"),
        ("", None),
        (None, None),
        ("未知部位", None),
        ("Rib; DROP TABLE", None),
    ],
)
def test_region_names_become_codes(name, code):
    assert region_code(name) == code


def test_every_region_the_planar_model_names_has_a_code():
    """Every name ``boneread_ml.predict.planar_region`` can return."""
    import numpy as np

    from boneread_ml.predict import planar_region

    body = np.zeros((1000, 300), dtype=bool)
    body[:, 50:250] = True
    names = {
        planar_region((row, col), body) for row in range(0, 1000, 10) for col in range(50, 250, 5)
    }
    assert len(names) >= 10
    assert all(region_code(name) for name in names), sorted(n for n in names if not region_code(n))
