"""Losses: segmentation (soft Dice over the lesion classes + cross-entropy) and report grounding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.losses import DiceCELoss
from torch import nn


class SegmentationLoss(nn.Module):
    """Dice (lesion classes, batch-pooled) + cross-entropy.

    Lesions cover well under 1% of a bone scan, so plain cross-entropy would
    settle on background; the soft Dice over the lesion classes (pooled over
    the batch so that a class absent from one image does not produce a
    degenerate term) keeps them in view.

    Args:
        lambda_dice: weight of the Dice term.
        lambda_ce: weight of the cross-entropy term.
        class_weights: cross-entropy weight per class (background, benign,
            metastatic); weighting the rare lesion classes up speeds learning.
    """

    def __init__(
        self,
        lambda_dice: float = 1.0,
        lambda_ce: float = 1.0,
        class_weights: list[float] | None = None,
    ) -> None:
        super().__init__()
        weight = torch.tensor(class_weights, dtype=torch.float32) if class_weights else None
        self.loss = DiceCELoss(
            include_background=False, to_onehot_y=True, softmax=True, batch=True,
            lambda_dice=lambda_dice,
            weight=weight, lambda_ce=lambda_ce,
        )  # fmt: skip
        self.lambda_dice = float(lambda_dice)
        self.lambda_ce = float(lambda_ce)
        self.register_buffer("class_weight", weight if weight is not None else torch.ones(0))

    def forward(
        self,
        logits: torch.Tensor,
        label: torch.Tensor,
        pixel_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss.

        Args:
            logits: (B, K, *spatial) raw logits.
            label: (B, *spatial) integer classes.
            pixel_weight: optional (B, *spatial) weight of each pixel in the
                cross-entropy (times its class weight; the weighted mean, as
                without it), e.g. the dataset's lesion balance; the Dice term
                is unchanged.

        Returns:
            Scalar loss.
        """
        if label.ndim != logits.ndim - 1:
            raise ValueError(
                f"label {tuple(label.shape)} does not match logits {tuple(logits.shape)}"
            )
        if pixel_weight is None:
            return self.loss(logits.float(), label.unsqueeze(1))
        if pixel_weight.shape != label.shape:
            raise ValueError(
                f"pixel_weight {tuple(pixel_weight.shape)} does not match label {tuple(label.shape)}"
            )
        logits = logits.float()
        dice = self.loss.dice(logits, label.unsqueeze(1))
        per_pixel = F.cross_entropy(logits, label, reduction="none")
        weight = pixel_weight.float()
        if self.class_weight.numel():
            weight = weight * self.class_weight[label]
        ce = (per_pixel * weight).sum() / weight.sum().clamp_min(1e-6)
        return self.lambda_dice * dice + self.lambda_ce * ce


class GroundingLoss(nn.Module):
    """Teach the text path to ground the report: which class it gives each place.

    Two terms, both read from the report alone (the image only steers the
    cross-attention), so they can only be lowered by tying the report's words to
    positions and classes:

    * site: at every position of the grounding stage that holds lesion pixels,
      cross-entropy of the site head (benign vs metastatic) against the
      majority lesion class there;
    * case: binary cross-entropy of the case head against which lesion classes
      the whole case has (a crop shows only part of it).

    Items whose report is empty (text dropout) contribute nothing.

    Args:
        site_weight: weight of the site term.
        case_weight: weight of the case term.
    """

    def __init__(self, site_weight: float = 1.0, case_weight: float = 0.5) -> None:
        super().__init__()
        self.site_weight = float(site_weight)
        self.case_weight = float(case_weight)

    def forward(
        self,
        aux: dict[str, torch.Tensor],
        label: torch.Tensor,
        case_classes: torch.Tensor,
        has_text: torch.Tensor,
    ) -> torch.Tensor:
        """Loss (zero when no item has a report).

        Args:
            aux: the model's ``site_logits`` (B, 2, *stage) and ``case_logits`` (B, 2).
            label: (B, *spatial) integer classes at the input's size.
            case_classes: (B, 2) float, 1 where the case has benign / metastatic lesions.
            has_text: (B,) bool, the item was given its own non-empty report (not dropped, not
                replaced by a reader's miss: ``TextCollate``'s ``called_normal_rate``).
        """
        site, case = aux["site_logits"].float(), aux["case_logits"].float()
        zero = site.sum() * 0.0
        if not bool(has_text.any()):
            return zero
        onehot = torch.stack([(label == 1), (label == 2)], dim=1).float()
        pool = F.adaptive_avg_pool2d if site.ndim == 4 else F.adaptive_avg_pool3d
        frac = pool(onehot, site.shape[2:])  # (B, 2, *stage): share of each class per cell
        lesion = (frac.sum(1) > 0) & has_text.view(-1, *([1] * (site.ndim - 2)))
        loss = zero
        if bool(lesion.any()):
            target = frac.argmax(1)
            per_cell = F.cross_entropy(site, target, reduction="none")
            loss = loss + self.site_weight * per_cell[lesion].mean()
        case_loss = F.binary_cross_entropy_with_logits(
            case[has_text], case_classes[has_text].float()
        )
        return loss + self.case_weight * case_loss
