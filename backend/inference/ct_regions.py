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


def orient_regions(lesions: list[dict], model_input) -> None:
    """Make SPECT/CT lesion regions follow the stored CT's orientation (in place)."""
    if model_input.task != "spectct" or not lesions:
        return
    sources = model_input.seg_sources[0][0] if model_input.seg_sources else []
    if not sources or "ImageOrientationPatient" not in sources[0]:
        return
    orientation = np.asarray([float(v) for v in sources[0].ImageOrientationPatient])
    row_dir, col_dir = orientation[:3], orientation[3:]
    # DICOM LPS: +x is the patient's left, +y the patient's back
    if col_dir[1] <= 0.5 or abs(row_dir[0]) <= 0.5:
        for lesion in lesions:
            lesion["region"] = None
        return
    if row_dir[0] < 0:
        for lesion in lesions:
            region = lesion.get("region")
            if region and region[:2] in SWAP_SIDES:
                lesion["region"] = SWAP_SIDES[region[:2]] + region[2:]
