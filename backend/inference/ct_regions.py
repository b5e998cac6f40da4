"""Where a SPECT/CT lesion is: a coarse skeletal region from the CT around it.

The model returns no region for SPECT/CT (its planar lesions get one from their position in the
whole-body image). Here the CT axial slice through the lesion decides, as a reader glancing at it
would: lungs in the slice mean the chest (spine, sternum, ribs, scapula), wide iliac bone without
lungs means the pelvis (sacrum, ilium), neither means the abdomen (lumbar spine, lower ribs).
Left and right are the patient's, from the CT's row direction.

The names are the same Chinese vocabulary the planar model uses ("胸椎", "左侧肋骨", ...), so one
translation table serves both. Not a vertebral level: counting vertebrae needs an atlas this
product does not have; the region says "胸椎", not "第7胸椎".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

BODY_HU = -400.0
LUNG_HU = -500.0
BONE_HU = 180.0
# An iliac wing in an axial slice: a bone plate of 15 cm2 or more (a rib or scapula cut is less).
WING_CM2 = 15.0


def _body(slice_hu: np.ndarray) -> np.ndarray:
    body = slice_hu > BODY_HU
    labels, n = ndimage.label(body)
    if n == 0:
        return body
    sizes = ndimage.sum(body, labels, index=range(1, n + 1))
    body = labels == int(np.argmax(sizes)) + 1
    return ndimage.binary_fill_holes(body)


def spectct_region(
    ct: np.ndarray,
    centroid: Sequence[float],
    *,
    spacing_mm: Sequence[float] = (1.0, 1.0, 1.0),
    patient_left_is_col_increasing: bool = True,
) -> str | None:
    """The region of a lesion at ``centroid`` (slice, row, col) of ``ct`` (HU, slices x rows x
    cols, rows running anterior to posterior as in an axial CT), or None outside the body."""
    k, r, c = (float(v) for v in centroid[:3])
    k_index = int(np.clip(round(k), 0, ct.shape[0] - 1))
    # A few slices around the lesion: one slice may cut between two structures.
    half = max(1, int(round(6.0 / max(float(spacing_mm[0]), 1e-3))))
    slab = ct[max(0, k_index - half) : k_index + half + 1]
    hu = slab[len(slab) // 2]
    body = _body(hu)
    rows, cols = np.nonzero(body)
    if rows.size < 50:
        return None
    row_lo, row_hi = rows.min(), rows.max()
    col_lo, col_hi = cols.min(), cols.max()
    # Lateral position from the midline, -1..1 across the body; AP 0 (front) .. 1 (back).
    mid_col = (col_lo + col_hi) / 2.0
    lateral = (c - mid_col) / max(1.0, (col_hi - col_lo) / 2.0)
    ap = (r - row_lo) / max(1.0, float(row_hi - row_lo))
    left = (c > mid_col) == patient_left_is_col_increasing
    side = "左侧" if left else "右侧"
    central = abs(lateral) < 0.2

    pixel_area = float(spacing_mm[1]) * float(spacing_mm[2])
    inside = np.stack([_body(s) for s in slab])
    lung_cm2 = float(((slab < LUNG_HU) & inside).sum()) / len(slab) * pixel_area / 100.0
    bone = (slab.max(axis=0) > BONE_HU) & body
    pieces, count = ndimage.label(bone)
    if count == 0:
        return None
    index = range(1, count + 1)
    areas = np.asarray(ndimage.sum(bone, pieces, index=index)) * pixel_area / 100.0
    centres = ndimage.center_of_mass(bone, pieces, index=index)

    def lateral_of(col: float) -> float:
        return (col - mid_col) / max(1.0, (col_hi - col_lo) / 2.0)

    # The bone the lesion sits in (or the nearest, within 15 mm).
    row_i = int(np.clip(round(r), 0, hu.shape[0] - 1))
    col_i = int(np.clip(round(c), 0, hu.shape[1] - 1))
    own = int(pieces[row_i, col_i])
    if own == 0:
        distances, (near_r, near_c) = ndimage.distance_transform_edt(
            pieces == 0, sampling=spacing_mm[1:3], return_indices=True
        )
        if distances[row_i, col_i] <= 15.0:
            own = int(pieces[near_r[row_i, col_i], near_c[row_i, col_i]])
    # Wide plates far out on both sides: the iliac wings.
    wings = [
        lateral_of(cc)
        for (_, cc), area in zip(centres, areas, strict=True)
        if area >= WING_CM2 and abs(lateral_of(cc)) > 0.3
    ]
    pelvis = any(w > 0 for w in wings) and any(w < 0 for w in wings) and lung_cm2 <= 15.0
    small_lateral = sum(
        1
        for (_, cc), area in zip(centres, areas, strict=True)
        if area < 6.0 and abs(lateral_of(cc)) > 0.3
    )
    chest = lung_cm2 > 15.0 or (small_lateral >= 4 and not pelvis)
    if own:
        bone_row, bone_col = centres[own - 1]
        bone_area = float(areas[own - 1])
        central = abs(lateral_of(bone_col)) < 0.2
        ap = (bone_row - row_lo) / max(1.0, float(row_hi - row_lo))
    if central and ap > 0.45:
        if chest:
            return "胸椎"
        return "骶骨" if pelvis else "腰椎"
    if central and chest:
        return "胸骨"
    if pelvis and (not own or bone_area >= 6.0 or ap > 0.45):
        return f"{side}骨盆"
    if chest and own and bone_area >= 6.0 and abs(lateral) > 0.5 and ap > 0.45:
        return f"{side}肩胛骨"
    return f"{side}肋骨"


def lesions_add_regions(lesions: list[dict], model_input) -> None:
    """Fill in the region of SPECT/CT lesions the model left without one (in place)."""
    if model_input.task != "spectct" or not lesions:
        return
    ct = model_input.images[1]
    spacing = model_input.spacing_mm or (1.0, 1.0, 1.0)
    left_is_right_of_image = True
    sources = model_input.seg_sources[0][0] if model_input.seg_sources else []
    if sources and "ImageOrientationPatient" in sources[0]:
        # DICOM LPS: +x is the patient's left; the row direction says where columns run.
        left_is_right_of_image = float(sources[0].ImageOrientationPatient[0]) >= 0
    for lesion in lesions:
        if not lesion.get("region"):
            lesion["region"] = spectct_region(
                ct,
                lesion["centroid"],
                spacing_mm=spacing,
                patient_left_is_col_increasing=left_is_right_of_image,
            )
