"""2.5D SPECT/CT input (``slice_context``): neighbouring SPECT slices as channels, the same in
training (the dataset) and in the product (``predict``), recorded in the release."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from boneread_ml.data.datasets import SegmentationDataset, read_manifest
from boneread_ml.data.transforms import (
    normalize,
    random_intensity,
    slice_count_channels,
    slice_inputs,
)
from boneread_ml.models.registry import build_model
from boneread_ml.predict import load_model, predict
from boneread_ml.training.config import load_config
from boneread_ml.training.run import build_args_for, train_fold
from boneread_ml.training.toy_data import make_toy_dataset

FAST = {"input_scale": 1.0, "task": "spectct", "slice_context": 1,
        "text": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 64, "max_length": 64},
        "mt_unet": {"features": [8, 8, 16, 16, 32, 8]},
        "train": {"max_steps": 2, "batch_size": 2, "val_every": 0, "calibrate_cases": 0}}  # fmt: skip


@pytest.fixture(scope="module")
def spectct_root(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("ctx"), "spectct", cases=5, seed=0)


def _volume(depth: int = 5) -> np.ndarray:
    """(2, D, 2, 3): SPECT slice z holds z + 1, CT slice z holds -(z + 1)."""
    z = np.arange(1, depth + 1, dtype=np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
    return np.stack([z, -z])


def test_slice_inputs_add_the_neighbouring_spect_slices_repeated_at_the_ends():
    volume = _volume()
    out = slice_inputs(volume, np.array([0, 2, 4]), context=2)
    assert out.shape == (3, 6, 2, 3) and out.dtype == np.float32
    # per slice: SPECT z, CT z, SPECT z-1, z+1, z-2, z+2 (clipped to the volume)
    expected = {0: [1, -1, 1, 2, 1, 3], 2: [3, -3, 2, 4, 1, 5], 4: [5, -5, 4, 5, 3, 5]}
    for row, z in enumerate((0, 2, 4)):
        assert out[row, :, 0, 0].tolist() == expected[z]
    # no context: the slice's own two channels, as the network was fed before
    np.testing.assert_array_equal(slice_inputs(volume, np.arange(5)), np.moveaxis(volume, 1, 0))
    assert slice_count_channels(0) == [0] and slice_count_channels(2) == [0, 2, 3, 4, 5]
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="slice context must be a non-negative integer"):
            slice_inputs(volume, np.arange(2), bad)


def test_random_intensity_scales_a_group_of_channels_by_one_factor():
    image = np.ones((4, 2, 2), np.float32)
    # an integer keeps the earlier behaviour: each leading channel its own factor, same draws
    old = np.random.default_rng(3)
    factors = [float(np.exp(old.uniform(np.log(0.8), np.log(1.25)))) for _ in range(2)]
    out = random_intensity(image, np.random.default_rng(3), count_channels=2)
    assert out[:, 0, 0].tolist() == pytest.approx([*factors, 1.0, 1.0])
    grouped = random_intensity(image, np.random.default_rng(3), count_channels=[[0, 2, 3]])
    assert grouped[:, 0, 0].tolist() == pytest.approx([factors[0], 1.0, factors[0], factors[0]])


def test_the_dataset_serves_each_slice_with_its_neighbours(spectct_root):
    cases = read_manifest(spectct_root)["cases"]
    plain = SegmentationDataset(spectct_root, cases, "spectct", background_slices=2)
    ctx = SegmentationDataset(spectct_root, cases, "spectct", background_slices=2, slice_context=1)
    assert len(ctx) == len(plain)
    for index in (0, len(ctx) // 2, len(ctx) - 1):
        item, base = ctx[index], plain[index]
        assert item["image"].shape == (4, 32, 32)
        torch.testing.assert_close(item["image"][:2], base["image"])
        case = ctx.items[index].case_index
        volume = normalize("spectct", np.load(spectct_root / cases[case]["arrays"])["image"])
        z = int(round((base["extent"][0, 0].item() + 1) / 2 * (volume.shape[1] - 1)))
        depth = volume.shape[1]
        np.testing.assert_array_equal(item["image"][2].numpy(), volume[0, max(z - 1, 0)])
        np.testing.assert_array_equal(item["image"][3].numpy(), volume[0, min(z + 1, depth - 1)])
    # augmentation: the slice and its neighbours share one count factor, the CT keeps its HU
    aug = SegmentationDataset(
        spectct_root, cases, "spectct", background_slices=2, slice_context=1, augment=True, seed=5
    )
    raw = ctx[0]["image"].numpy()
    got = aug[0]["image"].numpy()
    ratios = [float(got[c].sum() / raw[c].sum()) for c in (0, 2, 3)]
    assert max(ratios) - min(ratios) < 1e-5 and abs(ratios[0] - 1.0) > 1e-4
    np.testing.assert_array_equal(got[1], raw[1])
    with pytest.raises(ValueError, match="slice_context needs SPECT/CT slices"):
        SegmentationDataset(spectct_root, cases, "planar", slice_context=1)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"slice_context": -1}, r"slice_context must be an integer >= 0, got -1"),
        ({"slice_context": True}, r"slice_context must be an integer >= 0, got True"),
        ({"slice_context": "1"}, r"slice_context must be an integer >= 0, got '1'"),
        ({"task": "planar"}, r"slice_context needs task spectct \(axial slices\), got 'planar'"),
        ({"mt_unet": {"count_transform": "log"}}, r"count_transform other than linear"),
    ],
)
def test_the_config_refuses_a_slice_context_it_cannot_serve(override, message):
    with pytest.raises(ValueError, match=message):
        load_config(None, {**FAST, **override})


def test_the_network_counts_the_neighbours_as_input_channels():
    cfg = load_config(None, FAST)
    args = build_args_for(cfg, (32, 32), vocab_size=100)
    assert args["in_channels"] == 4 and args["slice_context"] == 1
    assert build_model("mt_unet", **args).slice_context == 1
    assert build_model("basic_unet", **{**args, "vocab_size": None}).slice_context == 1
    assert build_model("mt_unet", vocab_size=100).slice_context == 0
    with pytest.raises(ValueError, match="slice_context needs a 2D network"):
        build_model("mt_unet", spatial_dims=3, in_channels=4, vocab_size=100, slice_context=1)


def test_a_2_5d_release_predicts_from_the_neighbouring_slices(spectct_root, tmp_path):
    summary = train_fold(load_config(None, FAST), spectct_root, tmp_path / "run", val_folds=[])
    release = Path(summary["release"])
    build = json.loads((release / "config.json").read_text())["build_args"]
    assert build["slice_context"] == 1 and build["in_channels"] == 4
    images = np.load(spectct_root / "arrays/toy000.npz")["image"]
    report = "前列腺癌。诊断意见：骨转移。"
    eager = load_model(release, optimize=False)
    assert eager.network.slice_context == 1
    seen: list[torch.Tensor] = []
    hook = eager.network.register_forward_pre_hook(lambda _m, a: seen.append(a[0].clone()))
    result = predict(images, report, eager, spacing_mm=(2.0, 1.0, 1.0))
    hook.remove()
    assert result.probabilities.shape == (3, *images.shape[1:])
    fed = torch.cat(seen).numpy()
    depth = images.shape[1]
    np.testing.assert_array_equal(
        fed[..., : images.shape[2], : images.shape[3]],
        slice_inputs(normalize("spectct", images), np.arange(depth), 1),
    )
    # the product's ONNX Runtime graph takes the same four channels and agrees with torch
    fast = load_model(release)
    assert fast.network.slice_context == 1
    np.testing.assert_allclose(
        predict(images, report, fast, spacing_mm=(2.0, 1.0, 1.0)).probabilities,
        result.probabilities,
        atol=1e-4,
    )
