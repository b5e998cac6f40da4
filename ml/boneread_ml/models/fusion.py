"""Text-to-image fusion blocks for the MT-UNet decoder.

Both blocks are residual and gated: ``x + tanh(gate) * f(x, text)``. With the
gate at zero the block is the identity, so a freshly initialised MT-UNet is a
plain U-Net and "text removed" is exactly the image-only path.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def coordinate_features(
    shape: tuple[int, ...],
    num_freqs: int,
    device,
    dtype,
    extent: torch.Tensor | None = None,
    coord_dims: int | None = None,
) -> torch.Tensor:
    """Fourier features of normalised grid coordinates.

    The decoder's queries need to know *where* they are (the report names
    sites: ribs, spine, pelvis), which convolutions only know implicitly.

    Args:
        shape: spatial shape (H, W) or (D, H, W) of the feature map.
        num_freqs: frequencies per axis.
        extent: (B, rows, 2) start and end of the map along each axis in
            whole-image coordinates [-1, 1] (a training crop covers part of the
            body); None = the whole image. Rows beyond ``len(shape)`` come
            first and are constant coordinates: a slice-wise SPECT/CT slice's
            axial position is ``[[z, z], [y0, y1], [x0, x1]]``.
        coord_dims: coordinates encoded (default ``len(shape)``); the leading
            constant rows beyond it are dropped, missing ones are taken as 0.

    Returns:
        Tensor (B or 1, prod(shape), coord_dims * 2 * num_freqs).
    """
    dims = len(shape)
    coord_dims = coord_dims or dims
    axes = [_unit_axis(n, device, dtype) for n in shape]
    unit = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, dims)
    if extent is None:
        extent = torch.tensor([[-1.0, 1.0]] * dims, device=device, dtype=dtype)[None]
    if extent.ndim != 3 or extent.shape[1] < dims or extent.shape[2] != 2:
        raise ValueError(
            f"extent must be (B, rows >= {dims}, 2) [start, stop] per axis, "
            f"got {tuple(extent.shape)}"
        )
    extent = extent.to(device=device, dtype=dtype)
    constant, extent = extent[:, : extent.shape[1] - dims], extent[:, extent.shape[1] - dims :]
    start, stop = extent[..., 0], extent[..., 1]  # (B, dims)
    grid = start[:, None, :] + unit[None] * (stop - start)[:, None, :]  # (B, N, dims)
    extra = coord_dims - dims
    if extra > 0:
        fixed = constant[:, -extra:, 0]  # (B, <= extra)
        missing = extra - fixed.shape[1]  # no position given: the centre
        fixed = torch.cat([fixed.new_zeros(fixed.shape[0], missing), fixed], dim=1)
        grid = torch.cat([fixed[:, None, :].expand(-1, grid.shape[1], -1), grid], dim=-1)
    freqs = (2.0 ** torch.arange(num_freqs, device=device, dtype=dtype)) * math.pi
    angles = grid.unsqueeze(-1) * freqs  # (B, N, dims, F)
    feats = torch.cat([angles.sin(), angles.cos()], dim=-1)
    return feats.reshape(grid.shape[0], grid.shape[1], -1)


def _unit_axis(n, device: torch.device | None, dtype: torch.dtype | None) -> torch.Tensor:
    """``n`` evenly spaced points from 0 to 1 (``linspace(0, 1, n)``; ``[0]`` for n = 1).

    Written as ``arange(n) / max(n - 1, 1)`` with tensor operations: the ONNX export of
    ``linspace`` divides by n - 1, so a map one position wide (the deepest level of the
    smallest input the network takes) gave 0 / 0 and ONNX Runtime returned NaN.
    """
    steps = torch.arange(n, device=device, dtype=dtype)
    return steps / steps[-1:].clamp_min(1.0)


class CrossAttentionFusion(nn.Module):
    """Image positions attend to the report's tokens (padding masked), gated residual.

    Args:
        spatial_dims: 2 or 3.
        channels: image feature channels C.
        text_dim: text feature size D.
        num_heads: attention heads (C must be divisible by it).
        gate_init: initial value of the gate parameter (tanh applied).
        num_freqs: coordinate Fourier frequencies added to the queries.
        coord_dims: coordinates encoded (default ``spatial_dims``; 3 for
            slice-wise SPECT/CT: the slice's axial position, then row and column).
    """

    def __init__(
        self,
        spatial_dims: int,
        channels: int,
        text_dim: int,
        num_heads: int = 4,
        gate_init: float = 0.1,
        num_freqs: int = 6,
        coord_dims: int | None = None,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.spatial_dims = spatial_dims
        self.num_freqs = num_freqs
        self.coord_dims = coord_dims or spatial_dims
        self.norm_q = nn.LayerNorm(channels)
        self.pos = nn.Linear(self.coord_dims * 2 * num_freqs, channels)
        self.norm_kv = nn.LayerNorm(text_dim)
        self.attn = nn.MultiheadAttention(
            channels, num_heads, kdim=text_dim, vdim=text_dim, batch_first=True
        )
        self.out = nn.Sequential(
            nn.Linear(channels, channels), nn.GELU(), nn.Linear(channels, channels)
        )
        self.gate = nn.Parameter(torch.tensor(float(gate_init)))

    def forward(
        self,
        x: torch.Tensor,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        extent: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fuse.

        Args:
            x: image features (B, C, *spatial).
            tokens: text token features (B, T, D).
            mask: True for real tokens (B, T); at least one per row.
            extent: (B, dims, 2) whole-image coordinates of ``x``'s edges (crops), or None.

        Returns:
            (fused features of the same shape as ``x``, the text message
            before the gate, also (B, C, *spatial)). The message is a mix of
            report token values only (the image merely steers where each
            position looks), which is what the grounding head reads.
        """
        b, c = x.shape[:2]
        spatial = tuple(x.shape[2:])
        seq = x.flatten(2).transpose(1, 2)  # (B, N, C)
        pos = coordinate_features(
            spatial, self.num_freqs, x.device, x.dtype, extent, self.coord_dims
        )
        query = self.norm_q(seq) + self.pos(pos)
        kv = self.norm_kv(tokens)
        attended, _ = self.attn(query, kv, kv, key_padding_mask=~mask, need_weights=False)
        delta = self.out(attended).transpose(1, 2).reshape(b, c, *spatial)
        return x + torch.tanh(self.gate) * delta, delta


class FiLMFusion(nn.Module):
    """Channel-wise scale and shift from the pooled report, gated residual.

    Args:
        channels: image feature channels C.
        text_dim: text feature size D.
        gate_init: initial value of the gate parameter (tanh applied).
    """

    def __init__(self, channels: int, text_dim: int, gate_init: float = 0.1) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(text_dim), nn.Linear(text_dim, 2 * channels))
        self.gate = nn.Parameter(torch.tensor(float(gate_init)))

    def forward(self, x: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """Fuse.

        Args:
            x: image features (B, C, *spatial).
            pooled: pooled text features (B, D).

        Returns:
            Features of the same shape as ``x``.
        """
        gamma, beta = self.proj(pooled).chunk(2, dim=-1)
        view = (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)
        g = torch.tanh(self.gate)
        return x * (1.0 + g * gamma.view(view)) + g * beta.view(view)
