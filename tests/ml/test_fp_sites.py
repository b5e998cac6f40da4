"""benchmarks/experiment/fp_sites.py: what a report-site gate and a plain filter would keep."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "experiment"))

import fp_sites  # noqa: E402


def _row(right, inside, probability):
    return {"right": right, "inside_named_site": inside, "probability": probability}


def test_the_gate_keeps_lesions_inside_named_sites_whatever_their_probability():
    rows = [
        _row(True, True, 0.1),  # a right lesion inside a named site, unlikely: the gate keeps it
        _row(True, False, 0.8),  # an undescribed right lesion, likely: both keep it
        _row(False, False, 0.2),  # a false positive outside: both drop it at 0.4
        _row(False, True, 0.3),  # a false positive inside a named site: only the filter drops it
    ]
    at = {c["min_probability"]: c for c in fp_sites.counts(rows, n_cases=2, grid=(0.0, 0.4))}
    assert (at[0.0]["gate_right"], at[0.0]["gate_false_per_case"]) == (2, 1.0)
    assert (at[0.4]["gate_right"], at[0.4]["gate_false_per_case"]) == (2, 0.5)
    assert (at[0.4]["plain_right"], at[0.4]["plain_false_per_case"]) == (1, 0.0)


def test_the_script_names_a_bad_model_argument_or_data_root(tmp_path, capsys):
    base = ["--folds", "0", "--seeds", "0", "--out", str(tmp_path / "o.json")]
    with pytest.raises(SystemExit):
        fp_sites.main([*base, "--model", "no-name", "--data-root", str(tmp_path)])
    assert "--model must be NAME=PATH, got 'no-name'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        fp_sites.main([*base, "--model", "m=x/{fold}", "--data-root", str(tmp_path)])
    assert "no manifest.json" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()
