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
        # whole files identical: re-sending a regenerated set to the archive is a no-op
        for name in ("NM_WB.dcm", "SEG_ANT.dcm", "SEG_POST.dcm"):
            fa, fb = a / case["dicom_dir"] / name, b / case["dicom_dir"] / name
            assert pydicom.dcmread(fa).SOPInstanceUID == pydicom.dcmread(fb).SOPInstanceUID
            assert fa.read_bytes() == fb.read_bytes(), name
        assert (a / case["arrays"]).read_bytes() == (b / case["arrays"]).read_bytes()


def test_different_seeds_differ(tmp_path):
    _, xa = _arrays(generate("planar", 2, 1, tmp_path / "a", dicom=False))
    _, xb = _arrays(generate("planar", 2, 2, tmp_path / "b", dicom=False))
    assert not np.array_equal(xa[0]["image"], xb[0]["image"])


def test_spectct_is_deterministic(tmp_path):
    a, b = generate("spectct", 1, 3, tmp_path / "a"), generate("spectct", 1, 3, tmp_path / "b")
    _, xa = _arrays(a)
    _, xb = _arrays(b)
    for k in xa[0]:
        assert xa[0][k].tobytes() == xb[0][k].tobytes(), k
    files = sorted(p.relative_to(a) for p in (a / "dicom").rglob("*.dcm"))
    assert len(files) == 130  # 128 CT + SPECT + SEG
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
