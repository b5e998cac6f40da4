"""MT-UNet: a U-Net whose decoder is conditioned on the diagnostic report.

Image path: MONAI's BasicUNet building blocks (``TwoConv``, ``Down``,
``UpCat``), ``spatial_dims`` 2 (planar, SPECT/CT slice-wise) or 3. Text path:
:class:`~boneread_ml.models.text_encoder.ReportEncoder` (BERT). Fusion in the
decoder: cross-attention from image positions to report tokens at the two
low-resolution stages, FiLM from the pooled report at the two
high-resolution stages, each a residual with a tanh gate (see
:mod:`boneread_ml.models.fusion`).

For a CPU budget the network can work at a reduced internal resolution
(``input_scale`` < 1): the input is area-downsampled and the logits are
interpolated back to the input size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from monai.networks.nets.basic_unet import Down, TwoConv, UpCat
from torch import nn

from boneread_ml.models.fusion import CrossAttentionFusion, FiLMFusion
from boneread_ml.models.text_encoder import ReportEncoder, TextFeatures

ACT = ("LeakyReLU", {"negative_slope": 0.1, "inplace": True})
NORM = ("instance", {"affine": True})

#: How the network reads its count channels: ``linear`` as normalised (units of the
#: scan's high percentile), or ``log``: ``log1p(x / LOG_FLOOR) / log1p(1 / LOG_FLOOR)``,
#: so that an uptake *ratio* (a lesion 2x its bone) is the same step on a faint femur as
#: on the bright spine; counts below about LOG_FLOOR of the percentile stay nearly linear
#: (Poisson noise dominates there).
COUNT_TRANSFORMS = ("linear", "log")
LOG_FLOOR = 0.05


def transform_counts(x: torch.Tensor, transform: str, channels: int) -> torch.Tensor:
    """Apply ``transform`` to the first ``channels`` channels of (B, C, *spatial)."""
    if transform == "linear" or channels == 0:
        return x
    counts = torch.log1p(x[:, :channels].clamp_min(0.0) / LOG_FLOOR) / float(
        torch.log1p(torch.tensor(1.0 / LOG_FLOOR))
    )
    return counts if channels == x.shape[1] else torch.cat([counts, x[:, channels:]], 1)


def resize_input(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Area-downsample (B, C, *spatial) by ``scale`` (no-op at 1).

    Where ``1 / scale`` is a whole number k that divides every side, area downsampling is
    k x k averaging: done as pooling, which ONNX export traces for any input size (the
    size arithmetic of the general path cannot be traced: "Tensor doesn't define
    __round__", and ``load_model`` fell back to torch for such a network).
    """
    if scale == 1.0:
        return x
    k = round(1.0 / scale)
    if abs(k * scale - 1.0) < 1e-9 and all(int(s) % k == 0 for s in x.shape[2:]):
        return (F.avg_pool2d if x.ndim == 4 else F.avg_pool3d)(x, k)
    size = [max(1, round(int(s) * scale)) for s in x.shape[2:]]
    return F.interpolate(x, size=size, mode="area")


