"""Planar whole-body phantom: anatomy, counts, view consistency, masks vs manifest."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from boneread_ml.data.manifest import load_case_arrays, load_manifest
from boneread_ml.data.phantom import lesions, planar
from boneread_ml.data.phantom import planar_anatomy as pa
from boneread_ml.data.phantom.regions import code


@pytest.fixture(scope="module")
def cases(planar_set):
    m = load_manifest(planar_set)
    return [(c, load_case_arrays(planar_set, c)) for c in m["cases"]]


def test_arrays_follow_the_contract(planar_set, cases):
    m = load_manifest(planar_set)
    assert m["kind"] == "planar" and m["generator_version"]
    for case, a in cases:
        assert a["image"].shape == (2, 1024, 256) and a["image"].dtype == np.float32
        assert a["label"].shape == (1024, 256) and a["label"].dtype == np.uint8
        assert a["instance"].dtype == np.uint16
        assert a["pixel_spacing_mm"].shape == (2,)
        assert set(np.unique(a["label"])) <= {0, 1, 2}
        assert 0 <= case["fold"] < 5
        assert case["arrays"] == f"arrays/{case['case_id']}.npz"
        assert case["dicom_dir"] == f"dicom/{case['case_id']}"


def test_folds_are_assigned_by_patient(planar_set):
    m = load_manifest(planar_set)
    fold_of = {}
    for c in m["cases"]:
        assert fold_of.setdefault(c["patient_id"], c["fold"]) == c["fold"]


def test_counts_are_clinical_and_poisson(cases):
    for _, a in cases:
        img = a["image"]
        assert np.all(img >= 0)
        assert np.array_equal(img, np.round(img)), "counts must be integers"
        total = img[0].sum()
        assert 5e5 < total < 4e6, f"anterior total counts {total:.3g} outside clinical range"
        body = ndimage.binary_erosion(img[0] > 0, iterations=3)
        # soft tissue background: a few counts per pixel, not zero, not bone-like
        bone = a["bone"].astype(bool)
        soft = body & ~ndimage.binary_dilation(bone, iterations=6)
        assert 0.3 < np.median(img[0][soft]) < 30
        # posterior lumbar spine against the soft tissue lateral to it (beyond the kidneys)
        spine = img[1, 280:330, 124:132].mean()
        flank = img[1, 280:330, 176:184].mean()
        assert spine > 4 * flank


def test_collimator_blur_is_about_a_centimetre():
    # A point source at 10 cm from the collimator should be blurred to FWHM ~ 1 cm
    assert 8.0 <= planar.fwhm_mm(100.0) <= 12.0
    assert planar.fwhm_mm(200.0) > planar.fwhm_mm(50.0)


def test_views_agree_with_depth(cases):
    """Spine is brighter posteriorly, sternum anteriorly; views are mirrored to one frame."""
    tpl = pa.build_template(planar.ARM_POSES_DEG[0])
    for _, a in cases:
        img = a["image"]
        s0, s1 = (np.log1p(ndimage.gaussian_filter(x, 3)) for x in img)
        body = s0 + s1 > np.log1p(1.0)
        corr = np.corrcoef(s0[body], s1[body])[0, 1]
        corr_unmirrored = np.corrcoef(s0[body], s1[:, ::-1][body])[0, 1]
        assert corr > 0.8, "anterior and mirrored posterior views must show the same anatomy"
        assert corr > corr_unmirrored
    # with the template: the spine's layer is posterior, the sternum's anterior
    assert (tpl.regions[2] == code("spine_l3")).any() and not (
        tpl.regions[0] == code("spine_l3")
    ).any()
    assert (tpl.regions[0] == code("sternum")).any()
    for _, a in cases:
        img = a["image"]
        col = 128
        spine_rows = slice(280, 330)  # L1-L5 for the usual heights
        ratio = img[1, spine_rows, col - 4 : col + 4].sum() / max(
            img[0, spine_rows, col - 4 : col + 4].sum(), 1
        )
        assert ratio > 1.5, f"lumbar spine should be brighter posteriorly (ratio {ratio:.2f})"


def test_lesions_lie_inside_bone(cases):
    n = 0
    for _, a in cases:
        lesion = a["label"] > 0
        bone = ndimage.binary_dilation(a["bone"].astype(bool), iterations=1)
        assert not (lesion & ~bone).any()
        n += lesion.any()
    assert n >= 3, "fixture should contain lesions"


def test_every_lesion_in_the_mask_is_in_the_manifest(cases):
    for case, a in cases:
        ids = set(np.unique(a["instance"])) - {0}
        records = {les["id"]: les for les in case["lesions"]}
        assert ids == set(records)
        for lid, les in records.items():
            m = a["instance"] == lid
            assert les["area_px"] == int(m.sum())
            assert set(np.unique(a["label"][m])) == {les["label"]}
            assert les["class_name"] == {1: "benign", 2: "metastatic"}[les["label"]]
            cy, cx = les["centroid"]
            assert abs(cy - np.nonzero(m)[0].mean()) < 0.01
            assert les["peak_counts"] == pytest.approx(
                max(a["image"][0][m].max(), a["image"][1][m].max()), abs=0.1
            )
        assert (a["label"] > 0).sum() == (a["instance"] > 0).sum()


def test_lesions_are_hot_in_the_nearer_view_and_depth_shows(cases):
    """A lesion is a focus of increased uptake in the view nearer to it; deep ones fade.

    Posterior-rib lesions are hot on the posterior view and faint anteriorly,
    anterior (pubis, sternum) ones the other way round, as on real scans.
    """
    hot, checked = 0, 0
    depth_ratio = {"anterior": [], "posterior": []}
    for case, a in cases:
        for les in case["lesions"]:
            m = a["instance"] == les["id"]
            ring = (
                ndimage.binary_dilation(m, iterations=6)
                & ~ndimage.binary_dilation(m, iterations=2)
                & a["bone"].astype(bool)
            )
            if ring.sum() < 10 or les["uptake_ratio"] < 2.5 or les["area_px"] < 10:
                continue
            contrast = [a["image"][ch][m].mean() / a["image"][ch][ring].mean() for ch in (0, 1)]
            near = {"anterior": contrast[0], "posterior": contrast[1]}.get(
                les["depth_layer"], max(contrast)
            )
            checked += 1
            hot += near > 1.2
            if les["depth_layer"] in depth_ratio:
                depth_ratio[les["depth_layer"]].append(np.log(contrast[1] / contrast[0]))
    assert checked >= 5
    assert hot / checked >= 0.8
    assert depth_ratio["posterior"] and depth_ratio["anterior"]
    assert np.mean(depth_ratio["posterior"]) > np.mean(depth_ratio["anterior"]) + 0.5


def test_image_appearance_of_the_classes_overlaps():
    """Uptake ratio and size distributions of benign and metastatic lesions overlap."""
    rng = np.random.default_rng(0)
    ratios = {1: [], 2: []}
    sizes = {1: [], 2: []}
    for _ in range(300):
        plan = lesions.plan_case(rng, planar.AVAILABLE_REGIONS, "F", 12)
        for les in plan.lesions:
            ratios[les.label].append(les.uptake_ratio)
            sizes[les.label].append(les.size_mm)
    for values in (ratios, sizes):
        b, m = np.array(values[1]), np.array(values[2])
        assert np.median(m) > np.median(b)
        # a large share of metastases fall inside the benign inter-quartile range
        q1, q3 = np.percentile(b, [25, 75])
        assert 0.2 < np.mean((m > q1) & (m < q3)) < 0.8
