"""Calibrate the lesion decision threshold of a released model on its training cases.

Training on lesion-centred crops shows the network far more lesion pixels
than a whole scan has, so its lesion probabilities are biased upwards (a
prior shift) and ``argmax`` over-segments. The fix is a threshold on the
lesion probability ``1 - p(background)``, chosen to maximise the mean
lesion-class Dice on (a subset of) the model's *training* cases, never on
the cases it will be evaluated on, and recorded in the release's
``config.json`` (``postprocess.lesion_threshold``), which :func:`predict`
applies. Every model in a comparison is calibrated the same way.

The same cases then calibrate the *lesion probability* shown in the lesion
list. A lesion's raw probability (the mean softmax of its class over its
pixels) sits at 0.99-1.00 for nearly every lesion, false positives included;
:func:`fit_lesion_calibration` fits a logistic recalibration (Platt scaling,
on the raw probability's logit and the lesion's log size: small blobs are the
usual false positives) to whether each predicted lesion is right, recorded as
``postprocess.lesion_calibration`` and applied by :func:`predict`. The recalibration
names its features (:data:`LESION_FEATURE_SETS`): the linear set above, or the
quadratic one (their squares too, for a reliability curve that bends), which
:func:`choose_lesion_features` picks by cross-validation on the calibration cases.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
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
    # in uint8 throughout: two int64 maps of a 128-slice volume took ~20 ms of predict()
    labels = np.greater(probabilities[2], probabilities[1]).view(np.uint8) + np.uint8(1)
    labels *= lesion
    return labels


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


#: features of the lesion recalibration, in order (the default: a fit on the 16 calibration
#: cases of a training run has too few lesions for more)
LESION_CALIBRATION_FEATURES = ("logit_probability", "log_size")

#: the feature sets a release's recalibration may name
LESION_FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "linear": LESION_CALIBRATION_FEATURES,
    "quadratic": (*LESION_CALIBRATION_FEATURES, "logit_probability_squared", "log_size_squared"),
}


def lesion_features(
    probability: float, size: int, features: Sequence[str] = LESION_CALIBRATION_FEATURES
) -> list[float]:
    """The recalibration's inputs for one lesion (raw probability, pixel/voxel count).

    Raises:
        ValueError: a feature name no set of :data:`LESION_FEATURE_SETS` has.
    """
    p = float(np.clip(probability, 1e-6, 1.0 - 1e-6))
    logit, log_size = float(np.log(p / (1.0 - p))), float(np.log(max(1, size)))
    values = {
        "logit_probability": logit,
        "log_size": log_size,
        "logit_probability_squared": logit * logit,
        "log_size_squared": log_size * log_size,
    }
    unknown = [f for f in features if f not in values]
    if unknown:
        raise ValueError(f"unknown lesion-calibration feature(s) {unknown}")
    return [values[f] for f in features]


def apply_lesion_calibration(
    calibration: dict[str, Any] | None, probability: float, size: int
) -> float:
    """Calibrated probability of one lesion (the raw one when there is no calibration)."""
    if not calibration:
        return float(probability)
    features = calibration.get("features") or LESION_CALIBRATION_FEATURES
    z = float(calibration["intercept"]) + float(
        np.dot(calibration["coef"], lesion_features(probability, size, features))
    )
    return float(1.0 / (1.0 + np.exp(-z)))


def fit_lesion_calibration(
    outcomes: Sequence[tuple[float, int, bool]],
    c: float = 1.0,
    features: Sequence[str] = LESION_CALIBRATION_FEATURES,
) -> dict[str, Any] | None:
    """Logistic recalibration of lesion probabilities.

    Args:
        outcomes: per predicted lesion (raw probability, size in pixels/voxels,
            whether it is right: its class is the majority true class under it).
        c: inverse L2 strength of the logistic regression.
        features: one of :data:`LESION_FEATURE_SETS`' values.

    Returns:
        ``{"features", "coef", "intercept", "lesions", "right"}``, or None when
        the lesions are all right or all wrong (nothing to fit).
    """
    from sklearn.linear_model import LogisticRegression

    y = np.array([bool(r) for _, _, r in outcomes])
    if y.size < 2 or y.all() or not y.any():
        return None
    x = np.array([lesion_features(p, n, features) for p, n, _ in outcomes])
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    return {
        "features": list(features),
        "coef": [float(v) for v in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
        "lesions": int(y.size),
        "right": int(y.sum()),
    }


def choose_lesion_features(
    cases: Sequence[Sequence[tuple[float, int, bool]]], folds: int = 5, seed: int = 0
) -> tuple[str, dict[str, float]]:
    """The feature set of :data:`LESION_FEATURE_SETS` whose fit states the best probabilities on
    cases it was not fitted on: ``folds``-fold cross-validation over the calibration cases (a
    case's lesions stay together), scored by the Brier score of the pooled out-of-fold
    probabilities. A proper score, not the expected calibration error: stating every lesion's
    base rate has an ECE near 0 and tells right from wrong lesions not at all. Ties go to the
    first (the linear set).

    Args:
        cases: per case, per predicted lesion (raw probability, size, right).

    Returns:
        (chosen name, {name: {"brier", "ece"} of the out-of-fold probabilities}).

    Raises:
        ValueError: fewer cases than folds.
    """
    from boneread_ml.evaluation.metrics import expected_calibration_error

    if len(cases) < folds:
        raise ValueError(f"{len(cases)} calibration cases, fewer than {folds} folds")
    order = np.random.default_rng(seed).permutation(len(cases))
    parts = np.array_split(order, folds)
    scores: dict[str, dict[str, float]] = {}
    for name, features in LESION_FEATURE_SETS.items():
        stated, right = [], []
        for k, held in enumerate(parts):
            train = [
                les for j, part in enumerate(parts) if j != k for i in part for les in cases[i]
            ]
            fit = fit_lesion_calibration(train, features=features)
            for i in held:
                for p, n, r in cases[i]:
                    stated.append(apply_lesion_calibration(fit, p, n))
                    right.append(float(r))
        p, y = np.array(stated), np.array(right)
        scores[name] = {
            "brier": float(np.mean((p - y) ** 2)),
            "ece": expected_calibration_error(p, y),
        }
    best = min(scores, key=lambda name: (scores[name]["brier"], list(scores).index(name)))
    return best, scores


#: candidate lesion-probability floors (0: keep every lesion)
FLOORS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(19))

#: what a floor can be chosen for: the mean lesion-class Dice (the threshold's objective) or
#: the lesion-level F1 (2 found / (2 found + false positives + missed), pooled over the cases)
FLOOR_OBJECTIVES = ("dice", "lesion_f1")


def choose_lesion_floor(
    cases: Iterable[tuple[np.ndarray, np.ndarray, Sequence[dict[str, Any]], dict[str, np.ndarray]]],
    objective: str = "lesion_f1",
    floors: Sequence[float] = FLOORS,
) -> tuple[float, dict[str, dict[str, float]]]:
    """The lesion-probability floor that scores best over the cases.

    Args:
        cases: per case (label map, instance map, lesion list as predict states it, the case's
            arrays with ``label`` and ``instance``); a lesion's ``probability`` is the
            (recalibrated) one the floor acts on. Read once, case by case (a generator keeps
            one case in memory: hundreds of SPECT/CT volumes do not fit side by side).
        objective: one of :data:`FLOOR_OBJECTIVES`. The lesion F1 is the default: a small
            false-positive blob barely moves a Dice, but it is a spot a reader has to look at.
        floors: candidates; ties go to the lowest (the one that removes least).

    Returns:
        (best floor, {floor: {"dice", "lesion_f1", "sensitivity", "false_positives_per_case"}});
        a case whose Dice is undefined at a floor (no lesion in the truth and none left) does not
        count in that floor's Dice, as in :func:`choose_threshold`.
    """
    from boneread_ml.evaluation.metrics import lesion_detection

    if objective not in FLOOR_OBJECTIVES:
        raise ValueError(f"floor objective must be one of {FLOOR_OBJECTIVES}, got {objective!r}")
    # per floor: Dices, then found, missed, false positives summed over the cases
    dices: dict[float, list[float]] = {q: [] for q in floors}
    counts = {q: np.zeros(3) for q in floors}
    n_cases = 0
    for label_map, instance_map, lesions, truth in cases:
        n_cases += 1
        for q in floors:
            low = [les["id"] for les in lesions if float(les["probability"]) < q]
            pred = np.where(np.isin(instance_map, low), 0, label_map) if low else label_map
            dices[q].append(case_metrics(pred, truth["label"])["mean_class_dice"])
            det = lesion_detection(pred, truth["instance"], truth["label"])
            counts[q] += (
                det["detected"], det["n_lesions"] - det["detected"], det["false_positives"]
            )  # fmt: skip
    if not n_cases:
        raise ValueError("no cases to choose a lesion floor on")
    scores: dict[str, dict[str, float]] = {}
    for q in floors:
        found, missed, false_pos = (float(v) for v in counts[q])
        defined = [v for v in dices[q] if not np.isnan(v)]
        denominator = 2 * found + false_pos + missed
        scores[f"{q:g}"] = {
            "dice": float(np.mean(defined)) if defined else float("nan"),
            "lesion_f1": float(2 * found / denominator) if denominator else float("nan"),
            "sensitivity": float(found / (found + missed)) if found + missed else float("nan"),
            "false_positives_per_case": float(false_pos / n_cases),
        }

    def rank(q: float) -> tuple[float, float]:
        value = scores[f"{q:g}"][objective]
        return (-1.0 if np.isnan(value) else value, -q)

    return float(max(floors, key=rank)), scores


def calibrate_release(
    release: str | Path,
    data_root: str | Path,
    cases: Sequence[dict[str, Any]],
    seed: int = 0,
    fit_floor: bool = False,
    floor_objective: str = "lesion_f1",
) -> dict[str, Any]:
    """Choose and record the lesion threshold of a release on ``cases``.

    Args:
        release: release directory (its config.json is updated; the weights
            and their checksum are untouched).
        data_root: data root.
        cases: calibration cases (from the model's training folds).
        seed: text shuffling seed (shuffled-text models).
        fit_floor: also choose a lesion-probability floor on the same cases
            (:func:`choose_lesion_floor`, recorded as ``postprocess.lesion_floor``, applied by
            :func:`boneread_ml.predict.apply_lesion_floor`); without it the release has none.
        floor_objective: what the floor is chosen for (:data:`FLOOR_OBJECTIVES`).

    Returns:
        The ``postprocess`` section written.
    """
    from boneread_ml.predict import load_model, predict

    model = load_model(release)
    # chosen on what the network and the threshold give, before any floor of an earlier fit
    (model.config.get("postprocess") or {}).pop("lesion_floor", None)
    mode = model.config.get("text_mode", "report") if model.tokenizer is not None else "none"
    texts = case_texts(cases, mode, seed)
    probs, labels = [], []
    for case, text in zip(cases, texts, strict=True):
        arrays = load_arrays(data_root, case)
        spacing = arrays.get("spacing_mm")
        probs.append(predict(arrays["image"], text, model, spacing_mm=spacing).probabilities)
        labels.append(arrays["label"])
    best, scores = choose_threshold(probs, labels)
    from boneread_ml.evaluation.metrics import lesion_outcomes
    from boneread_ml.predict import assign_report_sites, lesion_table, report_site_maps

    outcomes = []
    for case, text, p, y in zip(cases, texts, probs, labels, strict=True):
        arrays = load_arrays(data_root, case)
        image = arrays["image"]
        label_map = labels_at(p, best)
        instance, lesions = lesion_table(label_map, p, image, model.task)
        if model.site_rule is not None:
            # the lesions as predict lists them: the report-site rule's classes
            maps, _ = report_site_maps(model, text, image, arrays.get("spacing_mm"))
            assign_report_sites(label_map, instance, lesions, p.copy(), maps, model.site_rule)
        sizes = [les.get("area_px", les.get("volume_vox")) for les in lesions]
        outcomes += [
            (prob, size, right)
            for (prob, right), size in zip(
                lesion_outcomes(instance, lesions, y), sizes, strict=True
            )
        ]
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
    section["lesion_calibration"] = fit_lesion_calibration(outcomes)
    from boneread_ml.models.release import RELEASE_SETTINGS

    for key in RELEASE_SETTINGS:  # settings of the release, not fitted here: kept
        if (model.config.get("postprocess") or {}).get(key) is not None:
            section[key] = model.config["postprocess"][key]
    update_release_config(release, postprocess=section)
    logger.info(
        "%s: lesion threshold %.4f (training-case Dice %.3f)",
        Path(release).name,
        best,
        scores[best],
    )
    if fit_floor:
        section["lesion_floor"] = fit_lesion_floor(
            release, data_root, cases, floor_objective, seed=seed
        )
    return section


def fit_lesion_floor(
    release: str | Path,
    data_root: str | Path,
    cases: Sequence[dict[str, Any]],
    objective: str = "lesion_f1",
    seed: int = 0,
    fitted_on: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Choose and record a release's lesion-probability floor on ``cases``.

    The release predicts each case as the product does (its threshold, recalibration, site
    rule and gate as recorded; any earlier floor taken off), and :func:`choose_lesion_floor`
    picks the floor on the probabilities the lesion list states. Only
    ``postprocess.lesion_floor`` is written; the rest of the release is untouched.

    Args:
        release: release directory.
        data_root: data root of ``cases``.
        cases: cases the floor is chosen on: the release's calibration cases (training
            cases) or, better, a held-out calibration set it was never trained on (a network
            is surer of its training cases' lesions, so a floor chosen there cuts too deep);
            never test cases.
        objective: :data:`FLOOR_OBJECTIVES`.
        seed: text shuffling seed (shuffled-text models).
        fitted_on: what to record as ``fitted_on`` for a held-out set (``{"data_seed",
            "cases", "command"}``, as ``lesion_calibration`` records its set); by default
            the list of the case ids.

    Returns:
        The ``lesion_floor`` section written.
    """
    from boneread_ml.predict import load_model, predict

    if objective not in FLOOR_OBJECTIVES:
        raise ValueError(f"floor objective must be one of {FLOOR_OBJECTIVES}, got {objective!r}")
    model = load_model(release)
    model.config.setdefault("postprocess", {}).pop("lesion_floor", None)
    mode = model.config.get("text_mode", "report") if model.tokenizer is not None else "none"

    def predicted():  # one case at a time
        for case, text in zip(cases, case_texts(cases, mode, seed), strict=True):
            arrays = load_arrays(data_root, case)
            result = predict(arrays["image"], text, model, spacing_mm=arrays.get("spacing_mm"))
            yield result.label_map, result.instance_map, result.lesions, arrays

    floor, scores = choose_lesion_floor(predicted(), objective)
    section = {
        "min_probability": floor,
        "objective": objective,
        "fitted_on": fitted_on if fitted_on is not None else [c["case_id"] for c in cases],
        "scores_by_floor": scores,
    }
    import json

    from boneread_ml.models.release import CONFIG

    written = json.loads((Path(release) / CONFIG).read_text(encoding="utf-8"))
    post = {**(written.get("postprocess") or {}), "lesion_floor": section}
    update_release_config(release, postprocess=post)
    logger.info(
        "%s: lesion floor %.2f (%s %.3f on %d cases)",
        Path(release).name, floor, objective, scores[f"{floor:g}"][objective], len(cases),
    )  # fmt: skip
    return section
