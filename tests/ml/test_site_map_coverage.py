"""benchmarks/experiment/site_map_coverage.py on planar scans: where the body atlas's site maps
cover the lesions the report describes, tallied by kind of site."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))


@pytest.fixture(scope="module")
def planar_phantom(tmp_path_factory):
    manifest = pytest.importorskip("boneread_ml.data.manifest")
    return Path(manifest.generate("planar", 8, 5, tmp_path_factory.mktemp("cov"), dicom=False))


def test_planar_lesions_are_counted_once_overall_and_once_by_site(planar_phantom, tmp_path):
    """The script refused planar sets ("this measures SPECT/CT"); the planar maps' misses (at
    the shoulders, long bones and pelvis) were seen only in an ad-hoc check."""
    import site_map_coverage

    out = tmp_path / "coverage.json"
    assert site_map_coverage.main(["--data-root", str(planar_phantom), "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["benchmark"] == "planar_site_map_coverage" and record["cases"] == 8
    d = record["described"]
    assert d["own"] + d["other"] - d["own_and_other"] + d["neither"] == d["lesions"] >= 5
    assert d["rule_decides"] <= d["own"]
    for key in ("lesions", "own", "other", "neither", "rule_decides"):
        assert sum(t[key] for t in record["by_site"].values()) == d[key], key
    # the spine's maps (vertebral levels from the atlas) cover the spine's described lesions
    assert record["by_site"]["spine"]["own"] == record["by_site"]["spine"]["lesions"] > 0


def test_a_lesion_off_its_map_is_missed_and_its_distance_measured(planar_phantom, monkeypatch):
    """With the maps shifted 60 px down no described lesion is under its own map, and each
    missed one's distance to it is measured. (Sideways, a bilateral finding's map can land on
    its other side.)"""
    import numpy as np
    import site_map_coverage

    painted = site_map_coverage.site_maps
    monkeypatch.setattr(
        site_map_coverage, "site_maps",
        lambda kind, case, arrays, registration: np.roll(
            painted(kind, case, arrays, registration), 60, axis=-2
        ),
    )  # fmt: skip
    record = site_map_coverage.coverage(planar_phantom, "planar")
    d = record["described"]
    assert d["lesions"] >= 5 and d["rule_decides"] <= 1
    assert d["missed_median_distance"] is not None and d["missed_median_distance"] >= 10


def test_joints_are_tallied_by_joint_and_other_sites_by_site():
    from site_map_coverage import site_of

    assert site_of({"site": "joint", "region": "右侧肩关节"}) == "joint:肩关节"
    assert site_of({"site": "joint", "region": "左侧肩关节"}) == "joint:肩关节"
    assert site_of({"site": "rib", "region": "左侧第5肋"}) == "rib"
    assert site_of({"region": "x"}) == "unknown"
