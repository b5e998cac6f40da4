"""One registry for MT-UNet, its ablations and the eight MONAI baselines.

Every entry builds an ``nn.Module`` with the same call signature,
``model(image, input_ids=None, attention_mask=None) -> logits``, so the
trainer, evaluator and predictor never special-case a model. Each baseline is
built as MONAI builds it by default, or, where MONAI has no default, as its
tutorials do (the UNet's channels and strides; DynUNet's kernels and strides
derived from the image as the DynUNet tutorial derives them); none is cut
down to MT-UNet's scale, so that a comparison never flatters MT-UNet with a
smaller peer. Until 2026-12-04 five of them were (BasicUNet and BasicUNet++
at half their default features, UNETR with hidden size 96, SwinUNETR with
depths 1, 1, 1, 1 and feature size 12, DynUNet with filters 16..128): the
1,200- and 600-step comparisons of docs/results/planar and docs/results/spectct
were measured with those builds. All run at the same internal resolution
(``input_scale``) so that a comparison under an equal training budget is fair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.inferers import sliding_window_inference
from monai.networks import nets
from torch import nn

from boneread_ml.models.mt_unet import MTUNet, resize_input, resize_logits
from boneread_ml.models.text_encoder import ReportEncoder

BASELINES: tuple[str, ...] = (
    "unet",
    "attention_unet",
    "basic_unet_plusplus",
    "segresnet",
    "unetr",
    "swin_unetr",
    "dynunet",
    "basic_unet",
)
#: name -> how the report is fed: "report", "none" (text removed) or "shuffled".
MTUNET_VARIANTS: dict[str, str] = {
    "mt_unet": "report",
    "mt_unet_no_text": "none",
    "mt_unet_shuffled_text": "shuffled",
}
MODEL_NAMES: tuple[str, ...] = tuple(MTUNET_VARIANTS) + BASELINES


class ImageOnlyNet(nn.Module):
    """Wrap a MONAI network: same signature as MT-UNet, text ignored.

    Args:
        net: the MONAI network (input and output at the internal resolution).
        spatial_dims: 2 or 3.
        in_channels: image channels.
        out_channels: classes.
        input_scale: internal resolution relative to the input.
        roi_size: for networks with a fixed input size (UNETR's ViT): inputs of
            another internal size are segmented by sliding windows of this size.
    """

    uses_text = False

    def __init__(
        self,
        net: nn.Module,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        input_scale: float,
        roi_size: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.roi_size = tuple(roi_size) if roi_size else None
        self.net = net
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.input_scale = float(input_scale)

    def forward(
        self,
        image: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        extent: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Segment (the report and extent arguments are accepted and ignored).

        Args:
            image: (B, in_channels, *spatial).

        Returns:
            Raw logits (B, out_channels, *spatial).
        """
        if image.ndim != self.spatial_dims + 2 or image.shape[1] != self.in_channels:
            raise ValueError(
                f"expected (B, {self.in_channels}, {'*' * self.spatial_dims}) input, got {tuple(image.shape)}"
            )
        x = resize_input(image, self.input_scale)
        if self.roi_size is not None and tuple(x.shape[2:]) != self.roi_size:
            out = sliding_window_inference(x, self.roi_size, 4, self._run, overlap=0.25)
        else:
            out = self._run(x)
        return resize_logits(out, image.shape[2:])

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if isinstance(out, list | tuple):  # BasicUNetPlusPlus returns a list
            out = out[-1]
        return out


def dynunet_plan(size: Sequence[int]) -> tuple[list[list[int]], list[list[int]]]:
    """DynUNet's kernels and strides for a training input of ``size``, derived as MONAI's
    DynUNet tutorial derives them (nnU-Net's rule) for isotropic spacing, which these images
    have: stride 1 at the first level, then stride 2 in every axis still at least 8 long, until
    none is; 3-pixel kernels throughout.

    Returns:
        (kernels, strides): one entry per level, each a list with one value per axis.

    Raises:
        ValueError: an axis that a stride of 2 does not divide.
    """
    current = [int(x) for x in size]
    kernels, strides = [[3] * len(current)], [[1] * len(current)]
    while True:
        step = [2 if c >= 8 else 1 for c in current]
        if all(x == 1 for x in step):
            return kernels, strides
        if any(c % x for c, x in zip(current, step, strict=True)):
            raise ValueError(f"DynUNet: input size {tuple(size)} is not divisible by its strides")
        strides.append(step)
        kernels.append([3] * len(current))
        current = [c // x for c, x in zip(current, step, strict=True)]


def _baseline(
    name: str, spatial_dims: int, in_channels: int, out_channels: int, internal_size: Sequence[int]
) -> nn.Module:
    s, i, o = spatial_dims, in_channels, out_channels
    if name == "unet":
        # as MONAI's own segmentation tutorials build it (2D unet_training_dict, spleen):
        # 16..256 channels, stride 2, two-convolution residual units (until 2026-12-04 one)
        return nets.UNet(
            s, i, o, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2), num_res_units=2
        )
    if name == "attention_unet":
        # MONAI has no default size: the UNet's tutorial channels and strides above
        return nets.AttentionUnet(s, i, o, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2))
    if name == "basic_unet_plusplus":
        return nets.BasicUNetPlusPlus(s, i, o)  # default features 32, 32, 64, 128, 256, 32
    if name == "segresnet":
        # MONAI's own defaults (init_filters 8, blocks_down (1, 2, 2, 4), blocks_up (1, 1, 1),
        # GroupNorm(8), ReLU): the strongest baseline at 1,200 steps is compared as its docs
        # build it, not cut down (until 2026-12-04: blocks_down (1, 1, 1, 1), 150k parameters
        # in 2D against these 395k)
        return nets.SegResNet(s, in_channels=i, out_channels=o)
    if name == "unetr":
        # MONAI's defaults: ViT-B (hidden 768, MLP 3072, 12 heads, 12 layers), feature size 16
        return nets.UNETR(i, o, img_size=tuple(internal_size), spatial_dims=s)
    if name == "swin_unetr":
        # MONAI's defaults: feature size 24, depths 2, 2, 2, 2, heads 3, 6, 12, 24, window 7
        return nets.SwinUNETR(i, o, spatial_dims=s)
    if name == "dynunet":
        kernels, strides = dynunet_plan(internal_size)
        # MONAI's default filters (32, 64, 128, 256, 512, capped at 512 in 2D and 320 in 3D), no
        # residual blocks, no deep supervision (as MONAI builds it by default)
        return nets.DynUNet(
            s, i, o, kernel_size=kernels, strides=strides, upsample_kernel_size=strides[1:]
        )
    if name == "basic_unet":
        return nets.BasicUNet(s, i, o)  # default features 32, 32, 64, 128, 256, 32
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")


