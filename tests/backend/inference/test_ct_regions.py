"""SPECT/CT lesion regions from the CT, checked against the phantom's anatomy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inference.ct_regions import spectct_region

# The coarse site each region name stands for.
SITES = {"胸椎": "spine", "腰椎": "spine", "骶骨": "spine", "胸骨": "sternum"}


def site_of(name: str | None) -> str | None:
    if name is None:
        return None
    if name in SITES:
        return SITES[name]
    for suffix, site in (("肋骨", "rib"), ("骨盆", "pelvis"), ("肩胛骨", "scapula")):
        if name.endswith(suffix):
            return site
    return "other"


@pytest.mark.slow
def test_regions_agree_with_the_phantom_anatomy(tmp_path):
    from boneread_ml.data.manifest import generate

    generate("spectct", 4, 11, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    agree = total = 0
    sides_right = sides = 0
    for case in manifest["cases"]:
        arrays = np.load(tmp_path / case["arrays"])
        ct = arrays["image"][1]
        for lesion in case["lesions"]:
            got = spectct_region(ct, lesion["centroid"], spacing_mm=arrays["spacing_mm"])
            truth = {"joint": "pelvis"}.get(lesion["site"], lesion["site"])
            total += 1
            agree += site_of(got) == truth or (truth == "pelvis" and site_of(got) == "spine")
            if lesion["side"] in ("left", "right") and got and got[:2] in ("左侧", "右侧"):
                sides += 1
                sides_right += got[:2] == {"left": "左侧", "right": "右侧"}[lesion["side"]]
    assert total >= 5
    assert agree / total >= 0.7, (agree, total)
    assert sides == 0 or sides_right == sides, (sides_right, sides)


def test_outside_the_body_has_no_region():
    ct = np.full((8, 64, 64), -1000.0, np.float32)
    assert spectct_region(ct, [4, 32, 32]) is None
