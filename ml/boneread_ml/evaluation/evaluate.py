"""Evaluate released models on a phantom data set through the product path (``predict``).

Per case: per-class and lesion-union pixel metrics, lesion detection. Pooled:
pixel-level ROC/AUC per lesion class on a fixed, model-independent sample of
pixels (all lesion pixels plus a seeded sample of the others), so that AUCs of
different models are paired and can be compared with DeLong.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from boneread_ml.data.datasets import case_texts, load_arrays
from boneread_ml.evaluation.keyword_rule import keyword_rule_prediction
from boneread_ml.evaluation.metrics import (
    LESION_CLASSES,
    bootstrap_ci,
    case_metrics,
    expected_calibration_error,
    lesion_detection,
    lesion_outcomes,
    roc_auc,
    tolerant_case_metrics,
)
from boneread_ml.predict import LoadedModel, predict

logger = logging.getLogger(__name__)

NEGATIVE_PIXELS_PER_CASE = 4000


@dataclass
class ModelEvaluation:
    """Everything measured for one model.

    Attributes:
        name: label of the model in tables.
        rows: one dict per case (case_id + metrics + detection counts).
        scores: class -> (truth (n,), score (n,)) on the shared pixel sample.
        seconds_per_case: mean inference time.
    """

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    seconds_per_case: float = float("nan")
    lesion_outcomes: list[tuple[float, bool]] = field(default_factory=list)

    def column(self, key: str) -> np.ndarray:
        return np.array([r.get(key, np.nan) for r in self.rows], dtype=float)


def pixel_sample(label: np.ndarray, case_index: int, seed: int) -> np.ndarray:
    """Flat indices of all lesion pixels plus a seeded sample of background ones.

    Depends only on the truth, the case and the seed, never on a model.
    """
    flat = label.ravel()
    pos = np.flatnonzero(flat > 0)
    neg = np.flatnonzero(flat == 0)
    rng = np.random.default_rng([seed, case_index])
    if neg.size > NEGATIVE_PIXELS_PER_CASE:
        neg = rng.choice(neg, NEGATIVE_PIXELS_PER_CASE, replace=False)
    return np.sort(np.concatenate([pos, neg]))


def evaluate_model(
    model: LoadedModel,
    data_root: str | Path,
    cases: Sequence[dict[str, Any]],
    *,
    name: str | None = None,
    text: str | None = None,
    seed: int = 0,
    keyword_rule: bool = False,
) -> ModelEvaluation:
    """Run one model over cases.

    Args:
        model: a loaded release.
        data_root: data root.
        cases: manifest cases to evaluate.
        name: table label (default: the model's registry name).
        text: text mode (``report``/``none``/``shuffled``); default: the mode
            the model was trained with (recorded in its config).
        seed: seed of the pixel sample and of text shuffling.
        keyword_rule: relabel the model's (image-only) prediction by the class its own
            report's impression names (:mod:`boneread_ml.evaluation.keyword_rule`).

    Returns:
        :class:`ModelEvaluation`.
    """
    import time

    mode = text or model.config.get("text_mode", "report")
    texts = case_texts(cases, mode if model.tokenizer is not None else "none", seed)
    rule_texts = case_texts(cases, "report") if keyword_rule else None
    result = ModelEvaluation(name=name or model.name)
    truth: dict[int, list[np.ndarray]] = {c: [] for c in LESION_CLASSES}
    score: dict[int, list[np.ndarray]] = {c: [] for c in LESION_CLASSES}
    elapsed = 0.0
    for i, (case, report) in enumerate(
        tqdm(list(zip(cases, texts, strict=True)), desc=result.name, leave=False)
    ):
        arrays = load_arrays(data_root, case)
        t0 = time.perf_counter()
        pred = predict(arrays["image"], report, model, spacing_mm=arrays.get("spacing_mm"))
        if rule_texts is not None:
            pred = keyword_rule_prediction(pred, rule_texts[i])
        elapsed += time.perf_counter() - t0
        label = arrays["label"]
        row: dict[str, Any] = {
            "case_id": case["case_id"],
            "mixed_classes": bool((label == 1).any() and (label == 2).any()),
        }
        row.update(case_metrics(pred.label_map, label))
        row.update(tolerant_case_metrics(pred.label_map, label, tolerance=1))
        mentions = (case.get("report") or {}).get("mentions")
        described = None if mentions is None else {i for m in mentions for i in m["lesion_ids"]}
        row.update(lesion_detection(pred.label_map, arrays["instance"], label, described))
        result.rows.append(row)
        result.lesion_outcomes += lesion_outcomes(pred.instance_map, pred.lesions, label)
        idx = pixel_sample(label, i, seed)
        flat_label = label.ravel()[idx]
        for c in LESION_CLASSES:
            truth[c].append(flat_label == c)
            score[c].append(pred.probabilities[c].ravel()[idx])
    result.seconds_per_case = elapsed / max(1, len(cases))
    result.scores = {
        c: (np.concatenate(truth[c]), np.concatenate(score[c])) for c in LESION_CLASSES
    }
    return result


def summarize(ev: ModelEvaluation, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """One summary row: means with bootstrap 95% CIs over cases, AUCs, detection."""
    out: dict[str, Any] = {"model": ev.name, "cases": len(ev.rows)}
    keys = ["mean_class_dice", "case_dice", "mean_class_dice_tol1", "benign_dice_tol1",
            "metastatic_dice_tol1"] + [
        f"{name}_{m}" for name in [*LESION_CLASSES.values(), "lesion"]
        for m in ("dice", "iou", "sensitivity", "specificity", "accuracy")
    ]  # fmt: skip
    for key in keys:
        mean, lo, hi = bootstrap_ci(ev.column(key), n_boot=n_boot, seed=seed)
        out[key] = mean
        out[f"{key}_ci"] = (lo, hi)
    for c, name in LESION_CLASSES.items():
        y, s = ev.scores[c]
        out[f"{name}_auc"] = roc_auc(y, s)
    n_les = ev.column("n_lesions").sum()
    out["lesion_detection_sensitivity"] = (
        float(ev.column("detected").sum() / n_les) if n_les else float("nan")
    )
    out["lesion_class_accuracy"] = float(
        ev.column("correct_class").sum() / max(1.0, ev.column("detected").sum())
    )
    mixed = ev.column("mixed_classes") == 1
    detected_mixed = ev.column("detected")[mixed].sum()
    # grounding: on cases with both classes a case-level class label cannot be right for all
    out["mixed_case_lesion_class_accuracy"] = (
        float(ev.column("correct_class")[mixed].sum() / detected_mixed)
        if detected_mixed
        else float("nan")
    )
    # ... and on the lesions their reports describe: the share the report can decide
    detected_described = np.nansum(ev.column("detected_described")[mixed])
    out["mixed_case_described_lesion_class_accuracy"] = (
        float(np.nansum(ev.column("correct_class_described")[mixed]) / detected_described)
        if detected_described
        else float("nan")
    )
    out["false_positives_per_case"] = float(np.nanmean(ev.column("false_positives")))
    probability = np.array([p for p, _ in ev.lesion_outcomes])
    correct = np.array([c for _, c in ev.lesion_outcomes])
    out["lesion_ece"] = expected_calibration_error(probability, correct)
    out["seconds_per_case"] = ev.seconds_per_case
    return out
