"""Where a SPECT/CT report puts each finding, read on the study's own CT: the site maps, the
training items that carry them and predict() with a network that reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from boneread_ml.ct_regions import read_ct_anatomy
from boneread_ml.data.datasets import SegmentationDataset, swap_sides
from boneread_ml.data.phantom.regions import code
from boneread_ml.data.report_sites import spectct_site_maps

RIB_FRACTURE = "检查所见：左侧第5肋见点状放射性浓聚，考虑骨折。"
L3_METASTASIS = "检查所见：第3腰椎见放射性浓聚，考虑骨转移。"


def _bones() -> np.ndarray:
    """Region codes of a small CT: left rib 5 (numbered), a left rib the CT reading could not
    number, right rib 5 and L3, each on slices of its own."""
    regions = np.zeros((16, 24, 24), np.int16)
    regions[1:3, 4:6, 4:8] = code("rib_l5")
    regions[5:7, 4:6, 4:8] = -code("rib_l1")  # a left rib, number unknown
    regions[9:11, 4:6, 16:20] = code("rib_r5")
    regions[13:15, 10:14, 10:14] = code("spine_l3")
    return regions


def test_each_named_bone_is_painted_under_the_class_the_report_gives_it():
    regions = _bones()
    maps = spectct_site_maps(RIB_FRACTURE + L3_METASTASIS, regions, dilate=1)
    assert maps.shape == (2, *regions.shape) and maps.dtype == np.float32
    benign, metastatic = maps
    assert benign[regions == code("rib_l5")].min() == 1.0
    # a left rib of unknown number may be the one named: half weight; the right rib: nothing
    assert benign[regions == -code("rib_l1")].max() == 0.5
    assert benign[regions == code("rib_r5")].max() == 0.0
    assert metastatic[regions == code("spine_l3")].min() == 1.0
    assert metastatic[regions == code("rib_l5")].max() == 0.0
    assert benign[regions == code("spine_l3")].max() == 0.0
    # grown by one voxel around the bone (a lytic lesion has no bone left), no further
    assert benign[0, 4, 4] == 1.0 and benign[3, 4, 4] == 1.0 and benign[4, 4, 4] == 0.5
    assert benign[1, 4, 10] == 0.0


def test_swapped_sides_move_the_benign_map_to_the_other_rib():
    regions = _bones()
    swapped = spectct_site_maps(swap_sides(RIB_FRACTURE), regions, dilate=0)[0]
    assert swapped[regions == code("rib_r5")].min() == 1.0
    assert swapped[regions == code("rib_l5")].max() == 0.0
    assert swapped[regions == -code("rib_l1")].max() == 0.0


def test_no_sites_no_bones_or_a_wrong_shape():
    regions = _bones()
    assert not spectct_site_maps("", regions).any()
    assert not spectct_site_maps("检查所见：全身骨骼未见明显异常。", regions).any()
    assert not spectct_site_maps(L3_METASTASIS, np.zeros_like(regions)).any()
    with pytest.raises(ValueError, match=r"\(D, H, W\) volume, got shape \(24, 24\)"):
        spectct_site_maps(L3_METASTASIS, regions[0])


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    """Six generated SPECT/CT cases (no DICOM): enough findings the reports describe."""
    from boneread_ml.data.manifest import generate

    return generate("spectct", 6, 21, tmp_path_factory.mktemp("spect_sites"), dicom=False)


def _described_lesions(root, manifest):
    for case in manifest.load_manifest(root)["cases"]:
        arrays = manifest.load_case_arrays(root, case)
        for les in case["lesions"]:
            if les["id"] not in case["report"]["omitted_lesions"]:
                yield case, arrays, les


def test_phantom_lesions_lie_under_the_map_of_their_own_class(phantom):
    from boneread_ml.data import manifest

    own = other = 0
    for case, arrays, les in _described_lesions(phantom, manifest):
        anatomy = read_ct_anatomy(arrays["image"][1], arrays["spacing_mm"])
        maps = spectct_site_maps(case["report"]["text"], anatomy.regions)
        voxels = arrays["instance"] == les["id"]
        mine, theirs = maps[les["label"] - 1][voxels].mean(), maps[2 - les["label"]][voxels].mean()
        own += mine > theirs
        other += mine < theirs
    assert own >= 3 and other == 0


def test_training_items_carry_the_slice_of_the_maps_and_flip_with_the_report(phantom):
    from boneread_ml.data import manifest

    cases = manifest.load_manifest(phantom)["cases"]
    plain = SegmentationDataset(phantom, cases, "spectct", site_maps=True, seed=0)
    flipped = SegmentationDataset(
        phantom, cases, "spectct", site_maps=True, augment=True, flip_prob=1.0, seed=0
    )
    whole = {}
    for case in cases:
        arrays = manifest.load_case_arrays(phantom, case)
        anatomy = read_ct_anatomy(arrays["image"][1], arrays["spacing_mm"])
        whole[case["case_id"]] = spectct_site_maps(case["report"]["text"], anatomy.regions)
    served = 0
    for index in range(len(plain)):
        item = plain[index]
        if not item["label"].any():
            continue
        maps = whole[item["case_id"]]
        # the item's axial position (extent's first row) is the slice of the volume it is
        depth = maps.shape[1]
        z = round((float(item["extent"][0, 0]) + 1.0) * (depth - 1) / 2.0)
        np.testing.assert_array_equal(item["site_maps"].numpy(), maps[:, z])
        mirrored = flipped[index]
        assert mirrored["text"] == swap_sides(item["text"])
        assert torch.equal(mirrored["site_maps"], item["site_maps"].flip(-1))
        served += bool(item["site_maps"].any())
    assert served >= 3


@pytest.fixture(scope="module")
def site_map_release(phantom, tmp_path_factory):
    from boneread_ml.training.config import load_config
    from boneread_ml.training.run import train_fold

    cfg = load_config(
        None,
        {"task": "spectct", "input_scale": 1.0,
         "text": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                  "intermediate_size": 64, "max_length": 128},
         "mt_unet": {"features": [8, 8, 16, 16, 32, 8], "site_maps": True, "site_prior": 3.0},
         "train": {"max_steps": 2, "batch_size": 2, "val_every": 0, "crop_size": [64, 64],
                   "calibrate_cases": 0}},
    )  # fmt: skip
    from boneread_ml.models.release import update_release_config

    summary = train_fold(cfg, phantom, tmp_path_factory.mktemp("sites"), val_folds=[])
    # an untrained network states thousands of specks; the probabilities are what is tested
    update_release_config(summary["release"], postprocess={"lesion_threshold": 1.0})
    return summary["release"]


def test_predict_puts_the_class_where_the_report_names_it(phantom, site_map_release):
    from boneread_ml.data import manifest
    from boneread_ml.predict import load_model, predict

    # torch here; ONNX Runtime with the maps: tests/ml/test_inference_equivalence.py
    model = load_model(site_map_release, runtime="torch")
    assert model.network.site_map_channels == 2
    case = manifest.load_manifest(phantom)["cases"][0]
    arrays = manifest.load_case_arrays(phantom, case)
    spacing = arrays["spacing_mm"]
    regions = read_ct_anatomy(arrays["image"][1], spacing).regions
    vertebra = next(k for k in (f"spine_l{n}" for n in range(1, 6)) if (regions == code(k)).any())
    name = f"第{vertebra[-1]}腰椎"
    named = regions == code(vertebra)

    def margin(text: str) -> float:
        p = predict(arrays["image"], text, model, spacing_mm=spacing).probabilities
        return float((p[2] - p[1])[named].mean())

    as_metastasis = margin(f"检查所见：{name}见放射性浓聚，考虑骨转移。")
    as_benign = margin(f"检查所见：{name}见放射性浓聚，考虑退行性变。")
    assert as_metastasis - as_benign > 0.2
    # a report that names sites cannot be read without the spacing: refused, not ignored
    with pytest.raises(ValueError, match="needs the voxel spacing"):
        predict(arrays["image"], f"{name}见放射性浓聚，考虑骨转移。", model)
    # a CT that does not lie as the reading assumes: the report's text only, no sites placed
    unplaced = predict(
        arrays["image"], f"检查所见：{name}见放射性浓聚，考虑骨转移。", model, ct_sites=False
    ).probabilities
    empty_maps = predict(arrays["image"], "", model).probabilities
    assert float((unplaced[2] - unplaced[1])[named].mean()) < as_metastasis - 0.2
    assert not np.allclose(unplaced, empty_maps)  # the text itself still reaches the network
    # one that names none needs no CT reading
    assert predict(arrays["image"], "", model).label_map.shape == arrays["label"].shape


def test_onnx_runtime_reads_the_maps_as_torch_does(phantom, site_map_release):
    """The product path (the image network in ONNX Runtime) takes the maps as a fourth input."""
    pytest.importorskip("onnxruntime")
    from boneread_ml.data import manifest
    from boneread_ml.predict import load_model, predict

    case = manifest.load_manifest(phantom)["cases"][0]
    arrays = manifest.load_case_arrays(phantom, case)
    text = "检查所见：第2腰椎见放射性浓聚，考虑骨转移。右侧第10肋见点状浓聚，考虑骨折。"
    ort = load_model(site_map_release)
    assert ort.runtime == "onnxruntime" and "site_maps" in ort.ort.spec.inputs
    eager = load_model(site_map_release, runtime="torch", optimize=False)
    got = predict(arrays["image"], text, ort, spacing_mm=arrays["spacing_mm"]).probabilities
    want = predict(arrays["image"], text, eager, spacing_mm=arrays["spacing_mm"]).probabilities
    assert float(np.abs(got - want).max()) <= 1e-4
    # and the maps do reach the network: without the report's sites the output differs
    plain = predict(arrays["image"], "", ort).probabilities
    assert float(np.abs(got - plain).max()) > 1e-3


def test_the_coverage_script_counts_every_lesion_once(phantom, tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))
    import site_map_coverage

    out = tmp_path / "coverage.json"
    assert site_map_coverage.main(["--data-root", str(phantom), "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    d, o = record["described"], record["omitted"]
    assert d["own"] + d["other"] - d["own_and_other"] + d["neither"] == d["lesions"] >= 3
    assert d["own"] >= 3 and d["other"] - d["own_and_other"] == 0
    assert record["cases"] == 6 and record["data_seed"] == 21 and o["covered"] <= o["lesions"]


def test_the_report_site_rule_relabels_a_spectct_lesion_in_a_named_bone():
    """The rule works on volumes: a lesion inside the bone the report names takes its class
    (the planar-only code took a 3-D bounding box for a 2-D one and failed)."""
    from boneread_ml.predict import assign_report_sites, lesion_table

    regions = _bones()
    maps = spectct_site_maps(L3_METASTASIS + RIB_FRACTURE, regions, dilate=1)
    probs = np.zeros((3, *regions.shape), np.float32)
    probs[0] = 1.0
    # the network calls the L3 lesion benign and the rib lesion metastatic: both wrong
    for where, cls in (((slice(13, 15), slice(10, 13), slice(10, 13)), 1),
                       ((slice(1, 3), slice(4, 6), slice(4, 7)), 2)):  # fmt: skip
        probs[0][where], probs[cls][where] = 0.1, 0.9
    label_map = np.argmax(probs, axis=0).astype(np.uint8)
    images = np.zeros((2, *regions.shape), np.float32)
    instance, lesions = lesion_table(label_map, probs, images, "spectct")
    assert sorted(les["label"] for les in lesions) == [1, 2]
    assign_report_sites(label_map, instance, lesions, probs, maps, {"min_cover": 0.5})
    by_bone = {les["bbox"][0]: les for les in lesions}  # first slice: 13 (L3) or 1 (rib)
    assert by_bone[13]["label"] == 2 and by_bone[13]["class_source"] == "report_site"
    assert by_bone[1]["label"] == 1 and by_bone[1]["class_source"] == "report_site"
    assert (label_map[13:15, 10:13, 10:13] == 2).all() and (label_map[1:3, 4:6, 4:7] == 1).all()
    np.testing.assert_allclose(probs[2][13:15, 10:13, 10:13], 0.9)  # 1 - p(background)


def test_the_site_rule_alone_makes_predict_read_the_sites_on_the_ct(phantom):
    """A SPECT/CT network without map channels still gets the maps when its release applies the
    report-site rule; without rule or channels the CT is not read for them."""
    from types import SimpleNamespace

    from boneread_ml.data import manifest
    from boneread_ml.predict import report_site_maps

    case = manifest.load_manifest(phantom)["cases"][0]
    arrays = manifest.load_case_arrays(phantom, case)
    text = "检查所见：第2腰椎见放射性浓聚，考虑骨转移。"

    def model(rule):
        network = SimpleNamespace(site_map_channels=0)
        return SimpleNamespace(network=network, site_rule=rule, tokenizer=object(), task="spectct")

    assert report_site_maps(model(None), text, arrays["image"], arrays["spacing_mm"]) == (
        None,
        None,
    )
    maps, anatomy = report_site_maps(
        model({"min_cover": 0.5}), text, arrays["image"], arrays["spacing_mm"]
    )
    assert maps.shape == (2, *arrays["label"].shape) and maps[1].max() == 1.0
    assert anatomy is not None and not maps[0].any()
    with pytest.raises(ValueError, match="needs the voxel spacing"):
        report_site_maps(model({"min_cover": 0.5}), text, arrays["image"])


def test_training_serves_the_maps_and_keeps_the_site_rule(phantom, tmp_path):
    """train_fold built SPECT/CT site-map networks but served no maps (the planar-only check
    of run.py), so their map channels never learned; and it dropped a SPECT/CT site_rule from
    the release."""
    import json

    from boneread_ml.training.config import load_config
    from boneread_ml.training.run import train_fold, uses_site_maps

    tiny = {"task": "spectct", "input_scale": 1.0,
            "text": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "intermediate_size": 64, "max_length": 128},
            "mt_unet": {"features": [8, 8, 16, 16, 32, 8]},
            "train": {"max_steps": 1, "batch_size": 2, "val_every": 0, "crop_size": [64, 64],
                      "calibrate_cases": 0}}  # fmt: skip
    maps = load_config(None, {**tiny, "mt_unet": {**tiny["mt_unet"], "site_maps": True}})
    assert uses_site_maps(maps, "mt_unet") and not uses_site_maps(maps, "mt_unet_no_text")
    ruled = load_config(None, {**tiny, "postprocess": {"site_rule": {"min_cover": 0.5}}})
    summary = train_fold(ruled, phantom, tmp_path / "rule", val_folds=[])
    config = json.loads((Path(summary["release"]) / "config.json").read_text(encoding="utf-8"))
    assert config["postprocess"]["site_rule"] == {"min_cover": 0.5}
    no_text = train_fold({**ruled, "model": "mt_unet_no_text"}, phantom, tmp_path / "nt",
                         val_folds=[])  # fmt: skip
    config = json.loads((Path(no_text["release"]) / "config.json").read_text(encoding="utf-8"))
    assert "site_rule" not in (config.get("postprocess") or {})
