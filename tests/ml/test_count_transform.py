"""Log-count input: an uptake ratio is the same step on a faint bone as on the bright spine.

The phantom (like a real scan) draws a lesion as its bone's activity times an uptake ratio; with
linear input, a 2x focus on a femur at 0.2 of the scan's percentile is dimmer than normal spine.
``mt_unet.count_transform: log`` lets the network read counts on a log scale; it lives in the
network (so the release, predict() and the ONNX Runtime path all apply it) and is checked at
config load with the field named.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from boneread_ml.models.mt_unet import LOG_FLOOR, MTUNet, transform_counts
from boneread_ml.training.config import load_config

SMALL = {"features": [8, 8, 16, 16, 32, 8]}


def test_log_counts_make_a_ratio_the_same_step_at_every_count_level():
    bone = torch.tensor([0.2, 1.0])  # a faint femur, the spine (units of the 99th percentile)
    x = torch.stack([bone, 2.0 * bone]).reshape(1, 1, 2, 2)  # each with a 2x lesion
    linear = transform_counts(x, "linear", 1)[0, 0]
    log = transform_counts(x, "log", 1)[0, 0]
    linear_step = linear[1] - linear[0]
    log_step = log[1] - log[0]
    # linear: the spine's step is 5x the femur's; log: within 15% (exactly equal far above the floor)
    assert float(linear_step[1] / linear_step[0]) == pytest.approx(5.0)
    assert float(log_step[1] / log_step[0]) == pytest.approx(1.0, abs=0.15)
    # the scale keeps the percentile at 1 and zero at zero
    assert float(transform_counts(torch.tensor([[[[0.0, 1.0]]]]), "log", 1).flatten()[1]) == (
        pytest.approx(1.0)
    )
    assert float(transform_counts(torch.zeros(1, 1, 1, 1), "log", 1)) == 0.0
    want = math.log1p(4.0 / LOG_FLOOR) / math.log1p(1.0 / LOG_FLOOR)
    assert float(transform_counts(torch.full((1, 1, 1, 1), 4.0), "log", 1)) == pytest.approx(want)


def test_only_the_count_channels_are_transformed():
    x = torch.rand(2, 2, 4, 4) * 4
    out = transform_counts(x, "log", 1)  # SPECT/CT: counts, then CT
    assert torch.equal(out[:, 1], x[:, 1])
    assert not torch.allclose(out[:, 0], x[:, 0])
    assert torch.equal(transform_counts(x, "linear", 2), x)


def test_the_network_reads_its_input_through_the_transform():
    """Same weights: the log network on counts = the linear network on log counts."""
    torch.manual_seed(0)
    log_net = MTUNet(count_transform="log", **SMALL).eval()
    linear_net = MTUNet(**SMALL).eval()
    linear_net.load_state_dict(log_net.state_dict())
    x = torch.rand(1, 2, 64, 32) * 4
    with torch.inference_mode():
        got = log_net(x)
        want = linear_net(transform_counts(x, "log", 2))
        plain = linear_net(x)
    assert torch.allclose(got, want, atol=1e-6)
    assert not torch.allclose(got, plain, atol=1e-3)  # it is not a no-op


def test_a_bad_transform_is_refused_by_name():
    with pytest.raises(ValueError, match="count_transform must be one of linear, log, got 'sqrt'"):
        MTUNet(count_transform="sqrt", **SMALL)
    with pytest.raises(ValueError, match=r"count_channels must be an integer in 0\.\.2, got 3"):
        MTUNet(count_transform="log", count_channels=3, **SMALL)
    with pytest.raises(ValueError, match=r"mt_unet\.count_transform must be one of linear, log"):
        load_config(None, {"task": "planar", "mt_unet": {"count_transform": "sqrt"}})
    with pytest.raises(ValueError, match=r"mt_unet\.count_channels must be 1 for task spectct"):
        load_config(
            None, {"task": "spectct", "mt_unet": {"count_transform": "log", "count_channels": 2}}
        )


def test_the_config_fills_the_count_channels_from_the_task():
    planar = load_config(None, {"task": "planar", "mt_unet": {"count_transform": "log"}})
    spectct = load_config(None, {"task": "spectct", "mt_unet": {"count_transform": "log"}})
    assert planar["mt_unet"]["count_channels"] == 2
    assert spectct["mt_unet"]["count_channels"] == 1
    assert "count_channels" not in load_config(None, {"task": "planar"})["mt_unet"]


def test_the_experiment_sets_the_transform_and_the_release_rebuilds_it(toy_experiment, tmp_path):
    """(The ONNX graph of a log-count network against the eager one, at other sizes:
    tests/ml/test_inference_equivalence.py.)"""
    from boneread_ml.predict import load_model, predict

    run_experiment, common = toy_experiment
    common = [*common, "--set", "train.calibrate_cases=0"]
    with pytest.raises(SystemExit, match=r"mt_unet\.count_transform must be one of linear, log"):
        run_experiment([*common, "--set", "mt_unet.count_transform=anscombe"])
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing half-written

    assert run_experiment([*common, "--set", "mt_unet.count_transform=log"]) == 0
    release = tmp_path / "runs/mt_unet/release"
    released = json.loads((release / "config.json").read_text())
    assert released["config"]["mt_unet"]["count_transform"] == "log"
    for runtime in ("torch", "onnxruntime"):
        model = load_model(release, runtime=runtime)
        network = model.network
        assert (network.count_transform, network.count_channels) == ("log", 2)
    root = tmp_path / "data"
    case = json.loads((root / "manifest.json").read_text())["cases"][0]
    image = np.load(root / case["arrays"])["image"]
    probs = {
        rt: predict(image, "", load_model(release, runtime=rt)).probabilities
        for rt in ("torch", "onnxruntime")
    }
    assert float(np.abs(probs["torch"] - probs["onnxruntime"]).max()) <= 1e-4
