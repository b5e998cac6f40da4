"""Run a 2D MT-UNet's image network with ONNX Runtime (CPU), the report encoded in torch.

:func:`load_model <boneread_ml.predict.load_model>` uses this on CPU when
``onnxruntime`` is installed: the network is exported once, at load, to an
ONNX graph in memory (nothing is written next to the checkpoint, the weights
and their sha256 are untouched) and run by ONNX Runtime's CPU provider, whose
graph optimisations (its blocked ``NCHWc`` convolution layout with fused
activations, its instance normalisation kernel) make the planar forward about
2x faster than the optimised torch forward on 2 threads, and a SPECT/CT
volume's slice batches somewhat faster (measured numbers: docs/ml.md,
"Inference speed (CPU)"). Without ``onnxruntime``, on a GPU, or for other
networks, the torch path (:mod:`boneread_ml.models.inference`) runs instead.

The split: the report encoder (a small BERT, run once per study) stays in
torch; the graph takes the image (and the report's site maps), the encoded
report (token features, their mask, the pooled vector; a batch of one is
broadcast to every image) and the extent, and returns the logits. Its
outputs equal the eager network's to float rounding
(``tests/ml/test_inference_equivalence.py``: softmax within 1e-4 on the
shipped checkpoints, with and without a report).

Export details: the graph is traced from the network as built (not from the
torch-optimised one, whose fused normalisation branches on the data), with
``UpCat``'s no-op padding removed, ``nn.MultiheadAttention`` replaced by
the same computation written with shape-agnostic reshapes (the traced
``MultiheadAttention`` bakes the report's token count into the graph) and the
report prior's two-class log-softmax written as softplus. Batch, height,
width and token count are dynamic.
"""

from __future__ import annotations

import copy
import io
import logging
import math
import types
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.networks.nets.basic_unet import UpCat
from torch import nn

from boneread_ml.models.fusion import CrossAttentionFusion
from boneread_ml.models.mt_unet import MTUNet
from boneread_ml.models.text_encoder import TextFeatures

logger = logging.getLogger(__name__)

__all__ = ["OrtNetwork", "ort_available", "ort_network", "ort_settings"]

#: ONNX opset of the export (torch's TorchScript-based exporter)
OPSET = 17


