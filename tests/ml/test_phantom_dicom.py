"""DICOM output: every file reads back, pixel data decodes, SEG matches the masks."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.uid import UID

from boneread_ml.data.manifest import load_case_arrays, load_manifest

NM_STORAGE = "1.2.840.10008.5.1.4.1.1.20"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def _read_all(root: Path, case: dict) -> list[pydicom.Dataset]:
    files = sorted((root / case["dicom_dir"]).glob("*.dcm"))
    assert files, f"no DICOM files for {case['case_id']}"
    out = []
    for f in files:
        ds = pydicom.dcmread(f)
        assert ds.pixel_array.size > 0  # decodable pixel data
        out.append(ds)
    return out


@pytest.mark.parametrize("which", ["planar_set", "spectct_set"])
def test_every_file_reads_back_with_valid_uids_and_chinese_names(which, request):
    root = request.getfixturevalue(which)
    sop_uids = set()
    for case in load_manifest(root)["cases"]:
        datasets = _read_all(root, case)
        study = {ds.StudyInstanceUID for ds in datasets}
        assert len(study) == 1 and study == {case["study"]["study_instance_uid"]}
        for ds in datasets:
            for uid in (ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID):
                assert UID(uid).is_valid
            assert ds.SOPInstanceUID not in sop_uids
            sop_uids.add(ds.SOPInstanceUID)
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            assert ds.SpecificCharacterSet == "ISO_IR 192"
            assert ds.PatientID == case["patient_id"]
            assert ds.AccessionNumber == case["study"]["accession_number"]
            ideographic = ds.PatientName.ideographic
            assert ideographic and all(
                "\u4e00" <= ch <= "\u9fff" or ch == "^" for ch in ideographic
            )
            assert len(ds.StudyDate) == 8 and ds.Manufacturer


def test_planar_nm_has_anterior_and_posterior_frames(planar_set):
    for case in load_manifest(planar_set)["cases"]:
        a = load_case_arrays(planar_set, case)
        ds = pydicom.dcmread(Path(planar_set) / case["dicom_dir"] / "NM_WB.dcm")
        assert ds.SOPClassUID == NM_STORAGE and ds.Modality == "NM"
        assert ds.ImageType[2] == "WHOLE BODY" and ds.NumberOfFrames == 2
        views = [d.ViewCodeSequence[0].CodeMeaning for d in ds.DetectorInformationSequence]
        assert views == ["antero-posterior", "postero-anterior"]
        px = ds.pixel_array
        assert px.shape == (2, 1024, 256)
        np.testing.assert_array_equal(px[0], a["image"][0])
        # the posterior frame is stored as seen from behind: the mirror of channel 1
        np.testing.assert_array_equal(px[1], a["image"][1][:, ::-1])


def test_planar_seg_matches_the_label(planar_set):
    m = load_manifest(planar_set)
    case = next(c for c in m["cases"] if c["lesions"])
    a = load_case_arrays(planar_set, case)
    folder = Path(planar_set) / case["dicom_dir"]
    nm = pydicom.dcmread(folder / "NM_WB.dcm")
    for name, frame, expected in (
        ("SEG_ANT.dcm", 1, a["label"]),
        ("SEG_POST.dcm", 2, a["label"][:, ::-1]),
    ):
        seg = hd.seg.segread(folder / name)
        assert seg.SOPClassUID == SEG_STORAGE
        assert [s.SegmentLabel for s in seg.SegmentSequence] == [
            "benign lesion",
            "metastatic lesion",
        ]
        src = (
            seg.PerFrameFunctionalGroupsSequence[0]
            .DerivationImageSequence[0]
            .SourceImageSequence[0]
        )
        assert (
            src.ReferencedSOPInstanceUID == nm.SOPInstanceUID and src.ReferencedFrameNumber == frame
        )
        px = seg.pixel_array.reshape(-1, seg.Rows, seg.Columns)  # one frame per segment present
        seg_numbers = [
            f.SegmentIdentificationSequence[0].ReferencedSegmentNumber
            for f in seg.PerFrameFunctionalGroupsSequence
        ]
        rebuilt = np.zeros_like(expected)
        for i, s in enumerate(seg_numbers):
            rebuilt[px[i] > 0] = s
        np.testing.assert_array_equal(rebuilt, expected)


def test_spectct_series_geometry_and_seg(spectct_set):
    m = load_manifest(spectct_set)
    case = max(m["cases"], key=lambda c: len(c["lesions"]))
    a = load_case_arrays(spectct_set, case)
    folder = Path(spectct_set) / case["dicom_dir"]
    cts = sorted(folder.glob("CT_*.dcm"))
    assert len(cts) == a["image"].shape[1]
    first, second = pydicom.dcmread(cts[0]), pydicom.dcmread(cts[1])
    assert first.SOPClassUID == CT_STORAGE
    assert first.ImagePositionPatient[2] - second.ImagePositionPatient[2] == pytest.approx(
        float(a["spacing_mm"][0])
    )
    hu = first.pixel_array * float(first.RescaleSlope) + float(first.RescaleIntercept)
    np.testing.assert_allclose(hu, a["image"][1][0])
    spect = pydicom.dcmread(folder / "NM_SPECT.dcm")
    assert spect.ImageType[2] == "RECON TOMO" and spect.SOPClassUID == NM_STORAGE
    assert spect.FrameOfReferenceUID == first.FrameOfReferenceUID
    assert spect.NumberOfFrames == len(spect.SliceVector)
    assert float(spect.PixelSpacing[0]) > float(first.PixelSpacing[0])  # coarser grid
    seg = hd.seg.segread(folder / "SEG.dcm")
    assert seg.FrameOfReferenceUID == first.FrameOfReferenceUID
    referenced = {
        s.ReferencedSOPInstanceUID
        for s in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
    }
    assert referenced == {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in cts}
    ct_uids = [pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in cts]
    vol = seg.get_volume(combine_segments=True) if hasattr(seg, "get_volume") else None
    labels = seg.get_pixels_by_source_instance(ct_uids, combine_segments=True, relabel=True)
    np.testing.assert_array_equal(labels, a["label"])
    assert vol is None or vol.array.shape[0] > 0


def test_spect_frames_are_the_training_channel_on_their_own_grid(spectct_set):
    """Frames run inferior to superior; resampled onto the CT grid they give channel 0."""
    from boneread_ml.data.phantom import spectct

    case = load_manifest(spectct_set)["cases"][0]
    a = load_case_arrays(spectct_set, case)
    ds = pydicom.dcmread(Path(spectct_set) / case["dicom_dir"] / "NM_SPECT.dcm")
    counts = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope)
    first_z = float(ds.DetectorInformationSequence[0].ImagePositionPatient[2])
    ct_top = pydicom.dcmread(
        Path(spectct_set) / case["dicom_dir"] / "CT_0001.dcm", stop_before_pixels=True
    )
    assert first_z < float(ct_top.ImagePositionPatient[2])  # frame 1 is the most inferior
    spect = counts[::-1]  # most superior first, like the arrays
    on_ct = spectct.resample(
        spect,
        spectct.SPECT_SPACING_MM,
        spectct.SPECT_SHAPE,
        spectct.CT_SPACING_MM,
        spectct.CT_SHAPE,
    )
    np.testing.assert_allclose(on_ct, a["image"][0], atol=0.02)
