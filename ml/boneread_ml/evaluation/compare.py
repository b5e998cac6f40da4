"""Compare models: paired bootstrap of the Dice difference and DeLong on pixel AUCs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from boneread_ml.evaluation.delong import delong_test
from boneread_ml.evaluation.evaluate import ModelEvaluation
from boneread_ml.evaluation.metrics import LESION_CLASSES, paired_bootstrap_difference


def compare_to_reference(
    reference: ModelEvaluation,
    others: Sequence[ModelEvaluation],
    *,
    keys: Sequence[str] = ("mean_class_dice", "case_dice"),
    n_boot: int = 2000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Reference minus each other model, paired over the same cases and pixels.

    Returns:
        One row per other model: per key of ``keys`` the difference with its bootstrap
        95% CI (``ci_above_zero`` for the first key), and per lesion class the DeLong AUC
        difference, Z and p. ``mean_class_dice`` drops the lesion-free cases where one
        model states nothing (undefined there); ``case_dice`` keeps every case
        (:func:`boneread_ml.evaluation.metrics.case_dice`).
    """
    rows = []
    ref_ids = [r["case_id"] for r in reference.rows]
    for other in others:
        if [r["case_id"] for r in other.rows] != ref_ids:
            raise ValueError(f"{other.name} was evaluated on different cases than {reference.name}")
        row: dict[str, Any] = {"reference": reference.name, "model": other.name}
        for i, key in enumerate(keys):
            diff, lo, hi = paired_bootstrap_difference(
                reference.column(key), other.column(key), n_boot=n_boot, seed=seed
            )
            row[f"{key}_difference"] = diff
            row[f"{key}_difference_ci"] = (lo, hi)
            if i == 0:
                row["ci_above_zero"] = bool(lo > 0)
        for c, name in LESION_CLASSES.items():
            y, s_ref = reference.scores[c]
            y2, s_other = other.scores[c]
            if not np.array_equal(y, y2):
                raise ValueError("pixel samples differ between models; evaluate with the same seed")
            if y.any() and (~y).any():
                d = delong_test(y, s_ref, s_other)
                row[f"{name}_auc_difference"] = d.difference
                row[f"{name}_delong_z"] = d.z
                row[f"{name}_delong_p"] = d.p_value
        rows.append(row)
    return rows
