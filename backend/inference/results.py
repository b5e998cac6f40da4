"""A job's outputs: DICOM Segmentation objects (highdicom) and the compact label map.

Everything is keyed by the job id: UIDs are derived from it (``2.25.<uuid5(job, part)>``) and
the label map is stored at ``inference/<job id>/labelmap.u8.gz``, so an attempt that is
repeated writes the same names instead of new copies.
"""

from __future__ import annotations

import gzip
import io
import logging
import uuid
from typing import Any

import highdicom as hd
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pydicom.sr.codedict import codes

from inference.imaging import ModelInput

# highdicom logs every attribute it copies at INFO: noise in the worker log.
logging.getLogger("highdicom").setLevel(logging.WARNING)

MANUFACTURER = "BoneRead"
SEG_SERIES_NUMBER = 900


def job_uid(job_id: uuid.UUID | str, part: str) -> str:
    """A UID derived from the job id (PS3.5 B.2 UUID form): the same on every attempt."""
    return f"2.25.{uuid.uuid5(uuid.UUID(str(job_id)), part).int}"


def _series_description(model_name: str, model_version: str, tail: str = "") -> str:
    """ "AI lesions (<model> <version>)<tail>" within SeriesDescription's 64 characters (VR LO),
    shortening the model's name and version rather than the tail (the view)."""
    room = 64 - len("AI lesions ()") - len(tail)
    return f"AI lesions ({f'{model_name} {model_version}'[:room]}){tail}"


def _segment_descriptions(model_name: str, model_version: str) -> list[hd.seg.SegmentDescription]:
    algorithm = hd.AlgorithmIdentificationSequence(
        name=model_name[:64],
        family=codes.cid7162.ArtificialIntelligence,
        version=model_version[:64],
    )
    category = hd.sr.CodedConcept("49755003", "SCT", "Morphologically abnormal structure")
    bone = hd.sr.CodedConcept("272673000", "SCT", "Bone structure")
    return [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=label,
            segmented_property_category=category,
            segmented_property_type=code,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
            anatomic_regions=[bone],
        )
        for number, label, code in (
            (1, "benign lesion", hd.sr.CodedConcept("52988006", "SCT", "Lesion")),
            (2, "metastatic lesion", hd.sr.CodedConcept("14799000", "SCT", "Neoplasm, metastatic")),
        )
    ]


def seg_build(
    *,
    job_id: uuid.UUID | str,
    model_input: ModelInput,
    frames: np.ndarray,
    model_name: str,
    model_version: str,
    software_version: str = "boneread",
) -> list[bytes]:
    """One DICOM SEG (BINARY, segment 1 benign, 2 metastatic) per entry of ``seg_sources``.

    Planar: one SEG per view (each referencing its frame of the NM instance); SPECT/CT: one SEG
    over the CT slices. Returns the Part 10 bytes of each.
    """
    series_uid = job_uid(job_id, "seg-series")
    outputs = []
    for index, (sources, frame_indices) in enumerate(model_input.seg_sources, start=1):
        mask = frames[frame_indices]
        if len(sources) == 1:
            mask = mask[0]
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=np.ascontiguousarray(mask),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=_segment_descriptions(model_name, model_version),
            series_instance_uid=series_uid,
            series_number=SEG_SERIES_NUMBER,
            sop_instance_uid=job_uid(job_id, f"seg-{index}"),
            instance_number=index,
            manufacturer=MANUFACTURER,
            manufacturer_model_name=f"{model_name} {model_version}"[:64],
            software_versions=software_version[:64],
            device_serial_number=str(job_id)[:16],
            content_description="AI lesion segmentation (benign / metastatic)",
            content_label="AI_LESIONS",
            omit_empty_frames=bool(mask.any()),
        )
        if model_input.task == "planar":
            entry = model_input.frames[frame_indices[0]]
            for item in seg.PerFrameFunctionalGroupsSequence:
                for derivation in item.get("DerivationImageSequence", []):
                    for source in derivation.SourceImageSequence:
                        source.ReferencedFrameNumber = entry["frame"]
            seg.SeriesDescription = _series_description(
                model_name, model_version, f", {entry['view']} view"
            )
        else:
            seg.SeriesDescription = _series_description(model_name, model_version)
        buffer = io.BytesIO()
        seg.save_as(buffer, enforce_file_format=True)
        outputs.append(buffer.getvalue())
    return outputs


def labelmap_name(job_id: uuid.UUID | str) -> str:
    return f"inference/{job_id}/labelmap.u8.gz"


def labelmap_store(*, job_id: uuid.UUID | str, frames: np.ndarray) -> str:
    """Write the label map (raw uint8, C order, gzip) under the job's name; replaces a previous
    attempt's file."""
    name = labelmap_name(job_id)
    data = gzip.compress(np.ascontiguousarray(frames, dtype=np.uint8).tobytes(), compresslevel=6)
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(data))
    return saved


def labelmap_read(name: str) -> bytes:
    """The stored gzip bytes."""
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def lesion_locations(task: str, lesion: dict[str, Any], model_input: ModelInput) -> dict[str, Any]:
    """Where the viewer finds a lesion, in the stored images' pixel coordinates.

    Planar: per view ``{"frame": i, "centroid": [row, col], "bbox": [r0, c0, r1, c1]}`` (the
    posterior view mirrored back). SPECT/CT: the CT slice of the centroid.
    """
    centroid, bbox = lesion["centroid"], lesion["bbox"]
    if task == "planar":
        width = None
        if model_input.images is not None and model_input.images.ndim == 3:
            width = int(model_input.images.shape[2])
        out = {"anterior": {"frame": 0, "centroid": centroid, "bbox": bbox}}
        if width is not None:
            r0, c0, r1, c1 = bbox
            out["posterior"] = {
                "frame": 1,
                "centroid": [centroid[0], width - 1 - centroid[1]],
                "bbox": [r0, width - c1, r1, width - c0],
            }
        return out
    k = int(round(centroid[0]))
    k = max(0, min(k, len(model_input.frames) - 1))
    return {"slice": k, "sop_instance_uid": model_input.frames[k]["sop_instance_uid"]}


def _optional(value: Any, kind: type) -> Any:
    return None if value is None else kind(value)


def lesion_record(task: str, lesion: dict[str, Any], model_input: ModelInput) -> dict[str, Any]:
    """One of predict's lesion dicts as stored: the fields of ``inference.models.Lesion``, in
    plain Python types (a held-back finding is kept as this dict in the job's summary)."""
    return {
        "number": int(lesion["id"]),
        "label": int(lesion["label"]),
        "class_name": lesion["class_name"],
        "probability": float(lesion["probability"]),
        "area_px": _optional(lesion.get("area_px"), int),
        "area_mm2": _optional(lesion.get("area_mm2"), float),
        "volume_vox": _optional(lesion.get("volume_vox"), int),
        "volume_ml": _optional(lesion.get("volume_ml"), float),
        "max_counts": _optional(lesion.get("max_counts"), float),
        "region": lesion.get("region") or "",
        "class_source": lesion.get("class_source") or "",
        "centroid": [round(float(v), 2) for v in lesion["centroid"]],
        "bbox": [int(v) for v in lesion["bbox"]],
        "locations": _plain(lesion_locations(task, lesion, model_input)),
    }


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars made Python numbers (for a JSON field)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value