def resize_logits(logits: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Interpolate logits back to ``size`` (bilinear / trilinear)."""
    if tuple(logits.shape[2:]) == tuple(size):
        return logits
    mode = "bilinear" if logits.ndim == 4 else "trilinear"
    return F.interpolate(logits, size=list(size), mode=mode, align_corners=False)


def _broadcast_text(text: TextFeatures, batch: int) -> TextFeatures:
    """Expand a batch of one report to ``batch`` images (no copy); check the batch otherwise."""
    if text.tokens.shape[0] == batch:
        return text
    if text.tokens.shape[0] == 1:
        return TextFeatures(
            tokens=text.tokens.expand(batch, -1, -1),
            mask=text.mask.expand(batch, -1),
            pooled=text.pooled.expand(batch, -1),
        )
    raise ValueError(f"{text.tokens.shape[0]} reports for a batch of {batch} images")


class MTUNet(nn.Module):
    """Report-conditioned U-Net.

    Args:
        spatial_dims: 2 or 3.
        in_channels: image channels (planar: anterior + posterior = 2;
            SPECT/CT: SPECT + CT = 2).
        out_channels: classes (background, benign, metastatic = 3).
        features: six channel counts as in MONAI BasicUNet: encoder levels
            0-4 and the last decoder level.
        text_encoder: the report encoder, or None for the image-only network
            (the "no text" ablation; identical image path).
        num_heads: cross-attention heads.
        cross_attention_stages: how many of the lowest-resolution decoder
            positions (bottleneck, then 1/8) use cross-attention (0-2).
        film_stages: how many of the next decoder stages (1/4, 1/2) use FiLM (0-2).
        gate_init: initial value of every fusion gate.
        num_freqs: coordinate Fourier frequencies per axis in the cross-attention queries.
        coord_dims: coordinates in those queries (default ``spatial_dims``; 3
            for slice-wise SPECT/CT, whose extent carries the slice position).
        grounding: add the report-grounding heads (training signal only, see
            :meth:`forward` with ``return_aux``): from the last cross-attention
            stage's text message, the class the report gives the lesion at each
            position; from the pooled report, which lesion classes the case has.
        report_prior: add the grounding heads' outputs to the lesion-class
            logits (needs ``grounding``): the site head's log-probabilities
            (upsampled) and the log-probability that the case has each class,
            scaled by a learned weight. An empty report adds nothing.
        input_scale: internal resolution relative to the input (e.g. 0.5).
        dropout: dropout in the convolution blocks.
        site_maps: (text models only) take two more input channels, the
            report's benign and metastatic site maps
            (:func:`boneread_ml.data.report_sites.planar_site_maps`), passed to
            :meth:`forward` as ``site_maps``; zeros when none are given (no report).
        site_prior: (with ``site_maps``) initial weight of the site maps' direct
            say in the lesion class: ``w * (metastatic map - benign map) / 2`` is
            added to the metastatic logit and subtracted from the benign one (the
            weight is learned; 0 = no such path, the maps are only inputs).
        count_transform: how the first ``count_channels`` image channels (normalised
            counts) are read, one of :data:`COUNT_TRANSFORMS` (``log``: an uptake ratio
            is the same step at every count level; see :func:`transform_counts`).
        count_channels: how many leading image channels are counts (planar 2,
            SPECT/CT 1; the CT channel is left alone); None: all of them.

    Input sizes must be divisible by 16 after scaling.
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 2,
        out_channels: int = 3,
        features: Sequence[int] = (16, 16, 32, 64, 128, 16),
        text_encoder: ReportEncoder | None = None,
        num_heads: int = 4,
        cross_attention_stages: int = 2,
        film_stages: int = 2,
        gate_init: float = 0.1,
        num_freqs: int = 6,
        coord_dims: int | None = None,
        grounding: bool = False,
        report_prior: bool = False,
        input_scale: float = 1.0,
        dropout: float = 0.0,
        site_maps: bool = False,
        site_prior: float = 0.0,
        count_transform: str = "linear",
        count_channels: int | None = None,
    ) -> None:
        super().__init__()
        if count_transform not in COUNT_TRANSFORMS:
            raise ValueError(
                f"count_transform must be one of {', '.join(COUNT_TRANSFORMS)}, "
                f"got {count_transform!r}"
            )
        count_channels = in_channels if count_channels is None else count_channels
        if not isinstance(count_channels, int) or not 0 <= count_channels <= in_channels:
            raise ValueError(
                f"count_channels must be an integer in 0..{in_channels}, got {count_channels!r}"
            )
        self.count_transform = count_transform
        self.count_channels = count_channels
        if spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")
        if len(features) != 6:
            raise ValueError(f"features needs 6 entries, got {len(features)}")
        if not 0 <= cross_attention_stages <= 2 or not 0 <= film_stages <= 2:
            raise ValueError("cross_attention_stages and film_stages must be in 0..2")
        if not 0.0 < input_scale <= 1.0:
            raise ValueError(f"input_scale must be in (0, 1], got {input_scale}")
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.input_scale = float(input_scale)
        f = list(features)
        # the report's site maps enter with the image (text models only; the no-text ablation
        # built from the same config stays the plain image network)
        self.site_map_channels = 2 if site_maps and text_encoder is not None else 0
        self.conv_0 = TwoConv(
            spatial_dims, in_channels + self.site_map_channels, f[0], ACT, NORM, True, dropout
        )
        self.site_prior_weight = (
            nn.Parameter(torch.tensor(float(site_prior)))
            if self.site_map_channels and site_prior
            else None
        )
        self.down_1 = Down(spatial_dims, f[0], f[1], ACT, NORM, True, dropout)
        self.down_2 = Down(spatial_dims, f[1], f[2], ACT, NORM, True, dropout)
        self.down_3 = Down(spatial_dims, f[2], f[3], ACT, NORM, True, dropout)
        self.down_4 = Down(spatial_dims, f[3], f[4], ACT, NORM, True, dropout)
        self.upcat_4 = UpCat(spatial_dims, f[4], f[3], f[3], ACT, NORM, True, dropout)
        self.upcat_3 = UpCat(spatial_dims, f[3], f[2], f[2], ACT, NORM, True, dropout)
        self.upcat_2 = UpCat(spatial_dims, f[2], f[1], f[1], ACT, NORM, True, dropout)
        self.upcat_1 = UpCat(spatial_dims, f[1], f[0], f[5], ACT, NORM, True, dropout, halves=False)
        self.final_conv = (nn.Conv2d if spatial_dims == 2 else nn.Conv3d)(f[5], out_channels, 1)

        self.text_encoder = text_encoder
        # Decoder positions in order: bottleneck (f4), after upcat_4 (f3),
        # after upcat_3 (f2), after upcat_2 (f1).
        self.fusion = nn.ModuleDict()
        if text_encoder is not None:
            d = text_encoder.hidden_size
            stage_channels = [f[4], f[3], f[2], f[1]]
            for i in range(cross_attention_stages):
                heads = num_heads if stage_channels[i] % num_heads == 0 else 1
                self.fusion[f"stage{i}"] = CrossAttentionFusion(
                    spatial_dims, stage_channels[i], d, heads, gate_init, num_freqs, coord_dims
                )
            for i in range(2, 2 + film_stages):
                self.fusion[f"stage{i}"] = FiLMFusion(stage_channels[i], d, gate_init)
        self.grounding_stage: int | None = None
        if text_encoder is not None and grounding and cross_attention_stages > 0:
            self.grounding_stage = cross_attention_stages - 1
            conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
            # benign vs metastatic, read from the report's message at each position
            self.site_head = conv(stage_channels[self.grounding_stage], 2, 1)
            # does the case have benign / metastatic lesions (multi-label)
            self.case_head = nn.Linear(text_encoder.hidden_size, 2)
        if report_prior and text_encoder is not None and self.grounding_stage is None:
            raise ValueError("report_prior needs grounding=True and a cross-attention stage")
        # (the no-text ablation is built from the same config: without text there is no prior)
        self.prior_weight = (
            nn.Parameter(torch.tensor(0.5))
            if report_prior and self.grounding_stage is not None
            else None
        )

    @property
    def uses_text(self) -> bool:
        return self.text_encoder is not None

    def fusion_gates(self) -> list[nn.Parameter]:
        """Every parameter through which the report reaches the output.

        The gate of every fusion block, and the report prior's weight; with
        all of them at zero the network is its image-only path.
        """
        gates = [block.gate for block in self.fusion.values()]
        gates += [self.prior_weight] if self.prior_weight is not None else []
        return gates + ([self.site_prior_weight] if self.site_prior_weight is not None else [])

    def encode_text(
        self, input_ids: torch.Tensor | None, attention_mask: torch.Tensor | None, batch: int
    ) -> TextFeatures | None:
        """Encode the report (None when this network has no text path or no text).

        A batch of one report is broadcast to ``batch`` images (all slices of a volume).
        """
        if self.text_encoder is None or input_ids is None:
            return None
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return _broadcast_text(self.text_encoder(input_ids, attention_mask), batch)

    def _fuse(
        self,
        stage: int,
        x: torch.Tensor,
        text: TextFeatures | None,
        extent: torch.Tensor | None,
        aux: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        key = f"stage{stage}"
        if text is None or key not in self.fusion:
            return x
        block = self.fusion[key]
        if isinstance(block, CrossAttentionFusion):
            fused, message = block(x, text.tokens, text.mask, extent)
            if stage == self.grounding_stage:
                aux["site_logits"] = self.site_head(message)
            return fused
        return block(x, text.pooled)

    def forward(
        self,
        image: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        extent: torch.Tensor | None = None,
        return_aux: bool = False,
        text: TextFeatures | None = None,
        site_maps: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Segment.

        Args:
            image: (B, in_channels, H, W) or (B, in_channels, D, H, W).
            input_ids: report token ids (B, T) or (1, T); None = image only.
            attention_mask: (B, T) or (1, T), 1 for real tokens.
            extent: (B, rows, 2) where the image lies in whole-image
                coordinates [-1, 1] (training crops; slice-wise SPECT/CT adds a
                leading ``[z, z]`` row); None = a whole image.
            return_aux: also return the grounding heads' outputs (training).
            text: the report already encoded by :meth:`encode_text` (for
                this batch, or a batch of one to broadcast); when given,
                ``input_ids`` and ``attention_mask`` are ignored. Slice-wise
                inference encodes a volume's report once this way.
            site_maps: (B, 2, *spatial) the report's benign / metastatic site
                maps at the image's size (networks built with ``site_maps``;
                ignored otherwise); None = zeros.

        Returns:
            Raw logits (B, out_channels, *spatial) at the input's size; with
            ``return_aux``, ``(logits, aux)`` where ``aux`` holds ``site_logits``
            (B, 2, *stage spatial) and ``case_logits`` (B, 2) when the network
            has grounding heads and a report was given (else it is empty).
        """
        if image.ndim != self.spatial_dims + 2:
            raise ValueError(
                f"expected a {self.spatial_dims + 2}-D image batch, got shape {tuple(image.shape)}"
            )
        if image.shape[1] != self.in_channels:
            raise ValueError(f"expected {self.in_channels} channels, got {image.shape[1]}")
        size = image.shape[2:]
        image = transform_counts(image, self.count_transform, self.count_channels)
        if self.site_map_channels:
            if site_maps is None:
                site_maps = image.new_zeros((image.shape[0], self.site_map_channels, *size))
            elif site_maps.shape[0] != image.shape[0] or site_maps.shape[2:] != size:
                raise ValueError(
                    f"site maps {tuple(site_maps.shape)} do not match the image {tuple(image.shape)}"
                )
            image = torch.cat([image, site_maps.to(image.dtype)], dim=1)
        x = resize_input(image, self.input_scale)
        prior_maps = x[:, self.in_channels :] if self.site_prior_weight is not None else None
        if any(s % 16 for s in x.shape[2:]):
            raise ValueError(
                f"internal size {tuple(x.shape[2:])} must be divisible by 16 "
                f"(input {tuple(size)}, input_scale {self.input_scale})"
            )
        if text is None:
            text = self.encode_text(input_ids, attention_mask, image.shape[0])
        elif text.tokens.shape[0] != image.shape[0]:
            text = _broadcast_text(text, image.shape[0])
        if getattr(self, "channels_last", False) and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        aux: dict[str, torch.Tensor] = {}
        if text is not None and self.grounding_stage is not None:
            aux["case_logits"] = self.case_head(text.pooled)
        x0 = self.conv_0(x)
        x1 = self.down_1(x0)
        x2 = self.down_2(x1)
        x3 = self.down_3(x2)
        x4 = self._fuse(0, self.down_4(x3), text, extent, aux)
        u4 = self._fuse(1, self.upcat_4(x4, x3), text, extent, aux)
        u3 = self._fuse(2, self.upcat_3(u4, x2), text, extent, aux)
        u2 = self._fuse(3, self.upcat_2(u3, x1), text, extent, aux)
        u1 = self.upcat_1(u2, x0)
        logits = self.final_conv(u1)
        if self.prior_weight is not None and aux:
            logits = logits + self._report_prior(aux, text, logits.shape[2:])
        if prior_maps is not None:
            # the report's sites decide between the lesion classes where they are named
            shift = 0.5 * self.site_prior_weight * (prior_maps[:, 1:2] - prior_maps[:, 0:1])
            logits = torch.cat([logits[:, :1], logits[:, 1:2] - shift, logits[:, 2:3] + shift], 1)
        logits = resize_logits(logits, size)
        return (logits, aux) if return_aux else logits

    def _report_prior(
        self, aux: dict[str, torch.Tensor], text: TextFeatures, size: Sequence[int]
    ) -> torch.Tensor:
        """(B, 3, *size) additive logits: 0 for background, the report's evidence for the lesion classes."""
        mode = "bilinear" if self.spatial_dims == 2 else "trilinear"
        site = F.interpolate(
            aux["site_logits"].float(), size=list(size), mode=mode, align_corners=False
        )
        view = (-1, 2) + (1,) * self.spatial_dims
        case = F.logsigmoid(aux["case_logits"].float()).view(view)
        lesion = F.log_softmax(site, dim=1) + case
        # an empty report ([CLS] [SEP] only) carries no evidence
        nonempty = (
            (text.mask.sum(1) > 2).to(lesion.dtype).view((-1,) + (1,) * (self.spatial_dims + 1))
        )
        lesion = self.prior_weight * nonempty * lesion
        return torch.cat([torch.zeros_like(lesion[:, :1]), lesion], dim=1).to(
            aux["site_logits"].dtype
        )
