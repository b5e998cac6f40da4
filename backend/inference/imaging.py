"""Archive DICOM -> the arrays MT-UNet's ``predict`` reads, and back (label map frames).

Planar: ``(2, rows, cols)`` float32 = anterior counts, posterior counts mirrored left-right into
the anterior frame (the posterior view is stored as acquired, seen from behind). Accepts one
two-frame NM whole-body instance (frame views from the detector view codes) or two one-frame
instances (one anterior, one posterior).

SPECT/CT: ``(2, D, H, W)`` float32 = SPECT counts resampled (trilinear) onto the CT grid, CT in
HU; slice 0 is the most superior CT slice, as in the training data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut
from pydicom.sequence import Sequence
from scipy import ndimage

from studies.models import Instance, Study, StudyKind
from studies.selectors import instance_open

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


class ImagingError(Exception):
    """The study's images cannot be turned into model input (a reason the user can act on)."""


@dataclass
class ModelInput:
    task: str
    images: np.ndarray
    spacing_mm: tuple[float, ...] | None
    # One entry per label-map frame the result is delivered in (the viewer draws these):
    # {"sop_instance_uid", "frame" (1-based, in that instance), "view" | "slice"}.
    frames: list[dict[str, Any]] = field(default_factory=list)
    # Per SEG to write: (source datasets, which label-map frames) — see inference.results.
    seg_sources: list[tuple[list[Dataset], list[int]]] = field(default_factory=list)


def _image_instances(study: Study, modality: str) -> list[Instance]:
    return list(
        Instance.objects.filter(series__study=study, series__modality=modality)
        .exclude(sop_class_uid=SEG_SOP_CLASS)
        .select_related("series")
        .order_by("series__series_number", "instance_number", "created")
    )


def study_task(study: Study) -> str | None:
    """The model task for the study's images, or None when it has none the models read."""
    if study.kind in (StudyKind.PLANAR, StudyKind.SPECTCT):
        return str(study.kind)
    return None


def study_has_images(study: Study) -> bool:
    task = study_task(study)
    if task is None:
        return False
    return (
        Instance.objects.filter(series__study=study, series__modality="NM")
        .exclude(sop_class_uid=SEG_SOP_CLASS)
        .exists()
    )


def _frames(ds: Dataset) -> np.ndarray:
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for undecodable pixel data
        raise ImagingError(f"cannot decode the pixel data of {ds.SOPInstanceUID}: {exc}") from exc
    values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float32)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    return values.reshape(frames, int(ds.Rows), int(ds.Columns))


def _one_frame_view(ds: Dataset, frame: int, view: str) -> Dataset:
    """A header-only, one-frame copy of frame ``frame`` of a planar instance, as SEG source.

    highdicom derives a SEG from a multi-frame image only when it has a patient coordinate
    system, which planar NM lacks; so each view gets its own SEG made from a one-frame copy,
    and the SEG's source references then name the frame (ReferencedFrameNumber).
    """
    # Element by element: deep-copying the whole Dataset would try to copy the file handle.
    one = Dataset()
    for element in ds:  # ds has no pixel data any more (read_planar removed it)
        one.add(copy.deepcopy(element))
    one.file_meta = copy.deepcopy(ds.file_meta)
    one.NumberOfFrames = 1
    if "DetectorVector" in one:
        one.DetectorVector = [frame]
    measures = Dataset()
    measures.PixelSpacing = ds.get("PixelSpacing", [1.0, 1.0])
    measures.SliceThickness = 1.0
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    one.SharedFunctionalGroupsSequence = Sequence([shared])
    one.ImageComments = view
    return one


def read_planar(study: Study) -> ModelInput:
    views: dict[str, tuple[np.ndarray, Dataset, int, Instance]] = {}
    spacing = None
    for instance in _image_instances(study, "NM"):
        if "WHOLE BODY" not in instance.series.image_type.upper() and not instance.frame_views:
            continue
        ds = instance_open(instance)
        frames = _frames(ds)
        del ds.PixelData  # the frames are decoded; SEG sources need the header only
        names = list(instance.frame_views) or (
            ["anterior", "posterior"][: len(frames)] if len(frames) == 2 else []
        )
        for index, view in enumerate(names):
            if view in ("anterior", "posterior") and view not in views and index < len(frames):
                views[view] = (frames[index], ds, index + 1, instance)
                if spacing is None and "PixelSpacing" in ds:
                    spacing = tuple(float(v) for v in ds.PixelSpacing)
    missing = [v for v in ("anterior", "posterior") if v not in views]
    if missing:
        raise ImagingError(
            "The planar model needs an anterior and a posterior whole-body view; this study "
            f"has no {' and no '.join(missing)} view."
        )
    anterior, posterior = views["anterior"][0], views["posterior"][0]
    if anterior.shape != posterior.shape:
        raise ImagingError(
            f"The anterior ({anterior.shape}) and posterior ({posterior.shape}) views differ in size."
        )
    images = np.stack([anterior, posterior[:, ::-1]]).astype(np.float32)
    frames, seg_sources = [], []
    for index, view in enumerate(("anterior", "posterior")):
        _, ds, frame, instance = views[view]
        frames.append({"sop_instance_uid": instance.sop_instance_uid, "frame": frame, "view": view})
        seg_sources.append(([_one_frame_view(ds, frame, view)], [index]))
    return ModelInput("planar", images, spacing, frames, seg_sources)


