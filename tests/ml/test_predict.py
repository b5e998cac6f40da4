"""The product interface: load_model (checksum) and predict (mask + lesion table)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from boneread_ml.predict import CheckpointError, ModelOutputError, Prediction, load_model, predict
from boneread_ml.training.config import load_config
from boneread_ml.training.run import train_fold
from boneread_ml.training.toy_data import make_toy_dataset

REPO = Path(__file__).resolve().parents[2]
FAST = {"input_scale": 1.0, "text": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                                     "intermediate_size": 64, "max_length": 64},
        "mt_unet": {"features": [8, 8, 16, 16, 32, 8]},
        "train": {"max_steps": 2, "batch_size": 2, "val_every": 0}}  # fmt: skip
LESION_KEYS = {
    "id",
    "label",
    "class_name",
    "probability",
    "max_counts",
    "centroid",
    "bbox",
    "region",
}


@pytest.fixture(scope="module")
def planar_release(tmp_path_factory):
    root = make_toy_dataset(tmp_path_factory.mktemp("pd"), "planar", cases=5, seed=0)
    out = tmp_path_factory.mktemp("prun")
    summary = train_fold(load_config(None, FAST), root, out, val_folds=[])
    return Path(summary["release"]), root


@pytest.fixture(scope="module")
def spectct_release(tmp_path_factory):
    root = make_toy_dataset(tmp_path_factory.mktemp("sd"), "spectct", cases=5, seed=0)
    cfg = load_config(None, {**FAST, "task": "spectct"})
    summary = train_fold(cfg, root, tmp_path_factory.mktemp("srun"), val_folds=[])
    return Path(summary["release"]), root


def test_predict_planar_returns_mask_probabilities_and_lesions(planar_release):
    release, root = planar_release
    model = load_model(release)
    images = np.load(root / "arrays/toy000.npz")["image"]
    result = predict(images, "病史：乳腺癌术后。诊断意见：骨转移。", model, spacing_mm=(2.4, 2.4))
    assert isinstance(result, Prediction)
    assert result.label_map.shape == images.shape[1:] and result.label_map.dtype == np.uint8
    assert set(np.unique(result.label_map)) <= {0, 1, 2}
    assert (
        result.probabilities.shape == (3, *images.shape[1:])
        and result.probabilities.dtype == np.float32
    )
    np.testing.assert_allclose(result.probabilities.sum(0), 1.0, atol=1e-5)
    assert result.checksum == json.loads((release / "config.json").read_text())["weights_sha256"]
    for lesion in result.lesions:
        assert LESION_KEYS | {"area_px", "area_mm2"} <= set(lesion)
        assert lesion["area_mm2"] == pytest.approx(lesion["area_px"] * 2.4 * 2.4)
        # one lesion, one class: the mask the viewer overlays says what the list says
        assert np.all(result.label_map[result.instance_map == lesion["id"]] == lesion["label"])
    assert len(result.lesions) == int(result.instance_map.max())


def _split_lesion():
    """One connected lesion whose pixels the network splits: four benign (p 0.6 benign, 0.3
    metastatic), two metastatic (0.4, 0.5); summed over it benign wins (3.2 against 2.2)."""
    from boneread_ml.evaluation.calibrate import labels_at

    probs = np.zeros((3, 8, 12), np.float32)
    probs[0] = 1.0
    probs[:, 3, 2:6] = np.array([0.1, 0.6, 0.3], np.float32)[:, None]
    probs[:, 3, 6:8] = np.array([0.1, 0.4, 0.5], np.float32)[:, None]
    label_map = labels_at(probs, 0.5)
    assert sorted(label_map[label_map > 0].tolist()) == [1, 1, 1, 1, 2, 2]  # the network's split
    return label_map, probs


def test_a_lesion_the_network_splits_takes_one_class_in_the_mask_and_the_list():
    from boneread_ml.predict import lesion_table

    label_map, probs = _split_lesion()
    instance, lesions = lesion_table(label_map, probs, np.ones((2, 8, 12), np.float32), "planar")
    assert len(lesions) == 1 and lesions[0]["label"] == 1
    # the two metastatic pixels follow the lesion's class: the viewer shows one benign lesion
    assert (label_map[instance == 1] == 1).all() and (label_map[instance == 0] == 0).all()


def test_a_split_lesion_the_report_names_benign_is_benign_in_every_pixel():
    """The report-site rule left a lesion alone when its class already was the named one, so
    its pixels of the other class stayed in the mask (and the evaluation's majority class could
    differ from the listed class)."""
    from boneread_ml.evaluation.metrics import lesion_detection
    from boneread_ml.predict import assign_report_sites, lesion_table

    label_map, probs = _split_lesion()
    probs[:, 3, 2:8] = np.array([0.1, 0.4, 0.5], np.float32)[:, None]
    probs[:, 3, 2:4] = np.array([0.1, 0.8, 0.1], np.float32)[:, None]
    label_map[3, 4:6] = 2  # two benign, four metastatic pixels; summed benign 3.2 vs 2.2
    instance, lesions = lesion_table(label_map, probs, np.ones((2, 8, 12), np.float32), "planar")
    maps = np.zeros((2, 8, 12), np.float32)
    maps[0, 2:5, 1:9] = 1.0  # the report names this place benign
    assign_report_sites(label_map, instance, lesions, probs, maps, {"min_cover": 0.5})
    assert (lesions[0]["label"], lesions[0]["class_source"]) == (1, "report_site")
    truth = np.where(instance > 0, 1, 0).astype(np.uint8)
    scored = lesion_detection(label_map, instance.astype(np.int32), truth)
    assert scored["correct_class"] == 1.0, "the pixel majority must be the listed class"


def test_empty_report_works(planar_release):
    release, root = planar_release
    model = load_model(release)
    images = np.load(root / "arrays/toy001.npz")["image"]
    result = predict(images, "", model)
    assert result.label_map.shape == images.shape[1:]


def test_predict_spectct_volume(spectct_release):
    release, root = spectct_release
    model = load_model(release)
    images = np.load(root / "arrays/toy000.npz")["image"]
    result = predict(images, "前列腺癌。诊断意见：骨转移。", model, spacing_mm=(2.0, 1.0, 1.0))
    assert result.label_map.shape == images.shape[1:]
    assert result.probabilities.shape == (3, *images.shape[1:])
    for lesion in result.lesions:
        assert LESION_KEYS | {"volume_vox", "volume_ml"} <= set(lesion)
        assert lesion["volume_ml"] == pytest.approx(lesion["volume_vox"] * 2.0 / 1000)


def test_predict_applies_the_recorded_lesion_threshold(planar_release, tmp_path):
    from boneread_ml.models.release import update_release_config

    release, root = planar_release
    images = np.load(root / "arrays/toy000.npz")["image"]
    copy = tmp_path / "thresholded"
    shutil.copytree(release, copy)
    base = predict(images, "", load_model(copy))
    update_release_config(copy, postprocess={"lesion_threshold": 1.0})  # nothing can exceed 1
    strict = predict(images, "", load_model(copy))
    np.testing.assert_array_equal(strict.probabilities, base.probabilities)
    assert strict.label_map.max() == 0 and strict.lesions == []
    update_release_config(copy, postprocess={"lesion_threshold": -1.0})  # everything is lesion
    assert predict(images, "", load_model(copy)).label_map.min() >= 1


def test_wrong_image_shape_raises(planar_release):
    model = load_model(planar_release[0])
    with pytest.raises(ValueError, match=r"\(2, H, W\)"):
        predict(np.zeros((2, 8, 64, 64), np.float32), "", model)
    with pytest.raises(ValueError, match="NaN"):
        predict(np.full((2, 64, 64), np.nan, np.float32), "", model)


class _NanSession:
    """An ONNX Runtime session whose outputs are NaN."""

    def __init__(self, session) -> None:
        self.session = session

    def run(self, names, feeds):
        return [out * np.nan for out in self.session.run(names, feeds)]


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_non_finite_network_output_is_an_error_not_a_lesion_free_study(planar_release, runtime):
    """Before: NaN probabilities compared false against the lesion threshold, so a network
    that returned NaN (the ONNX export did with an empty report, see
    test_inference_equivalence.py) gave a silent, lesion-free result."""
    if runtime == "onnxruntime":
        pytest.importorskip("onnxruntime")
    model = load_model(planar_release[0], runtime=runtime)
    images = np.load(planar_release[1] / "arrays/toy000.npz")["image"]
    if runtime == "torch":
        model.network.register_forward_hook(lambda module, inputs, out: out * float("nan"))
    else:
        model.ort.session = _NanSession(model.ort.session)
    with pytest.raises(ModelOutputError, match="non-finite probabilities"):
        predict(images, "", model)


def test_checksum_mismatch_and_missing_files_raise(planar_release, tmp_path):
    release = planar_release[0]
    bad = tmp_path / "bad"
    shutil.copytree(release, bad)
    data = bytearray((bad / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF  # flip one bit of one weight
    (bad / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_model(bad)
    (bad / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="no weights file"):
        load_model(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    notok = tmp_path / "notok"
    shutil.copytree(release, notok)
    for name in ("tokenizer.json", "vocab.txt"):
        (notok / name).unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match="tokenizer"):
        load_model(notok)


# -- the shipped checkpoints ------------------------------------------------------------------
SHIPPED = {
    "planar": REPO / "ml" / "checkpoints" / "planar",
    "spectct": REPO / "ml" / "checkpoints" / "spectct",
}
#: Lesion (any class) Dice pooled over the fixed cases; set below what the shipped weights reach
#: (docs/model-card.md) so that a broken checkpoint, preprocessing or interface fails.
#: The SPECT/CT release reaches 0.473 (6 cases) here with its lesion floor (0.30), 0.472
#: without (the two shipped before it 0.475 and 0.453); the planar release (half internal
#: resolution, site maps from the fitted atlas) 0.437 with its floor (0.35), 0.440 without
#: (10 cases; the same configuration on outline-registered maps 0.498 and 0.497; the
#: full-resolution one before it 0.420 with its floor of 0.30, 0.438 without; 1,200 steps
#: without lesion balance, 0.388; trained on 64 x 64 crops before the context comparison,
#: about 0.26).
DICE_FLOOR = {"planar": 0.35, "spectct": 0.30}
#: (cases, seed): a different seed from the training data, so never part of it
FIXED = {"planar": (10, 2024), "spectct": (6, 2024)}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["planar", "spectct"])
def test_shipped_checkpoint_finds_the_lesions_of_fixed_cases(kind, tmp_path):
    if not (SHIPPED[kind] / "config.json").exists():
        pytest.fail(f"shipped checkpoint {SHIPPED[kind]} is missing")
    manifest = pytest.importorskip(
        "boneread_ml.data.manifest", reason="phantom generator not installed"
    )
    cases, seed = FIXED[kind]
    root = Path(manifest.generate(kind, cases, seed, tmp_path / kind, dicom=False))
    model = load_model(SHIPPED[kind])
    tp = fp = fn = 0
    for case in manifest.load_manifest(root)["cases"]:
        arrays = manifest.load_case_arrays(root, case)
        # with the spacing, as the worker calls it (a SPECT/CT model reads the report's sites
        # on the CT with it)
        result = predict(
            arrays["image"], case["report"]["text"], model, spacing_mm=arrays.get("spacing_mm")
        )
        pred, truth = result.label_map > 0, arrays["label"] > 0
        tp += int(np.sum(pred & truth))
        fp += int(np.sum(pred & ~truth))
        fn += int(np.sum(~pred & truth))
    assert tp + fn > 0, "the fixed cases have no lesions; pick another seed"
    lesion_dice = 2 * tp / (2 * tp + fp + fn)
    assert lesion_dice >= DICE_FLOOR[kind], (
        f"{kind} lesion Dice {lesion_dice:.3f} < floor {DICE_FLOOR[kind]}"
    )


#: Metastatic Dice pooled over the fixed planar cases. The shipped planar release (half
#: internal resolution, 3,600 lesion-balanced steps, site maps from the fitted atlas) reaches
#: 0.378 with its lesion floor (0.35), 0.369 without, with or without its report-site class rule
#: (postprocess.site_rule); the same configuration on outline-registered maps 0.372 and 0.366
#: (0.367 and 0.362 before every pixel of a lesion took the lesion's class, 2026-12-06); the
#: full-resolution release before it 0.414 with its floor (0.30), 0.403 without; the one before
#: that 0.259 with the rule and 0.171 without; the weights shipped before the report's site maps
#: 0.02-0.06 on such sets.
METASTATIC_DICE_FLOOR = 0.30
#: Share of the detected lesions whose class follows a one-sentence report that names the
#: lesion's region as metastatic, then as benign, every stated lesion kept (no floor): the
#: shipped planar release 34 of 34 (29 of 29 with its floor), the same weights without the site
#: rule 25 of 34 (0.74): the network follows the report's sites largely by itself (they are
#: among its inputs), so whether the release still has its rule is checked directly below. The
#: same configuration on outline-registered maps 33 of 36 (31 of 36 without the rule); the
#: full-resolution release before it 17 of 22 (14 of 22 without the rule); the one before that
#: 24 of 31 (17 of 31 without the rule).
FOLLOWS_REPORT_FLOOR = 0.70


def _majority_class(label_map: np.ndarray, where: np.ndarray) -> int:
    hit = label_map[where]
    hit = hit[hit > 0]
    return int(np.bincount(hit).argmax()) if hit.size else 0


@pytest.mark.slow
def test_shipped_planar_model_segments_metastases_and_follows_the_reports_sites(tmp_path):
    """The planar model's metastatic Dice, and the swap test: the same lesion named metastatic
    by one report and benign by another must change class with the report."""
    manifest = pytest.importorskip("boneread_ml.data.manifest")
    cases, seed = FIXED["planar"]
    root = Path(manifest.generate("planar", cases, seed, tmp_path / "planar", dicom=False))
    model = load_model(SHIPPED["planar"])
    # the swap test reads every lesion the network states (as it was set up for the release
    # before, whose floor left too few uncertain lesions, where the class rule matters)
    every = load_model(SHIPPED["planar"])
    every.config["postprocess"].pop("lesion_floor", None)
    # the release keeps the report-site class rule of its config (planar.yaml)
    assert model.site_rule == {"min_cover": 0.5}
    tp = fp = fn = 0
    follows = detected = 0
    for case in manifest.load_manifest(root)["cases"]:
        arrays = manifest.load_case_arrays(root, case)
        result = predict(arrays["image"], case["report"]["text"], model)
        pred, truth = result.label_map == 2, arrays["label"] == 2
        tp += int(np.sum(pred & truth))
        fp += int(np.sum(pred & ~truth))
        fn += int(np.sum(~pred & truth))
        for les in case["lesions"]:
            where = arrays["instance"] == les["id"]
            for cls, words in ((2, "考虑骨转移"), (1, "考虑退行性变")):
                text = f"检查所见：{les['region']}见异常放射性浓聚，{words}。"
                got = _majority_class(predict(arrays["image"], text, every).label_map, where)
                if got:
                    detected += 1
                    follows += int(got == cls)
    metastatic_dice = 2 * tp / (2 * tp + fp + fn)
    assert metastatic_dice >= METASTATIC_DICE_FLOOR, f"metastatic Dice {metastatic_dice:.3f}"
    assert detected >= 10, "too few lesions detected to test the swap; pick another seed"
    assert follows / detected >= FOLLOWS_REPORT_FLOOR, f"{follows}/{detected} follow the report"


def test_postprocess_hash_is_canonical_and_follows_every_setting():
    """A model version's post-processing identity: same settings in any key order give the
    same hash, a missing section equals an empty one, any changed value gives another."""
    from boneread_ml.models.release import postprocess_sha256

    a = {"postprocess": {"lesion_threshold": 0.9, "site_rule": {"min_cover": 0.5}}}
    b = {"postprocess": {"site_rule": {"min_cover": 0.5}, "lesion_threshold": 0.9}}
    assert postprocess_sha256(a) == postprocess_sha256(b)
    assert postprocess_sha256({}) == postprocess_sha256({"postprocess": {}})
    assert postprocess_sha256(a) != postprocess_sha256({"postprocess": {"lesion_threshold": 0.9}})
    changed = {"postprocess": {"lesion_threshold": 0.9, "site_rule": {"min_cover": 0.6}}}
    assert postprocess_sha256(a) != postprocess_sha256(changed)


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_flip_average_reads_the_mirrored_scan_with_the_reports_sides_exchanged(
    planar_release, tmp_path, runtime
):
    """postprocess.flip_average: the softmax is the mean of the scan's and of the mirrored
    scan's (read with 左 and 右 exchanged), mirrored back; the lesions come from that mean."""
    from boneread_ml.data.datasets import swap_sides
    from boneread_ml.evaluation.calibrate import labels_at
    from boneread_ml.models.release import update_release_config

    if runtime == "onnxruntime":
        pytest.importorskip("onnxruntime")
    release, root = planar_release
    images = np.load(root / "arrays/toy000.npz")["image"]
    report = "左侧第5肋骨放射性浓聚，右侧髂骨放射性浓聚，考虑骨转移。"
    plain = load_model(release, runtime=runtime)
    base = predict(images, report, plain).probabilities
    mirrored = predict(images[..., ::-1], swap_sides(report), plain).probabilities[..., ::-1]
    # the two readings differ, so the mean below is not either one of them
    assert np.abs(base - mirrored).max() > 1e-4
    copy = tmp_path / "flip"
    shutil.copytree(release, copy)
    update_release_config(copy, postprocess={"flip_average": True})
    averaged = predict(images, report, load_model(copy, runtime=runtime))
    np.testing.assert_allclose(averaged.probabilities, 0.5 * (base + mirrored), atol=1e-6)
    expected_labels = labels_at(averaged.probabilities, load_model(copy).lesion_threshold)
    np.testing.assert_array_equal(averaged.label_map > 0, expected_labels > 0)
    for lesion in averaged.lesions:  # each lesion's class: the larger summed mean probability
        where = averaged.instance_map == lesion["id"]
        benign, metastatic = (averaged.probabilities[c][where].sum() for c in (1, 2))
        assert lesion["label"] == (1 if benign >= metastatic else 2)
        assert (averaged.label_map[where] == lesion["label"]).all()
    # with the sides left as they are, the mirrored reading is another one
    unswapped = predict(images[..., ::-1], report, plain).probabilities[..., ::-1]
    assert np.abs(averaged.probabilities - 0.5 * (base + unswapped)).max() > 1e-6


