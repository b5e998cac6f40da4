"""Write phantom cases as real DICOM: NM whole-body, NM tomographic SPECT, CT, SEG.

Choices, following what clinical systems produce:

* Planar: one NM Image Storage instance with two frames, as dual-head
  cameras store a whole-body scan: frame 1 anterior, frame 2 posterior
  (``FrameIncrementPointer`` -> Detector Vector, a View Code per detector).
  The posterior frame is stored as acquired, i.e. seen from behind, so it is
  the left-right mirror of the array's channel 1.
* SPECT: one NM Image Storage instance, ``RECON TOMO``, one frame per slice
  (``FrameIncrementPointer`` -> Slice Vector), counts x 10 as uint16 with
  Rescale Slope 0.1.  Frames run from the most inferior slice upwards along
  the normal of the image orientation.
* CT: single-slice CT Image Storage instances, HU = stored - 1024.
* Ground truth: DICOM Segmentation (highdicom, BINARY, segment 1 benign
  lesion, segment 2 metastatic lesion).  For planar scans one SEG instance per
  view frame (highdicom cannot derive from a multi-frame NM image without a
  patient coordinate system, so each SEG is made from a one-frame copy and its
  source references then carry the Referenced Frame Number).

UIDs are derived from the generator seed and the case (``2.25.<uuid>``), so a
regenerated set has the same UIDs and re-ingesting it is a no-op.
All text is UTF-8 (Specific Character Set ``ISO_IR 192``); patient names have
a pinyin and an ideographic component (``ZHANG^WEI=张^伟``).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import uuid
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from boneread_ml import __version__

log = logging.getLogger(__name__)

NM_STORAGE = "1.2.840.10008.5.1.4.1.1.20"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MANUFACTURER = "BoneRead Synthetic"
INSTITUTION = "BoneRead 合成数据中心 (synthetic)"

SURNAMES = [("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"), ("杨", "YANG"),
            ("赵", "ZHAO"), ("黄", "HUANG"), ("周", "ZHOU"), ("吴", "WU"), ("徐", "XU"), ("孙", "SUN"),
            ("胡", "HU"), ("朱", "ZHU"), ("高", "GAO"), ("林", "LIN"), ("何", "HE"), ("郭", "GUO"),
            ("马", "MA"), ("罗", "LUO")]  # fmt: skip
GIVEN_M = [("伟", "WEI"), ("强", "QIANG"), ("磊", "LEI"), ("军", "JUN"), ("勇", "YONG"), ("杰", "JIE"),
           ("涛", "TAO"), ("明", "MING"), ("超", "CHAO"), ("建国", "JIANGUO"), ("志强", "ZHIQIANG"),
           ("国华", "GUOHUA"), ("海波", "HAIBO"), ("文斌", "WENBIN")]  # fmt: skip
GIVEN_F = [("芳", "FANG"), ("娜", "NA"), ("敏", "MIN"), ("静", "JING"), ("丽", "LI"), ("艳", "YAN"),
           ("娟", "JUAN"), ("秀英", "XIUYING"), ("桂兰", "GUILAN"), ("玉兰", "YULAN"), ("海燕", "HAIYAN"),
           ("丽华", "LIHUA"), ("淑珍", "SHUZHEN"), ("红梅", "HONGMEI")]  # fmt: skip
PHYSICIANS = ["LI^MING=李^明", "WANG^HONG=王^红", "ZHAO^JING=赵^静", "SUN^WEI=孙^伟"]


def chinese_name(rng: np.random.Generator, sex: str) -> str:
    """A DICOM person name with pinyin and ideographic groups, e.g. ``ZHANG^WEI=张^伟``."""
    s = SURNAMES[int(rng.integers(len(SURNAMES)))]
    pool = GIVEN_M if sex == "M" else GIVEN_F
    g = pool[int(rng.integers(len(pool)))]
    return f"{s[1]}^{g[1]}={s[0]}^{g[0]}"


def uid(*parts) -> str:
    """Deterministic UID ``2.25.<uuid>`` (a UUID-derived UID, PS3.5 B.2) from the given parts."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).digest()[:16]
    return f"2.25.{uuid.UUID(bytes=digest, version=4).int}"