def ort_available() -> bool:
    """Whether ``onnxruntime`` (and ``onnx``, which torch's exporter needs) can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def ort_settings(threads: int | None = None, spinning: bool = True) -> dict[str, Any]:
    """The session settings used (ONNX Runtime's CPU performance-tuning recommendations).

    Full graph optimisation (including the layout transformations), ``threads``
    intra-op threads (default: torch's thread count, i.e. the cores the worker
    is given), one inter-op thread and sequential execution (the graph is a
    chain; parallel execution only adds scheduling). ``spinning``: ORT's
    default (worker threads spin briefly between operators); turning it off made
    no measurable difference to predict() on 2 threads (docs/ml.md).
    """
    return {
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "intra_op_num_threads": int(threads or torch.get_num_threads()),
        "inter_op_num_threads": 1,
        "execution_mode": "ORT_SEQUENTIAL",
        "intra_op_allow_spinning": spinning,
        "providers": ["CPUExecutionProvider"],
        "opset": OPSET,
    }


class _ExportAttention(nn.Module):
    """``nn.MultiheadAttention`` (batch first) with traceable reshapes.

    Shares the original module's parameters; the same arithmetic as
    ``F.multi_head_attention_forward`` without dropout, bias_k or zero attention.
    """

    def __init__(self, mha: nn.MultiheadAttention) -> None:
        super().__init__()
        if not mha.batch_first or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError("only batch-first attention without bias_k/zero attention is exported")
        self.mha = mha
        self.heads = mha.num_heads
        self.head_dim = mha.head_dim

    def forward(self, query, key, value, key_padding_mask=None, need_weights=False):
        m = self.mha
        c = m.embed_dim
        bias = m.in_proj_bias
        if m._qkv_same_embed_dim:  # one (3C, C) in-projection
            wq, wk, wv = (
                m.in_proj_weight[:c],
                m.in_proj_weight[c : 2 * c],
                m.in_proj_weight[2 * c :],
            )
        else:
            wq, wk, wv = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
        q = F.linear(query, wq, bias[:c])
        k = F.linear(key, wk, bias[c : 2 * c])
        v = F.linear(value, wv, bias[2 * c :])
        h, d = self.heads, self.head_dim
        q = q.reshape(q.shape[0], -1, h, d).transpose(1, 2)  # (B, h, N, d)
        k = k.reshape(k.shape[0], -1, h, d).transpose(1, 2)  # (B, h, T, d)
        v = v.reshape(v.shape[0], -1, h, d).transpose(1, 2)
        scores = torch.matmul(q * (1.0 / math.sqrt(d)), k.transpose(2, 3))  # (B, h, N, T)
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        out = torch.matmul(torch.softmax(scores, dim=-1), v)  # (B, h, N, d)
        out = out.transpose(1, 2).reshape(out.shape[0], -1, c)
        return m.out_proj(out), None


def _report_prior(
    self: MTUNet, aux: dict[str, torch.Tensor], text: TextFeatures, size
) -> torch.Tensor:
    """:meth:`MTUNet._report_prior` with the two-class log-softmax written as softplus.

    ``log_softmax([a, b]) = [-softplus(b - a), -softplus(a - b)]``: the same
    values, but ONNX Runtime's ``LogSoftmax`` over the channel axis of an NCHW
    map transposes it twice (a tenth of the planar forward).

    The case evidence ``logsigmoid(c)`` is written as ``-softplus(-c)`` too: the
    exporter writes ``logsigmoid`` as ``Log(Sigmoid(c))``, which is ``-inf`` once
    the sigmoid underflows (c below about -88), and an empty report's
    ``0 * -inf`` then made a whole lesion channel NaN (ORT's ``Softplus`` is
    stable for any finite input).
    """
    site = F.interpolate(
        aux["site_logits"].float(), size=list(size), mode="bilinear", align_corners=False
    )
    view = (-1, 2) + (1,) * self.spatial_dims
    case = -F.softplus(-aux["case_logits"].float()).view(view)
    d = site[:, 1:2] - site[:, 0:1]
    lesion = torch.cat([-F.softplus(d), -F.softplus(-d)], dim=1) + case
    nonempty = (text.mask.sum(1) > 2).to(lesion.dtype).view((-1,) + (1,) * (self.spatial_dims + 1))
    lesion = self.prior_weight * nonempty * lesion
    return torch.cat([torch.zeros_like(lesion[:, :1]), lesion], dim=1).to(aux["site_logits"].dtype)


class _Graph(nn.Module):
    """The image network as a function of its graph inputs only (what is exported)."""

    def __init__(self, network: MTUNet, inputs: list[str]) -> None:
        super().__init__()
        self.network = network
        self.inputs = inputs

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        t = dict(zip(self.inputs, tensors, strict=True))
        image = t["image"]
        b = image.shape[0]
        text = None
        if "tokens" in t:  # one report (a batch of 1) for every image, or one per image
            text = TextFeatures(
                tokens=t["tokens"].expand(b, -1, -1),
                mask=t["mask"].expand(b, -1),
                pooled=t["pooled"].expand(b, -1),
            )
        return self.network(image, extent=t["extent"], text=text, site_maps=t.get("site_maps"))


def exportable(network: nn.Module) -> bool:
    """Whether :func:`ort_network` can run ``network`` (a 2D MT-UNet)."""
    return isinstance(network, MTUNet) and network.spatial_dims == 2


def _export_copy(network: MTUNet) -> MTUNet:
    """A copy of the network as built, rewritten for tracing (same parameters' values)."""
    from boneread_ml.models.inference import _NoPadUpCat

    net = copy.deepcopy(network).eval()
    for module in list(net.modules()):
        if type(module) is UpCat:
            module.__class__ = _NoPadUpCat
        if isinstance(module, CrossAttentionFusion):
            module.attn = _ExportAttention(module.attn)
    if net.prior_weight is not None and net.site_head.out_channels == 2:
        net._report_prior = types.MethodType(_report_prior, net)
    net.channels_last = False
    return net.to(memory_format=torch.contiguous_format)


@dataclass
class _Spec:
    inputs: list[str]
    extent_rows: int
    text_dim: int = 0
    dynamic: dict[str, dict[int, str]] = field(default_factory=dict)


def _spec(network: MTUNet) -> _Spec:
    uses_text = network.text_encoder is not None
    coord_rows = 2
    for block in network.fusion.values():
        if isinstance(block, CrossAttentionFusion):
            coord_rows = max(coord_rows, block.coord_dims)
    inputs = ["image"]
    dynamic = {"image": {0: "batch", 2: "height", 3: "width"}}
    if network.site_map_channels:
        inputs.append("site_maps")
        dynamic["site_maps"] = {0: "batch", 2: "height", 3: "width"}
    if uses_text:
        inputs += ["tokens", "mask", "pooled"]
        dynamic |= {
            "tokens": {0: "reports", 1: "tokens"},
            "mask": {0: "reports", 1: "tokens"},
            "pooled": {0: "reports"},
        }
    inputs.append("extent")
    dynamic["extent"] = {0: "batch"}
    dynamic["logits"] = {0: "batch", 2: "height", 3: "width"}
    return _Spec(
        inputs=inputs,
        extent_rows=coord_rows,
        text_dim=network.text_encoder.hidden_size if uses_text else 0,
        dynamic=dynamic,
    )


def export_onnx(network: MTUNet) -> bytes:
    """The image network as an ONNX model (bytes), traced on a small input."""
    if not exportable(network):
        raise ValueError(f"only a 2D MTUNet is exported, got {type(network).__name__}")
    spec = _spec(network)
    net = _export_copy(network)
    b, h, w = 2, 64, 32
    example = {
        "image": torch.rand(b, network.in_channels, h, w),
        "site_maps": torch.zeros(b, network.site_map_channels, h, w),
        "tokens": torch.randn(1, 5, spec.text_dim),
        "mask": torch.ones(1, 5, dtype=torch.bool),
        "pooled": torch.randn(1, spec.text_dim),
        "extent": torch.tensor([[-1.0, 1.0]] * spec.extent_rows).expand(b, -1, -1).contiguous(),
    }
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python-side shape checks
        torch.onnx.export(
            _Graph(net, spec.inputs),
            tuple(example[k] for k in spec.inputs),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=spec.inputs,
            output_names=["logits"],
            dynamic_axes=spec.dynamic,
            do_constant_folding=True,
        )
    return buffer.getvalue()


class OrtNetwork:
    """An MT-UNet whose image network runs in ONNX Runtime; called like the network.

    ``network(image, input_ids, attention_mask, extent=..., text=..., site_maps=...)``
    as :meth:`MTUNet.forward` (without ``return_aux``); the report is encoded
    by the torch network (:meth:`encode_text`). Attributes the predict code
    reads (``spatial_dims``, ``out_channels``, ``input_scale``,
    ``site_map_channels``...) are the torch network's.

    Args:
        network: the torch MT-UNet (kept for the report encoder and as the
            description of the model).
        model: the exported ONNX model (bytes).
        threads: intra-op threads (default: torch's thread count).
    """

    def __init__(
        self, network: MTUNet, model: bytes, threads: int | None = None, spinning: bool = True
    ) -> None:
        import onnxruntime as ort

        self.network = network
        self.spec = _spec(network)
        self.settings = ort_settings(threads, spinning)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.settings["intra_op_num_threads"]
        options.inter_op_num_threads = self.settings["inter_op_num_threads"]
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry(
            "session.intra_op.allow_spinning",
            "1" if self.settings["intra_op_allow_spinning"] else "0",
        )
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(model, options, providers=self.settings["providers"])
        self.settings["onnxruntime"] = ort.__version__
        # The exporter drops inputs the graph does not use (a network without text has no use
        # for the extent, which only positions the report's cross-attention).
        self.graph_inputs = {i.name for i in self.session.get_inputs()}

    def __getattr__(self, name: str) -> Any:
        # spatial_dims, out_channels, input_scale, site_map_channels, uses_text, parameters...
        if name in {"network", "spec", "settings", "session", "graph_inputs"}:
            raise AttributeError(name)
        return getattr(self.network, name)

    def encode_text(self, input_ids, attention_mask, batch: int) -> TextFeatures | None:
        """The report encoded by the torch network (see :meth:`MTUNet.encode_text`)."""
        return self.network.encode_text(input_ids, attention_mask, batch)

    def __call__(
        self,
        image: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        extent: torch.Tensor | None = None,
        text: TextFeatures | None = None,
        site_maps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Raw logits (B, out_channels, H, W), as the torch network's forward."""
        net = self.network
        if image.ndim != 4 or image.shape[1] != net.in_channels:
            raise ValueError(
                f"expected a (B, {net.in_channels}, H, W) image batch, got {tuple(image.shape)}"
            )
        b = image.shape[0]
        feeds: dict[str, np.ndarray] = {"image": _numpy(image)}
        if "site_maps" in self.spec.inputs:
            if site_maps is None:
                site_maps = image.new_zeros((b, net.site_map_channels, *image.shape[2:]))
            feeds["site_maps"] = _numpy(site_maps.to(image.dtype))
        if "tokens" in self.spec.inputs:
            if text is None:
                text = net.encode_text(input_ids, attention_mask, 1)
            if text is None:  # a text network called without a report: its torch path
                return net(image, extent=extent, site_maps=site_maps)
            if text.tokens.shape[0] not in (1, b):
                raise ValueError(f"{text.tokens.shape[0]} reports for a batch of {b} images")
            feeds["tokens"] = _numpy(text.tokens)
            feeds["mask"] = _numpy(text.mask.bool())
            feeds["pooled"] = _numpy(text.pooled)
        if "extent" in self.graph_inputs:
            feeds["extent"] = _numpy(self._extent(extent, b))
        (logits,) = self.session.run(["logits"], feeds)
        return torch.from_numpy(logits)

    def _extent(self, extent: torch.Tensor | None, batch: int) -> torch.Tensor:
        """The extent rows the graph was traced with (missing leading rows: the centre, 0)."""
        rows = self.spec.extent_rows
        if extent is None:
            extent = torch.tensor([[-1.0, 1.0]] * 2).expand(batch, -1, -1)
        if extent.shape[1] < rows:
            extra = extent.new_zeros((extent.shape[0], rows - extent.shape[1], 2))
            extent = torch.cat([extra, extent], dim=1)
        return extent[:, -rows:].float()


def _numpy(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().contiguous().numpy())


def ort_network(
    network: nn.Module, threads: int | None = None, *, strict: bool = False
) -> OrtNetwork | None:
    """``network`` exported and opened in ONNX Runtime, or None where that is not possible.

    None (the torch forward runs) when ``onnxruntime``/``onnx`` are missing,
    the network is not a 2D MT-UNet or is not on the CPU, or the export fails
    (logged); with ``strict`` each of these raises instead.

    Raises:
        ValueError: (``strict``) ONNX Runtime cannot run this network here.
    """
    why = None
    if not exportable(network):
        why = f"{type(network).__name__} is not a 2D MT-UNet"
    elif any(p.device.type != "cpu" for p in network.parameters()):
        why = "the network is not on the CPU"
    elif not ort_available():
        why = "onnxruntime or onnx is not installed"
    if why is None:
        try:
            return OrtNetwork(network, export_onnx(network), threads)
        except Exception as exc:  # noqa: BLE001 - any export/session failure: the torch path
            if strict:
                raise ValueError(f"ONNX Runtime export failed: {exc}") from exc
            logger.warning("ONNX Runtime export failed; using the torch forward", exc_info=True)
            return None
    if strict:
        raise ValueError(f"ONNX Runtime cannot run this model: {why}")
    logger.debug("torch forward: %s", why)
    return None
