"""MRMC (Obuchowski-Rockette, DBM) against the published Van Dyke analysis and hand formulas.

Published numbers: the reference-data README (OR-DBM MRMC 2.5, random readers and cases), and
RJafroc's StSignificanceTesting output on the same data (dataset02) for fixed readers (FRRC),
fixed cases (RRFC) and the single-treatment CIs, printed in dpc10ster/RJafrocBook,
10C-OR-AnalysisCodingExamples.Rmd.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from boneread_ml.stats.data import StatsInputError, mrmc_data
from boneread_ml.stats.mrmc import (
    auc_matrix,
    jackknife_auc,
    jackknife_covariance,
    mrmc_analysis,
    or_analysis,
)
from boneread_ml.stats.roc import delong_covariance

VANDYKE = Path(__file__).resolve().parents[1] / "fixtures" / "reference_data" / "vandyke_roc.csv"
TOL = 1e-6


@pytest.fixture(scope="module")
def vandyke():
    return pd.read_csv(VANDYKE)


@pytest.fixture(scope="module")
def rrrc(vandyke):
    return mrmc_analysis(vandyke)


def test_reader_aucs_match(rrrc):
    np.testing.assert_allclose(
        rrrc.auc["0"], [0.91964573, 0.85877617, 0.90386473, 0.97310789, 0.82979066], atol=1e-8
    )
    np.testing.assert_allclose(
        rrrc.auc["1"], [0.94782609, 0.90531401, 0.92173913, 0.99935588, 0.92995169], atol=1e-8
    )
    assert rrrc.auc_mean["0"] == pytest.approx(0.89703704, abs=1e-8)
    assert rrrc.auc_mean["1"] == pytest.approx(0.94083736, abs=1e-8)
    assert rrrc.difference == pytest.approx(-0.04380032, abs=1e-8)


def test_variance_components_match(rrrc):
    vc = rrrc.var_components
    assert vc["ms_t"] == pytest.approx(0.00479617, abs=1e-8)
    assert vc["ms_tr"] == pytest.approx(0.00055103, abs=1e-8)
    assert vc["var"] == pytest.approx(0.00080229, abs=1e-8)
    assert vc["cov1"] == pytest.approx(0.00034661, abs=1e-8)
    assert vc["cov2"] == pytest.approx(0.00034407, abs=1e-8)
    assert vc["cov3"] == pytest.approx(0.00023903, abs=1e-8)


def test_random_readers_random_cases_match(rrrc):
    assert rrrc.statistic_name == "F"
    assert rrrc.statistic == pytest.approx(4.4563187, abs=TOL)
    assert rrrc.df_numerator == 1
    assert rrrc.df_denominator == pytest.approx(15.259675, abs=TOL)
    assert rrrc.p == pytest.approx(0.051665686, abs=TOL)
    assert rrrc.ci[0] == pytest.approx(-0.087959499, abs=TOL)
    assert rrrc.ci[1] == pytest.approx(0.00035885444, abs=TOL)
    assert rrrc.pairs[0]["se"] == pytest.approx(0.020748618, abs=TOL)


def test_single_treatment_cis_match_rjafroc(rrrc):
    s0, s1 = rrrc.single_treatment["0"], rrrc.single_treatment["1"]
    assert s0["se"] == pytest.approx(0.033173597, abs=TOL)
    assert s0["df"] == pytest.approx(12.744648, abs=TOL)
    assert s0["ci"] == [pytest.approx(0.82522360, abs=TOL), pytest.approx(0.96885048, abs=TOL)]
    assert s0["cov2"] == pytest.approx(0.00048396180, abs=1e-9)
    assert s1["df"] == pytest.approx(12.710190, abs=TOL)
    assert s1["ci"] == [pytest.approx(0.89413783, abs=TOL), pytest.approx(0.98753689, abs=TOL)]


def test_dbm_gives_the_same_f_and_ddf(vandyke, rrrc):
    dbm = mrmc_analysis(vandyke, method="dbm")
    assert dbm.statistic == pytest.approx(4.4563187, abs=TOL)
    assert dbm.df_denominator == pytest.approx(15.259675, abs=TOL)
    assert dbm.p == pytest.approx(0.051665686, abs=TOL)
    np.testing.assert_allclose(dbm.ci, rrrc.ci, atol=1e-10)
    for t in ("0", "1"):
        np.testing.assert_allclose(
            dbm.single_treatment[t]["ci"], rrrc.single_treatment[t]["ci"], atol=1e-10
        )


def test_fixed_readers_match_rjafroc(vandyke):
    fr = mrmc_analysis(vandyke, readers="fixed")
    assert fr.statistic_name == "chi2" and "chi2" in fr.as_dict() and "F" not in fr.as_dict()
    assert fr.statistic == pytest.approx(5.4759532, abs=TOL)
    assert fr.df_numerator == 1 and fr.df_denominator is None
    assert fr.p == pytest.approx(0.019279843, abs=TOL)
    assert fr.pairs[0]["se"] == pytest.approx(0.018717483, abs=TOL)
    assert fr.ci == [pytest.approx(-0.080485914, abs=TOL), pytest.approx(-0.0071147303, abs=TOL)]
    s0 = fr.single_treatment["0"]
    assert s0["se"] == pytest.approx(0.024289710, abs=TOL)
    assert s0["ci"] == [pytest.approx(0.84943008, abs=TOL), pytest.approx(0.94464399, abs=TOL)]
    r0, r4 = fr.per_reader[0], fr.per_reader[4]
    assert r0["se"] == pytest.approx(0.025512133, abs=TOL)
    assert r0["p"] == pytest.approx(0.269338854, abs=TOL)
    assert r4["ci"] == [pytest.approx(-0.186512066, abs=TOL), pytest.approx(-0.0138099949, abs=TOL)]


def test_fixed_cases_match_rjafroc(vandyke):
    fc = mrmc_analysis(vandyke, cases="fixed")
    assert fc.statistic == pytest.approx(8.704, abs=5e-4)  # printed to 4 digits
    assert fc.df_denominator == 4
    assert fc.p == pytest.approx(0.041958752, abs=TOL)
    assert fc.pairs[0]["se"] == pytest.approx(0.014846287, abs=TOL)
    assert fc.ci == [pytest.approx(-0.085020224, abs=TOL), pytest.approx(-0.0025804202, abs=TOL)]
    s0 = fc.single_treatment["0"]
    assert s0["se"] == pytest.approx(0.024829936, abs=TOL)
    assert s0["ci"] == [pytest.approx(0.82809808, abs=TOL), pytest.approx(0.96597599, abs=TOL)]


# --- hand computation on a small study, from Hillis (2007) / Obuchowski-Rockette formulas ---


def _auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    return ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    y = np.array([0, 1] * 6)
    t, r, c = 2, 3, len(y)
    ratings = rng.integers(1, 6, (t, r, c)).astype(float) + 1.2 * y * np.array([[[1.0]], [[1.6]]])
    rows = [
        {"reader": j, "treatment": i, "case": k, "truth": y[k], "rating": ratings[i, j, k]}
        for i in range(t)
        for j in range(r)
        for k in range(c)
    ]
    return pd.DataFrame(rows), y, ratings


def _hand(y, ratings):
    t, r, c = ratings.shape
    theta = np.array([[_auc(y, ratings[i, j]) for j in range(r)] for i in range(t)])
    jack = np.array(
        [
            [
                [_auc(np.delete(y, k), np.delete(ratings[i, j], k)) for k in range(c)]
                for j in range(r)
            ]
            for i in range(t)
        ]
    )

    def cov(a, b):
        ja, jb = jack[a], jack[b]
        return (c - 1) / c * ((ja - ja.mean()) * (jb - jb.mean())).sum()

    cells = [(i, j) for i in range(t) for j in range(r)]
    groups = {"var": [], "cov1": [], "cov2": [], "cov3": []}
    for a in cells:
        for b in cells:
            key = (
                "var" if a == b else "cov1" if a[1] == b[1] else "cov2" if a[0] == b[0] else "cov3"
            )
            groups[key].append(cov(a, b))
    vc = {k: float(np.mean(v)) for k, v in groups.items()}
    g = theta.mean()
    ms_t = r * sum((theta[i].mean() - g) ** 2 for i in range(t)) / (t - 1)
    ms_tr = sum(
        (theta[i, j] - theta[i].mean() - theta[:, j].mean() + g) ** 2
        for i in range(t)
        for j in range(r)
    ) / ((t - 1) * (r - 1))
    return theta, jack, vc, ms_t, ms_tr


def test_small_study_matches_hand_formulas(small):
    df, y, ratings = small
    theta, jack, vc, ms_t, ms_tr = _hand(y, ratings)
    data = mrmc_data(df)
    np.testing.assert_allclose(auc_matrix(data), theta, atol=1e-12)
    np.testing.assert_allclose(jackknife_auc(data), jack, atol=1e-12)
    t, r = theta.shape
    diff = theta[0].mean() - theta[1].mean()

    rr = mrmc_analysis(df)
    for k in ("var", "cov1", "cov2", "cov3"):
        assert rr.var_components[k] == pytest.approx(vc[k], abs=1e-12)
    assert rr.var_components["ms_t"] == pytest.approx(ms_t, abs=1e-12)
    den = ms_tr + r * max(vc["cov2"] - vc["cov3"], 0)
    assert rr.statistic == pytest.approx(ms_t / den, abs=1e-10)
    ddf = den**2 / (ms_tr**2 / ((t - 1) * (r - 1)))
    assert rr.df_denominator == pytest.approx(ddf, abs=1e-8)
    half = stats.t.ppf(0.975, ddf) * np.sqrt(2 * den / r)
    assert rr.ci == [pytest.approx(diff - half), pytest.approx(diff + half)]

    # fixed readers: chi2 = (t-1) MS(T) / (Var - Cov1 + (r-1) max(Cov2 - Cov3, 0)), df t-1
    fr = mrmc_analysis(df, readers="fixed")
    den_fr = vc["var"] - vc["cov1"] + (r - 1) * max(vc["cov2"] - vc["cov3"], 0)
    assert fr.statistic == pytest.approx((t - 1) * ms_t / den_fr, abs=1e-10)
    assert fr.p == pytest.approx(stats.chi2.sf((t - 1) * ms_t / den_fr, t - 1), abs=1e-12)
    half = stats.norm.ppf(0.975) * np.sqrt(2 * den_fr / r)
    assert fr.ci == [pytest.approx(diff - half), pytest.approx(diff + half)]

    # fixed cases: F = MS(T) / MS(TR) on (t-1, (t-1)(r-1))
    fc = mrmc_analysis(df, cases="fixed")
    assert fc.statistic == pytest.approx(ms_t / ms_tr, abs=1e-10)
    assert fc.p == pytest.approx(stats.f.sf(ms_t / ms_tr, 1, (t - 1) * (r - 1)), abs=1e-12)


def test_delong_covariance_option_uses_delongs_matrix(small):
    df, y, ratings = small
    res = mrmc_analysis(df, covariance="delong")
    _, cov = delong_covariance(y, ratings.reshape(6, -1))
    assert res.var_components["var"] == pytest.approx(np.diag(cov).mean(), abs=1e-12)
    pairs_cov3 = [
        cov[a, b] for a, b in combinations(range(6), 2) if a // 3 != b // 3 and a % 3 != b % 3
    ]
    assert res.var_components["cov3"] == pytest.approx(np.mean(pairs_cov3), abs=1e-12)


def test_bootstrap_covariance_is_close_to_jackknife_and_reproducible(vandyke, rrrc):
    b1 = mrmc_analysis(vandyke, covariance="bootstrap", n_boot=300, seed=5)
    b2 = mrmc_analysis(vandyke, covariance="bootstrap", n_boot=300, seed=5)
    assert b1.statistic == b2.statistic
    assert b1.var_components["var"] == pytest.approx(rrrc.var_components["var"], rel=0.25)
    assert b1.statistic == pytest.approx(rrrc.statistic, rel=0.25)


def test_or_analysis_with_more_than_two_treatments_reports_every_pair():
    rng = np.random.default_rng(0)
    theta = 0.8 + 0.02 * rng.standard_normal((3, 4))
    cov = np.eye(12) * 1e-3 + 2e-4
    res = or_analysis(theta, cov)
    assert res.df_numerator == 2 and len(res.pairs) == 3


def test_jackknife_covariance_formula():
    jack = np.arange(2 * 2 * 5, dtype=float).reshape(2, 2, 5) ** 1.5
    cov = jackknife_covariance(jack)
    flat = jack.reshape(4, 5)
    assert cov[1, 2] == pytest.approx(
        4 / 5 * ((flat[1] - flat[1].mean()) * (flat[2] - flat[2].mean())).sum()
    )


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.drop(columns=["rating"]), "lacks column"),
        (lambda d: d[~((d.reader == 2) & (d.treatment == 1))], "reader 2 has ratings in treatment"),
        (lambda d: d.assign(truth=d.truth.where(d.case != 3)), "case\\(s\\) without truth: 3"),
        (lambda d: d.assign(rating=np.where(d.reader == 1, 3.0, d.rating)), "same rating"),
        (
            lambda d: d[~((d.reader == 0) & (d.case == 5) & (d.treatment == 0))],
            "no rating for case 5",
        ),
        (lambda d: d.assign(truth=0), "both truth classes"),
        (lambda d: pd.concat([d, d.iloc[:1]]), "twice"),
        (
            lambda d: d.assign(truth=np.where(d.index == 0, 1 - d.truth, d.truth)),
            "conflicting truth",
        ),
        (
            lambda d: d.assign(rating=d.rating.astype(object).where(d.index != 4, "high")),
            "finite number",
        ),
    ],
)
def test_bad_input_names_the_problem(small, mutate, message):
    df, _, _ = small
    with pytest.raises(StatsInputError, match=message):
        mrmc_analysis(mutate(df.copy()))


def test_both_fixed_and_dbm_with_delong_are_refused(small):
    df, _, _ = small
    with pytest.raises(StatsInputError, match="both be fixed"):
        mrmc_analysis(df, readers="fixed", cases="fixed")
    with pytest.raises(StatsInputError, match="jackknife"):
        mrmc_analysis(df, method="dbm", covariance="delong")


def test_dbm_fixed_factor_variants_agree_with_or(vandyke):
    # pseudovalue mean squares are c times the OR ones, so the statistics coincide; DBM's
    # fixed-reader test refers F to F(t-1, (t-1)(c-1)) instead of chi2(t-1)
    or_fr, dbm_fr = (
        mrmc_analysis(vandyke, readers="fixed"),
        mrmc_analysis(vandyke, method="dbm", readers="fixed"),
    )
    assert dbm_fr.statistic == pytest.approx(or_fr.statistic, abs=1e-9)
    assert dbm_fr.df_denominator == 113
    assert dbm_fr.p == pytest.approx(stats.f.sf(or_fr.statistic, 1, 113), abs=1e-12)
    or_fc, dbm_fc = (
        mrmc_analysis(vandyke, cases="fixed"),
        mrmc_analysis(vandyke, method="dbm", cases="fixed"),
    )
    assert dbm_fc.p == pytest.approx(or_fc.p, abs=1e-12)
    np.testing.assert_allclose(dbm_fc.ci, or_fc.ci, atol=1e-12)