def build_text_encoder(text: dict[str, Any] | None, vocab_size: int) -> ReportEncoder:
    """The report encoder from a config section.

    Args:
        text: ``{"pretrained": PATH}`` for a local BERT/MacBERT folder,
            ``{"bert_config": {...}}`` to rebuild a saved architecture, or
            overrides of the small default config (hidden_size, layers...).
        vocab_size: the tokenizer's vocabulary size.
    """
    text = dict(text or {})
    if text.get("pretrained"):
        return ReportEncoder.from_pretrained(text["pretrained"])
    if text.get("bert_config"):
        return ReportEncoder.from_config_dict(text["bert_config"])
    overrides = {
        k: v for k, v in text.items() if k not in ("pretrained", "bert_config", "max_length")
    }
    return ReportEncoder.small(vocab_size, **overrides)


def build_model(
    name: str,
    *,
    spatial_dims: int = 2,
    in_channels: int = 2,
    out_channels: int = 3,
    input_size: Sequence[int] = (1024, 256),
    input_scale: float = 1.0,
    vocab_size: int | None = None,
    text: dict[str, Any] | None = None,
    mt_unet: dict[str, Any] | None = None,
    slice_context: int = 0,
) -> nn.Module:
    """Build any registered model.

    Args:
        name: one of :data:`MODEL_NAMES`.
        spatial_dims: 2 or 3.
        in_channels: image channels.
        out_channels: classes.
        input_size: spatial size of the training input (UNETR needs it).
        input_scale: internal resolution relative to the input.
        vocab_size: tokenizer vocabulary size (text models).
        text: text encoder section (see :func:`build_text_encoder`).
        mt_unet: extra MTUNet keyword arguments (features, gate_init...).
        slice_context: a 2D network of SPECT/CT slices reads this many SPECT slices on each
            side as extra channels (``in_channels`` counts them); kept as the network's
            ``slice_context`` for :func:`boneread_ml.predict.predict`.

    Returns:
        The network; call it as ``model(image, input_ids, attention_mask)``.
    """
    if slice_context and spatial_dims != 2:
        raise ValueError(f"slice_context needs a 2D network, got spatial_dims={spatial_dims}")
    net = _build(name, spatial_dims, in_channels, out_channels, input_size, input_scale,
                 vocab_size, text, mt_unet)  # fmt: skip
    net.slice_context = int(slice_context)
    return net


def _build(
    name, spatial_dims, in_channels, out_channels, input_size, input_scale, vocab_size, text,
    mt_unet,
) -> nn.Module:  # fmt: skip
    if name in MTUNET_VARIANTS:
        encoder = None
        if MTUNET_VARIANTS[name] != "none":
            if vocab_size is None and not (text or {}).get("pretrained"):
                raise ValueError(
                    f"{name} needs vocab_size (the tokenizer's) or a pretrained encoder"
                )
            encoder = build_text_encoder(text, vocab_size or 0)
        return MTUNet(
            spatial_dims, in_channels, out_channels, text_encoder=encoder,
            input_scale=input_scale, **(mt_unet or {}),
        )  # fmt: skip
    if name in BASELINES:
        internal = [max(1, round(s * input_scale)) for s in input_size]
        net = _baseline(name, spatial_dims, in_channels, out_channels, internal)
        roi = internal if name == "unetr" else None
        return ImageOnlyNet(net, spatial_dims, in_channels, out_channels, input_scale, roi)
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")


def text_mode(name: str) -> str:
    """How a model is fed the report: "report", "shuffled" or "none"."""
    return MTUNET_VARIANTS.get(name, "none")


MODEL_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    n: (lambda n=n, **kw: build_model(n, **kw)) for n in MODEL_NAMES
}
