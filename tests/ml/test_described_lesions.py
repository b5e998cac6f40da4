"""benchmarks/experiment/described_lesions.py: one row per lesion the report describes on the
mixed-class test cases, with what gave its class (per_case.csv keeps only counts)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks" / "experiment"))


@pytest.fixture(scope="module")
def planar_phantom(tmp_path_factory):
    manifest = pytest.importorskip("boneread_ml.data.manifest")
    return Path(manifest.generate("planar", 12, 3, tmp_path_factory.mktemp("dl"), dicom=False))


def test_every_described_lesion_of_the_mixed_cases_is_one_row(planar_phantom, tmp_path):
    import described_lesions

    release = REPO / "ml" / "checkpoints" / "planar"
    out = tmp_path / "described.json"
    # the shipped release stands in for every (fold, seed) release
    link = tmp_path / "releases"
    link.mkdir()
    for fold in range(5):
        (link / f"f{fold}_s0").symlink_to(release, target_is_directory=True)
    argv = ["--folds", "0", "1", "2", "3", "4", "--seeds", "0",
            "--model", str(link / "f{fold}_s{seed}"), "--data-root", str(planar_phantom),
            "--out", str(out)]  # fmt: skip
    assert described_lesions.main(argv) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    rows = list(csv.DictReader(out.with_suffix(".csv").open(encoding="utf-8")))
    cases = json.loads((planar_phantom / "manifest.json").read_text(encoding="utf-8"))["cases"]
    expected = sum(
        len({i for m in c["report"]["mentions"] for i in m["lesion_ids"]})
        for c in cases
        if {les["label"] for les in c["lesions"]} == {1, 2}
    )
    assert expected > 0, "no mixed-class case in the phantom; pick another seed"
    assert record["described"] == len(rows) == expected
    assert record["right"] + record["wrong"] == record["found"] <= record["described"]
    assert sum(record["wrong_by_source"].values()) == record["wrong"]
    for row in rows:
        if row["found"] == "True":
            assert row["right"] == str(row["stated_class"] == row["true_class"])
            assert row["class_source"] in ("report_site", "image")
        assert 0.0 <= float(row["own_map"]) <= 1.0


def test_a_missing_release_is_named_before_anything_runs(planar_phantom, tmp_path, capsys):
    import described_lesions

    with pytest.raises(SystemExit):
        described_lesions.main(["--folds", "0", "--seeds", "0", "--model",
                                str(tmp_path / "gone_f{fold}_s{seed}"), "--data-root",
                                str(planar_phantom), "--out", str(tmp_path / "x.json")])  # fmt: skip
    assert f"no release at {tmp_path / 'gone_f0_s0'}" in capsys.readouterr().err
