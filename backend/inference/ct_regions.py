"""SPECT/CT lesion regions in the patient's frame, from the stored CT's orientation.

The model's lesion table names a SPECT/CT lesion's bone and level from the CT
(``boneread_ml.ct_regions``: "第3腰椎", "左侧第7肋", "右侧髂骨") on the volume the
archive reader builds: slices superior first, and, for the standard axial CT it
assumes, columns running to the patient's left and rows to the back. This module
checks that assumption against the CT's ImageOrientationPatient: columns running
to the patient's right swap 左侧 and 右侧; rows that do not run to the back (a
prone or unusual reconstruction) leave the lesions without a region rather than
with a wrong one.
"""

from __future__ import annotations

import numpy as np

SWAP_SIDES = {"左侧": "右侧", "右侧": "左侧"}


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


def frame_report(report_text: str, model_input) -> tuple[str, bool]:
    """The report as the model must read it on this CT, and whether its sites can be placed.

    A model that reads where the report puts each finding on the CT (SPECT/CT site maps)
    names bones in the reading's frame: on a mirrored CT the report's 左 and 右 are exchanged
    (the image and the report then agree, as in the flip augmentation the model was trained
    with, and :func:`orient_regions` turns the lesion names back); on a CT whose orientation
    the reading cannot use, no site is placed (``False``) rather than a wrong one.
    """
    frame = ct_frame(model_input)
    if frame == "mirrored":
        from boneread_ml.data.datasets import swap_sides

        return swap_sides(report_text), True
    return report_text, frame == "standard"


def orient_regions(lesions: list[dict], model_input) -> None:
    """Make SPECT/CT lesion regions follow the stored CT's orientation (in place)."""
    if model_input.task != "spectct" or not lesions:
        return
    frame = ct_frame(model_input)
    if frame == "unknown":
        for lesion in lesions:
            lesion["region"] = None
        return
    if frame == "mirrored":
        for lesion in lesions:
            region = lesion.get("region")
            if region and region[:2] in SWAP_SIDES:
                lesion["region"] = SWAP_SIDES[region[:2]] + region[2:]
