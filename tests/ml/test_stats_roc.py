"""Fast DeLong against pROC's published numbers on its aSAH data (tests/fixtures/reference_data)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from boneread_ml.stats.roc import delong_covariance, delong_test, midrank

ASAH = Path(__file__).resolve().parents[1] / "fixtures" / "reference_data" / "asah.csv"
TOL = 1e-6


@pytest.fixture(scope="module")
def asah():
    with open(ASAH, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 113
    y = np.array([r["outcome"] == "Poor" for r in rows], dtype=int)
    markers = {k: np.array([float(r[k]) for r in rows]) for k in ("wfns", "s100b", "ndka")}
    return y, markers


def test_aucs_match_proc(asah):
    y, m = asah
    aucs, _ = delong_covariance(y, np.vstack([m["wfns"], m["ndka"], m["s100b"]]))
    np.testing.assert_allclose(
        aucs, [0.823678861788618, 0.611957994579946, 0.731368563685637], atol=TOL
    )


def test_wfns_vs_s100b_matches_proc(asah):
    y, m = asah
    r = delong_test(y, m["wfns"], m["s100b"])
    assert r.variance_a == pytest.approx(0.00146991470882363, abs=TOL)
    assert r.variance_b == pytest.approx(0.00266868245717244, abs=TOL)
    assert r.covariance == pytest.approx(0.00119615567376754, abs=TOL)
    assert r.z == pytest.approx(2.20898359144091, abs=TOL)
    assert r.p_value == pytest.approx(0.0271757822291882, abs=TOL)
    assert r.ci_low == pytest.approx(0.0104061769564846, abs=TOL)
    assert r.ci_high == pytest.approx(0.174214419249478, abs=TOL)


def test_other_pairs_match_proc(asah):
    y, m = asah
    r = delong_test(y, m["wfns"], m["ndka"])
    assert (r.z, r.p_value) == (
        pytest.approx(2.79777591868904, abs=TOL),
        pytest.approx(0.00514557970691098, abs=TOL),
    )
    r = delong_test(y, m["ndka"], m["s100b"])
    assert (r.z, r.p_value) == (
        pytest.approx(-1.39077002573558, abs=TOL),
        pytest.approx(0.164295175223054, abs=TOL),
    )


def test_swapping_the_pair_flips_the_sign(asah):
    y, m = asah
    a, b = delong_test(y, m["wfns"], m["s100b"]), delong_test(y, m["s100b"], m["wfns"])
    assert a.z == pytest.approx(-b.z) and a.p_value == pytest.approx(b.p_value)


def test_midranks_handle_ties():
    x = np.array([3.0, 1.0, 3.0, 2.0, 3.0])
    np.testing.assert_array_equal(midrank(x), [4.0, 1.0, 4.0, 2.0, 4.0])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 50).astype(float)
    np.testing.assert_allclose(midrank(x), stats.rankdata(x))


def test_identical_scores_give_z_zero_and_missing_class_raises():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    r = delong_test(y, s, s)
    assert r.z == 0.0 and r.p_value == 1.0
    with pytest.raises(ValueError, match="positive and one negative"):
        delong_test(np.ones(4), s, s)
