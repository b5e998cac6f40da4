"""DICOM SEG objects of a study -> the viewer's label map (one result form).

The viewer draws the AI result from the SEG series in the archive, like any other SEG of the
study (a highdicom or 3D Slicer export, a colleague's contour): decoded here on the grid of the
images it references. Each segment becomes label 2 (metastatic) when its property type is
"Neoplasm, metastatic" (SCT 14799000) or its label says metastatic / 转移, label 1 (lesion)
otherwise; where segments overlap the higher label wins.

Planar: frames ``(anterior, posterior)`` of the referenced NM frames, each in the stored pixels.
SPECT/CT: one frame per referenced CT slice, named by SOP instance UID (the viewer places them).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
from typing import Any

import highdicom as hd
import numpy as np
from django.core.cache import cache
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from core.exceptions import ApplicationError, NotFoundError
from studies.models import Instance, Study
from studies.selectors import SEGMENTATION_SOP_CLASS, instance_open

logging.getLogger("highdicom").setLevel(logging.WARNING)

LABEL_LESION = 1
LABEL_METASTATIC = 2
METASTATIC_CODES = {"14799000"}  # SCT "Neoplasm, metastatic"
CLASSES = {"0": "background", "1": "benign", "2": "metastatic"}


def segment_labels(seg: Dataset) -> dict[int, int]:
    """Segment number -> label value of the viewer's map."""
    out = {}
    for item in seg.SegmentSequence:
        text = f"{item.get('SegmentLabel', '')} {item.get('SegmentDescription', '')}".lower()
        codes = {
            str(code.CodeValue)
            for code in item.get("SegmentedPropertyTypeCodeSequence", [])
            if "CodeValue" in code
        }
        metastatic = bool(codes & METASTATIC_CODES) or "metasta" in text or "转移" in text
        out[int(item.SegmentNumber)] = LABEL_METASTATIC if metastatic else LABEL_LESION
    return out


def _lut(labels: dict[int, int]) -> np.ndarray:
    lut = np.zeros(max(labels, default=0) + 1, np.uint8)
    for number, label in labels.items():
        lut[number] = label
    return lut


def _read(instance: Instance) -> hd.seg.Segmentation:
    try:
        return hd.seg.Segmentation.from_dataset(instance_open(instance), copy=False)
    except Exception as exc:  # highdicom raises many types for a malformed SEG
        raise ApplicationError(
            f"The segmentation {instance.sop_instance_uid} cannot be read: {exc}",
            extra={"sop_instance_uid": instance.sop_instance_uid},
        ) from exc


def _by_segment_label(seg: hd.seg.Segmentation, pixels: np.ndarray) -> np.ndarray:
    """Per-segment binary planes (..., segments) -> one label plane, higher label winning."""
    labels = segment_labels(seg)
    numbers = [int(item.SegmentNumber) for item in seg.SegmentSequence]
    out = np.zeros(pixels.shape[:-1], np.uint8)
    for index, number in enumerate(numbers):
        value = labels.get(number, LABEL_LESION)
        out = np.maximum(out, np.where(pixels[..., index] > 0, value, 0).astype(np.uint8))
    return out


# Decoded label maps are kept this long (the SEG files never change: they are content-addressed).
CACHE_SECONDS = 7 * 24 * 3600


def seg_series_labelmap(*, study: Study, series_instance_uid: str) -> dict[str, Any]:
    """The label map of one SEG series of ``study``: ``{"shape", "frames", "classes",
    "data"}`` with ``data`` the gzip of the uint8 map (C order), base64-encoded.

    Decoding a SEG with highdicom takes seconds for a CT volume on a loaded server, and the
    viewer asks for it on every opening of the case: the answer is cached under the SEG
    files' checksums and the study's image count (a referenced image that arrives later
    changes the answer, so it changes the key too).

    Raises:
        NotFoundError: the study has no SEG series with this UID.
        ApplicationError: the SEG cannot be read, or references no image of the study.
    """
    instances = list(
        Instance.objects.filter(
            series__study=study,
            series__series_instance_uid=series_instance_uid,
            sop_class_uid=SEGMENTATION_SOP_CLASS,
        ).order_by("instance_number", "created")
    )
    if not instances:
        raise NotFoundError(f"This study has no segmentation series {series_instance_uid}.")
    images = (
        Instance.objects.filter(series__study=study)
        .exclude(sop_class_uid=SEGMENTATION_SOP_CLASS)
        .count()
    )
    digest = hashlib.sha256(
        "|".join([series_instance_uid, str(images), *(i.sha256 for i in instances)]).encode()
    ).hexdigest()
    key = f"boneread:seg-labelmap:v1:{study.id}:{digest}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    answer = _seg_series_labelmap(study, series_instance_uid, instances)
    cache.set(key, answer, CACHE_SECONDS)
    return answer


