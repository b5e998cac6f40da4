"""The report-site gate (predict.gate_report_sites): outside every region the report names, a
lesion needs the gate's lesion probability to be kept; inside one, it is always kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from boneread_ml.predict import gate_report_sites, lesion_table

GATE = {"min_cover": 0.5, "min_probability": 0.4}
CHECKPOINTS = Path(__file__).resolve().parents[2] / "ml" / "checkpoints"


def scene():
    """Four lesions: A (p 0.3) in a named benign site, B (p 0.3) and C (p 0.2) outside every
    named site, E (p 0.8) outside too; the lesion probability is the class's mean softmax."""
    h, w = 40, 40
    probs = np.zeros((3, h, w), np.float32)
    probs[0] = 1.0
    label_map = np.zeros((h, w), np.uint8)
    boxes = {
        "A": ((2, 6, 2, 6), 0.3),
        "B": ((12, 16, 12, 16), 0.3),
        "C": ((22, 26, 22, 26), 0.2),
        "E": ((32, 36, 32, 36), 0.8),
    }
    for (r0, r1, c0, c1), p in boxes.values():
        label_map[r0:r1, c0:c1] = 1
        probs[:, r0:r1, c0:c1] = np.array([1 - p, p, 0.0], np.float32)[:, None, None]
    maps = np.zeros((2, h, w), np.float32)
    maps[0, 0:8, 0:8] = 1.0  # the report names A's site
    maps[1, 30:32, 30:32] = 1.0  # and a metastatic site that touches nothing
    images = np.ones((2, h, w), np.float32)
    instance, lesions = lesion_table(label_map, probs, images, "planar")
    at = {name: int(instance[r0, c0]) for name, ((r0, _, c0, _), _) in boxes.items()}
    return label_map, instance, lesions, probs, maps, at, boxes


def test_unlikely_lesions_outside_the_reports_sites_go_and_everything_agrees():
    label_map, instance, lesions, probs, maps, at, boxes = scene()
    removed = gate_report_sites(label_map, instance, lesions, probs, maps, GATE)
    assert sorted(les["id"] for les in removed) == sorted([at["B"], at["C"]])
    for name in ("B", "C"):
        (r0, r1, c0, c1), _ = boxes[name]
        assert (label_map[r0:r1, c0:c1] == 0).all() and (instance[r0:r1, c0:c1] == 0).all()
        np.testing.assert_array_equal(probs[0, r0:r1, c0:c1], 1.0)
        np.testing.assert_array_equal(probs[1:, r0:r1, c0:c1], 0.0)
    # A (inside a named site, however unlikely) and E (outside, but likely) stay, renumbered
    # 1..n with the instance map, label map and probabilities untouched
    assert [les["id"] for les in lesions] == [1, 2]
    for name, new_id in (("A", 1), ("E", 2)):
        (r0, r1, c0, c1), p = boxes[name]
        assert (instance[r0:r1, c0:c1] == new_id).all()
        assert (label_map[r0:r1, c0:c1] == 1).all()
        np.testing.assert_allclose(probs[1, r0:r1, c0:c1], p)
    assert set(np.unique(instance)) == {0, 1, 2}


def test_the_gate_uses_the_stated_probability_and_its_own_cover():
    label_map, instance, lesions, probs, maps, at, _ = scene()
    for les in lesions:  # a recalibration that lifts B above the gate keeps it
        if les["id"] == at["B"]:
            les["probability"] = 0.45
    removed = gate_report_sites(label_map, instance, lesions, probs, maps, GATE)
    assert [les["id"] for les in removed] == [at["C"]]
    # A only half inside its named site: with min_cover 0.6 it is outside, and goes
    label_map, instance, lesions, probs, maps, at, _ = scene()
    maps[0] = 0.0
    maps[0, 2:4, 2:6] = 1.0
    removed = gate_report_sites(
        label_map, instance, lesions, probs, maps, {"min_cover": 0.6, "min_probability": 0.4}
    )
    assert at["A"] in [les["id"] for les in removed]


def test_a_report_that_names_no_site_removes_nothing():
    label_map, instance, lesions, probs, maps, at, _ = scene()
    before = (label_map.copy(), instance.copy(), probs.copy(), len(lesions))
    assert gate_report_sites(label_map, instance, lesions, probs, np.zeros_like(maps), GATE) == []
    np.testing.assert_array_equal(label_map, before[0])
    np.testing.assert_array_equal(instance, before[1])
    np.testing.assert_array_equal(probs, before[2])
    assert len(lesions) == before[3]


