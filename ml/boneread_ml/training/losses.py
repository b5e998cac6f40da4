"""Segmentation loss: soft Dice over the lesion classes + cross-entropy."""

from __future__ import annotations

import torch
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

    def forward(self, logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """Loss.

        Args:
            logits: (B, K, *spatial) raw logits.
            label: (B, *spatial) integer classes.

        Returns:
            Scalar loss.
        """
        if label.ndim != logits.ndim - 1:
            raise ValueError(
                f"label {tuple(label.shape)} does not match logits {tuple(logits.shape)}"
            )
        return self.loss(logits.float(), label.unsqueeze(1))
