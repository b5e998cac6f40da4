"""Reading one received DICOM object: validation, decoding, the values the archive indexes.

Pure functions (no database, no storage) so that every ingest path shares them and they are easy
to test. :func:`dicom_parse` reads the bytes once with pydicom and returns a :class:`ParsedDicom`
or raises :class:`DicomRejected` with a reason a user can act on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
import warnings
from dataclasses import dataclass, field

import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    AllTransferSyntaxes,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    UncompressedTransferSyntaxes,
)

KNOWN_TRANSFER_SYNTAXES = frozenset(str(uid) for uid in AllTransferSyntaxes)
NATIVE_TRANSFER_SYNTAXES = frozenset(str(uid) for uid in UncompressedTransferSyntaxes)
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_UV = b"UV"
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # Pixel Data, Float, Double Float
# ISO 2022 designation escapes that pydicom leaves in text decoded with a G1 set (IR 58, IR 149).
_ISO2022_ESCAPE = re.compile("\x1b[\x20-\x2f]+[\x30-\x7e]")
_VIEW_CODES = {"R-10206": "anterior", "R-10214": "posterior", "G-A147": "anterior"}


class DicomRejected(Exception):
    """The object cannot be archived; ``reason`` says why in one sentence."""

    def __init__(self, reason: str, *, conflict: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.conflict = conflict


@dataclass
class ParsedDicom:
    """One validated DICOM object and the attributes the archive indexes."""

    dataset: Dataset
    # Part 10 bytes to store (the received bytes, or them with a file meta header added).
    stored_bytes: bytes
    # sha256 of the data set without preamble and file meta: the same instance re-sent by a
    # different peer (other implementation UID / source AE in the meta) is still a duplicate.
    content_sha256: str
    transfer_syntax_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    patient: dict = field(default_factory=dict)
    study: dict = field(default_factory=dict)
    series: dict = field(default_factory=dict)
    instance: dict = field(default_factory=dict)


def _meta_end(data: bytes) -> int:
    """Offset of the first data set byte after the Part 10 file meta group (explicit VR LE)."""
    pos = 132
    size = len(data)
    while pos + 8 <= size:
        group = struct.unpack_from("<H", data, pos)[0]
        if group != 0x0002:
            return pos
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS or vr == _UV:
            if pos + 12 > size:
                raise DicomRejected("truncated file: the file meta header is cut short")
            length = struct.unpack_from("<I", data, pos + 8)[0]
            pos += 12 + length
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            pos += 8 + length
    if pos > size:
        raise DicomRejected("truncated file: the file meta header is cut short")
    return pos


def _get(ds: Dataset, keyword: str):
    """The value of a top-level element by keyword (looked up as a tag: faster than ds.get)."""
    tag = _TAGS.get(keyword)
    if tag is None:
        tag = _TAGS[keyword] = tag_for_keyword(keyword)
    if tag not in ds:
        return None
    return ds[tag].value


_TAGS: dict[str, int] = {}


def _text(ds: Dataset, keyword: str, limit: int = 255) -> str:
    try:
        value = _get(ds, keyword)
    except Exception:  # undecodable value: index it as empty rather than refuse the image
        return ""
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    return _ISO2022_ESCAPE.sub("", text).strip().replace("\x00", "")[:limit]


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = _get(ds, keyword)
        if isinstance(value, pydicom.multival.MultiValue | list):
            value = value[0] if value else None
        return int(value) if value not in (None, "") else None
    except Exception:
        return None


def parse_da(value: str) -> dt.date | None:
    value = (value or "").strip().replace(".", "").replace("-", "")
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def parse_tm(value: str) -> dt.time | None:
    value = (value or "").strip().replace(":", "")
    main, _, fraction = value.partition(".")
    if not main.isdigit() or len(main) not in (2, 4, 6):
        return None
    parts = [int(main[i : i + 2]) for i in range(0, len(main), 2)] + [0, 0]
    micro = int((fraction + "000000")[:6]) if fraction.isdigit() else 0
    try:
        return dt.time(parts[0], parts[1], min(parts[2], 59), micro)
    except ValueError:
        return None


def person_name(ds: Dataset, keyword: str) -> str:
    """The decoded person name with all its groups, e.g. ``WANG^XIAODONG=王^小东``."""
    try:
        value = _get(ds, keyword)
    except Exception:
        return ""
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue | list):
        value = value[0] if value else ""
    return _ISO2022_ESCAPE.sub("", str(value)).strip().strip("\x00")[:400]


def name_search_text(name: str) -> str:
    """Lower-case search text: components separated by spaces, and the same squeezed."""
    spaced = " ".join(name.replace("=", " ").replace("^", " ").lower().split())
    return f"{spaced} | {spaced.replace(' ', '')}"[:900]


def _frame_views(ds: Dataset, frames: int) -> list[str]:
    if ds.get("Modality") != "NM" or "DetectorInformationSequence" not in ds:
        return []
    views = []
    for item in ds.DetectorInformationSequence:
        view = ""
        codes = item.get("ViewCodeSequence") or []
        if codes:
            code = codes[0]
            view = _VIEW_CODES.get(str(code.get("CodeValue", "")), "")
            meaning = str(code.get("CodeMeaning", "")).lower()
            if not view and meaning.startswith("ant"):
                view = "anterior"
            elif not view and meaning.startswith("post"):
                view = "posterior"
        if not view:
            image_id = str(item.get("ImageID", "")).upper()
            view = {"ANT": "anterior", "POST": "posterior"}.get(image_id, "")
        views.append(view)
    if not any(views):
        return []
    vector = ds.get("DetectorVector")
    if vector is not None and len(views) > 1:
        vector = [vector] if isinstance(vector, int) else list(vector)
        return [views[d - 1] if 0 < d <= len(views) else "" for d in vector][:frames]
    return views[:frames] if len(views) == frames else []


def _check_truncation(ds: Dataset) -> None:
    """pydicom stops quietly at the end of a short file; a short last element gives it away."""
    tags = list(ds.keys())
    if not tags:
        raise DicomRejected("not a DICOM file: no data elements could be read")
    raw = ds.get_item(tags[-1])
    length = getattr(raw, "length", None)
    value = getattr(raw, "value", None)
    if (
        length is not None
        and length != 0xFFFFFFFF
        and isinstance(value, bytes)
        and len(value) < length
    ):
        raise DicomRejected(
            f"truncated file: element {tags[-1]} should hold {length} bytes but the file "
            f"ends after {len(value)}"
        )


def _check_pixel_data(ds: Dataset, transfer_syntax: str) -> None:
    pixel_tag = next((tag for tag in _PIXEL_TAGS if tag in ds), None)
    if pixel_tag is None:
        return
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    if not rows or not columns:
        raise DicomRejected("pixel data without Rows/Columns in the header")
    raw = ds.get_item(pixel_tag)
    length = getattr(raw, "length", None)
    value = getattr(raw, "value", None)
    if transfer_syntax not in NATIVE_TRANSFER_SYNTAXES:
        if isinstance(value, bytes) and value and value[:4] != b"\xfe\xff\x00\xe0":
            raise DicomRejected(
                f"pixel data is not encapsulated although the transfer syntax "
                f"{transfer_syntax} is compressed"
            )
        return
    if length == 0xFFFFFFFF:
        raise DicomRejected("encapsulated pixel data in an uncompressed transfer syntax")
    frames = _int(ds, "NumberOfFrames") or 1
    samples = _int(ds, "SamplesPerPixel") or 1
    if pixel_tag == 0x7FE00010:
        bits = _int(ds, "BitsAllocated")
        if not bits:
            raise DicomRejected("pixel data without BitsAllocated in the header")
    else:
        bits = 32 if pixel_tag == 0x7FE00008 else 64
    pixels = rows * columns * frames * samples
    expected = (pixels * bits + 7) // 8
    if ds.get("PhotometricInterpretation") == "YBR_FULL_422" and bits >= 8:
        expected = expected * 2 // 3
    actual = len(value) if isinstance(value, bytes) else (length or 0)
    # Odd lengths are padded to even and some writers pad further, which readers ignore; a
    # whole frame more than the header declares is a mismatch, not padding.
    frame_bytes = max(1, expected // frames)
    if actual < expected or actual >= expected + max(frame_bytes, 2):
        raise DicomRejected(
            f"pixel data does not match its header: {rows}x{columns}, {frames} frame(s), "
            f"{samples} sample(s) of {bits} bits need {expected} bytes, the file has {actual}"
        )


def _uid(ds: Dataset, keyword: str) -> str:
    value = _text(ds, keyword, limit=1000)
    if not value:
        raise DicomRejected(f"missing {keyword}")
    value = value.strip("\x00 ")
    if len(value) > 64:
        raise DicomRejected(f"{keyword} is longer than 64 characters")
    return value


def _wrap_part10(data: bytes, ds: Dataset, transfer_syntax: str = "") -> tuple[bytes, str]:
    """Give a bare data set (no preamble/meta) a Part 10 header in the encoding it was read in."""
    implicit, little = ds.original_encoding
    if implicit is None:
        implicit, little = True, True
    if transfer_syntax:
        pass
    elif implicit:
        transfer_syntax = ImplicitVRLittleEndian
    else:
        transfer_syntax = ExplicitVRLittleEndian if little else ExplicitVRBigEndian
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    buffer = DicomBytesIO()
    buffer.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return buffer.getvalue() + data, str(transfer_syntax)


def _meta_transfer_syntax(data: bytes) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = pydicom.filereader._read_file_meta_info(io.BytesIO(data[132:]))
    except Exception as exc:
        raise DicomRejected(f"unreadable file meta header: {exc}") from exc
    return str(meta.get("TransferSyntaxUID", "")).strip("\x00 ")


def _check_transfer_syntax(transfer_syntax: str) -> None:
    if not transfer_syntax:
        raise DicomRejected("the file meta header has no TransferSyntaxUID")
    if transfer_syntax not in KNOWN_TRANSFER_SYNTAXES:
        raise DicomRejected(f"unknown transfer syntax {transfer_syntax}")


def dicom_parse(data: bytes) -> ParsedDicom:
    """Validate one received object and extract what the archive indexes.

    Raises:
        DicomRejected: not DICOM, truncated, missing UIDs, unknown transfer syntax, pixel data
            that does not match its header, or any element pydicom cannot decode.
    """
    try:
        return _dicom_parse(data)
    except DicomRejected:
        raise
    except Exception as exc:  # a damaged element met while indexing (pydicom decodes lazily)
        raise DicomRejected(f"not readable as DICOM: {type(exc).__name__}: {exc}") from exc


def _dicom_parse(data: bytes) -> ParsedDicom:
    if len(data) < 8:
        raise DicomRejected("not a DICOM file: too short")
    rebuild_meta = False
    if data[:2] == b"\x02\x00" and data[4:6].isalpha():
        # File meta without the 128-byte preamble and "DICM" (pydicom writes this, often with
        # only the TransferSyntaxUID, for a Dataset that is not a FileDataset): read it as a
        # Part 10 file and store it with a complete file meta header.
        data = b"\x00" * 128 + b"DICM" + data
        rebuild_meta = True
    part10 = len(data) >= 132 and data[128:132] == b"DICM"
    if part10:
        dataset_offset = _meta_end(data)
        transfer_syntax = ""  # read with the data set below, checked before anything else
    else:
        # A bare data set (as some modalities write to disk): it starts with a group 0008 tag.
        if data[:2] not in (b"\x08\x00", b"\x00\x08"):
            raise DicomRejected("not a DICOM file: no 'DICM' marker and no data set at the start")
        dataset_offset = 0
        transfer_syntax = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data), force=not part10)
    except Exception as exc:  # pydicom raises many kinds on garbage; all mean "unreadable"
        if part10:
            _check_transfer_syntax(_meta_transfer_syntax(data))
        raise DicomRejected(f"not readable as DICOM: {exc}") from exc
    if part10:
        transfer_syntax = str(ds.file_meta.get("TransferSyntaxUID", "")).strip("\x00 ")
        _check_transfer_syntax(transfer_syntax)
    _check_truncation(ds)
    sop_instance_uid = _uid(ds, "SOPInstanceUID")
    sop_class_uid = _uid(ds, "SOPClassUID")
    study_uid = _uid(ds, "StudyInstanceUID")
    series_uid = _uid(ds, "SeriesInstanceUID")
    if rebuild_meta:
        stored, _ = _wrap_part10(data[dataset_offset:], ds, transfer_syntax=transfer_syntax)
        dataset_offset = len(stored) - (len(data) - dataset_offset)
    elif part10:
        stored = data
    else:
        stored, transfer_syntax = _wrap_part10(data, ds)
        dataset_offset = len(stored) - len(data)
    _check_pixel_data(ds, transfer_syntax)
    # Decoding the character set happens here, on first access of each text value.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        patient_name = person_name(ds, "PatientName")
        frames = _int(ds, "NumberOfFrames")
        if frames is None and any(tag in ds for tag in _PIXEL_TAGS):
            frames = 1
        parsed = ParsedDicom(
            dataset=ds,
            stored_bytes=stored,
            content_sha256=hashlib.sha256(memoryview(stored)[dataset_offset:]).hexdigest(),
            transfer_syntax_uid=transfer_syntax,
            sop_instance_uid=sop_instance_uid,
            sop_class_uid=sop_class_uid,
            study_instance_uid=study_uid,
            series_instance_uid=series_uid,
            patient={
                "patient_id": _text(ds, "PatientID", 64),
                "issuer_of_patient_id": _text(ds, "IssuerOfPatientID", 64),
                "name": patient_name,
                "sex": _text(ds, "PatientSex", 16),
                "birth_date": parse_da(_text(ds, "PatientBirthDate")),
            },
            study={
                "study_date": parse_da(_text(ds, "StudyDate")),
                "study_time": parse_tm(_text(ds, "StudyTime")),
                "accession_number": _text(ds, "AccessionNumber", 64),
                "study_id": _text(ds, "StudyID", 64),
                "description": _text(ds, "StudyDescription"),
                "referring_physician_name": person_name(ds, "ReferringPhysicianName"),
            },
            series={
                "modality": _text(ds, "Modality", 16) or "OT",
                "series_number": _int(ds, "SeriesNumber"),
                "description": _text(ds, "SeriesDescription"),
                "body_part_examined": _text(ds, "BodyPartExamined", 64),
                "series_date": parse_da(_text(ds, "SeriesDate")),
                "series_time": parse_tm(_text(ds, "SeriesTime")),
                "image_type": _text(ds, "ImageType"),
                "frame_of_reference_uid": _text(ds, "FrameOfReferenceUID", 64),
            },
            instance={
                "instance_number": _int(ds, "InstanceNumber"),
                "number_of_frames": frames,
                "rows": _int(ds, "Rows"),
                "columns": _int(ds, "Columns"),
                "bits_allocated": _int(ds, "BitsAllocated"),
                "frame_views": _frame_views(ds, frames or 1),
            },
        )
    return parsed


def patient_key(patient: dict) -> str:
    """Identity of a patient row: PatientID + issuer, or name + birth date when there is no ID."""
    if patient["patient_id"]:
        key = f"id\x00{patient['issuer_of_patient_id']}\x00{patient['patient_id']}"
    else:
        key = f"anonymous\x00{patient['name']}\x00{patient['birth_date'] or ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