@pytest.mark.parametrize(
    ("task", "value", "message"),
    [
        ("planar", "yes", r"postprocess\.flip_average must be true or false, got 'yes'"),
        ("planar", 1, r"postprocess\.flip_average must be true or false, got 1"),
        ("spectct", True, r"postprocess\.flip_average is for planar scans.*'spectct'"),
    ],
)
def test_a_flip_average_setting_predict_cannot_apply_stops_the_load(task, value, message):
    from boneread_ml.models.release import check_postprocess

    check_postprocess({"task": "planar", "postprocess": {"flip_average": True}})
    check_postprocess({"task": "spectct", "postprocess": {"flip_average": False}})
    with pytest.raises(CheckpointError, match=message):
        check_postprocess({"task": task, "postprocess": {"flip_average": value}})


def test_recalibrating_a_release_keeps_its_flip_average(planar_release, tmp_path):
    """calibrate_release refits the threshold with the flip average in effect and keeps the
    setting (it wrote the postprocess section without it: a probe then evaluated the plain
    network at the threshold fitted for the averaged one)."""
    from boneread_ml.data.manifest import load_manifest
    from boneread_ml.evaluation.calibrate import calibrate_release
    from boneread_ml.models.release import update_release_config

    release, root = planar_release
    copy = tmp_path / "flip"
    shutil.copytree(release, copy)
    update_release_config(copy, postprocess={"flip_average": True})
    section = calibrate_release(copy, root, load_manifest(root)["cases"][:3])
    assert section["flip_average"] is True
    assert load_model(copy).flip_average
