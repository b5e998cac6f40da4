"""The inference-time rewrites and the ONNX Runtime path change speed, not results.

Shipped checkpoints, small inputs; softmax probabilities within 1e-4 of the eager network.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import boneread_ml.models.onnx_runtime as onnx_runtime
import boneread_ml.predict as predict_module
from boneread_ml.models.inference import FusedInstanceNormAct, optimize_for_inference
from boneread_ml.models.release import sha256_file
from boneread_ml.predict import _tokenize, load_model, predict, rewrites_pay_off, slice_batch

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {task: REPO / "ml" / "checkpoints" / task for task in ("planar", "spectct")}
REPORT = "临床病史：前列腺癌。检查所见：第3腰椎、右侧第6肋见放射性浓聚。诊断意见：多发骨转移。"
#: max abs difference of the softmax probabilities allowed between eager and optimised
TOLERANCE = 1e-4


def small_input(task: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if task == "planar":  # 1024 x 256 at full size; a strip keeps the test quick
        image = rng.poisson(30.0, size=(2, 256, 96)).astype(np.float32)
        image[:, 100:108, 40:47] *= 6.0  # a hot spot
        return image
    spect = rng.poisson(20.0, size=(12, 64, 64)).astype(np.float32)
    spect[5:8, 30:34, 30:34] *= 8.0
    ct = rng.normal(0.0, 300.0, size=(12, 64, 64)).astype(np.float32)
    return np.stack([spect, ct])


def needs(runtime: str) -> None:
    if runtime == "onnxruntime":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnx")


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
@pytest.mark.parametrize("task", ["planar", "spectct"])
def test_optimised_network_matches_the_eager_one_on_the_shipped_weights(task, runtime):
    needs(runtime)
    eager = load_model(SHIPPED[task], optimize=False)
    fast = load_model(SHIPPED[task], runtime=runtime)
    assert fast.runtime == runtime and eager.runtime == "torch"
    assert getattr(fast.network, "optimized_for_inference", False)
    assert not getattr(eager.network, "optimized_for_inference", False)
    images = small_input(task)
    for report in (REPORT, ""):
        want = predict(images, report, eager).probabilities
        got = predict(images, report, fast).probabilities
        assert got.shape == want.shape and got.dtype == np.float32
        diff = float(np.abs(got - want).max())
        assert diff <= TOLERANCE, f"{task} ({report[:4]!r}): max |dp| {diff:.2e}"


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_a_volume_reads_the_same_in_the_gpus_slice_batches(monkeypatch, runtime):
    """On a GPU predict() runs GPU_SLICE_BATCH slices per forward; the batching must not change
    a slice's probabilities. Checked here on the CPU, 12 slices as 8 + 4 against one batch."""
    needs(runtime)
    assert slice_batch(torch.device("cpu")) == predict_module.SLICE_BATCH == 8
    assert slice_batch(torch.device("cuda")) == predict_module.GPU_SLICE_BATCH > 12
    model = load_model(SHIPPED["spectct"], runtime=runtime)
    images = small_input("spectct")
    want = predict(images, REPORT, model).probabilities
    monkeypatch.setattr(predict_module, "SLICE_BATCH", predict_module.GPU_SLICE_BATCH)
    got = predict(images, REPORT, model).probabilities
    diff = float(np.abs(got - want).max())
    assert diff <= TOLERANCE, f"max |dp| {diff:.2e}"


def test_the_cpu_rewrites_are_left_out_on_a_gpu():
    """Channels-last and the fused normalisation slowed the planar forward on an H200
    (2026-12-04, docs/ml.md "On a GPU"): on a GPU the network runs as built."""
    assert rewrites_pay_off(torch.device("cpu"))
    assert not rewrites_pay_off(torch.device("cuda"))
    assert load_model(SHIPPED["planar"], runtime="torch").network.optimized_for_inference


@pytest.mark.parametrize("task", ["planar", "spectct"])
def test_weights_and_checksum_are_untouched(task):
    config_sha = load_model(SHIPPED[task], optimize=False).checksum
    fast = load_model(SHIPPED[task])
    eager = load_model(SHIPPED[task], optimize=False)
    assert sha256_file(SHIPPED[task] / "model.safetensors") == config_sha == fast.checksum
    fast_state, eager_state = fast.network.state_dict(), eager.network.state_dict()
    assert list(fast_state) == list(eager_state)
    for key, value in eager_state.items():
        assert torch.equal(fast_state[key], value), key


