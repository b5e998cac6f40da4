"""SPECT/CT lesion regions read from the CT: bone, side and level against the phantom's truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from boneread_ml.ct_regions import (
    _number_by_neighbours,
    _split_plate,
    bone_of,
    read_ct_anatomy,
    region_name,
    smooth_ct,
)
from boneread_ml.data.manifest import generate, load_case_arrays, load_manifest
from boneread_ml.data.phantom.regions import code, spine_key
from boneread_ml.data.phantom.spectct import vertebrae_in_view
from boneread_ml.predict import lesion_table

#: not a seed the rules were developed on (3 and 4, see benchmarks/ct_regions.py)
CASES, SEED = 8, 21


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    root = generate("spectct", CASES, SEED, tmp_path_factory.mktemp("ctregions"), dicom=False)
    return [(c, load_case_arrays(root, c)) for c in load_manifest(root)["cases"]]


def _named(cases, transform=lambda ct, inst: (ct, inst)):
    rows = []
    for case, arrays in cases:
        ct, instance = transform(arrays["image"][1], arrays["instance"])
        anatomy = read_ct_anatomy(ct, arrays["spacing_mm"])
        for lesion in case["lesions"]:
            mask = instance == lesion["id"]
            # one row per lesion, so that two transforms of the same cases line up
            rows.append((lesion, region_name(anatomy, mask) if mask.any() else "(not in view)"))
    return rows


def test_lesions_get_their_bone_side_and_vertebral_level(cases):
    rows = [(t, n) for t, n in _named(cases) if n != "(not in view)"]
    spine = [(t, n) for t, n in rows if t["site"] == "spine" and t["region"] != "骶骨"]
    assert len(rows) >= 10 and len(spine) >= 4, "the fixed cases have too few lesions"
    bone_right = sum(bone_of(n) == bone_of(t["region"]) for t, n in rows)
    assert bone_right / len(rows) >= 0.85, [(t["region"], n) for t, n in rows]
    # the vertebral level, counted from the ribs or the sacrum, not only "胸椎"
    level_right = sum(n == t["region"] for t, n in spine)
    assert level_right / len(spine) >= 0.85, [(t["region"], n) for t, n in spine]


def test_a_mirrored_ct_swaps_the_side_and_keeps_the_level(cases):
    plain = _named(cases)
    mirrored = _named(cases, lambda ct, inst: (ct[:, :, ::-1], inst[:, :, ::-1]))
    swap = {"左侧": "右侧", "右侧": "左侧"}
    checked = 0
    for (truth, a), (_, b) in zip(plain, mirrored, strict=True):
        if a and a[:2] in swap and bone_of(a) == bone_of(truth["region"]):
            assert b == swap[a[:2]] + a[2:], (truth["region"], a, b)
            checked += 1
        elif a and truth["site"] == "spine":
            assert b == a
    assert checked >= 3


def test_levels_are_counted_from_below_when_the_top_is_cut_off(cases):
    """Remove the upper third of every CT: the T12/L1 or sacrum anchor still counts right."""
    cut = 40
    whole = _named(cases)
    cropped = _named(cases, lambda ct, inst: (ct[cut:], inst[cut:]))
    compared = 0
    for (truth, a), (_, b) in zip(whole, cropped, strict=True):
        if truth["site"] == "spine" and a == truth["region"] and truth["centroid"][0] > cut + 15:
            assert b == a, (truth["region"], b)
            compared += 1
    assert compared >= 2


def test_without_an_anchor_a_vertebra_is_named_by_segment_only(cases):
    """A CT of the mid-thorax (every vertebra bears ribs, no sacrum): "胸椎", never a guessed level."""
    for case, arrays in cases:
        if case["acquisition"]["bed"] != "thorax":
            continue
        anatomy = read_ct_anatomy(arrays["image"][1], arrays["spacing_mm"])
        bearing = [v for v in anatomy.vertebrae if v["ribs"] and v["index"] in range(9, 16)]
        if len(bearing) < 4:
            continue
        top, bottom = int(bearing[0]["z"]) - 3, int(bearing[-1]["z"]) + 3
        middle = read_ct_anatomy(arrays["image"][1][top:bottom], arrays["spacing_mm"])
        assert middle.anchor is None and middle.segment == "thoracic"
        k = int(bearing[1]["z"]) - top
        vertebra = np.zeros_like(middle.regions, bool)
        vertebra[k] = middle.regions[k] == -code("spine_t1")  # "a thoracic vertebra"
        assert vertebra.sum() >= 10, "the vertebra should carry the segment-only code"
        assert not np.isin(middle.regions, [code(f"spine_t{n}") for n in range(1, 13)]).any()
        assert region_name(middle, vertebra) == "胸椎"
        return
    pytest.fail("no thorax case with four rib-bearing mid-thoracic vertebrae in the fixed cases")


def test_lesion_table_names_spectct_lesions_from_the_ct(cases):
    """predict's lesion table gives SPECT/CT lesions a region (it gave None before)."""
    case, arrays = next((c, a) for c, a in cases if any(x["site"] == "spine" for x in c["lesions"]))
    label = arrays["label"]
    probs = np.stack([label == 0, label == 1, label == 2]).astype(np.float32)
    _, lesions = lesion_table(label, probs, arrays["image"], "spectct", arrays["spacing_mm"])
    truth = {x["region"] for x in case["lesions"]}
    named = [x["region"] for x in lesions]
    assert named and all(n is not None for n in named)
    assert truth & set(named), (truth, named)
    # without the spacing the rules cannot measure: no region rather than a wrong one
    _, bare = lesion_table(label, probs, arrays["image"], "spectct", None)
    assert all(x["region"] is None for x in bare)


