"""How well a lesion's outline can be drawn from an image: per-lesion threshold ceilings.

Each true lesion is looked at in its **box** (its bounding box grown by a margin, in voxels),
with any other lesion's voxels in the box left out (neither right nor wrong). On a map of the
box (the SPECT counts, the CT's HU, a network's lesion probability) the **oracle threshold
Dice** is the best Dice with the lesion's truth that one threshold on that map reaches, the
threshold being chosen for this lesion knowing its truth, over every possible threshold
(:func:`best_threshold_dice`). No segmentation that thresholds that map alone can outline the
lesion better, so it is a ceiling of what the map shows of the outline, not a method. A map can
be limited to where a lesion can lie (the bone, as the CT shows it): the truth outside that
limit counts as missed.

The network's own outline of the lesion (:func:`predicted_outline_dice`) is its predicted
lesion voxels in the box, of the predicted components that touch the lesion, against the truth.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import ndimage


def best_threshold_dice(
    values: np.ndarray,
    truth: np.ndarray,
    allowed: np.ndarray | None = None,
    *,
    both_sides: bool = False,
) -> tuple[float, float, str]:
    """The best Dice with ``truth`` of ``values >= t`` (inside ``allowed``) over every ``t``.

    Args:
        values: the map (any shape).
        truth: boolean truth, the shape of ``values``.
        allowed: where the thresholded map may say "lesion" (None: everywhere); truth outside
            it is missed by every threshold.
        both_sides: also try ``values <= t`` (a lesion darker than its surroundings, such as a
            lytic one on the CT) and keep the better side.

    Returns:
        ``(dice, threshold, side)``, side ``">="`` or ``"<="``; ``(nan, nan, "")`` when the
        truth is empty, ``(0.0, nan, "")`` when nothing may be marked.

    Raises:
        ValueError: maps of different shapes.
    """
    values = np.asarray(values, np.float64)
    truth = np.asarray(truth, bool)
    allowed = np.ones(values.shape, bool) if allowed is None else np.asarray(allowed, bool)
    if values.shape != truth.shape or allowed.shape != truth.shape:
        raise ValueError(
            f"shapes differ: values {values.shape}, truth {truth.shape}, allowed {allowed.shape}"
        )
    n_truth = int(truth.sum())
    if n_truth == 0:
        return float("nan"), float("nan"), ""
    v, t = values[allowed], truth[allowed]
    if v.size == 0:
        return 0.0, float("nan"), ""
    best = (0.0, float("nan"), "")
    for side, sign in ((">=", 1.0), ("<=", -1.0))[: 2 if both_sides else 1]:
        order = np.argsort(-sign * v, kind="stable")
        sv, hits = sign * v[order], np.cumsum(t[order])
        # a threshold keeps a whole run of equal values: score only each run's last voxel
        last = np.r_[sv[1:] != sv[:-1], True]
        marked = np.arange(1, sv.size + 1)[last]
        dice = 2.0 * hits[last] / (marked + n_truth)
        k = int(np.argmax(dice))
        if dice[k] > best[0]:
            best = (float(dice[k]), float(sign * sv[last][k]), side)
    return best


def best_joint_threshold_dice(
    first: np.ndarray,
    second: np.ndarray,
    truth: np.ndarray,
    allowed: np.ndarray | None = None,
    *,
    second_levels: int = 16,
) -> float:
    """The best Dice of ``first >= t1`` and ``second`` beyond ``t2`` (above or below) together.

    A lesion marked where the first map is high *and* the second is changed (the SPECT's uptake
    where the CT shows the bone altered). ``t1`` is searched exactly (:func:`best_threshold_dice`),
    ``t2`` over ``second_levels`` quantiles of ``second`` inside ``allowed`` on each side (and
    no condition on ``second`` at all).

    Returns:
        The Dice (NaN when the truth is empty).
    """
    first, second = np.asarray(first), np.asarray(second, np.float64)
    truth = np.asarray(truth, bool)
    allowed = np.ones(truth.shape, bool) if allowed is None else np.asarray(allowed, bool)
    if second.shape != truth.shape:
        raise ValueError(f"shapes differ: second {second.shape}, truth {truth.shape}")
    best = best_threshold_dice(first, truth, allowed)[0]
    if not np.isfinite(best) or not allowed.any():
        return best
    levels = np.unique(np.quantile(second[allowed], np.linspace(0, 1, second_levels)))
    for level in levels:
        for where in (allowed & (second >= level), allowed & (second <= level)):
            best = max(best, best_threshold_dice(first, truth, where)[0])
    return best


def lesion_boxes(instance: np.ndarray, margin: int) -> dict[int, tuple[slice, ...]]:
    """Every lesion id of ``instance`` and its bounding box grown by ``margin`` voxels."""
    boxes = {}
    for index, box in enumerate(ndimage.find_objects(np.asarray(instance))):
        if box is not None:
            boxes[index + 1] = tuple(
                slice(max(b.start - margin, 0), min(b.stop + margin, n))
                for b, n in zip(box, instance.shape, strict=True)
            )
    return boxes


def predicted_outline_dice(pred: np.ndarray, instance: np.ndarray, lesion_id: int, box) -> float:
    """Dice of the predicted components touching lesion ``lesion_id``, in its box, with its truth.

    Args:
        pred: boolean predicted lesion mask (either class) of the whole image.
        instance: true lesion ids of the whole image.
        lesion_id: the lesion.
        box: its box (:func:`lesion_boxes`).

    Returns:
        The Dice (0.0 when no predicted component touches the lesion). Other lesions' voxels
        are left out.
    """
    components, _ = ndimage.label(np.asarray(pred, bool)[box])
    inst = np.asarray(instance)[box]
    truth = inst == lesion_id
    touching = np.setdiff1d(np.unique(components[truth]), [0])
    outline = np.isin(components, touching) & ((inst == 0) | truth)
    tp = int((outline & truth).sum())
    return 2.0 * tp / (int(outline.sum()) + int(truth.sum()))


def lesion_ceilings(
    maps: Mapping[str, tuple[np.ndarray, np.ndarray | None, bool]],
    instance: np.ndarray,
    margin: int,
    joint: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] | None = None,
) -> dict[int, dict[str, float]]:
    """Every lesion's oracle threshold Dice on each map.

    Args:
        maps: ``{name: (map, allowed or None, both_sides)}``, each the shape of ``instance``.
        instance: true lesion ids (0: none).
        margin: voxels the lesion's bounding box is grown by.
        joint: ``{name: (first, second, allowed or None)}``: two maps thresholded together
            (:func:`best_joint_threshold_dice`).

    Returns:
        ``{lesion id: {name: dice, ..., "volume_vox": n}}``.

    Raises:
        ValueError: a map of another shape than the instance map.
    """
    instance = np.asarray(instance)
    joint = joint or {}
    arrays = [(n, (v, a)) for n, (v, a, _) in maps.items()]
    arrays += [(n, (f, g, a)) for n, (f, g, a) in joint.items()]
    for name, group in arrays:
        for a in group:
            if a is not None and np.shape(a) != instance.shape:
                raise ValueError(f"map {name} {np.shape(a)} does not match {instance.shape}")
    out: dict[int, dict[str, float]] = {}
    for lesion_id, box in lesion_boxes(instance, margin).items():
        inst = instance[box]
        truth = inst == lesion_id
        considered = (inst == 0) | truth
        row: dict[str, float] = {"volume_vox": int(truth.sum())}
        for name, (values, allowed, both_sides) in maps.items():
            where = considered if allowed is None else considered & np.asarray(allowed)[box]
            row[name] = best_threshold_dice(values[box], truth, where, both_sides=both_sides)[0]
        for name, (first, second, allowed) in joint.items():
            where = considered if allowed is None else considered & np.asarray(allowed)[box]
            row[name] = best_joint_threshold_dice(first[box], second[box], truth, where)
        out[lesion_id] = row
    return out