class OpCounter(TorchDispatchMode):
    """Counts the aten operators a forward pass runs."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[str, int] = {}
        self.conv_inputs_channels_last: list[bool] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        self.ops[name] = self.ops.get(name, 0) + 1
        if name == "conv2d" and args[0].ndim == 4 and args[0].shape[1] > 2:
            self.conv_inputs_channels_last.append(
                args[0].is_contiguous(memory_format=torch.channels_last)
            )
        return func(*args, **(kwargs or {}))


def test_optimised_forward_has_no_instance_norm_no_pads_and_runs_channels_last():
    """What made the eager forward slow is gone (counted, so the test does not depend on load)."""
    eager = load_model(SHIPPED["planar"], optimize=False).network
    fast = optimize_for_inference(copy.deepcopy(eager))
    assert sum(isinstance(m, FusedInstanceNormAct) for m in fast.modules()) == 18
    x = torch.rand(1, 2, 128, 64) * 50
    ids = torch.tensor([[101, 200, 300, 102]])
    mask = torch.ones_like(ids)
    counts = {}
    for name, net in (("eager", eager), ("fast", fast)):
        with torch.inference_mode(), OpCounter() as counter:
            net(x, ids, mask)
        counts[name] = counter
    assert counts["eager"].ops.get("pad", 0) == 4
    assert counts["eager"].ops.get("instance_norm", 0) == 18
    fast_ops = counts["fast"].ops
    assert fast_ops.get("pad", 0) == 0
    assert fast_ops.get("instance_norm", 0) == 0
    assert fast_ops.get("square", 0) + fast_ops.get("var_mean", 0) == 18  # the fused norm's stats
    assert counts["fast"].conv_inputs_channels_last
    assert all(counts["fast"].conv_inputs_channels_last)
    eager_cl = counts["eager"].conv_inputs_channels_last
    assert sum(eager_cl) < len(eager_cl) / 2  # (tiny maps can be both layouts at once)


def test_spectct_volume_encodes_its_report_once():
    model = load_model(SHIPPED["spectct"])
    calls = []
    handle = model.network.text_encoder.register_forward_hook(lambda *a: calls.append(1))
    try:
        images = np.concatenate([small_input("spectct")] * 6, axis=1)  # 72 slices: 3 batches
        predict(images, REPORT, model)
    finally:
        handle.remove()
    assert len(calls) == 1


def test_pre_encoded_report_gives_the_same_logits():
    net = load_model(SHIPPED["spectct"], optimize=False).network
    x = torch.rand(3, 2, 64, 64) * 20
    ids = torch.tensor([[101, 200, 300, 400, 102]])
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        want = net(x, ids, mask)
        got = net(x, None, None, text=net.encode_text(ids, mask, 1))
    assert torch.allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("offset", [0.0, 100.0])
def test_fused_norm_matches_instance_norm_also_when_the_mean_dwarfs_the_spread(offset):
    """E[x^2] - E[x]^2 cancels when |mean| >> std; the fused norm falls back to two passes."""
    torch.manual_seed(0)
    norm = torch.nn.InstanceNorm2d(8, affine=True)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2.0)
        norm.bias.uniform_(-1.0, 1.0)
    adn = torch.nn.Sequential()
    adn.add_module("N", norm)
    adn.add_module("D", torch.nn.Dropout(0.0))
    adn.add_module("A", torch.nn.LeakyReLU(0.1))
    fused = FusedInstanceNormAct(adn).eval()
    x = (torch.randn(3, 8, 32, 16) * 0.5 + offset).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        want = adn.eval()(x.contiguous())
        got = fused(x)
    assert (got - want).abs().max().item() < 1e-4


def test_the_product_path_runs_the_image_network_in_onnxruntime():
    """load_model's default: the image network in ONNX Runtime, the report encoded once in torch."""
    needs("onnxruntime")
    model = load_model(SHIPPED["spectct"])
    assert model.runtime == "onnxruntime"
    assert model.ort.settings["intra_op_num_threads"] == torch.get_num_threads()
    assert model.ort.settings["graph_optimization_level"] == "ORT_ENABLE_ALL"
    torch_convs, encodes = [], []
    hooks = [
        model.network.conv_0.register_forward_hook(lambda *a: torch_convs.append(1)),
        model.network.text_encoder.register_forward_hook(lambda *a: encodes.append(1)),
    ]
    try:
        images = np.concatenate([small_input("spectct")] * 2, axis=1)  # 24 slices: 3 batches
        result = predict(images, REPORT, model)
    finally:
        for hook in hooks:
            hook.remove()
    assert torch_convs == [] and len(encodes) == 1
    assert result.probabilities.shape == (3, *images.shape[1:])


