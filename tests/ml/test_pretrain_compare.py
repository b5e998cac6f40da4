"""benchmarks/experiment/pretrain_compare.py: paired differences per seed and pooled."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))


def _write(folder: Path, with_values, without_values, cases=None):
    folder.mkdir(parents=True)
    cases = cases or [f"c{i}" for i in range(len(with_values))]
    lines = ["model,case_id,mean_class_dice"]
    for name, values in (("mt_unet_pretrained_text", with_values), ("mt_unet", without_values)):
        lines += [
            f"{name},{c},{'' if np.isnan(v) else v}" for c, v in zip(cases, values, strict=True)
        ]
    (folder / "per_case.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pooled_difference_over_seeds_and_cases(tmp_path):
    from pretrain_compare import main

    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, size=(3, 20))
    for s in range(3):
        with_values = base[s] + 0.1
        with_values[3] = np.nan  # a case without lesions in truth or prediction: dropped pairwise
        _write(tmp_path / f"s{s}", with_values, base[s])
    main(
        [str(tmp_path / f"s{s}") for s in range(3)]
        + ["--out", str(tmp_path / "out"), "--n-boot", "200"]
    )
    record = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert record["pooled"]["seeds"] == 3 and record["pooled"]["cases"] == 20
    assert record["pooled"]["difference"] == pytest.approx(0.1)
    lo, hi = record["pooled"]["ci"]
    assert lo == pytest.approx(0.1) and hi == pytest.approx(0.1)  # a constant difference
    assert [r["difference"] for r in record["per_seed"]] == pytest.approx([0.1] * 3)


def test_two_level_bootstrap_widens_with_seed_to_seed_spread():
    from pretrain_compare import two_level_bootstrap

    rng = np.random.default_rng(1)
    cases = rng.normal(0.0, 0.05, size=30)
    same = np.stack([cases, cases, cases])
    spread = np.stack([cases - 0.2, cases, cases + 0.2])
    lo1, hi1 = two_level_bootstrap(same, 500, 0)
    lo2, hi2 = two_level_bootstrap(spread, 500, 0)
    assert hi2 - lo2 > 2 * (hi1 - lo1)


def test_evaluations_on_other_cases_are_refused(tmp_path):
    from pretrain_compare import main

    _write(tmp_path / "a", [0.5, 0.4], [0.4, 0.4])
    _write(tmp_path / "b", [0.5, 0.4], [0.4, 0.4], cases=["x", "y"])
    with pytest.raises(SystemExit, match="other cases"):
        main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "o")])
