"""Intensity normalisation and light augmentation for planar and SPECT/CT inputs.

The same normalisation runs in training and in :func:`boneread_ml.predict.predict`
(it is recorded in the checkpoint's config), so the product sees exactly what
the network was trained on. Left-right flips are not done here: reports name
sides (左/右), so a mirrored image needs its report's sides exchanged too
(``SegmentationDataset(flip_prob=...)`` does both). How the network reads the
normalised counts (linear or log) belongs to the network
(``MTUNet(count_transform=...)``), so every runtime applies it.
"""

from __future__ import annotations

import numpy as np

#: Upper clip of normalised counts (in units of the channel's high percentile).
COUNT_CLIP = 4.0


def _count_scale(counts: np.ndarray, percentile: float) -> float:
    positive = counts[counts > 0]
    if positive.size == 0:
        return 1.0
    return float(max(np.percentile(positive, percentile), 1e-6))


def normalize_counts(counts: np.ndarray, percentile: float = 99.0) -> np.ndarray:
    """Scale a count image so that its ``percentile`` of positive pixels is 1.

    Args:
        counts: raw counts, any shape.
        percentile: reference percentile of the positive counts.

    Returns:
        float32 array, same shape, clipped to [0, COUNT_CLIP].
    """
    counts = np.asarray(counts, dtype=np.float32)
    return np.clip(counts / _count_scale(counts, percentile), 0.0, COUNT_CLIP).astype(np.float32)


def normalize_ct(hu: np.ndarray, low: float = -1000.0, high: float = 2000.0) -> np.ndarray:
    """Clip CT Hounsfield units to [low, high] and scale by 1/1000."""
    return (np.clip(np.asarray(hu, dtype=np.float32), low, high) / 1000.0).astype(np.float32)


def normalize_planar(image: np.ndarray) -> np.ndarray:
    """Normalise a planar scan.

    Args:
        image: (2, H, W) counts (anterior, posterior mirrored to anterior frame).

    Returns:
        (2, H, W) float32, each view scaled separately.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[0] != 2:
        raise ValueError(f"planar image must be (2, H, W), got {image.shape}")
    return np.stack([normalize_counts(image[0]), normalize_counts(image[1])])


def normalize_spectct(image: np.ndarray) -> np.ndarray:
    """Normalise a SPECT/CT volume.

    Args:
        image: (2, D, H, W): SPECT counts on the CT grid, CT in HU.

    Returns:
        (2, D, H, W) float32.
    """
    image = np.asarray(image)
    if image.ndim != 4 or image.shape[0] != 2:
        raise ValueError(f"SPECT/CT image must be (2, D, H, W), got {image.shape}")
    return np.stack([normalize_counts(image[0], 99.5), normalize_ct(image[1])])


def normalize(task: str, image: np.ndarray) -> np.ndarray:
    """Task dispatch: ``"planar"`` or ``"spectct"``."""
    if task == "planar":
        return normalize_planar(image)
    if task == "spectct":
        return normalize_spectct(image)
    raise ValueError(f"unknown task {task!r} (planar or spectct)")


def pad_to_multiple(
    array: np.ndarray, multiple: int, axes: tuple[int, ...]
) -> tuple[np.ndarray, tuple]:
    """Zero-pad ``axes`` at the end up to a multiple of ``multiple``.

    Returns:
        (padded array, slices that crop the padded array back).
    """
    pad = [(0, 0)] * array.ndim
    crop = [slice(None)] * array.ndim
    for ax in axes:
        n = array.shape[ax]
        extra = (-n) % multiple
        pad[ax] = (0, extra)
        crop[ax] = slice(0, n)
    return np.pad(array, pad), tuple(crop)


def random_intensity(
    image: np.ndarray, rng: np.random.Generator, count_channels: int = 1
) -> np.ndarray:
    """Scale each count channel by a random factor in [0.8, 1.25] (count-level variation)."""
    out = image.copy()
    for c in range(count_channels):
        out[c] = out[c] * float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    return out