@pytest.mark.parametrize("task", ["planar", "spectct"])
def test_onnx_graph_takes_any_batch_size_and_report_length(task):
    """Batch, height, width and token count are dynamic (a traced nn.MultiheadAttention bakes T in)."""
    needs("onnxruntime")
    model = load_model(SHIPPED[task], optimize=False)
    ort_net = onnx_runtime.ort_network(model.network, strict=True)
    rows = 3 if task == "spectct" else 2
    torch.manual_seed(1)
    for report, (b, h, w) in ((REPORT, (1, 64, 32)), ("", (3, 96, 64)), (REPORT * 3, (2, 64, 96))):
        ids, mask = _tokenize(model, report, "cpu")
        x = torch.rand(b, 2, h, w) * 4
        maps = torch.rand(b, 2, h, w) if model.network.site_map_channels else None
        extent = torch.rand(b, rows, 2) * 2 - 1
        with torch.inference_mode():
            text = model.network.encode_text(ids, mask, 1)
            want = model.network(x, extent=extent, text=text, site_maps=maps)
        got = ort_net(x, extent=extent, text=text, site_maps=maps)
        assert got.shape == want.shape
        diff = (got.softmax(1) - want.softmax(1)).abs().max().item()
        assert diff <= TOLERANCE, f"{task} batch {b}, {ids.shape[1]} tokens: {diff:.2e}"


def test_without_onnxruntime_load_model_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(onnx_runtime, "ort_available", lambda: False)
    model = load_model(SHIPPED["planar"])
    assert model.runtime == "torch" and model.ort is None
    eager = load_model(SHIPPED["planar"], optimize=False)
    images = small_input("planar")
    got = predict(images, REPORT, model).probabilities
    want = predict(images, REPORT, eager).probabilities
    assert float(np.abs(got - want).max()) <= TOLERANCE
    with pytest.raises(ValueError, match="not installed"):
        load_model(SHIPPED["planar"], runtime="onnxruntime")
    with pytest.raises(ValueError, match="runtime must be"):
        load_model(SHIPPED["planar"], runtime="tensorrt")


def test_export_attention_equals_multihead_attention():
    """The traceable attention is nn.MultiheadAttention's arithmetic (both weight layouts)."""
    torch.manual_seed(0)
    for kdim in (32, 48):  # kdim == embed_dim: one packed in-projection
        mha = torch.nn.MultiheadAttention(32, 4, kdim=kdim, vdim=kdim, batch_first=True).eval()
        q, kv = torch.randn(2, 50, 32), torch.randn(2, 7, kdim)
        pad = torch.zeros(2, 7, dtype=torch.bool)
        pad[1, 4:] = True
        with torch.inference_mode():
            want, _ = mha(q, kv, kv, key_padding_mask=pad, need_weights=False)
            got, _ = onnx_runtime._ExportAttention(mha)(q, kv, kv, key_padding_mask=pad)
        assert (got - want).abs().max().item() < 1e-5


def test_two_class_prior_written_with_softplus_equals_the_log_softmax_one():
    net = load_model(SHIPPED["planar"], optimize=False).network
    torch.manual_seed(0)
    aux = {"site_logits": torch.randn(2, 2, 8, 4) * 5, "case_logits": torch.randn(2, 2)}
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 2:] = False  # an empty report: no prior
    text = onnx_runtime.TextFeatures(tokens=torch.zeros(2, 9, 128), mask=mask, pooled=None)
    with torch.inference_mode():
        want = net._report_prior(aux, text, (32, 16))
        got = onnx_runtime._report_prior(net, aux, text, (32, 16))
    assert want[1].abs().max() == 0 and want[0].abs().max() > 0
    assert (got - want).abs().max().item() < 1e-5


def test_numpy_softmax_equals_torch_softmax_also_for_large_logits():
    from boneread_ml.predict import _softmax

    torch.manual_seed(0)
    logits = torch.randn(4, 3, 16, 8) * 30
    logits[0, 2] += 500.0  # exp would overflow without subtracting the max
    got = _softmax(logits[..., :12, :5])
    want = torch.softmax(logits[..., :12, :5], dim=1).numpy()
    assert got.dtype == np.float32 and got.shape == want.shape and np.isfinite(got).all()
    assert float(np.abs(got - want).max()) < 1e-6


@pytest.mark.parametrize("count_transform", ["linear", "log"])
def test_a_network_without_text_runs_in_onnxruntime_like_the_eager_one(count_transform):
    """Before: the exporter dropped the unused extent input of a network without text, and every
    call raised "Invalid input name: extent" (the no-text model and the keyword rule built on
    it could not be evaluated or calibrated). With log counts the graph applies the transform
    as the eager network does (tests/ml/test_count_transform.py)."""
    needs("onnxruntime")
    from boneread_ml.models.registry import build_model

    torch.manual_seed(0)
    features = {"features": [8, 8, 16, 16, 32, 8], "count_transform": count_transform}
    network = build_model("mt_unet_no_text", mt_unet=features).eval()
    ort_net = onnx_runtime.ort_network(network, strict=True)
    x = torch.rand(2, 2, 64, 32) * 4
    extent = torch.rand(2, 2, 2) * 2 - 1
    with torch.inference_mode():
        want = network(x, extent=extent)
    got = ort_net(x, extent=extent)
    diff = (got.softmax(1) - want.softmax(1)).abs().max().item()
    assert diff <= TOLERANCE, f"{diff:.2e}"


