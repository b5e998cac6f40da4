"""The report-site class rule (predict.assign_report_sites): a lesion mostly inside the region
the report names for one class takes that class; everything else keeps the network's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from boneread_ml.predict import assign_report_sites, lesion_table

RULE = {"min_cover": 0.5}
CHECKPOINTS = Path(__file__).resolve().parents[2] / "ml" / "checkpoints"


def scene():
    """Three lesions the network calls benign (p 0.7 benign, 0.2 metastatic): A in a benign
    site, B in a metastatic site, C in neither, D where both maps overlap."""
    h, w = 40, 40
    probs = np.zeros((3, h, w), np.float32)
    probs[0] = 1.0
    label_map = np.zeros((h, w), np.uint8)
    boxes = {"A": (2, 6, 2, 6), "B": (12, 16, 12, 16), "C": (22, 26, 22, 26), "D": (32, 36, 2, 6)}
    for r0, r1, c0, c1 in boxes.values():
        label_map[r0:r1, c0:c1] = 1
        probs[:, r0:r1, c0:c1] = np.array([0.1, 0.7, 0.2], np.float32)[:, None, None]
    maps = np.zeros((2, h, w), np.float32)
    maps[0, 0:8, 0:8] = 1.0  # benign site around A
    maps[1, 10:18, 10:18] = 1.0  # metastatic site around B
    maps[:, 30:38, 0:8] = 1.0  # both named at D
    images = np.ones((2, h, w), np.float32)
    instance, lesions = lesion_table(label_map, probs, images, "planar")
    at = {name: instance[r0, c0] for name, (r0, _, c0, _) in boxes.items()}
    return label_map, instance, lesions, probs, maps, at


def by_id(lesions, comp):
    return next(les for les in lesions if les["id"] == comp)


def test_a_lesion_in_a_site_named_metastatic_becomes_metastatic_with_its_pixels():
    label_map, instance, lesions, probs, maps, at = scene()
    assign_report_sites(label_map, instance, lesions, probs, maps, RULE)
    b = by_id(lesions, at["B"])
    assert (b["label"], b["class_name"], b["class_source"]) == (2, "metastatic", "report_site")
    region = instance == at["B"]
    assert (label_map[region] == 2).all()
    # its lesion probability (1 - p(background)) moved to the named class
    np.testing.assert_allclose(probs[2][region], 0.9, atol=1e-6)
    np.testing.assert_allclose(probs[1][region], 0.0)
    assert b["probability"] == b["probability_uncalibrated"] == np.float32(0.9).item()


def test_lesions_outside_or_in_both_named_sites_keep_the_networks_class():
    label_map, instance, lesions, probs, maps, at = scene()
    before = label_map.copy()
    assign_report_sites(label_map, instance, lesions, probs, maps, RULE)
    for name, source in (("A", "report_site"), ("C", "image"), ("D", "image")):
        les = by_id(lesions, at[name])
        assert les["label"] == 1 and les["class_source"] == source, (name, les)
        region = instance == at[name]
        assert (label_map[region] == before[region]).all()


def test_a_lesion_only_partly_in_a_named_site_keeps_its_class():
    label_map, instance, lesions, probs, maps, at = scene()
    maps[1] = 0.0
    maps[1, 12:14, 12:16] = 1.0  # half of B
    assign_report_sites(label_map, instance, lesions, probs, maps, {"min_cover": 0.6})
    assert by_id(lesions, at["B"])["label"] == 1


def test_a_report_that_names_no_site_changes_nothing():
    label_map, instance, lesions, probs, maps, at = scene()
    before = (label_map.copy(), probs.copy())
    assign_report_sites(label_map, instance, lesions, probs, np.zeros_like(maps), RULE)
    assert all(les["class_source"] == "image" for les in lesions)
    np.testing.assert_array_equal(label_map, before[0])
    np.testing.assert_array_equal(probs, before[1])


def test_a_release_whose_site_rule_predict_cannot_apply_does_not_load(tmp_path):
    import json
    import shutil

    import pytest

    from boneread_ml.models.release import CheckpointError
    from boneread_ml.predict import load_model

    def broken(kind, rule):
        release = shutil.copytree(CHECKPOINTS / kind, tmp_path / f"{kind}-{len(str(rule))}")
        config = json.loads((release / "config.json").read_text(encoding="utf-8"))
        config.setdefault("postprocess", {})["site_rule"] = rule
        (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
        return release

    with pytest.raises(CheckpointError, match=r"postprocess\.site_rule\.min_cover must be"):
        load_model(broken("planar", {"min_cover": 0}), optimize=False)
    with pytest.raises(CheckpointError, match=r"site_rule must be an object"):
        load_model(broken("planar", 0.5), optimize=False)
    # a SPECT/CT release applies the rule with maps read on its CT (no map channels needed)
    assert load_model(broken("spectct", {"min_cover": 0.5}), optimize=False).site_rule == {
        "min_cover": 0.5
    }