def _with_postprocess(tmp_path, kind, **settings):
    release = shutil.copytree(
        CHECKPOINTS / kind, tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}"
    )
    config = json.loads((release / "config.json").read_text(encoding="utf-8"))
    post = config.setdefault("postprocess", {})
    for key, value in settings.items():
        if value is None:
            post.pop(key, None)
        else:
            post[key] = value
    (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return release


def test_predict_applies_the_releases_gate_to_a_phantom_scan(planar_set, tmp_path):
    """The shipped planar weights with and without the gate, on the generated cases: the gated
    lesions are the ungated ones less those outside the report's sites under the gate's
    probability, and the prediction says how many went."""
    from boneread_ml.data.manifest import load_case_arrays, load_manifest
    from boneread_ml.data.report_sites import planar_site_maps
    from boneread_ml.predict import load_model, predict

    low_bar = {"min_cover": 0.5, "min_probability": 0.999}  # removes every lesion outside
    # the gate alone: the shipped release's lesion floor taken off in both
    gated = load_model(
        _with_postprocess(tmp_path, "planar", site_gate=low_bar, lesion_floor=None), optimize=False
    )
    plain = load_model(
        _with_postprocess(tmp_path, "planar", site_gate=None, lesion_floor=None), optimize=False
    )
    removed_total = 0
    for case in load_manifest(planar_set)["cases"]:
        arrays = load_case_arrays(planar_set, case)
        text = case["report"]["text"]
        a = predict(arrays["image"], text, plain)
        b = predict(arrays["image"], text, gated)
        assert a.meta["suppressed_outside_report"] is None
        maps = planar_site_maps(text, arrays["image"], registration=plain.site_registration)
        named = np.maximum(maps[0], maps[1])
        outside = [
            les for les in a.lesions
            if maps.any() and named[a.instance_map == les["id"]].mean() < 0.5
            and les["probability"] < 0.999
        ]  # fmt: skip
        assert b.meta["suppressed_outside_report"] == len(outside)
        assert len(b.lesions) == len(a.lesions) - len(outside)
        gone = np.isin(a.instance_map, [les["id"] for les in outside])
        np.testing.assert_array_equal(b.label_map[~gone], a.label_map[~gone])
        assert not b.label_map[gone].any()
        removed_total += len(outside)
    assert removed_total > 0, "the fixed cases gave the gate nothing to remove; pick other cases"


@pytest.mark.parametrize(
    ("kind", "gate", "message"),
    [
        ("planar", {"min_cover": 0.5}, r"site_gate\.min_probability is missing"),
        ("planar", {"min_cover": 0.5, "min_probability": 1.5},
         r"site_gate\.min_probability must be a number in \[0, 1\]"),
        ("planar", {"min_probability": 0.4, "probability": 0.4}, r"site_gate has unknown keys"),
        ("planar", [0.5, 0.4], r"site_gate must be an object"),
        ("spectct", GATE, "site_gate needs a planar model that reads the report's site maps"),
    ],
)  # fmt: skip
def test_a_release_whose_site_gate_predict_cannot_apply_does_not_load(
    tmp_path, kind, gate, message
):
    from boneread_ml.models.release import CheckpointError
    from boneread_ml.predict import load_model

    with pytest.raises(CheckpointError, match=message):
        load_model(_with_postprocess(tmp_path, kind, site_gate=gate), optimize=False)


def _with_registration(tmp_path, registration):
    """The shipped planar release recording ``registration`` as its training's (None: no key,
    as releases trained before 2026-12-06 were written)."""
    release = _with_postprocess(tmp_path, "planar")
    config = json.loads((release / "config.json").read_text(encoding="utf-8"))
    config["config"].pop("site_registration", None)
    if registration is not None:
        config["config"]["site_registration"] = registration
    (release / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return release


def test_predict_paints_the_site_maps_the_release_was_trained_with(planar_set, tmp_path):
    """A release records how the atlas was laid on its training scans; predict() paints the
    maps that way, and one without the record (trained before the fit existed) gets the
    outline registration it was trained with."""
    from boneread_ml.data.manifest import load_case_arrays, load_manifest
    from boneread_ml.data.report_sites import planar_site_maps
    from boneread_ml.predict import load_model, report_site_maps

    models = {
        name: load_model(_with_registration(tmp_path, name), optimize=False)
        for name in ("fitted", "outline", None)
    }
    assert models[None].site_registration == "outline"
    assert models["fitted"].site_registration == "fitted"
    differ = 0
    for case in load_manifest(planar_set)["cases"]:
        image, text = load_case_arrays(planar_set, case)["image"], case["report"]["text"]
        for name, model in models.items():
            maps, _ = report_site_maps(model, text, image, None)
            way = name or "outline"
            np.testing.assert_array_equal(maps, planar_site_maps(text, image, registration=way))
        a, _ = report_site_maps(models["fitted"], text, image, None)
        b, _ = report_site_maps(models["outline"], text, image, None)
        differ += not np.array_equal(a, b)
    assert differ > 0  # the two registrations do paint different maps on these scans


def test_a_release_with_an_unknown_registration_does_not_load(tmp_path):
    from boneread_ml.models.release import CheckpointError
    from boneread_ml.predict import load_model

    with pytest.raises(
        CheckpointError,
        match=r"config\.site_registration must be one of fitted, outline, got 'elastic'",
    ):
        load_model(_with_registration(tmp_path, "elastic"), optimize=False)
