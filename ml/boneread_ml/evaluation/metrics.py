"""Segmentation metrics as small pure numpy functions.

confusion counts -> metrics -> per-case rows -> summary, plus lesion-level
detection (connected components) and ROC/AUC. All functions take plain
arrays and are unit-tested on hand-made inputs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats

LESION_CLASSES: dict[int, str] = {1: "benign", 2: "metastatic"}


@dataclass(frozen=True)
class Counts:
    """Pixel (voxel) confusion counts of one binary mask against the truth."""

    tp: int
    fp: int
    tn: int
    fn: int


def confusion_counts(pred: np.ndarray, truth: np.ndarray) -> Counts:
    """Confusion counts of binary masks.

    Args:
        pred: predicted mask, any shape, bool or 0/1.
        truth: true mask, same shape.

    Returns:
        :class:`Counts`.
    """
    pred = np.asarray(pred).astype(bool)
    truth = np.asarray(truth).astype(bool)
    if pred.shape != truth.shape:
        raise ValueError(f"shapes differ: pred {pred.shape}, truth {truth.shape}")
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred & ~truth))
    fn = int(np.count_nonzero(~pred & truth))
    return Counts(tp=tp, fp=fp, tn=int(pred.size - tp - fp - fn), fn=fn)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def metrics_from_counts(c: Counts) -> dict[str, float]:
    """Accuracy, sensitivity, specificity, IoU, Dice from counts.

    Undefined ratios (empty truth and empty prediction) are NaN, so that
    averages skip them rather than counting a free 1.0 or 0.0.
    """
    return {
        "accuracy": _ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
        "sensitivity": _ratio(c.tp, c.tp + c.fn),
        "specificity": _ratio(c.tn, c.tn + c.fp),
        "iou": _ratio(c.tp, c.tp + c.fp + c.fn),
        "dice": _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    }


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Dice of two binary masks (NaN when both are empty)."""
    return metrics_from_counts(confusion_counts(pred, truth))["dice"]


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the empirical ROC curve (Mann-Whitney U with mid-ranks).

    Args:
        y_true: binary truth (n,).
        score: higher = more likely positive (n,).

    Returns:
        AUC, or NaN when a class is absent.
    """
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(score, dtype=float).ravel()
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - m * (m + 1) / 2.0) / (m * n))


def roc_curve(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical ROC curve.

    Returns:
        (false positive rates, true positive rates), both starting at 0 and ending at 1.
    """
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(score, dtype=float).ravel()
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / max(1, y.sum())]
    fpr = np.r_[0.0, fps / max(1, (~y).sum())]
    return fpr, tpr


def case_metrics(
    pred_label: np.ndarray,
    true_label: np.ndarray,
    classes: dict[int, str] = LESION_CLASSES,
) -> dict[str, float]:
    """Per-class and lesion-union metrics of one case.

    Args:
        pred_label: predicted class map (integer, 0 = background).
        true_label: true class map, same shape.
        classes: class id -> name.

    Returns:
        ``{"<name>_<metric>": value}`` for every class and for ``lesion``
        (any lesion class against any), plus ``mean_class_dice`` (the mean of
        the defined per-class Dice values; the experiment's headline metric; NaN
        when neither the truth nor the prediction has a lesion) and ``case_dice``
        (:func:`case_dice`: the same with that case scored 1).
    """
    if pred_label.shape != true_label.shape:
        raise ValueError(f"shapes differ: {pred_label.shape} vs {true_label.shape}")
    row: dict[str, float] = {}
    dices = []
    for cid, name in classes.items():
        m = metrics_from_counts(confusion_counts(pred_label == cid, true_label == cid))
        row.update({f"{name}_{k}": v for k, v in m.items()})
        dices.append(m["dice"])
    m = metrics_from_counts(confusion_counts(pred_label > 0, true_label > 0))
    row.update({f"lesion_{k}": v for k, v in m.items()})
    defined = [d for d in dices if not np.isnan(d)]
    row["mean_class_dice"] = float(np.mean(defined)) if defined else float("nan")
    row["case_dice"] = case_dice(row["mean_class_dice"])
    return row


