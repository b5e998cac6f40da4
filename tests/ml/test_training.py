"""A few training steps and an evaluation run, end to end on toy data (seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from boneread_ml.cli.main import main
from boneread_ml.data.datasets import (
    SegmentationDataset,
    case_texts,
    read_manifest,
    shuffled_texts,
    split_cases,
)
from boneread_ml.training.config import load_config, parse_override
from boneread_ml.training.run import train_fold
from boneread_ml.training.toy_data import make_toy_dataset

FAST = {"input_scale": 1.0, "text": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                                     "intermediate_size": 64, "max_length": 64},
        "mt_unet": {"features": [8, 8, 16, 16, 32, 8]},
        "train": {"max_steps": 3, "batch_size": 2, "val_every": 0, "num_threads": 2}}  # fmt: skip


@pytest.fixture(scope="module")
def planar_root(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("planar"), "planar", cases=10, seed=0)


@pytest.fixture(scope="module")
def spectct_root(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("spectct"), "spectct", cases=6, seed=0)


def test_folds_split_by_patient_and_text_modes(planar_root):
    cases = read_manifest(planar_root)["cases"]
    train, val = split_cases(cases, [0])
    assert {c["fold"] for c in val} == {0} and len(train) + len(val) == len(cases)
    assert not {c["patient_id"] for c in train} & {c["patient_id"] for c in val}
    own = case_texts(cases, "report")
    shuffled = case_texts(cases, "shuffled", seed=1)
    assert sorted(shuffled) == sorted(own)
    distinct = [f"report {i}" for i in range(7)]
    deranged = shuffled_texts(distinct, seed=3)
    assert sorted(deranged) == distinct and all(
        a != b for a, b in zip(distinct, deranged, strict=True)
    )
    assert case_texts(cases, "none") == [""] * len(cases)
    bad = [dict(cases[0], fold=0), dict(cases[0], fold=1)]
    with pytest.raises(ValueError, match="both training and validation"):
        split_cases(bad, [0])
    with pytest.raises(FileNotFoundError, match="boneread-ml synth"):
        read_manifest(planar_root / "nowhere")


def test_spectct_dataset_serves_lesion_slices(spectct_root):
    cases = read_manifest(spectct_root)["cases"]
    ds = SegmentationDataset(spectct_root, cases, "spectct", background_slices=2)
    item = ds[0]
    assert item["image"].shape == (2, 32, 32) and item["label"].shape == (32, 32)
    lesion_slices = sum(int(ds[i]["label"].max() > 0) for i in range(len(ds)))
    assert lesion_slices >= len(ds) - 2 * len(cases)
    # each slice carries its axial position [z, z] ahead of its in-plane extent
    z = [ds[i]["extent"][0].tolist() for i in range(len(ds)) if ds.items[i].case_index == 0]
    assert ds[0]["extent"].shape == (3, 2) and all(a == b for a, b in z)
    assert len({a for a, _ in z}) == len(z) and all(-1.0 <= a <= 1.0 for a, _ in z)
    assert [a for a, _ in z] == sorted(a for a, _ in z)
    assert ds[0]["case_classes"].tolist() == [
        float((np.load(spectct_root / cases[0]["arrays"])["label"] == k).any()) for k in (1, 2)
    ]


def test_cli_train_then_evaluate_end_to_end(planar_root, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(json.dumps(FAST))  # JSON is YAML
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--data-root", str(planar_root), "--out", str(out),
                 "--fold", "0", "--set", "train.max_steps=4", "--set", "train.val_every=2"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["best_val_mean_class_dice"] is not None
    release = out / "release"
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {
        p.name for p in release.iterdir()
    }
    assert json.loads((release / "config.json").read_text())["command"].startswith(
        "boneread-ml train"
    )
    ev = tmp_path / "eval"
    assert main(["evaluate", "--data-root", str(planar_root), "--folds", "0", "1", "--out", str(ev),
                 "--checkpoint", str(release), "--checkpoint", str(release), "--name", "a", "--name", "b",
                 "--n-boot", "200"]) == 0  # fmt: skip
    for name in (
        "summary.csv",
        "summary.md",
        "per_case.csv",
        "comparison.md",
        "dice_ci.png",
        "roc_metastatic.png",
    ):
        assert (ev / name).exists(), name
    results = json.loads((ev / "results.json").read_text())
    assert results["cases"] == 4 and results["comparison"][0]["mean_class_dice_difference"] == 0.0


def test_training_reduces_the_loss_and_is_seeded(planar_root, tmp_path):
    cfg = load_config(None, FAST)
    cfg = load_config(None, {**cfg, "train": {**cfg["train"], "max_steps": 12}})
    a = train_fold(cfg, planar_root, tmp_path / "a", val_folds=[0])
    b = train_fold(cfg, planar_root, tmp_path / "b", val_folds=[0])
    losses = [h["loss"] for h in a["history"]]
    assert losses[-1] < losses[0]
    assert losses == [h["loss"] for h in b["history"]]  # same seed, same run


def test_resume_continues_from_last_checkpoint(planar_root, tmp_path):
    cfg = load_config(None, FAST)
    train_fold(cfg, planar_root, tmp_path / "r", val_folds=[0])
    ckpt = torch.load(tmp_path / "r" / "last.pt", weights_only=False)
    assert ckpt["step"] == 3 and {"model", "optimizer", "epoch", "config", "build_args"} <= set(
        ckpt
    )
    cfg2 = load_config(None, {**cfg, "train": {**cfg["train"], "max_steps": 5}})
    summary = train_fold(cfg2, planar_root, tmp_path / "r", val_folds=[0], resume=True)
    assert summary["steps"] == 5


def test_freeze_and_transfer_learning(planar_root, spectct_root, tmp_path):
    cfg = load_config(None, FAST)
    src = train_fold(cfg, planar_root, tmp_path / "src", val_folds=[0])
    frozen = load_config(None, {**cfg, "task": "spectct",
                                "train": {**cfg["train"], "init_from": src["release"], "freeze": ["text_encoder"]}})  # fmt: skip
    train_fold(frozen, spectct_root, tmp_path / "dst", val_folds=[0])
    from safetensors.torch import load_file

    before = load_file(f"{src['release']}/model.safetensors")
    after = load_file(f"{tmp_path}/dst/release/model.safetensors")
    key = "text_encoder.bert.embeddings.word_embeddings.weight"
    torch.testing.assert_close(before[key], after[key])  # frozen and transferred
    assert not torch.equal(before["conv_0.conv_0.conv.weight"], after["conv_0.conv_0.conv.weight"])


def test_config_errors_and_overrides(tmp_path):
    assert parse_override("train.max_steps=50") == {"train": {"max_steps": 50}}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_override("nonsense")
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle: unet\n")
    with pytest.raises(ValueError, match="unknown config keys"):
        load_config(bad)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("key", "good", "bad", "message"),
    [
        ("site_rule", {"min_cover": 0.5}, {"min_cover": 2},
         r"site_rule\.min_cover must be a number in \(0, 1\]"),
        ("site_gate", {"min_cover": 0.5, "min_probability": 0.4},
         {"min_cover": 0.5, "min_probability": -0.1},
         r"site_gate\.min_probability must be a number in \[0, 1\]"),
    ],
)  # fmt: skip
def test_a_report_site_setting_must_fit_the_model_it_configures(key, good, bad, message):
    site_maps = {**FAST, "mt_unet": {**FAST["mt_unet"], "site_maps": True}}
    assert load_config(None, {**site_maps, "postprocess": {key: good}})["postprocess"][key] == good
    with pytest.raises(ValueError, match=message):
        load_config(None, {**site_maps, "postprocess": {key: bad}})
    with pytest.raises(ValueError, match=f"{key} needs task planar with mt_unet.site_maps"):
        load_config(None, {**FAST, "postprocess": {key: good}})
    spectct = {**site_maps, "task": "spectct", "postprocess": {key: good}}
    if key == "site_rule":  # read on the CT: any SPECT/CT text model can apply the rule
        assert load_config(None, spectct)["postprocess"][key] == good
        assert load_config(None, {**FAST, "task": "spectct", "postprocess": {key: good}})
    else:  # the gate: planar site-map models only
        with pytest.raises(ValueError, match=f"{key} needs task planar"):
            load_config(None, spectct)


def test_the_configs_site_rule_and_gate_reach_the_release_through_calibration(
    planar_root, tmp_path
):
    from boneread_ml.predict import load_model

    rule = {"min_cover": 0.6}
    gate = {"min_cover": 0.5, "min_probability": 0.3}
    cfg = load_config(
        None,
        {**FAST, "mt_unet": {**FAST["mt_unet"], "site_maps": True},
         "postprocess": {"site_rule": rule, "site_gate": gate},
         "train": {**FAST["train"], "calibrate_cases": 4}},
    )  # fmt: skip
    text = train_fold(cfg, planar_root, tmp_path / "text", val_folds=[0])
    postprocess = json.loads((Path(text["release"]) / "config.json").read_text())["postprocess"]
    assert postprocess["site_rule"] == rule and "lesion_threshold" in postprocess
    assert postprocess["site_gate"] == gate
    loaded = load_model(text["release"], optimize=False)
    assert (loaded.site_rule, loaded.site_gate) == (rule, gate)
    # the registration its maps were painted with is recorded, so predict() paints the same
    assert loaded.site_registration == cfg["site_registration"] == "fitted"
    # the image-only ablation of the same config cannot read site maps: no rule in its release
    no_text = train_fold({**cfg, "model": "mt_unet_no_text", "site_registration": "outline"},
                         planar_root, tmp_path / "no_text", val_folds=[0])  # fmt: skip
    released = json.loads((Path(no_text["release"]) / "config.json").read_text())
    assert not {"site_rule", "site_gate"} & set(released.get("postprocess") or {})
    assert load_model(no_text["release"], optimize=False).site_registration == "outline"


def test_toy_data_is_deterministic(tmp_path):
    a = make_toy_dataset(tmp_path / "a", cases=2, seed=5)
    b = make_toy_dataset(tmp_path / "b", cases=2, seed=5)
    np.testing.assert_array_equal(
        np.load(a / "arrays/toy000.npz")["image"], np.load(b / "arrays/toy000.npz")["image"]
    )


def test_crops_are_centred_on_lesions_and_carry_their_extent(planar_root):
    cases = read_manifest(planar_root)["cases"]
    ds = SegmentationDataset(
        planar_root, cases, "planar", crop_size=(32, 64), lesion_crop_prob=1.0, seed=0
    )
    for i in range(len(ds)):
        item = ds[i]
        assert item["image"].shape == (2, 32, 64) and item["label"].shape == (32, 64)
        assert item["label"].max() > 0  # every crop holds a lesion at lesion_crop_prob=1
        (r0, r1), (c0, c1) = item["extent"].tolist()
        assert -1.0 <= r0 < r1 <= 1.0 and (c0, c1) == (
            -1.0,
            1.0,
        )  # full width: columns span the image
        assert (r1 - r0) == pytest.approx(2.0 * 31 / 127)
    whole = SegmentationDataset(planar_root, cases, "planar")[0]
    assert whole["extent"].tolist() == [[-1.0, 1.0], [-1.0, 1.0]]


def test_five_fold_cross_validation_trains_one_model_per_fold(planar_root, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    fast = {**FAST, "train": {**FAST["train"], "max_steps": 1, "calibrate_cases": 0}}
    cfg.write_text(json.dumps(fast))
    out = tmp_path / "cv"
    assert (
        main(
            [
                "train",
                "--config",
                str(cfg),
                "--data-root",
                str(planar_root),
                "--out",
                str(out),
                "--cv",
            ]
        )
        == 0
    )
    summaries = json.loads((out / "cv_summary.json").read_text())
    assert [s["val_folds"] for s in summaries] == [[0], [1], [2], [3], [4]]
    assert all((out / f"fold{k}" / "release" / "model.safetensors").exists() for k in range(5))
