"""benchmarks/training.py times training at the shape the configs train at (it timed planar at
64 x 64 crops after the config moved to 128 x 128) and prices a 5-fold x 3-seed comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("benchmarks/training.py")


def test_training_shape_is_the_configs(bench, tmp_path):
    from boneread_ml.training.config import load_config

    cfg = load_config(REPO / "ml/configs/planar.yaml", {"train": {"crop_size": [96, 64],
                                                                "batch_size": 3, "max_steps": 50}})  # fmt: skip
    assert bench.training_shape(cfg) == (
        (96, 64),
        0.5,
        3,
        50,
    )  # planar.yaml: half internal resolution
    shipped = load_config(REPO / "ml/configs/planar.yaml")
    assert bench.training_shape(shipped)[0] == tuple(shipped["train"]["crop_size"])


def test_measure_reports_the_cost_of_a_training(bench):
    import torch

    torch.set_num_threads(1)
    r = bench.measure("unet", "spectct", steps=2, device="cpu")
    from boneread_ml.training.config import load_config

    cfg = load_config(REPO / "ml/configs/spectct.yaml")
    assert r["crop_size"] == list(cfg["train"]["crop_size"])
    assert r["batch"] == cfg["train"]["batch_size"]
    assert r["config_max_steps"] == cfg["train"]["max_steps"]
    assert len(r["seconds_per_step_all"]) == 2
    assert r["seconds_per_step"] in r["seconds_per_step_all"]
    assert r["minutes_per_training"] == pytest.approx(
        r["seconds_per_step"] * cfg["train"]["max_steps"] / 60
    )
    assert r["comparison_core_hours"] == pytest.approx(r["minutes_per_training"] * 15 / 60)
    from boneread_ml.models.registry import build_model

    net = build_model("unet", input_size=tuple(cfg["train"]["crop_size"]))
    assert r["parameters"] == sum(p.numel() for p in net.parameters())
