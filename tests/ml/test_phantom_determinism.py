"""Same seed, same data: pixel data, masks and reports are identical."""

from __future__ import annotations

import json

import numpy as np
import pydicom

from boneread_ml.data.manifest import generate, load_case_arrays, load_manifest


def _arrays(root):
    m = load_manifest(root)
    return m, [load_case_arrays(root, c) for c in m["cases"]]


def test_same_seed_gives_identical_output(tmp_path):
    a = generate("planar", 3, 7, tmp_path / "a")
    b = generate("planar", 3, 7, tmp_path / "b", workers=2)  # worker count must not matter
    ma, xa = _arrays(a)
    mb, xb = _arrays(b)
    assert json.dumps(ma, sort_keys=True) == json.dumps(mb, sort_keys=True)
    for u, v in zip(xa, xb, strict=True):
        assert u.keys() == v.keys()
        for k in u:
            assert u[k].tobytes() == v[k].tobytes(), k
    for case in ma["cases"]:
        for name in ("NM_WB.dcm", "SEG_ANT.dcm", "SEG_POST.dcm"):
            da = pydicom.dcmread(a / case["dicom_dir"] / name)
            db = pydicom.dcmread(b / case["dicom_dir"] / name)
            assert da.PixelData == db.PixelData and da.SOPInstanceUID == db.SOPInstanceUID
        assert (a / case["arrays"]).read_bytes() == (b / case["arrays"]).read_bytes()


def test_different_seeds_differ(tmp_path):
    _, xa = _arrays(generate("planar", 2, 1, tmp_path / "a", dicom=False))
    _, xb = _arrays(generate("planar", 2, 2, tmp_path / "b", dicom=False))
    assert not np.array_equal(xa[0]["image"], xb[0]["image"])


def test_spectct_is_deterministic(tmp_path):
    _, xa = _arrays(generate("spectct", 1, 3, tmp_path / "a", dicom=False))
    _, xb = _arrays(generate("spectct", 1, 3, tmp_path / "b", dicom=False))
    for k in xa[0]:
        assert xa[0][k].tobytes() == xb[0][k].tobytes(), k
