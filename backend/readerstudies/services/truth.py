"""Ground truth from outside: a CSV import (all or nothing, every error with its row and
column) and a study's ground-truth DICOM SEG (the phantom writes one per case)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from django.db import transaction

from readerstudies.models import ReaderStudy, ReaderStudyCase, TruthSource
from readerstudies.services.common import refuse
from readerstudies.services.design import _require_draft, case_truth_set

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 20000
YES = {"yes", "y", "true", "1", "是"}
NO = {"no", "n", "false", "0", "否"}
SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


@transaction.atomic
def truth_csv_import(*, reader_study: ReaderStudy, user: Any, data: bytes) -> dict[str, int]:
    """Import ground truth from CSV: one row per lesion (a case without lesions: one row with
    empty lesion columns). Every error is collected with its row (the header is row 1) and
    column; any error -> nothing is imported."""
    _require_draft(reader_study, "Ground truth")
    if len(data) > MAX_CSV_BYTES:
        raise refuse(f"The CSV is larger than {MAX_CSV_BYTES // 1024 // 1024} MB.", "csv_invalid")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(
            f"The CSV is not UTF-8 text (byte {exc.start}).",
            "csv_invalid",
            errors=[{"row": None, "column": None, "message": "not UTF-8"}],
        ) from exc
    if "\x00" in text:
        raise refuse("The CSV contains NUL bytes.", "csv_invalid")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    errors: list[dict[str, Any]] = []

    def error(row: int | None, column: str | None, message: str) -> None:
        if len(errors) < 200:
            errors.append({"row": row, "column": column, "message": message})

    key_column = next((c for c in ("study_instance_uid", "accession_number") if c in header), None)
    if key_column is None:
        error(1, "study_instance_uid", "a study_instance_uid or accession_number column is needed")
    if "metastasis_present" not in header:
        error(1, "metastasis_present", "the metastasis_present column is missing")
    if errors:
        _raise_csv(errors)
    cases = {
        c.study_id: c
        for c in ReaderStudyCase.objects.filter(reader_study=reader_study).select_related("study")
    }
    from studies.models import Study

    truth: dict[Any, bool] = {}
    lesions: dict[Any, list[dict]] = defaultdict(list)
    rows = 0
    for number, row in enumerate(reader, start=2):
        rows += 1
        if rows > MAX_CSV_ROWS:
            error(number, None, f"more than {MAX_CSV_ROWS} rows")
            break
        row = {k: (v or "").strip() for k, v in row.items() if k is not None}
        key = row.get(key_column, "")
        if not key:
            error(number, key_column, "empty")
            continue
        study = Study.objects.filter(**{key_column: key}).first()
        if study is None:
            error(number, key_column, f"no archive study with {key_column} {key!r}")
            continue
        case = cases.get(study.id)
        if case is None:
            error(number, key_column, f"study {key!r} is not a case of this reader study")
            continue
        value = row.get("metastasis_present", "").lower()
        if value in YES:
            present = True
        elif value in NO:
            present = False
        else:
            error(number, "metastasis_present", f"{value!r} is not yes/no/true/false/1/0")
            continue
        if truth.setdefault(study.id, present) != present:
            error(number, "metastasis_present", f"contradicts an earlier row for study {key!r}")
            continue
        label = row.get("lesion_label", "")
        if not label:
            continue
        if label not in ("benign", "metastatic"):
            error(number, "lesion_label", f"{label!r} is not benign or metastatic")
            continue
        if label == "metastatic" and not present:
            error(number, "lesion_label", "a metastatic lesion in a case without metastasis")
            continue
        location: dict[str, Any] = {}
        bad = False
        spect = bool(row.get("z"))
        for column in ("x", "y", "z") if spect else ("x", "y"):
            coordinate = _number(row.get(column, ""))
            if coordinate is None:
                error(number, column, f"{row.get(column, '')!r} is not a non-negative number")
                bad = True
            location[column] = coordinate
        if spect:
            location["kind"] = "spectct"
        else:
            location["kind"] = "planar"
            view = row.get("view", "").lower()
            if view not in ("anterior", "posterior"):
                error(number, "view", f"{view!r} is not anterior or posterior (planar lesion)")
                bad = True
            location["view"] = view
            if row.get("frame"):
                if not row["frame"].isdigit() or int(row["frame"]) < 1:
                    error(number, "frame", f"{row['frame']!r} is not a frame number >= 1")
                    bad = True
                else:
                    location["frame"] = int(row["frame"])
        if not bad:
            lesions[study.id].append({"label": label, "location": location})
    if rows == 0:
        error(None, None, "the CSV has no data rows")
    if errors:
        _raise_csv(errors)
    lesion_count = 0
    for study_id, present in truth.items():
        case_truth_set(
            case=cases[study_id],
            user=user,
            metastasis_present=present,
            lesions=lesions[study_id],
            source=TruthSource.CSV,
        )
        lesion_count += len(lesions[study_id])
    return {"cases_updated": len(truth), "lesions": lesion_count}


def _raise_csv(errors: list[dict[str, Any]]) -> None:
    first = errors[0]
    where = f"row {first['row']}" if first["row"] else "the file"
    column = f", column {first['column']}" if first["column"] else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise refuse(
        f"The CSV was not imported: {where}{column}: {first['message']}{more}.",
        "csv_invalid",
        errors=errors,
    )


# --- ground truth from a DICOM SEG ------------------------------------------------------------


def _truth_seg_instances(study: Any) -> list[Any]:
    """The study's ground-truth SEG instances: SEGs no AI job produced, preferring series whose
    description says ground truth."""
    from inference.models import InferenceJob
    from studies.models import Instance

    ai_instances = InferenceJob.seg_instances.through.objects.filter(
        inferencejob__study=study
    ).values_list("instance_id", flat=True)
    segs = list(
        Instance.objects.filter(series__study=study, sop_class_uid=SEG_SOP_CLASS)
        .exclude(id__in=ai_instances)
        .select_related("series")
        .order_by("sop_instance_uid")
    )
    marked = [s for s in segs if "ground truth" in (s.series.description or "").lower()]
    return marked or segs


def _segment_frames(ds: Any) -> list[tuple[int, str, int | None]]:
    """Per SEG frame: (segment number, referenced source SOP instance UID, referenced frame)."""
    out = []
    for item in ds.PerFrameFunctionalGroupsSequence:
        segment = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        uid, frame = "", None
        for derivation in item.get("DerivationImageSequence", []):
            for source in derivation.get("SourceImageSequence", []):
                uid = str(source.ReferencedSOPInstanceUID)
                if "ReferencedFrameNumber" in source:
                    frame = int(source.ReferencedFrameNumber)
        out.append((segment, uid, frame))
    return out


def _segment_label(ds: Any, number: int) -> str | None:
    for item in ds.SegmentSequence:
        if int(item.SegmentNumber) == number:
            label = str(item.SegmentLabel).lower()
            if "metast" in label or "malig" in label:
                return "metastatic"
            if "benign" in label:
                return "benign"
    return {1: "benign", 2: "metastatic"}.get(number)


@transaction.atomic
def case_truth_from_seg(*, case: ReaderStudyCase, user: Any) -> ReaderStudyCase:
    """Take the case's ground truth from its study's ground-truth SEG: one lesion per
    connected component of each segment, located at its centroid in image coordinates
    (planar: the anterior view's x, y; SPECT/CT: x, y and the CT slice index z)."""
    import numpy as np
    from scipy import ndimage

    from studies.models import Instance
    from studies.selectors import instance_open

    _require_draft(case.reader_study, "Ground truth")
    segs = _truth_seg_instances(case.study)
    if not segs:
        raise refuse(
            "The study has no ground-truth DICOM SEG to take the truth from.", "no_truth_seg"
        )
    found: list[dict[str, Any]] = []
    planar = case.study.kind == "planar"
    for instance in segs:
        try:
            ds = instance_open(instance)
            pixels = np.asarray(ds.pixel_array)
            frames = _segment_frames(ds)
        except Exception as exc:  # a broken SEG is bad input, not a server error
            raise refuse(
                f"The SEG {instance.sop_instance_uid} cannot be read: {exc}", "no_truth_seg"
            ) from exc
        if pixels.ndim == 2:
            pixels = pixels[None]
        if planar:
            uid, frame = (frames[0][1], frames[0][2]) if frames else ("", None)
            source = Instance.objects.filter(sop_instance_uid=uid).first() if uid else None
            views = list(source.frame_views) if source is not None else []
            view = (
                views[frame - 1]
                if frame and 0 < frame <= len(views)
                else ("posterior" if frame == 2 else "anterior")
            )
            if view == "posterior" and len(segs) > 1:
                continue  # the anterior view's SEG holds the same lesions, mirrored
            for number in sorted({f[0] for f in frames}):
                label = _segment_label(ds, number)
                indices = [i for i, f in enumerate(frames) if f[0] == number]
                if label is None or not indices:
                    continue
                mask = np.any(pixels[indices] > 0, axis=0)
                components, count = ndimage.label(mask)
                for y, x in ndimage.center_of_mass(mask, components, range(1, count + 1)):
                    location = {"kind": "planar", "view": view, "x": round(x, 1), "y": round(y, 1)}
                    if uid:
                        location["sop_instance_uid"] = uid
                    if frame:
                        location["frame"] = frame
                    found.append({"label": label, "location": location})
        else:
            uids = {f[1] for f in frames if f[1]}
            slices = {
                uid: index
                for index, uid in enumerate(
                    Instance.objects.filter(sop_instance_uid__in=uids)
                    .order_by("instance_number", "sop_instance_uid")
                    .values_list("sop_instance_uid", flat=True)
                )
            }
            depth = max(len(slices), 1)
            for number in sorted({f[0] for f in frames}):
                label = _segment_label(ds, number)
                if label is None:
                    continue
                volume = np.zeros((depth, *pixels.shape[1:]), dtype=bool)
                for i, (segment, uid, _) in enumerate(frames):
                    if segment == number:
                        volume[slices.get(uid, 0)] |= pixels[i] > 0
                components, count = ndimage.label(volume)
                for z, y, x in ndimage.center_of_mass(volume, components, range(1, count + 1)):
                    found.append(
                        {
                            "label": label,
                            "location": {
                                "kind": "spectct",
                                "x": round(x, 1),
                                "y": round(y, 1),
                                "z": round(z, 1),
                            },
                        }
                    )
    return case_truth_set(
        case=case,
        user=user,
        metastasis_present=any(lesion["label"] == "metastatic" for lesion in found),
        lesions=found,
        source=TruthSource.SEG,
    )