@pytest.mark.parametrize("report", ["", REPORT])
def test_onnxruntime_stays_finite_when_the_report_rules_a_class_out(report):
    """Before: the export wrote the case evidence logsigmoid(c) as Log(Sigmoid(c)), -inf once
    c < -88; with an empty report the prior multiplies it by 0, and a whole lesion channel came
    out NaN, so predict() stated no lesion at all (three trained planar networks did this with
    every empty report: the called-normal probe's seeds 1 and 2 and the shipped config's seed 1;
    the torch path did not)."""
    needs("onnxruntime")
    network = copy.deepcopy(load_model(SHIPPED["planar"], optimize=False).network)
    with torch.no_grad():
        network.case_head.bias.fill_(-300.0)  # the report says: neither lesion class
    ort_net = onnx_runtime.ort_network(network, strict=True)
    x = torch.from_numpy(small_input("planar")[None] / 30.0)
    ids, mask = _tokenize(load_model(SHIPPED["planar"], runtime="torch"), report, "cpu")
    text = network.encode_text(ids, mask, 1)
    extent = torch.tensor([[[-1.0, 1.0], [-1.0, 1.0]]])
    maps = torch.zeros(1, network.site_map_channels, *x.shape[2:])
    with torch.inference_mode():
        want = network(x, ids, mask, extent=extent, site_maps=maps).softmax(1)
        got = ort_net(x, ids, mask, extent=extent, text=text, site_maps=maps).softmax(1)
    assert torch.isfinite(got).all(), f"{torch.isnan(got).float().mean().item():.2f} NaN"
    diff = (got - want).abs().max().item()
    assert diff <= TOLERANCE, f"{diff:.2e}"


def tiny_text_network(input_scale: float = 1.0, **mt_unet) -> torch.nn.Module:
    """A small MT-UNet with a report encoder (64-token vocabulary), seeded, in eval mode."""
    from boneread_ml.models.registry import build_model

    torch.manual_seed(0)
    return build_model(
        "mt_unet",
        vocab_size=64,
        text={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
              "intermediate_size": 64},
        mt_unet={"features": [8, 8, 16, 16, 32, 8], **mt_unet},
        input_scale=input_scale,
    ).eval()  # fmt: skip


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_a_network_at_half_internal_resolution_runs_like_the_eager_one(runtime):
    """``input_scale`` 0.5 (the shipped planar network since 2026-12-06, docs/results/planar-half-
    resolution): the area downsampling of the input and the bilinear upsampling of the logits
    go through the CPU rewrites and the ONNX export unchanged."""
    needs(runtime)
    network = tiny_text_network(
        input_scale=0.5,
        grounding=True, report_prior=True, site_maps=True, site_prior=3.0,
    )  # fmt: skip
    assert network.input_scale == 0.5
    fast = (
        onnx_runtime.ort_network(network, strict=True)
        if runtime == "onnxruntime"
        else optimize_for_inference(copy.deepcopy(network))
    )
    x = torch.rand(2, 2, 128, 64) * 4
    ids = torch.randint(1, 64, (1, 12))
    mask = torch.ones_like(ids)
    maps = (torch.rand(2, 2, 128, 64) > 0.7).float()
    with torch.inference_mode():
        want = network(x, ids, mask, site_maps=maps)
        got = fast(x, ids, mask, site_maps=maps)
    assert got.shape == want.shape == (2, 3, 128, 64)
    diff = (got.softmax(1) - want.softmax(1)).abs().max().item()
    assert diff <= TOLERANCE, f"{diff:.2e}"


def test_a_map_one_position_wide_stays_finite_in_onnxruntime():
    """The smallest width the network takes (16: one position at its deepest level): before,
    the exported coordinate grid of the cross-attention was ``linspace``, which divides by
    n - 1, and ONNX Runtime returned NaN for the whole image (the eager network did not)."""
    needs("onnxruntime")
    network = tiny_text_network()
    ort_net = onnx_runtime.ort_network(network, strict=True)
    ids = torch.randint(1, 64, (1, 9))
    mask = torch.ones_like(ids)
    for shape in ((1, 2, 64, 16), (2, 2, 32, 48)):
        x = torch.rand(shape) * 4
        with torch.inference_mode():
            want = network(x, ids, mask)
        got = ort_net(x, ids, mask)
        assert torch.isfinite(got).all(), f"{shape}: ONNX Runtime returned non-finite logits"
        diff = (got.softmax(1) - want.softmax(1)).abs().max().item()
        assert diff <= TOLERANCE, f"{shape}: {diff:.2e}"
