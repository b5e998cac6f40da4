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


# --- unpaired DeLong and one-sided alternatives (pROC roc.test conventions) -----------------


def _brute_placements(y, s):
    """Placements by direct pair counting: V10 for positives, V01 for negatives."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)


def _hand_unpaired(ya, sa, yb, sb):
    """pROC's delong.unpaired.test written out from its formulas."""
    out = []
    for y, s in ((ya, sa), (yb, sb)):
        theta, v10, v01 = _brute_placements(y, s)
        m, n = len(v10), len(v01)
        sx = ((v10 - theta) ** 2).sum() / (m - 1)
        sy = ((v01 - theta) ** 2).sum() / (n - 1)
        out.append((theta, sx / m + sy / n, m + n))
    (ta, sra, na), (tb, srb, nb) = out
    d = (ta - tb) / np.sqrt(sra + srb)
    df = (sra + srb) ** 2 / (sra**2 / (na - 1) + srb**2 / (nb - 1))
    return ta, tb, d, df


def test_unpaired_statistic_and_df_match_the_hand_computation(asah):
    from boneread_ml.stats.roc import delong_unpaired_test

    y, m = asah
    # two curves on different cases: wfns on the first 60 patients, s100b on the others
    ya, sa, yb, sb = y[:60], m["wfns"][:60], y[60:], m["s100b"][60:]
    r = delong_unpaired_test(ya, sa, yb, sb)
    ta, tb, d, df = _hand_unpaired(ya, sa, yb, sb)
    assert (r.auc_a, r.auc_b) == (pytest.approx(ta, abs=1e-12), pytest.approx(tb, abs=1e-12))
    assert r.z == pytest.approx(d, abs=1e-10)
    assert r.df == pytest.approx(df, abs=1e-8)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(d), df), abs=1e-12)
    assert not r.paired and r.covariance == 0.0
    q = stats.t.ppf(0.975, df)
    se = (r.difference) / r.z
    assert (r.ci_low, r.ci_high) == (
        pytest.approx(r.difference - q * se),
        pytest.approx(r.difference + q * se),
    )


def test_unpaired_on_the_same_cases_uses_each_curves_own_delong_variance(asah):
    from boneread_ml.stats.roc import delong_unpaired_test

    y, m = asah
    paired = delong_test(y, m["wfns"], m["s100b"])
    r = delong_unpaired_test(y, m["wfns"], y, m["s100b"])
    # same AUCs and variances as the paired test, but no covariance term
    assert r.variance_a == pytest.approx(0.00146991470882363, abs=TOL)
    assert r.variance_b == pytest.approx(0.00266868245717244, abs=TOL)
    expected_d = paired.difference / np.sqrt(paired.variance_a + paired.variance_b)
    assert r.z == pytest.approx(expected_d, abs=1e-12)
    # df: both curves have 113 cases
    va, vb = paired.variance_a, paired.variance_b
    assert r.df == pytest.approx((va + vb) ** 2 / ((va**2 + vb**2) / 112), abs=1e-9)


@pytest.mark.parametrize("paired", [True, False])
def test_one_sided_p_is_half_the_two_sided_in_the_statistics_direction(asah, paired):
    from boneread_ml.stats.roc import delong_unpaired_test

    y, m = asah

    def run(alt):
        if paired:
            return delong_test(y, m["wfns"], m["s100b"], alternative=alt)
        return delong_unpaired_test(y, m["wfns"], y, m["s100b"], alternative=alt)

    two, greater, less = run("two-sided"), run("greater"), run("less")
    assert two.z > 0  # wfns has the larger AUC
    assert greater.p_value == pytest.approx(two.p_value / 2, abs=1e-12)
    assert less.p_value == pytest.approx(1 - two.p_value / 2, abs=1e-12)
    # paired: pROC's numbers give p(greater) = 0.0271757822291882 / 2
    if paired:
        assert greater.p_value == pytest.approx(0.0271757822291882 / 2, abs=TOL)
    # the CI stays two-sided, as in pROC
    assert (greater.ci_low, greater.ci_high) == (two.ci_low, two.ci_high)


def test_unknown_alternative_is_refused(asah):
    y, m = asah
    with pytest.raises(ValueError, match="alternative"):
        delong_test(y, m["wfns"], m["s100b"], alternative="bigger")


def test_placements_equal_pair_counting_and_auc_ci_matches_proc_formula(asah):
    from boneread_ml.stats.roc import auc_ci_delong, delong_placements

    y, m = asah
    aucs, v10, v01 = delong_placements(y, m["s100b"])
    theta, b10, b01 = _brute_placements(y, m["s100b"])
    np.testing.assert_allclose(v10[0], b10, atol=1e-12)
    np.testing.assert_allclose(v01[0], b01, atol=1e-12)
    ci = auc_ci_delong(y, m["s100b"])
    se = np.sqrt(0.00266868245717244)
    assert ci["ci"][0] == pytest.approx(0.731368563685637 - 1.959963984540054 * se, abs=TOL)
    assert ci["ci"][1] == pytest.approx(0.731368563685637 + 1.959963984540054 * se, abs=TOL)


def test_old_import_path_is_the_same_code():
    from boneread_ml.evaluation import delong as old
    from boneread_ml.stats import roc

    assert old.delong_test is roc.delong_test and old.delong_covariance is roc.delong_covariance