def _geometry(ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row direction, column direction, position) of a slice or a detector item."""
    orientation = np.asarray([float(v) for v in ds.ImageOrientationPatient], dtype=np.float64)
    position = np.asarray([float(v) for v in ds.ImagePositionPatient], dtype=np.float64)
    return orientation[:3], orientation[3:], position


def _read_ct(study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Dataset], list[str]]:
    """CT volume (superior slice first) in HU, index->patient matrix and origin, datasets."""
    slices = []
    for instance in _image_instances(study, "CT"):
        ds = instance_open(instance)
        if "ImagePositionPatient" not in ds or "ImageOrientationPatient" not in ds:
            continue
        slices.append((ds, instance.sop_instance_uid))
    if len(slices) < 2:
        raise ImagingError("The SPECT/CT model needs a CT series with at least two slices.")
    row_dir, col_dir, _ = _geometry(slices[0][0])
    normal = np.cross(row_dir, col_dir)
    # Superior first: descending position along the normal when the normal points up (+z).
    sign = -1.0 if normal[2] >= 0 else 1.0
    slices.sort(key=lambda item: sign * float(np.dot(_geometry(item[0])[2], normal)))
    shape = {(int(ds.Rows), int(ds.Columns)) for ds, _ in slices}
    if len(shape) != 1:
        raise ImagingError("The CT slices differ in size.")
    volume = np.stack([_frames(ds)[0] for ds, _ in slices]).astype(np.float32)
    positions = np.stack([_geometry(ds)[2] for ds, _ in slices])
    steps = np.diff(positions, axis=0)
    step = steps.mean(axis=0)
    if np.abs(steps - step).max() > 0.1 * max(1e-3, float(np.linalg.norm(step))):
        raise ImagingError("The CT slices are not evenly spaced.")
    dy, dx = (float(v) for v in slices[0][0].PixelSpacing)
    # index (k, j, i) -> patient: origin + k*step + j*dy*col_dir + i*dx*row_dir
    matrix = np.stack([step, dy * col_dir, dx * row_dir], axis=1)
    return volume, matrix, positions[0], [ds for ds, _ in slices], [uid for _, uid in slices]


def _read_spect(study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    for instance in _image_instances(study, "NM"):
        if "TOMO" not in instance.series.image_type.upper():
            continue
        ds = instance_open(instance)
        volume = _frames(ds)
        detector = ds.DetectorInformationSequence[0] if "DetectorInformationSequence" in ds else ds
        if "ImageOrientationPatient" not in detector or "ImagePositionPatient" not in detector:
            raise ImagingError("The SPECT instance has no patient position or orientation.")
        row_dir, col_dir, origin = _geometry(detector)
        normal = np.cross(row_dir, col_dir)
        spacing_z = float(ds.get("SpacingBetweenSlices") or ds.get("SliceThickness") or 0)
        if spacing_z <= 0:
            raise ImagingError("The SPECT instance has no slice spacing.")
        dy, dx = (float(v) for v in ds.PixelSpacing)
        matrix = np.stack([spacing_z * normal, dy * col_dir, dx * row_dir], axis=1)
        return volume, matrix, origin
    raise ImagingError("The SPECT/CT model needs a reconstructed SPECT (NM RECON TOMO) series.")


def read_spectct(study: Study) -> ModelInput:
    ct, ct_matrix, ct_origin, ct_datasets, ct_uids = _read_ct(study)
    spect, spect_matrix, spect_origin = _read_spect(study)
    # SPECT index = inv(Ms) @ (Oc + Mc @ ct_index - Os)
    inverse = np.linalg.inv(spect_matrix)
    resampled = ndimage.affine_transform(
        spect,
        inverse @ ct_matrix,
        offset=inverse @ (ct_origin - spect_origin),
        output_shape=ct.shape,
        order=1,
        mode="constant",
        cval=0.0,
    ).astype(np.float32)
    images = np.stack([resampled, ct])
    spacing = (
        float(np.linalg.norm(ct_matrix[:, 0])),
        float(np.linalg.norm(ct_matrix[:, 1])),
        float(np.linalg.norm(ct_matrix[:, 2])),
    )
    frames = [{"sop_instance_uid": uid, "frame": 1, "slice": k} for k, uid in enumerate(ct_uids)]
    for ds in ct_datasets:
        if "PixelData" in ds:
            del ds.PixelData
    seg_sources = [(ct_datasets, list(range(len(ct_datasets))))]
    return ModelInput("spectct", images, spacing, frames, seg_sources)


def read_model_input(study: Study) -> ModelInput:
    task = study_task(study)
    if task == "planar":
        return read_planar(study)
    if task == "spectct":
        return read_spectct(study)
    raise ImagingError(
        "This study has no whole-body planar or SPECT/CT bone images the models can read."
    )


def labelmap_frames(task: str, label_map: np.ndarray) -> np.ndarray:
    """The label map in the stored images' pixel space, one frame per ``ModelInput.frames``.

    Planar: frame 0 anterior as is, frame 1 posterior mirrored back to how it is stored.
    """
    if task == "planar":
        return np.ascontiguousarray(np.stack([label_map, label_map[:, ::-1]]).astype(np.uint8))
    return np.ascontiguousarray(label_map.astype(np.uint8))
