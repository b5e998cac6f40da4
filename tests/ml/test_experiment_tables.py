"""benchmarks/experiment/tables.py: the docs' tables are the pooled JSON's numbers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))

import tables  # noqa: E402


def _record() -> dict:
    keys = [k for _, k, _ in tables.SUMMARY_COLUMNS] + [
        "mixed_case_described_lesion_class_accuracy"
    ]
    ref = {
        "model": "gated",
        **dict.fromkeys(keys, 0.5),
        "mean_class_dice": 0.4123,
        "mean_class_dice_per_seed": [0.41, 0.42, 0.4069],
        "case_dice": 0.6021,
        "false_positives_per_case": 0.75,
        "lesion_dice": 0.38,
    }
    other = {"model": "plain", **dict.fromkeys(keys, float("nan"))}
    diff = {"difference": 0.0312, "ci": [-0.0049, 0.071], "ci_above_zero": False}
    return {
        "summary": [ref, other],
        "comparison": [{"reference": "gated", "model": "plain", "mean_class_dice": diff}],
    }


def test_the_tables_carry_the_json_values_and_say_what_is_missing(tmp_path, capsys):
    pooled = tmp_path / "pooled.json"
    pooled.write_text(json.dumps(_record()), encoding="utf-8")
    for seed, fps in ((0, "2,0"), (1, "4,1")):
        folder = tmp_path / "fold0" / f"seed{seed}"
        folder.mkdir(parents=True)
        les, free = fps.split(",")
        (folder / "per_case.csv").write_text(
            f"model,n_lesions,false_positives\ngated,3,{les}\ngated,0,{free}\n", encoding="utf-8"
        )
    assert tables.main([str(pooled)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        "| gated | 0.412 (0.410/0.420/0.407) | 0.602 | 0.500 | 0.500 | 0.380 | 0.50 | 0.75 "
        "| 0.50 | 0.50 (0.50) |" in out
    )
    assert any(line.startswith("| plain | n/a (") for line in out)
    # a comparison pooled before case_dice existed: n/a in its column
    assert "| plain | +0.031 (-0.005 to +0.071) | n/a | n/a | n/a | n/a | n/a |" in out
    # the class-agnostic lesion Dice: the row's mean in the summary, the paired one in the
    # comparison (before, neither table had it and the docs computed it by hand)
    heads = [line for line in out if line.startswith("| |") or line.startswith("| gated minus")]
    assert "class-agnostic lesion Dice |" in heads[0]
    assert "class-agnostic lesion Dice (paired volumes) |" in heads[1]
    # false positives: (2 + 4) / 2 cases with lesions, (0 + 1) / 2 lesion-free cases
    assert "| gated | 3.00 (n=2) | 0.50 (n=2) |" in out


def test_a_file_that_is_not_a_pooled_comparison_is_refused(tmp_path, capsys):
    bad = tmp_path / "pooled.json"
    bad.write_text(json.dumps({"summary": []}), encoding="utf-8")
    assert tables.main([str(bad)]) == 2
    assert "not a pooled comparison" in capsys.readouterr().err
    assert tables.main([str(tmp_path / "missing.json")]) == 2
