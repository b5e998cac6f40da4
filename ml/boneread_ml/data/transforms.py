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


def slice_inputs(volume: np.ndarray, slices: np.ndarray, context: int = 0) -> np.ndarray:
    """The 2D network's input for axial slices of a normalised SPECT/CT volume.

    Args:
        volume: (2, D, H, W) normalised (SPECT, CT), as :func:`normalize_spectct` gives.
        slices: (S,) slice indices.
        context: SPECT slices on each side added as channels (2.5D input; 0: the slice only).

    Returns:
        (S, 2 + 2 * context, H, W) float32: SPECT and CT of each slice, then the SPECT of
        slices z-1, z+1, z-2, z+2, ... (repeated at the volume's ends). The CT stays the
        slice's own: the anatomy is sharp, it is the blurred SPECT uptake that spreads over
        neighbouring slices.
    """
    if not isinstance(context, int) or isinstance(context, bool) or context < 0:
        raise ValueError(f"slice context must be a non-negative integer, got {context!r}")
    slices = np.asarray(slices, dtype=int)
    depth = volume.shape[1]
    planes = [volume[0, slices], volume[1, slices]]
    for offset in range(1, context + 1):
        for side in (-offset, offset):
            planes.append(volume[0, np.clip(slices + side, 0, depth - 1)])
    return np.ascontiguousarray(np.stack(planes, axis=1), dtype=np.float32)


def slice_count_channels(context: int) -> list[int]:
    """Channels of :func:`slice_inputs` that hold SPECT counts (one count level for all)."""
    return [0, *range(2, 2 + 2 * context)]


def random_intensity(
    image: np.ndarray, rng: np.random.Generator, count_channels: int | list[list[int]] = 1
) -> np.ndarray:
    """Scale count channels by a random factor in [0.8, 1.25] (count-level variation).

    ``count_channels``: how many leading channels, each with its own factor, or groups of
    channels that share one factor (a SPECT slice and its neighbours are one acquisition).
    """
    groups = (
        [[c] for c in range(count_channels)] if isinstance(count_channels, int) else count_channels
    )
    out = image.copy()
    for group in groups:
        out[group] = out[group] * float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    return out