def case_dice(mean_class_dice: float | str) -> float:
    """A case's score over every case, lesion-free ones included.

    ``mean_class_dice`` is undefined (NaN) on a lesion-free scan where nothing is
    stated and 0 where anything is, so a paired mean over it drops exactly the
    lesion-free cases that one model gets right and the other wrong, and a model
    that states lesions on normal scans loses nothing there. Here a scan with no
    lesion in truth or prediction scores 1 (the empty-reference convention of
    Metrics Reloaded); every other case keeps its mean class Dice. Accepts the
    value as stored in a per-case CSV (a string such as "nan"), so rows written
    before this column existed give the same score.

    Raises:
        ValueError: a value that is no number (a missing one is not a lesion-free case).
    """
    try:
        value = float(mean_class_dice)
    except (TypeError, ValueError):
        raise ValueError(
            f"mean_class_dice must be a number or 'nan', got {mean_class_dice!r}"
        ) from None
    return 1.0 if np.isnan(value) else value


def tolerant_dice(pred: np.ndarray, truth: np.ndarray, tolerance: int = 1) -> float:
    """Boundary-tolerant Dice of two binary masks (NaN when both are empty).

    A predicted pixel counts as right when a true pixel lies within ``tolerance``
    pixels of it (8-connected), and a true pixel as found when a predicted one
    lies within ``tolerance`` of it: ``(|P in dilate(T)| + |T in dilate(P)|) / (|P| + |T|)``.
    Lesions of bone scans are a few tens of pixels, so a one-pixel disagreement
    of the outline alone costs a strict Dice of about 0.3; this one forgives it.
    At ``tolerance`` 0 it is the strict Dice.
    """
    p = np.asarray(pred).astype(bool)
    t = np.asarray(truth).astype(bool)
    if p.shape != t.shape:
        raise ValueError(f"shapes differ: pred {p.shape}, truth {t.shape}")
    total = int(p.sum() + t.sum())
    if total == 0:
        return float("nan")
    if tolerance <= 0:
        return 2.0 * float(np.count_nonzero(p & t)) / total
    structure = ndimage.generate_binary_structure(p.ndim, p.ndim)
    near_t = ndimage.binary_dilation(t, structure, iterations=tolerance)
    near_p = ndimage.binary_dilation(p, structure, iterations=tolerance)
    return float(np.count_nonzero(p & near_t) + np.count_nonzero(t & near_p)) / total


def tolerant_case_metrics(
    pred_label: np.ndarray,
    true_label: np.ndarray,
    tolerance: int = 1,
    classes: dict[int, str] = LESION_CLASSES,
) -> dict[str, float]:
    """Boundary-tolerant Dice per lesion class and their mean (see :func:`tolerant_dice`).

    Returns:
        ``<name>_dice_tol<k>`` per class and ``mean_class_dice_tol<k>``.
    """
    row = {}
    values = []
    for cid, name in classes.items():
        d = tolerant_dice(pred_label == cid, true_label == cid, tolerance)
        row[f"{name}_dice_tol{tolerance}"] = d
        values.append(d)
    defined = [v for v in values if not np.isnan(v)]
    row[f"mean_class_dice_tol{tolerance}"] = float(np.mean(defined)) if defined else float("nan")
    return row


