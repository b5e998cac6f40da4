"""Inference-time rewrites of a trained network (same weights, faster CPU forward).

:func:`optimize_for_inference` changes how a loaded network runs, never what
it stores: the state dict keeps its keys and tensors (the shipped
safetensors file and its sha256 stay as they are), and the outputs match the
eager network to float rounding (the equivalence tests check 1e-4 on the
softmax of the shipped checkpoints).

What it does, each kept because it measurably won on 2 CPU threads:

- **channels-last** memory format for the weights and activations:
  oneDNN's 3x3 convolutions with 16-32 channels run about 2-3x faster on
  NHWC than on NCHW (no reorder to a blocked layout and back around every
  convolution), and max-pooling and concatenation get cheaper too.
- **fused instance normalisation + LeakyReLU**: instance norm depends on each
  image's statistics, so it cannot be folded into the convolution's weights;
  instead the per-(image, channel) mean and mean of squares (vectorised over
  the channels of the channels-last map, with a two-pass fallback when the
  mean dwarfs the spread) become a single scale and shift (``addcmul``) followed by an in-place
  LeakyReLU. This avoids ``F.instance_norm``'s reshape to a batch norm over
  ``B*C`` channels (with its copies of the weights and of non-contiguous input).
- **no replicate padding** in MONAI's ``UpCat``: it pads every upsampled map by
  zero pixels (a full copy) to handle odd sizes; MT-UNet only accepts sizes
  divisible by 16, where the pad never changes anything.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.networks.blocks.convolutions import Convolution
from monai.networks.nets.basic_unet import UpCat
from torch import nn

from boneread_ml.models.mt_unet import MTUNet

__all__ = ["FusedInstanceNormAct", "optimize_for_inference"]


class FusedInstanceNormAct(nn.Module):
    """Instance normalisation (affine) then LeakyReLU, as one scale-shift pass.

    Keeps the original ``InstanceNorm`` module as ``N`` (and the dropout and
    activation as ``D`` and ``A``, like MONAI's ``ADN``) so the state dict's
    keys do not change.

    Args:
        adn: a MONAI ``ADN`` with ``N`` an affine ``InstanceNorm{2,3}d`` without
            running statistics, ``D`` an (inactive) dropout and ``A`` a ``LeakyReLU``.
    """

    def __init__(self, adn: nn.Module) -> None:
        super().__init__()
        self.N = adn.N
        self.D = adn.D
        self.A = adn.A
        self.eps = float(adn.N.eps)
        self.negative_slope = float(adn.A.negative_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.ndim))
        view = (1, -1) + (1,) * len(dims)
        if x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last):
            var, mean = _channels_last_stats(x)
        else:
            var, mean = torch.var_mean(x, dim=dims, keepdim=True, correction=0)
        scale = self.N.weight.view(view) * torch.rsqrt(var + self.eps)
        if bool((mean * mean > _CANCELLATION_LIMIT * var).any()):
            # x * scale + (bias - mean * scale) would cancel too: centre first
            y = torch.addcmul(self.N.bias.view(view), x - mean, scale)
        else:
            y = torch.addcmul(self.N.bias.view(view) - mean * scale, x, scale)
        return F.leaky_relu_(y, self.negative_slope)


#: E[x^2] - E[x]^2 loses precision when the mean dwarfs the spread; above this
#: mean^2 / var the two-pass ``var_mean`` is used instead (relative error of the
#: fast path stays below about 100 x float32 epsilon).
_CANCELLATION_LIMIT = 100.0


def _channels_last_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-(image, channel) variance and mean of an NHWC tensor, as (B, C, 1, 1).

    ``(B, H*W, C)`` is a view of it; reducing over its middle axis is
    vectorised along the channels. Mean and mean of squares are about 3x
    cheaper than the Welford ``var_mean`` over that axis (the largest cost of
    the eager network's instance norms on one thread).
    """
    b, c = x.shape[:2]
    xv = x.permute(0, 2, 3, 1).reshape(b, -1, c)
    mean = xv.mean(1)
    var = xv.square().mean(1) - mean * mean
    if bool((mean * mean > _CANCELLATION_LIMIT * var).any()):
        var, mean = torch.var_mean(xv, dim=1, correction=0)
    return var.clamp_min(0.0).view(b, c, 1, 1), mean.view(b, c, 1, 1)


def _fusable(adn: nn.Module) -> bool:
    norm = getattr(adn, "N", None)
    act = getattr(adn, "A", None)
    drop = getattr(adn, "D", None)
    return (
        isinstance(norm, (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d))
        and norm.affine
        and not norm.track_running_stats
        and isinstance(act, nn.LeakyReLU)
        and (drop is None or isinstance(drop, nn.Dropout))
        and list(adn.children()) == [m for m in (norm, drop, act) if m is not None]
    )


class _NoPadUpCat(UpCat):
    """``UpCat`` that pads only when the sizes differ (never, at sizes divisible by 16)."""

    def forward(self, x: torch.Tensor, x_e: torch.Tensor | None):  # noqa: D102
        x_0 = self.upsample(x)
        if x_e is None:
            return self.convs(x_0)
        if x_e.shape[2:] != x_0.shape[2:]:
            sp = [0] * (2 * (x.ndim - 2))
            for i in range(x.ndim - 2):
                if x_e.shape[-i - 1] != x_0.shape[-i - 1]:
                    sp[i * 2 + 1] = 1
            x_0 = F.pad(x_0, sp, "replicate")
        return self.convs(torch.cat([x_e, x_0], dim=1))


def optimize_for_inference(network: nn.Module, *, channels_last: bool = True) -> nn.Module:
    """Rewrite ``network`` in place for fast inference and return it.

    Puts it in eval mode, fuses every instance-norm + LeakyReLU of its MONAI
    ``Convolution`` blocks, removes ``UpCat``'s no-op padding and (for 2D
    networks) moves the weights to channels-last; the network then converts
    its input itself (``network.channels_last``). Parameters, buffers and
    state-dict keys are unchanged.

    Args:
        network: a loaded network (MT-UNet or a MONAI baseline).
        channels_last: use the channels-last memory format (2D MT-UNet only:
            it converts its own input; the baselines are left in NCHW).
    """
    network.eval()
    for module in network.modules():
        if isinstance(module, Convolution) and hasattr(module, "adn") and _fusable(module.adn):
            module.adn = FusedInstanceNormAct(module.adn)
        if type(module) is UpCat:
            module.__class__ = _NoPadUpCat
    if channels_last and isinstance(network, MTUNet) and network.spatial_dims == 2:
        network.to(memory_format=torch.channels_last)
        network.channels_last = True
    network.optimized_for_inference = True
    return network