def test_bad_input_is_refused_and_air_has_no_region():
    with pytest.raises(ValueError, match="3-D volume"):
        read_ct_anatomy(np.zeros((64, 64), np.float32), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="spacing must be three positive numbers"):
        read_ct_anatomy(np.zeros((8, 64, 64), np.float32), (0.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="spacing must be three positive numbers"):
        read_ct_anatomy(np.zeros((8, 64, 64), np.float32), (3.0, 1.0))
    # noise is not a body CT: no regions, and no minutes spent labelling thousands of pieces
    noise = np.random.default_rng(0).normal(0.0, 300.0, (128, 128, 128)).astype(np.float32)
    labelled = read_ct_anatomy(noise, (3.0, 3.9, 3.9))
    assert not labelled.regions.any() and labelled.vertebrae == []
    air = read_ct_anatomy(np.full((8, 64, 64), -1000.0, np.float32), (3.0, 3.9, 3.9))
    assert not air.regions.any() and air.vertebrae == []
    lesion = np.zeros((8, 64, 64), bool)
    lesion[4, 30:33, 30:33] = True
    assert region_name(air, lesion) is None


def test_bone_of_ignores_the_number():
    assert bone_of("左侧第7肋") == bone_of("左侧肋骨") == ("rib", "left")
    assert bone_of("第3腰椎") == bone_of("腰椎") == ("spine", "midline")
    assert bone_of("右侧髂骨") == ("pelvis", "right")
    assert bone_of(None) is None and bone_of("不存在") is None


def _piece(z: int, side: str = "left") -> tuple:
    """A short rib piece at slice ``z`` crossing the same place of the chest wall."""
    k = np.full(6, z)
    j, i = np.full(6, 40), np.arange(80, 86)
    return (k, j, i), None, side


def test_a_rib_piece_is_numbered_between_its_neighbours_never_beyond_them():
    """A piece between numbered ribs takes the number its height gives; one above (or below)
    every numbered rib there is left without a number: extrapolating guessed wrong numbers
    for ribs whose heads lie outside the CT (4 of 16 such rib lesions in benchmarks/ct_regions.py)."""
    ribs = [
        _piece(40),
        _piece(50),
        _piece(60),
        _piece(56),
        _piece(30),
        _piece(70),
        _piece(30, "right"),
    ]
    numbered = [5, 6, 7, None, None, None, None]
    got = [_number_by_neighbours(p, ribs, numbered, 1.0, 1.0, 1.0) for p in range(3, 7)]
    assert got == [7, None, None, None]


def test_a_rib_whose_head_is_above_the_ct_gets_no_wrong_number(cases):
    """Cut the top off every CT: the rib lesions below keep their number or lose it, never
    gain a wrong one (the rules count a rib from its head's vertebra, not from a guess)."""
    whole = _named(cases)
    checked = 0
    for cut in (30, 50, 70):
        cropped = _named(cases, lambda ct, inst, cut=cut: (ct[cut:], inst[cut:]))
        for (truth, _), (_, named) in zip(whole, cropped, strict=True):
            if truth["site"] != "rib" or named in (None, "(not in view)"):
                continue
            checked += 1
            if bone_of(named) == bone_of(truth["region"]):
                assert named in (truth["region"], named[:2] + "肋骨"), (cut, truth["region"], named)
    assert checked >= 4


def test_the_phantom_records_which_vertebrae_lie_wholly_in_the_ct():
    regions = np.zeros((20, 4, 4), np.int16)
    regions[0:4, 1, 1] = code("spine_t1")  # cut by the top of the field of view
    regions[5:9, 1, 1] = code("spine_t2")
    regions[9:13, 2, 2] = code("spine_t3")
    regions[14:20, 1, 1] = code("spine_l5")  # cut by the bottom
    regions[6, 3, 3] = code("rib_l2")
    assert vertebrae_in_view(regions) == ["spine_t2", "spine_t3"]
    assert vertebrae_in_view(np.zeros((5, 4, 4), np.int16)) == []


def test_generated_cases_carry_the_vertebrae_in_view(cases):
    order = [spine_key(index) for index in range(7, 24)]  # T1..L5
    for case, _ in cases:
        keys = case["acquisition"]["vertebrae_in_view"]
        # a run of neighbouring vertebrae, top to bottom, as a 38 cm field of view holds
        start = order.index(keys[0])
        assert keys == order[start : start + len(keys)] and 3 <= len(keys) <= 14, keys
        if case["acquisition"]["bed"] == "lumbopelvic":
            assert "spine_l4" in keys


def test_a_rib_lesion_under_the_scapula_is_named_the_rib(cases):
    """Where a rib touches the scapula the two form one bone piece, which was named the
    scapula throughout (2 of this fixture's 8 rib lesions); now the rib is taken back out of it,
    and the scapula's own lesions keep their name."""
    named = [(t, n) for t, n in _named(cases) if n != "(not in view)"]
    ribs = [(t["region"], n) for t, n in named if t["site"] == "rib"]
    scapulae = [(t["region"], n) for t, n in named if t["site"] == "scapula"]
    assert len(ribs) >= 6 and scapulae, "the fixed cases have too few rib or scapula lesions"
    assert all(bone_of(n) == bone_of(t) for t, n in ribs), ribs
    assert all(n == t for t, n in scapulae), scapulae


def _voxels(mask: np.ndarray) -> tuple:
    return tuple(np.nonzero(mask))


def test_the_scapula_plate_and_a_rib_touching_it_are_split():
    box = np.zeros((40, 30, 30), bool)
    box[5:31, 20:23, 5:26] = True  # an upright plate, 78 mm high at 3 mm slices
    box[14:17, 10:20, 10:13] = True  # a rib running into it, 9 mm high
    plate, tubes = _split_plate(_voxels(box), 3.0, 40)
    assert len(tubes) == 1 and tubes[0][0].size == 3 * 10 * 3
    rib = _voxels(box[:, :20])
    assert set(zip(*tubes[0], strict=True)) == set(zip(*rib, strict=True))  # the rib alone
    assert plate[0].size == 26 * 3 * 21
    # a plate cut by the top of the CT may go on above it: its short runs stay plate
    top = np.zeros((40, 30, 30), bool)
    top[0:5, 20:23, 5:26] = True
    plate, tubes = _split_plate(_voxels(top), 3.0, 40)
    assert tubes == [] and plate[0].size == 5 * 3 * 21


@pytest.mark.parametrize("shape", [(128, 128, 128), (1, 5, 7), (2, 1, 3), (9, 4, 1)])
def test_the_ct_smoothing_is_scipys_3_voxel_gaussian(shape):
    """smooth_ct replaces ndimage.gaussian_filter(ct, 0.5, truncate=2.0) for speed; the bone
    masks must not change (reflected edges, axes of one and two voxels included)."""
    ct = np.random.default_rng(0).normal(0.0, 400.0, shape).astype(np.float32)
    ct[ct.shape[0] // 2 :] += 150.0
    want = ndimage.gaussian_filter(ct, 0.5, truncate=2.0)
    got = smooth_ct(ct)
    assert got.shape == ct.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-3)
    assert np.array_equal(got > 180.0, want > 180.0)
    assert not np.shares_memory(got, ct)  # the caller's CT is left as it was