def lesion_detection(
    pred_label: np.ndarray,
    true_instance: np.ndarray,
    true_label: np.ndarray,
    described: Collection[int] | None = None,
) -> dict[str, float]:
    """Lesion-level detection of one case.

    A true lesion is detected when any predicted lesion pixel overlaps it,
    and correctly classified when the majority predicted class over it is
    its class. A predicted connected component (lesion pixels of any class)
    that overlaps no true lesion is a false positive.

    Args:
        pred_label: predicted class map.
        true_instance: true lesion ids (0 = none).
        true_label: true class map.
        described: ids of the lesions the report describes (the phantom's
            ``report.mentions``); the others are omitted from the report, so no
            use of the report can give their class.

    Returns:
        ``n_lesions``, ``detected``, ``correct_class``, ``false_positives``; with
        ``described`` also ``detected_described`` and ``correct_class_described``.
    """
    ids = [i for i in np.unique(true_instance) if i != 0]
    detected = correct = detected_described = correct_described = 0
    for i in ids:
        region = true_instance == i
        hit = pred_label[region]
        if np.any(hit > 0):
            detected += 1
            true_cls = np.bincount(true_label[region].ravel()).argmax()
            pred_cls = np.bincount(hit[hit > 0].ravel()).argmax()
            correct += int(pred_cls == true_cls)
            if described is not None and int(i) in described:
                detected_described += 1
                correct_described += int(pred_cls == true_cls)
    components, n_comp = ndimage.label(pred_label > 0)
    false_pos = 0
    if n_comp:
        overlaps = ndimage.sum_labels(true_instance > 0, components, index=np.arange(1, n_comp + 1))
        false_pos = int(np.count_nonzero(np.asarray(overlaps) == 0))
    out = {
        "n_lesions": float(len(ids)),
        "detected": float(detected),
        "correct_class": float(correct),
        "false_positives": float(false_pos),
    }
    if described is not None:
        out["detected_described"] = float(detected_described)
        out["correct_class_described"] = float(correct_described)
    return out


def lesion_outcomes(
    pred_instance: np.ndarray, lesions: list[dict], true_label: np.ndarray
) -> list[tuple[float, bool]]:
    """Per predicted lesion: (its stated probability, whether it is right).

    A predicted lesion is right when the true lesion pixels under it are mostly of its class;
    one over background only is wrong (a false positive), whatever its probability.
    """
    out = []
    for les in lesions:
        under = true_label[pred_instance == les["id"]]
        under = under[under > 0]
        right = bool(under.size) and int(np.bincount(under).argmax()) == int(les["label"])
        out.append((float(les["probability"]), right))
    return out


def expected_calibration_error(
    probability: np.ndarray, correct: np.ndarray, n_bins: int = 10
) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over equal-width
    probability bins (NaN without predictions)."""
    p = np.asarray(probability, dtype=float)
    y = np.asarray(correct, dtype=float)
    if p.size == 0:
        return float("nan")
    bins = np.clip((p * n_bins).astype(int), 0, n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        sel = bins == b
        ece += sel.sum() / p.size * abs(y[sel].mean() - p[sel].mean())
    return float(ece)


def ece_if_calibrated(
    probability: np.ndarray, n_bins: int = 10, draws: int = 2000, seed: int = 0
) -> dict[str, float]:
    """The expected calibration error that these stated probabilities would show if they were
    perfectly calibrated: outcomes drawn as right with the stated probability (consistency
    resampling, Broecker and Smith 2007), ``draws`` times. Binning a finite set makes the ECE of
    a perfectly calibrated model positive (about 0.04 for 500 lesions in 10 bins); an ECE above
    this band's 95th percentile is miscalibration, one inside it may be chance.

    Returns:
        ``{"mean", "p95"}`` of the ECE over the draws (NaN without predictions).
    """
    p = np.asarray(probability, dtype=float)
    if p.size == 0:
        return {"mean": float("nan"), "p95": float("nan")}
    rng = np.random.default_rng(seed)
    values = [
        expected_calibration_error(p, rng.random(p.size) < p, n_bins=n_bins) for _ in range(draws)
    ]
    return {"mean": float(np.mean(values)), "p95": float(np.quantile(values, 0.95))}


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float]:
    """Mean and percentile bootstrap CI over cases (NaNs dropped).

    Returns:
        (mean, low, high).
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (float("nan"),) * 3
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(v.mean()), float(lo), float(hi)


def paired_bootstrap_difference(
    a: np.ndarray, b: np.ndarray, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of a - b over cases with a paired percentile bootstrap CI.

    Cases where either value is NaN are dropped (pairs stay together).

    Returns:
        (mean difference, low, high).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    keep = ~(np.isnan(a) | np.isnan(b))
    return bootstrap_ci(a[keep] - b[keep], n_boot=n_boot, alpha=alpha, seed=seed)
