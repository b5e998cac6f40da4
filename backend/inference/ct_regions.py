"""SPECT/CT lesion regions in the patient's frame, from the stored CT's orientation.

The model's lesion table names a SPECT/CT lesion's bone and level from the CT
(``boneread_ml.ct_regions``: "第3腰椎", "左侧第7肋", "右侧髂骨") on the volume the
archive reader builds: slices superior first, and, for the standard axial CT it
assumes and was trained on, columns running to the patient's left and rows to the
back. This module checks that assumption against the CT's ImageOrientationPatient:
a CT whose columns run to the patient's right is mirrored into the standard frame
before the model reads it and its result mirrored back (the same patient gives the
same lesions, classes and names however the CT was stored); rows that do not run to
the back (a prone or unusual reconstruction) leave the lesions without a region and
the report's sites unplaced rather than wrong.
"""

from __future__ import annotations

import numpy as np


def ct_frame(model_input) -> str:
    """How the stored CT lies against the frame the CT reading assumes.

    ``"standard"`` (or no orientation stored: assumed), ``"mirrored"`` (columns run to the
    patient's right: the reading's left is the patient's right) or ``"unknown"`` (rows do not
    run to the back: the reading cannot be trusted). Planar studies: ``"standard"``.
    """
    if model_input.task != "spectct":
        return "standard"
    sources = model_input.seg_sources[0][0] if model_input.seg_sources else []
    if not sources or "ImageOrientationPatient" not in sources[0]:
        return "standard"
    orientation = np.asarray([float(v) for v in sources[0].ImageOrientationPatient])
    row_dir, col_dir = orientation[:3], orientation[3:]
    # DICOM LPS: +x is the patient's left, +y the patient's back
    if col_dir[1] <= 0.5 or abs(row_dir[0]) <= 0.5:
        return "unknown"
    return "mirrored" if row_dir[0] < 0 else "standard"


def to_standard(model_input) -> tuple[np.ndarray, bool]:
    """The images as the model reads them, and whether the report's sites can be placed on them.

    The model was trained, and its CT reading names bones, on the standard axial frame. A CT
    whose columns run to the patient's right is mirrored into it (its SPECT, resampled onto the
    CT grid, with it), so the same patient gives the same prediction however the CT was stored;
    :func:`from_standard` puts the result back on the stored columns. The report is read as
    written. On a CT whose rows do not run to the back no site is placed (``False``) rather than
    a wrong one.
    """
    frame = ct_frame(model_input)
    if frame == "mirrored":
        return np.ascontiguousarray(model_input.images[..., ::-1]), True
    return model_input.images, frame == "standard"


def from_standard(prediction, model_input) -> None:
    """Put a prediction made on :func:`to_standard`'s images back on the stored CT (in place).

    Mirrored CT: the label, instance and probability maps are mirrored back and each lesion's
    centroid and bbox given in the stored columns (its region, read in the standard frame,
    already names the patient's side). A CT whose rows do not run to the back: no region.
    """
    if model_input.task != "spectct":
        return
    frame = ct_frame(model_input)
    found = [*prediction.lesions, *prediction.held_back]  # held back: still shown on request
    if frame == "unknown":
        for lesion in found:
            lesion["region"] = None
    if frame != "mirrored":
        return
    for name in ("label_map", "instance_map", "probabilities"):
        setattr(prediction, name, np.ascontiguousarray(getattr(prediction, name)[..., ::-1]))
    width = int(prediction.label_map.shape[-1])
    for lesion in found:
        z, y, x = lesion["centroid"]
        lesion["centroid"] = [z, y, width - 1 - x]
        z0, y0, x0, z1, y1, x1 = lesion["bbox"]
        lesion["bbox"] = [z0, y0, width - x1, z1, y1, width - x0]