def _base(
    meta: dict, sop_class: str, sop_uid: str, series_uid: str, modality: str, series_number: int
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationVersionName = f"BONEREAD_{__version__}"[:16]
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = meta["study_uid"]
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    ds.PatientName = meta["patient_name"]
    ds.PatientID = meta["patient_id"]
    ds.PatientBirthDate = meta["birth_date"]
    ds.PatientSex = meta["sex"]
    ds.PatientAge = f"{meta['age']:03d}Y"
    ds.PatientWeight = meta["weight_kg"]
    ds.PatientSize = round(meta["height_m"], 2)
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = meta["study_date"]
    ds.StudyTime = meta["study_time"]
    ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = meta["series_time"]
    ds.AccessionNumber = meta["accession"]
    ds.ReferringPhysicianName = meta["referring"]
    ds.StudyID = meta["study_id"]
    ds.StudyDescription = meta["study_description"]
    ds.SeriesNumber = series_number
    ds.InstitutionName = INSTITUTION
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = meta["model_name"]
    ds.StationName = meta["station"]
    ds.DeviceSerialNumber = meta["device_serial"]
    ds.SoftwareVersions = f"boneread-ml {__version__}"
    ds.PatientPosition = "HFS"
    ds.BodyPartExamined = meta["body_part"]
    ds.AcquisitionNumber = 1
    return ds


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _nm_patient_orientation(ds: Dataset) -> None:
    """NM/PET Patient Orientation module: supine, head first."""
    orientation = _code("F-10450", "SRT", "recumbent")
    orientation.PatientOrientationModifierCodeSequence = Sequence(
        [_code("F-10340", "SRT", "supine")]
    )
    ds.PatientOrientationCodeSequence = Sequence([orientation])
    ds.PatientGantryRelationshipCodeSequence = Sequence([_code("F-10470", "SRT", "headfirst")])


def _radiopharmaceutical(meta: dict) -> Sequence:
    item = Dataset()
    item.Radiopharmaceutical = "Tc-99m MDP"
    item.RadiopharmaceuticalStartTime = meta["injection_time"]
    item.RadionuclideTotalDose = float(meta["dose_mbq"])
    item.RadionuclideHalfLife = 21624.0
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = (
        "C-163A8",
        "SRT",
        "^99m^Technetium",
    )
    item.RadionuclideCodeSequence = Sequence([code])
    return Sequence([item])


def _energy_window() -> Sequence:
    rng_item = Dataset()
    rng_item.EnergyWindowLowerLimit = 126.0
    rng_item.EnergyWindowUpperLimit = 154.0
    item = Dataset()
    item.EnergyWindowRangeSequence = Sequence([rng_item])
    item.EnergyWindowName = "Tc99m"
    return Sequence([item])


def _pixels(ds: Dataset, arr: np.ndarray) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = arr.shape[-2:]
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(arr.astype("<u2")).tobytes()


def _segment_descriptions() -> list:
    cat = hd.sr.CodedConcept("49755003", "SCT", "Morphologically abnormal structure")
    bone = hd.sr.CodedConcept("272673000", "SCT", "Bone structure")
    algo = hd.AlgorithmIdentificationSequence(
        name="BoneRead phantom ground truth",
        family=hd.sr.CodedConcept("123109", "DCM", "Manual Processing"),
        version=__version__,
    )
    out = []
    for number, label, code in (
        (1, "benign lesion", hd.sr.CodedConcept("52988006", "SCT", "Lesion")),
        (2, "metastatic lesion", hd.sr.CodedConcept("14799000", "SCT", "Neoplasm, metastatic")),
    ):
        out.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=label,
                segmented_property_category=cat,
                segmented_property_type=code,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
                algorithm_identification=algo,
                anatomic_regions=[bone],
            )
        )
    return out


def _segmentation(sources, mask, meta, series_uid, sop_uid, instance_number) -> hd.seg.Segmentation:
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=_segment_descriptions(),
        series_instance_uid=series_uid,
        series_number=100,
        sop_instance_uid=sop_uid,
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="BoneRead phantom",
        software_versions=f"boneread-ml {__version__}",
        device_serial_number=meta["device_serial"],
        content_description="ground truth lesions",
        content_label="GROUND_TRUTH",
        omit_empty_frames=bool(mask.any()),
    )
    # highdicom stamps the wall clock; pin dates to the study so output is deterministic
    seg.SeriesDate = seg.ContentDate = meta["study_date"]
    seg.SeriesTime = seg.ContentTime = meta["series_time"]
    seg.SeriesDescription = "Ground truth lesions (benign / metastatic)"
    for kw in ("InstanceCreationDate", "InstanceCreationTime"):
        if kw in seg:
            delattr(seg, kw)
    # highdicom also stamps a random dimension organisation UID and the contribution time
    dim_uid = uid(sop_uid, "dimension-organization")
    for item in seg.get("DimensionOrganizationSequence", []):
        item.DimensionOrganizationUID = dim_uid
    for item in seg.get("DimensionIndexSequence", []):
        item.DimensionOrganizationUID = dim_uid
    for item in seg.get("ContributingEquipmentSequence", []):
        if "ContributionDateTime" in item:
            item.ContributionDateTime = meta["study_date"] + meta["series_time"]
    return seg