def _seg_series_labelmap(
    study: Study, series_instance_uid: str, instances: list[Instance]
) -> dict[str, Any]:
    segs = [_read(instance) for instance in instances]
    referenced = {uid for seg in segs for _, _, uid in seg.get_source_image_uids()}
    images = {
        image.sop_instance_uid: image
        for image in Instance.objects.filter(series__study=study, sop_instance_uid__in=referenced)
        .exclude(sop_class_uid=SEGMENTATION_SOP_CLASS)
        .select_related("series")
    }
    if not images:
        raise ApplicationError(
            "The segmentation references no image of this study.",
            extra={"series_instance_uid": series_instance_uid},
        )
    # A volume: CT slices (or any stack of more than the two planar views).
    volume = len(images) > 2 or any(i.series.modality == "CT" for i in images.values())
    if volume:
        labelmap, frames = _volume(segs, images)
    else:
        labelmap, frames = _planar(segs, images)
    raw = np.ascontiguousarray(labelmap, dtype=np.uint8).tobytes()
    return {
        "series_instance_uid": series_instance_uid,
        "shape": list(labelmap.shape),
        "dtype": "uint8",
        "classes": CLASSES,
        "frames": frames,
        "data": base64.b64encode(gzip.compress(raw, compresslevel=6)).decode("ascii"),
    }


def _volume(segs, images: dict[str, Instance]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One frame per referenced slice, in the archive's instance order."""
    slices = sorted(
        images.values(), key=lambda i: (i.instance_number is None, i.instance_number or 0)
    )
    rows, cols = slices[0].rows or 0, slices[0].columns or 0
    index = {image.sop_instance_uid: k for k, image in enumerate(slices)}
    out = np.zeros((len(slices), rows, cols), np.uint8)
    for seg in segs:
        uids = [uid for _, _, uid in seg.get_source_image_uids() if uid in index]
        if not uids:
            continue
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=uids,
            assert_missing_frames_are_empty=True,
            skip_overlap_checks=True,
        )
        planes = _by_segment_label(seg, pixels)
        if planes.shape[1:] != (rows, cols):
            raise ApplicationError("The segmentation's frames differ in size from its images.")
        for uid, plane in zip(uids, planes, strict=True):
            k = index[uid]
            out[k] = np.maximum(out[k], plane)
    frames = [
        {"sop_instance_uid": image.sop_instance_uid, "frame": 1, "slice": k}
        for k, image in enumerate(slices)
    ]
    return out, frames


def _view_of(image: Instance, frame: int) -> str:
    views = list(image.frame_views or [])
    if 0 < frame <= len(views) and views[frame - 1]:
        return views[frame - 1]
    if (image.number_of_frames or 1) == 2:
        return "anterior" if frame == 1 else "posterior"
    return ""


def _planar(segs, images: dict[str, Instance]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Anterior and posterior frames of the referenced planar image(s)."""
    found: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
    for seg in segs:
        for item in seg.get("ReferencedSeriesSequence", []):
            for ref in item.ReferencedInstanceSequence:
                image = images.get(ref.ReferencedSOPInstanceUID)
                if image is None:
                    continue
                numbers = _referenced_frames(seg, image.sop_instance_uid)
                for frame in numbers:
                    view = _view_of(image, frame) or ("anterior" if not found else "posterior")
                    pixels = seg.get_pixels_by_source_frame(
                        source_sop_instance_uid=image.sop_instance_uid,
                        source_frame_numbers=[frame],
                        assert_missing_frames_are_empty=True,
                        skip_overlap_checks=True,
                    )
                    plane = _by_segment_label(seg, pixels)[0]
                    if view in found:
                        plane = np.maximum(found[view][0], plane)
                    entry = {"sop_instance_uid": image.sop_instance_uid, "frame": frame}
                    found[view] = (plane, {**entry, "view": view})
    order = [v for v in ("anterior", "posterior") if v in found]
    if not order:
        raise ApplicationError("The segmentation references no planar view of this study.")
    shapes = {found[v][0].shape for v in order}
    if len(shapes) != 1:
        raise ApplicationError("The segmentation's views differ in size.")
    return np.stack([found[v][0] for v in order]), [found[v][1] for v in order]


def _referenced_frames(seg, sop_instance_uid: str) -> list[int]:
    """The frames of a source image the SEG's frames are derived from (1 when it names none)."""
    numbers = set()
    for item in seg.get("PerFrameFunctionalGroupsSequence", []):
        for derivation in item.get("DerivationImageSequence", []):
            for source in derivation.get("SourceImageSequence", []):
                if source.ReferencedSOPInstanceUID != sop_instance_uid:
                    continue
                frame = source.get("ReferencedFrameNumber")
                values = (
                    list(frame) if isinstance(frame, list | tuple | MultiValue) else [frame or 1]
                )
                numbers.update(int(v) for v in values)
    return sorted(numbers) or [1]
