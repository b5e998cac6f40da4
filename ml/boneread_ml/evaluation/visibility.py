"""How visible a true lesion is against its own surroundings in the image.

A lesion's **local contrast-to-noise ratio** (CNR) is, on the lightly smoothed count image
(Gaussian sigma 1 px, as a reader's eye averages neighbouring pixels), the lesion's mean count
minus the mean of the ring around it (1 to 3 px outside it, on no other lesion), divided by the
ring's standard deviation; a planar lesion takes the better of its two views. The ring's spread
holds both the counting (Poisson) noise and the normal anatomy next to the lesion, so a CNR
under 1 means the lesion is no brighter than the ordinary variation of its surroundings; it is
a measure of the image, not of any reader, and knows nothing of what the report says.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: the ring around a lesion: pixels within RING_OUTER but not within RING_INNER dilations of it
RING_INNER, RING_OUTER = 1, 3
#: Gaussian smoothing (pixels) of the counts before measuring
SMOOTH_SIGMA = 1.0
#: margin (pixels) of the box a lesion is measured in (>= RING_OUTER)
_MARGIN = 5


def lesion_ring(mask: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """The ring around ``mask`` (RING_INNER to RING_OUTER pixels out) on no lesion of ``instance``."""
    return (
        ndimage.binary_dilation(mask, iterations=RING_OUTER)
        & ~ndimage.binary_dilation(mask, iterations=RING_INNER)
        & (instance == 0)
    )


def smoothed_views(emission: np.ndarray) -> list[np.ndarray]:
    """Each count view (planar: anterior, posterior; SPECT: the volume) smoothed by SMOOTH_SIGMA."""
    return [ndimage.gaussian_filter(np.asarray(v, np.float32), SMOOTH_SIGMA) for v in emission]


#: with a bone mask, the ring keeps only its bone pixels when it has at least this many
MIN_BONE_RING = 8


def lesion_visibility(
    views: list[np.ndarray], instance: np.ndarray, bone: np.ndarray | None = None
) -> dict[int, dict[str, float]]:
    """Every lesion of ``instance``: its local CNR and mean-count contrast ratio, best view.

    Args:
        views: smoothed count views (:func:`smoothed_views`), each the shape of ``instance``.
        instance: lesion ids per pixel (0: none).
        bone: optional bone mask (the phantom's ``bone``): the ring is then the lesion's own
            bone around it (a rib lesion against the rib, not the rib and the gap beside it),
            where the ring holds at least MIN_BONE_RING bone pixels.

    Returns:
        ``{lesion id: {"cnr": float, "contrast": float, "area_px": int}}``; a lesion whose ring
        is empty (it fills its surroundings) gets CNR and contrast NaN.

    Raises:
        ValueError: a view (or the bone mask) of another shape than the instance map.
    """
    for v in [*views, *([] if bone is None else [bone])]:
        if v.shape != instance.shape:
            raise ValueError(f"view {v.shape} does not match the instance map {instance.shape}")
    out: dict[int, dict[str, float]] = {}
    for index, box in enumerate(ndimage.find_objects(instance)):
        if box is None:
            continue
        lesion_id = index + 1
        box = tuple(slice(max(b.start - _MARGIN, 0), b.stop + _MARGIN) for b in box)
        inst = instance[box]
        mask = inst == lesion_id
        ring = lesion_ring(mask, inst)
        if bone is not None and (ring & (bone[box] > 0)).sum() >= MIN_BONE_RING:
            ring &= bone[box] > 0
        cnr = contrast = float("nan")
        if ring.sum() >= 2:
            cnrs, ratios = [], []
            for view in views:
                crop = view[box]
                inside, around = float(crop[mask].mean()), float(crop[ring].mean())
                cnrs.append((inside - around) / max(float(crop[ring].std()), 1e-6))
                ratios.append(inside / (around + 1e-3))
            cnr, contrast = max(cnrs), max(ratios)
        out[lesion_id] = {"cnr": cnr, "contrast": contrast, "area_px": int(mask.sum())}
    return out
