"""benchmarks/experiment/atlas_registration.py: the planar atlas's bones against the phantom's,
fitted and by the outline's scaling alone, by band of rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))


def test_band_dice_scores_each_band_apart():
    import atlas_registration

    bone = np.zeros((1024, 256), bool)
    bone[100:120, 50:60] = True  # head band
    bone[700:720, 50:60] = True  # legs band
    atlas = np.zeros((3, 1024, 256), np.int16)
    atlas[2, 100:120, 50:60] = 7  # the head's bone found, in another layer
    atlas[0, 720:740, 50:60] = 3  # the legs' bone missed by 20 rows
    dice = atlas_registration.band_dice(atlas, bone)
    assert dice["head"] == 1.0 and dice["legs"] == 0.0
    assert dice["chest_arms"] == dice["abdomen_pelvis"] == 0.0  # nothing there on either side


def test_the_fit_beats_the_outline_in_every_band_and_the_json_says_so(tmp_path):
    manifest = pytest.importorskip("boneread_ml.data.manifest")
    root = manifest.generate("planar", 3, 11, tmp_path / "set", dicom=False)
    import atlas_registration

    out = tmp_path / "reg.json"
    assert atlas_registration.main(["--data-root", str(root), "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["cases"] == 3 and record["data_seed"] == 11
    fitted, outline = record["bone_dice"]["fitted"], record["bone_dice"]["outline"]
    for band in atlas_registration.BANDS:
        assert fitted[band] >= 0.85 and fitted[band] > outline[band], band
    assert record["fit_seconds_per_case"]["median"] > 0


def test_a_spectct_set_is_refused_by_name(tmp_path):
    import atlas_registration

    (tmp_path / "manifest.json").write_text(
        json.dumps({"kind": "spectct", "seed": 0, "cases": []}), encoding="utf-8"
    )
    with pytest.raises(SystemExit):
        atlas_registration.main(["--data-root", str(tmp_path)])
