"""SPECT/CT phantom: HU and counts, grids, lesions with CT correlates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from boneread_ml.data.manifest import load_case_arrays, load_manifest
from boneread_ml.data.phantom import spectct


@pytest.fixture(scope="module")
def cases(spectct_set):
    m = load_manifest(spectct_set)
    return [(c, load_case_arrays(spectct_set, c)) for c in m["cases"]]


def test_arrays_follow_the_contract(cases):
    for _, a in cases:
        assert a["image"].shape == (2, *spectct.CT_SHAPE) and a["image"].dtype == np.float32
        assert a["label"].shape == spectct.CT_SHAPE and a["label"].dtype == np.uint8
        assert a["instance"].shape == spectct.CT_SHAPE and a["instance"].dtype == np.uint16
        np.testing.assert_allclose(a["spacing_mm"], spectct.CT_SPACING_MM)


def test_hounsfield_units_are_plausible(cases):
    for _, a in cases:
        ct = a["image"][1]
        assert ct.min() >= -1024 and ct.max() <= 3071
        outside = ct[:, :4, :4]
        assert np.median(outside) < -900, "air outside the patient"
        bone = a["bone"].astype(bool) & (a["label"] == 0)
        assert 150 < np.median(ct[bone]) < 900, f"bone median {np.median(ct[bone]):.0f} HU"
        body = ndimage.binary_erosion(ct > -300, iterations=2) & ~ndimage.binary_dilation(
            a["bone"].astype(bool), iterations=2
        )
        assert -120 < np.median(ct[body]) < 90, "soft tissue"
        assert (ct < -600).sum() > 0  # lungs or bowel gas


def test_spect_counts_are_plausible(cases):
    for _, a in cases:
        sp = a["image"][0]
        assert sp.min() >= 0
        bone = ndimage.binary_erosion(a["bone"].astype(bool)) & (a["label"] == 0)
        soft = (a["image"][1] > -300) & ~ndimage.binary_dilation(
            a["bone"].astype(bool), iterations=4
        )
        assert 20 < np.median(sp[bone]) < 500
        assert np.median(sp[bone]) > 2 * np.median(sp[soft])


def test_spect_lives_on_a_coarser_grid():
    assert all(
        s > c for s, c in zip(spectct.SPECT_SPACING_MM[1:], spectct.CT_SPACING_MM[1:], strict=True)
    )
    vol = np.zeros(spectct.SPECT_SHAPE, np.float32)
    vol[40, 64, 64] = 1.0
    on_ct = spectct.resample(
        vol, spectct.SPECT_SPACING_MM, spectct.SPECT_SHAPE, spectct.CT_SPACING_MM, spectct.CT_SHAPE
    )
    # the shared centre maps onto the CT centre
    peak = np.unravel_index(np.argmax(on_ct), on_ct.shape)
    assert all(abs(p - (n - 1) / 2) <= 1.5 for p, n in zip(peak, spectct.CT_SHAPE, strict=True))


def test_lesions_inside_bone_and_in_manifest(cases):
    n = 0
    for case, a in cases:
        lesion = a["label"] > 0
        assert not (lesion & ~a["bone"].astype(bool)).any()
        ids = set(np.unique(a["instance"])) - {0}
        assert ids == {les["id"] for les in case["lesions"]}
        for les in case["lesions"]:
            m = a["instance"] == les["id"]
            assert les["volume_vox"] == int(m.sum())
            assert set(np.unique(a["label"][m])) == {les["label"]}
            n += 1
    assert n >= 2


def test_lesions_are_hot_on_spect_and_have_ct_correlates(cases):
    for case, a in cases:
        for les in case["lesions"]:
            m = a["instance"] == les["id"]
            if les["volume_vox"] < 20 or les["uptake_ratio"] < 2.0:
                continue
            shell = (
                ndimage.binary_dilation(m, iterations=3)
                & ~m
                & a["bone"].astype(bool)
                & (a["label"] == 0)
            )
            if shell.sum() < 10:
                continue
            assert a["image"][0][m].mean() > a["image"][0][shell].mean()
            if les["kind"] == "sclerotic":
                assert a["image"][1][m].mean() > a["image"][1][shell].mean() + 100
            if les["kind"] == "lytic":
                assert a["image"][1][m].mean() < a["image"][1][shell].mean()
