"""Lesion-balanced training: crops centred per lesion, and every lesion weighing alike in the loss.

The planar FROC (docs/results/planar-lesion-floor) showed the network missing most small lesions
off the spine; training drew a lesion crop's centre from all lesion pixels (a 400-pixel lesion
centred 100x as often as a 4-pixel one) and weighed the cross-entropy per pixel.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from boneread_ml.data.datasets import SegmentationDataset, TextCollate, read_manifest
from boneread_ml.models.tokenizer import build_tokenizer
from boneread_ml.training.config import load_config
from boneread_ml.training.losses import SegmentationLoss

BIG, SMALL = 1, 2  # lesion ids


@pytest.fixture(scope="module")
def two_lesion_root(tmp_path_factory):
    """One 64 x 96 planar case: a 20 x 20 lesion at the left, a 2 x 2 lesion at the right."""
    root = tmp_path_factory.mktemp("two_lesions")
    (root / "arrays").mkdir()
    image = np.full((2, 64, 96), 10.0, np.float32)
    label = np.zeros((64, 96), np.int64)
    instance = np.zeros((64, 96), np.int32)
    label[20:40, 5:25], instance[20:40, 5:25] = 2, BIG
    label[30:32, 80:82], instance[30:32, 80:82] = 1, SMALL
    image[:, label > 0] = 40.0
    np.savez(root / "arrays/c0.npz", image=image, label=label, instance=instance)
    case = {"case_id": "c0", "patient_id": "p0", "fold": 0, "arrays": "arrays/c0.npz",
            "report": {"text": "左侧骨盆转移。"}}  # fmt: skip
    (root / "manifest.json").write_text(json.dumps({"cases": [case]}), encoding="utf-8")
    return root


def _centred_share(root, crop_by: str, draws: int = 400) -> float:
    """Share of lesion-centred 8 x 8 crops that hold the small lesion (they cannot hold both)."""
    cases = read_manifest(root)["cases"]
    ds = SegmentationDataset(
        root, cases, "planar", crop_size=(8, 8), lesion_crop_prob=1.0, seed=3,
        lesion_crop_by=crop_by,
    )  # fmt: skip
    small = 0
    for _ in range(draws):
        label = ds[0]["label"].numpy()
        assert label.any()  # every crop is centred on a lesion
        small += int((label == 1).any())
    return small / draws


def test_lesion_crops_centre_each_lesion_equally_often_not_each_pixel(two_lesion_root):
    # by pixel the 4-pixel lesion is centred 4 / 404 of the time; by lesion, half of it
    assert _centred_share(two_lesion_root, "pixel") < 0.05
    assert 0.4 <= _centred_share(two_lesion_root, "lesion") <= 0.6


def test_the_pixel_weight_makes_every_lesion_weigh_the_same_and_follows_crop_and_flip(
    two_lesion_root,
):
    cases = read_manifest(two_lesion_root)["cases"]
    whole = SegmentationDataset(two_lesion_root, cases, "planar", lesion_balance=True)
    assert whole.reference_area == pytest.approx((400 + 4) / 2)  # median of the lesion areas
    item = whole[0]
    weight, label = item["pixel_weight"].numpy(), item["label"].numpy()
    assert weight.shape == label.shape
    assert np.all(weight[label == 0] == 1.0)
    assert np.allclose(weight[label == 2], 202 / 400)  # the large lesion: median / its area
    assert np.allclose(weight[label == 1], 4.0)  # the small one: 50.5, clipped to 4
    assert "pixel_weight" not in SegmentationDataset(two_lesion_root, cases, "planar")[0]

    # a crop that cuts the large lesion keeps its whole-image weight; a flip moves it with the label
    flipped = SegmentationDataset(
        two_lesion_root, cases, "planar", augment=True, flip_prob=1.0, crop_size=(8, 8),
        lesion_crop_prob=1.0, lesion_crop_by="lesion", lesion_balance=True, seed=1,
    )  # fmt: skip
    seen = set()
    for _ in range(40):
        item = flipped[0]
        weight, label = item["pixel_weight"].numpy(), item["label"].numpy()
        assert np.all(weight[label == 0] == 1.0)
        assert np.allclose(weight[label == 2], 202 / 400) and np.allclose(weight[label == 1], 4.0)
        seen |= set(np.unique(label[label > 0]).tolist())
        assert "右侧骨盆" in item["text"]  # mirrored with its report
    assert seen == {1, 2}

    tokenizer = build_tokenizer(two_lesion_root / "tokenizer")
    batch = TextCollate(tokenizer, max_length=32)([flipped[0], flipped[0]])
    assert batch["pixel_weight"].shape == batch["label"].shape


def test_a_case_without_an_instance_map_is_refused_by_name(tmp_path):
    (tmp_path / "arrays").mkdir()
    np.savez(tmp_path / "arrays/c0.npz", image=np.ones((2, 8, 8), np.float32),
             label=np.zeros((8, 8), np.int64))  # fmt: skip
    cases = [{"case_id": "c0", "patient_id": "p0", "fold": 0, "arrays": "arrays/c0.npz",
              "report": {"text": ""}}]  # fmt: skip
    with pytest.raises(ValueError, match="instance map"):
        SegmentationDataset(tmp_path, cases, "planar", lesion_balance=True)
    with pytest.raises(ValueError, match="lesion_crop_by must be one of pixel, lesion"):
        SegmentationDataset(tmp_path, cases, "planar", lesion_crop_by="size")


def test_the_weighted_loss_is_the_plain_one_at_unit_weight_and_leans_on_weighted_pixels():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    label = torch.randint(0, 3, (2, 16, 16))
    loss = SegmentationLoss(class_weights=[1.0, 4.0, 4.0])
    plain = loss(logits, label)
    torch.testing.assert_close(loss(logits, label, torch.ones(2, 16, 16)), plain)

    weight = torch.ones(2, 16, 16)
    weight[0, 3, 4] = 4.0
    (grad_plain,) = torch.autograd.grad(loss(logits, label), logits)
    (grad_weighted,) = torch.autograd.grad(loss(logits, label, weight), logits)
    # the up-weighted pixel pulls harder than the others, relative to the unweighted loss
    ratio = grad_weighted.norm(dim=1) / grad_plain.norm(dim=1)
    assert ratio[0, 3, 4] > 2.0 * ratio[0, 8, 8]
    with pytest.raises(ValueError, match="pixel_weight"):
        loss(logits, label, torch.ones(2, 8, 8))


def test_the_config_names_a_bad_lesion_balance_setting():
    cfg = load_config(None, {"train": {"lesion_crop_by": "lesion", "lesion_balance": True}})
    assert (cfg["train"]["lesion_crop_by"], cfg["train"]["lesion_balance"]) == ("lesion", True)
    with pytest.raises(ValueError, match=r"train\.lesion_crop_by must be one of pixel, lesion"):
        load_config(None, {"train": {"lesion_crop_by": "size"}})
    with pytest.raises(ValueError, match=r"train\.lesion_balance must be true or false"):
        load_config(None, {"train": {"lesion_balance": "yes"}})


def test_the_experiment_runner_sets_config_values_and_checks_them(toy_experiment, tmp_path):
    run_experiment, common = toy_experiment
    with pytest.raises(SystemExit, match=r"train\.lesion_crop_by must be one of pixel, lesion"):
        run_experiment([*common, "--set", "train.lesion_crop_by=size"])
    with pytest.raises(SystemExit, match="override must be KEY=VALUE"):
        run_experiment([*common, "--set", "train.lesion_balance"])
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing half-written

    argv = [*common, "--set", "train.lesion_crop_by=lesion", "--set", "train.lesion_balance=true",
            "--set", "train.calibrate_cases=0"]  # fmt: skip
    assert run_experiment(argv) == 0
    released = json.loads((tmp_path / "runs/mt_unet/release/config.json").read_text())
    train = released["config"]["train"]
    assert (train["lesion_crop_by"], train["lesion_balance"]) == ("lesion", True)


def test_spectct_slices_carry_their_own_slices_weights(tmp_path):
    """Volumes are served as axial slices: the instance map must follow the kept slices, so a
    slice's weights sit on that slice's lesions and nowhere else."""
    from boneread_ml.training.toy_data import make_toy_dataset

    root = make_toy_dataset(tmp_path / "spectct", "spectct", cases=3, seed=0)
    cases = read_manifest(root)["cases"]
    ds = SegmentationDataset(
        root, cases, "spectct", crop_size=(16, 16), lesion_crop_prob=1.0,
        lesion_crop_by="lesion", lesion_balance=True, seed=0,
    )  # fmt: skip
    assert ds.reference_area > 0
    lesion_items = 0
    for i in range(len(ds)):
        item = ds[i]
        weight, label = item["pixel_weight"].numpy(), item["label"].numpy()
        assert weight.shape == label.shape
        assert np.all(weight[label == 0] == 1.0)
        if label.any():
            lesion_items += 1
            assert np.all((weight[label > 0] >= 0.25) & (weight[label > 0] <= 4.0))
    assert lesion_items > 0