def write_planar(
    out_dir: Path, image: np.ndarray, label: np.ndarray, meta: dict, spacing_mm
) -> list[Path]:
    """Write the whole-body NM instance and its two SEG instances.

    Args:
        out_dir: Case folder (created).
        image: float32 (2, rows, cols) counts; channel 1 posterior mirrored into the anterior frame.
        label: uint8 (rows, cols) 0/1/2 in the anterior frame.
        meta: Patient/study fields (see :func:`boneread_ml.data.manifest`).
        spacing_mm: Pixel spacing (row, col) in mm.

    Returns:
        The paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = np.stack([image[0], image[1][:, ::-1]])
    frames = np.clip(np.round(frames), 0, 65535)
    key = meta["uid_key"]
    ds = _base(meta, NM_STORAGE, uid(key, "nm-wb"), uid(key, "nm-wb-series"), "NM", 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "WHOLE BODY", "EMISSION"]
    _nm_patient_orientation(ds)
    ds.SeriesDescription = "WB ANT/POST"
    ds.InstanceNumber = 1
    ds.NumberOfFrames = 2
    ds.FrameIncrementPointer = 0x00540020
    ds.DetectorVector = [1, 2]
    ds.NumberOfDetectors = 2
    ds.EnergyWindowVector = [1, 1]
    ds.NumberOfEnergyWindows = 1
    ds.EnergyWindowInformationSequence = _energy_window()
    ds.RadiopharmaceuticalInformationSequence = _radiopharmaceutical(meta)
    ds.PixelSpacing = [float(spacing_mm[0]), float(spacing_mm[1])]
    ds.ScanVelocity = 2.5  # mm/s, i.e. 15 cm/min
    ds.WholeBodyTechnique = "1PS"
    ds.ScanLength = int(image.shape[1] * spacing_mm[0])
    ds.ActualFrameDuration = int(ds.ScanLength / 2.5 * 1000)
    detectors = []
    for view, code, meaning in (
        ("ANT", "R-10206", "antero-posterior"),
        ("POST", "R-10214", "postero-anterior"),
    ):
        d = Dataset()
        d.CollimatorGridName = "LEHR"
        d.CollimatorType = "PARA"
        d.ZoomFactor = [1.0, 1.0]
        v = Dataset()
        v.CodeValue, v.CodingSchemeDesignator, v.CodeMeaning = code, "SRT", meaning
        d.ViewCodeSequence = Sequence([v])
        d.DetectorElementSize = [float(spacing_mm[0]), float(spacing_mm[1])]
        d.ImageID = view
        detectors.append(d)
    ds.DetectorInformationSequence = Sequence(detectors)
    _pixels(ds, frames)
    paths = [out_dir / "NM_WB.dcm"]
    ds.save_as(paths[0], enforce_file_format=True)

    seg_series = uid(key, "seg-series")
    for frame, mask in ((1, label), (2, label[:, ::-1])):
        view = copy.deepcopy(ds)
        del view.PixelData
        view.NumberOfFrames = 1
        view.DetectorVector = [frame]
        pm = Dataset()
        pm.PixelSpacing = ds.PixelSpacing
        pm.SliceThickness = 1.0
        shared = Dataset()
        shared.PixelMeasuresSequence = Sequence([pm])
        view.SharedFunctionalGroupsSequence = Sequence([shared])
        seg = _segmentation(
            [view], np.ascontiguousarray(mask), meta, seg_series, uid(key, "seg", frame), frame
        )
        for item in seg.PerFrameFunctionalGroupsSequence:
            for der in item.get("DerivationImageSequence", []):
                for src in der.SourceImageSequence:
                    src.ReferencedFrameNumber = frame
        seg.SeriesDescription = (
            f"Ground truth lesions, {'anterior' if frame == 1 else 'posterior'} view"
        )
        p = out_dir / f"SEG_{'ANT' if frame == 1 else 'POST'}.dcm"
        seg.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def write_spectct(
    out_dir: Path,
    spect: np.ndarray,
    spect_spacing,
    ct_hu: np.ndarray,
    ct_spacing,
    label: np.ndarray,
    meta: dict,
    z_centre_mm: float,
) -> list[Path]:
    """Write the SPECT (one multi-frame NM), the CT slices and the SEG.

    Args:
        out_dir: Case folder (created).
        spect: float32 (slices, rows, cols) counts on the SPECT grid, slice 0 most superior.
        spect_spacing: (slice, row, col) spacing in mm.
        ct_hu: (slices, rows, cols) HU, slice 0 most superior.
        ct_spacing: (slice, row, col) spacing in mm.
        label: uint8 label map on the CT grid.
        meta: Patient/study fields.
        z_centre_mm: Patient z (LPS, superior positive) of both grids' centre.

    Returns:
        The paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    key = meta["uid_key"]
    for_uid = uid(key, "frame-of-reference")
    paths = []
    # CT slices
    n, rows, cols = ct_hu.shape
    dz, dy, dx = (float(v) for v in ct_spacing)
    ct_series = uid(key, "ct-series")
    x0, y0 = -(cols - 1) / 2 * dx, -(rows - 1) / 2 * dy
    stored = np.clip(np.round(ct_hu) + 1024, 0, 4095).astype(np.uint16)
    ct_datasets = []
    for k in range(n):
        ds = _base(meta, CT_STORAGE, uid(key, "ct", k), ct_series, "CT", 2)
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SeriesDescription = "CT 3.0 mm (SPECT/CT localisation + AC)"
        ds.FrameOfReferenceUID = for_uid
        ds.PositionReferenceIndicator = ""
        ds.InstanceNumber = k + 1
        z = z_centre_mm - (k - (n - 1) / 2) * dz
        ds.ImagePositionPatient = [round(x0, 3), round(y0, 3), round(z, 3)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceLocation = round(z, 3)
        ds.SliceThickness = dz
        ds.PixelSpacing = [dy, dx]
        ds.KVP = 130
        ds.XRayTubeCurrent = 30
        ds.ExposureTime = 600
        ds.ConvolutionKernel = "B31s"
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        _pixels(ds, stored[k])
        ds.BitsStored = 12
        ds.HighBit = 11
        p = out_dir / f"CT_{k + 1:04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
        ct_datasets.append(ds)
    # SPECT: frames from inferior to superior along the orientation normal (+z)
    ns, srows, scols = spect.shape
    sz, sy, sx = (float(v) for v in spect_spacing)
    ds = _base(meta, NM_STORAGE, uid(key, "nm-spect"), uid(key, "nm-spect-series"), "NM", 3)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "RECON TOMO", "EMISSION"]
    _nm_patient_orientation(ds)
    ds.SeriesDescription = "SPECT OSEM AC SC"
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = for_uid
    ds.PositionReferenceIndicator = ""
    ds.NumberOfFrames = ns
    ds.FrameIncrementPointer = 0x00540080
    ds.SliceVector = list(range(1, ns + 1))
    ds.NumberOfSlices = ns
    ds.NumberOfDetectors = 1
    ds.NumberOfEnergyWindows = 1
    ds.EnergyWindowInformationSequence = _energy_window()
    ds.RadiopharmaceuticalInformationSequence = _radiopharmaceutical(meta)
    ds.PixelSpacing = [sy, sx]
    ds.SliceThickness = sz
    ds.SpacingBetweenSlices = sz
    ds.CorrectedImage = ["ATTN", "SCAT", "DECY"]
    ds.RescaleSlope = 0.1
    ds.RescaleIntercept = 0
    det = Dataset()
    det.ImagePositionPatient = [
        round(-(scols - 1) / 2 * sx, 3),
        round(-(srows - 1) / 2 * sy, 3),
        round(z_centre_mm - (ns - 1) / 2 * sz, 3),
    ]
    det.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    det.CollimatorGridName = "LEHR"
    det.CollimatorType = "PARA"
    ds.DetectorInformationSequence = Sequence([det])
    ds.NumberOfRotations = 1
    _pixels(ds, np.clip(np.round(spect[::-1] * 10), 0, 65535))
    p = out_dir / "NM_SPECT.dcm"
    ds.save_as(p, enforce_file_format=True)
    paths.append(p)
    seg = _segmentation(ct_datasets, label, meta, uid(key, "seg-series"), uid(key, "seg", 1), 1)
    p = out_dir / "SEG.dcm"
    seg.save_as(p, enforce_file_format=True)
    paths.append(p)
    return paths
