"""Calibrate the lesion decision threshold of a released model on its training cases.

Training on lesion-centred crops shows the network far more lesion pixels
than a whole scan has, so its lesion probabilities are biased upwards (a
prior shift) and ``argmax`` over-segments. The fix is a threshold on the
lesion probability ``1 - p(background)``, chosen to maximise the mean
lesion-class Dice on (a subset of) the model's *training* cases, never on
the cases it will be evaluated on, and recorded in the release's
``config.json`` (``postprocess.lesion_threshold``), which :func:`predict`
applies. Every model in a comparison is calibrated the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from boneread_ml.data.datasets import case_texts, load_arrays
from boneread_ml.evaluation.metrics import case_metrics
from boneread_ml.models.release import update_release_config

logger = logging.getLogger(__name__)

THRESHOLDS: tuple[float, ...] = (
    0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9998, 0.9999, 0.99995, 0.99998, 0.99999,
)  # fmt: skip


def labels_at(probabilities: np.ndarray, threshold: float | None) -> np.ndarray:
    """Class map from softmax probabilities (K=3, *spatial).

    Args:
        probabilities: background, benign, metastatic probabilities.
        threshold: lesion where ``1 - p(background) > threshold``, its class
            the likelier lesion class; None = plain argmax.

    Returns:
        uint8 class map.
    """
    if threshold is None:
        return probabilities.argmax(axis=0).astype(np.uint8)
    lesion = (1.0 - probabilities[0]) > threshold
    cls = np.where(probabilities[2] > probabilities[1], 2, 1)
    return np.where(lesion, cls, 0).astype(np.uint8)


def choose_threshold(
    probabilities: Sequence[np.ndarray], labels: Sequence[np.ndarray], thresholds=THRESHOLDS
) -> tuple[float, dict[float, float]]:
    """The threshold with the highest mean lesion-class Dice over the cases.

    Returns:
        (best threshold, {threshold: mean Dice}).
    """
    scores = {}
    for t in thresholds:
        values = [
            case_metrics(labels_at(p, t), y)["mean_class_dice"]
            for p, y in zip(probabilities, labels, strict=True)
        ]
        values = [v for v in values if not np.isnan(v)]
        scores[float(t)] = float(np.mean(values)) if values else float("nan")
    best = max(scores, key=lambda t: -1.0 if np.isnan(scores[t]) else scores[t])
    return best, scores


def calibrate_release(
    release: str | Path, data_root: str | Path, cases: Sequence[dict[str, Any]], seed: int = 0
) -> dict[str, Any]:
    """Choose and record the lesion threshold of a release on ``cases``.

    Args:
        release: release directory (its config.json is updated; the weights
            and their checksum are untouched).
        data_root: data root.
        cases: calibration cases (from the model's training folds).
        seed: text shuffling seed (shuffled-text models).

    Returns:
        The ``postprocess`` section written.
    """
    from boneread_ml.predict import load_model, predict

    model = load_model(release)
    mode = model.config.get("text_mode", "report") if model.tokenizer is not None else "none"
    texts = case_texts(cases, mode, seed)
    probs, labels = [], []
    for case, text in zip(cases, texts, strict=True):
        arrays = load_arrays(data_root, case)
        probs.append(predict(arrays["image"], text, model).probabilities)
        labels.append(arrays["label"])
    best, scores = choose_threshold(probs, labels)
    section = {
        "lesion_threshold": best,
        "calibrated_on": [c["case_id"] for c in cases],
        "dice_by_threshold": scores,
        "argmax_dice": float(
            np.nanmean(
                [
                    case_metrics(p.argmax(0), y)["mean_class_dice"]
                    for p, y in zip(probs, labels, strict=True)
                ]
            )
        ),
    }
    update_release_config(release, postprocess=section)
    logger.info(
        "%s: lesion threshold %.4f (training-case Dice %.3f)",
        Path(release).name,
        best,
        scores[best],
    )
    return section
