"""Reading-time analysis: totals, paired tests, mixed-model ratio (statsmodels vs fast REML)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from boneread_ml.stats.data import StatsInputError
from boneread_ml.stats.simulate import SimulationSpec, simulate_study
from boneread_ml.stats.timing import (
    mixed_model_ratio,
    paired_tests,
    reader_totals,
    reml_fit,
    time_analysis,
    time_data,
)


@pytest.fixture(scope="module")
def small_study():
    return simulate_study(SimulationSpec(n_readers=4, n_cases=16, seed=4))


def test_reader_totals_are_sums_in_minutes():
    df = pd.DataFrame(
        {
            "reader": ["a"] * 4 + ["b"] * 4,
            "arm": ["aided", "aided", "unaided", "unaided"] * 2,
            "session": [1, 1, 2, 2, 2, 2, 1, 1],
            "case": ["c1", "c2"] * 4,
            "seconds": [60, 120, 180, 240, 30, 30, 90, 150],
        }
    )
    tot = reader_totals(time_data(df))
    a = tot["per_reader"][0]
    assert (a["minutes_aided"], a["minutes_unaided"]) == (3.0, 7.0)
    assert tot["mean_minutes_aided"] == pytest.approx((3 + 1) / 2)
    assert tot["mean_minutes_unaided"] == pytest.approx((7 + 4) / 2)
    assert tot["ratio_of_means"] == pytest.approx(2 / 5.5)


def test_paired_tests_equal_scipy_on_the_per_case_differences(small_study):
    d = time_data(small_study)
    rows = paired_tests(d)
    g = d[d.reader == "R02"].pivot_table(index="case", columns="aided", values="seconds")
    r = next(x for x in rows if x["reader"] == "R02")
    assert r["t_p"] == pytest.approx(stats.ttest_rel(g[1], g[0]).pvalue, abs=1e-12)
    assert r["wilcoxon_p"] == pytest.approx(stats.wilcoxon(g[1], g[0]).pvalue, abs=1e-12)
    assert r["mean_difference_s"] == pytest.approx((g[1] - g[0]).mean())


def test_fast_reml_equals_statsmodels_mixedlm(small_study):
    d = time_data(small_study)
    sm = mixed_model_ratio(d, engine="statsmodels", carry_over=False)
    fast = mixed_model_ratio(d, engine="reml", carry_over=False)
    assert fast.log_ratio == pytest.approx(sm.log_ratio, abs=1e-6)
    # the REML surface is flat near a zero reader x arm variance, so the optimisers stop at
    # slightly different points; ours must be at least as good on the same criterion
    ours = reml_fit(d)
    theirs = reml_fit(d, at=sm.variance_components)
    assert ours["criterion"] <= theirs["criterion"] + 1e-6
    assert fast.log_ratio_se == pytest.approx(sm.log_ratio_se, rel=2e-2)
    for k in ("case", "reader", "residual"):
        assert fast.variance_components[k] == pytest.approx(sm.variance_components[k], rel=5e-2)


def test_balanced_crossover_ratio_is_the_geometric_mean_ratio(small_study):
    # balanced, fully crossed design: the GLS arm estimate is the mean log difference
    d = time_data(small_study)
    fit = reml_fit(d)
    wide = d.pivot_table(index=["reader", "case"], columns="aided", values="log_t")
    assert fit["fe"]["aided"] == pytest.approx((wide[1] - wide[0]).mean(), abs=1e-8)


def test_time_analysis_keys_and_carry_over(small_study):
    out = time_analysis(small_study, engine="reml")
    assert set(out) >= {"ratio", "ratio_ci", "totals", "paired_tests", "carry_over", "model"}
    lo, hi = out["ratio_ci"]
    assert lo < out["ratio"] < hi
    assert "estimate" in out["carry_over"] and 0 <= out["carry_over"]["p"] <= 1
    assert len(out["totals"]["per_reader"]) == 4


def test_carry_over_term_detects_a_period_dependent_aid_effect():
    df = simulate_study(SimulationSpec(n_readers=8, n_cases=30, seed=9, sd_log_reader=0.05))
    # the aid saves time only in the second session: a strong arm x period interaction
    second_aided = (df["arm"] == "aided") & (df["session"] == 2)
    df.loc[second_aided, "seconds"] *= 0.5
    out = time_analysis(df, engine="reml")
    assert out["carry_over"]["estimate"] < -0.4 and out["carry_over"]["p"] < 0.01


def test_single_session_data_has_no_period_term(small_study):
    out = time_analysis(small_study.assign(session=1), engine="reml")
    assert out["carry_over"] is None
    assert any("one session" in n for n in out["model"]["notes"])


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.drop(columns=["session"]), "lacks column"),
        (lambda d: d[~((d.reader == "R01") & (d.arm == "aided"))], "reader R01 has times in arm"),
        (lambda d: d.assign(seconds=np.where(d.index == 3, 0.0, d.seconds)), "positive"),
        (lambda d: d.assign(arm="aided"), "exactly two arms"),
        (lambda d: d.assign(seconds=d.seconds.astype(object).where(d.index != 2, "")), "finite"),
    ],
)
def test_bad_time_input_is_named(small_study, mutate, message):
    with pytest.raises(StatsInputError, match=message):
        time_analysis(mutate(small_study.copy()), engine="reml")


def test_missing_aided_label_is_named(small_study):
    with pytest.raises(StatsInputError, match="aided arm 'AI'"):
        time_analysis(small_study, aided="AI")


def test_flag_times_lists_short_and_outlying_times(small_study):
    from boneread_ml.stats.timing import flag_times

    df = small_study.copy()
    df.loc[0, "seconds"] = 2.0
    df.loc[1, "seconds"] = df.loc[1, "seconds"] * 60
    flags = flag_times(time_data(df))
    cases = {(f["reader"], f["case"], f["arm"]): f["reasons"] for f in flags}
    r0, r1 = df.loc[0], df.loc[1]
    assert any("shorter than 5 s" in x for x in cases[(r0.reader, r0.case, r0.arm)])
    assert cases[(r1.reader, r1.case, r1.arm)] == ["unusually long for this reader and arm"]


def test_ratio_df_runs_from_the_reader_df_to_the_residual_df(small_study):
    from boneread_ml.stats.timing import ratio_df

    d = time_data(small_study)  # 4 readers, 2 sessions
    se = 0.1
    # all of the arm estimate's variance from reader x arm: df = readers - periods
    assert ratio_df(d, {"reader_arm": se**2 * 4 / 2}, se, n_fixed=3) == pytest.approx(2.0)
    # none of it: the residual df
    big = ratio_df(d, {"reader_arm": 0.0}, se, n_fixed=3)
    assert big > 50
    half = ratio_df(d, {"reader_arm": se**2 * 4 / 4}, se, n_fixed=3)
    assert 2.0 < half < big


def test_ratio_ci_uses_the_t_quantile(small_study):
    out = time_analysis(small_study, engine="reml")
    df = out["ratio_df"]
    b, se = out["model"]["log_ratio"], out["model"]["log_ratio_se"]
    q = stats.t.ppf(0.975, df)
    assert out["ratio_ci"] == [pytest.approx(np.exp(b - q * se)), pytest.approx(np.exp(b + q * se))]


def test_per_reader_ratio_is_the_geometric_mean_ratio_with_a_t_interval(small_study):
    d = time_data(small_study)
    rows = {r["reader"]: r for r in paired_tests(d, alpha=0.1)}
    for reader, g in d.groupby("reader"):
        w = g.pivot_table(index="case", columns="aided", values="seconds").dropna()
        logd = np.log(w[1].to_numpy()) - np.log(w[0].to_numpy())
        # the same interval from scipy's one-sample t-test CI on the log differences
        ci = stats.ttest_1samp(logd, 0.0).confidence_interval(0.9)
        r = rows[reader]
        assert r["ratio"] == pytest.approx(np.exp(logd.mean()), rel=1e-12)
        assert r["ratio_ci"] == pytest.approx([np.exp(ci.low), np.exp(ci.high)], rel=1e-12)
        assert r["ratio_ci"][0] < r["ratio"] < r["ratio_ci"][1]


def test_per_reader_ratio_recovers_a_known_ratio():
    # reader a: per-case ratios 0.5 x (1.2, 1/1.2, 1.1, 1/1.1, 1, 1), geometric mean 0.5;
    # reader b: 2 x the same jitter
    cases = [f"c{i}" for i in range(6)]
    base = [40.0, 55.0, 70.0, 90.0, 120.0, 150.0]
    jitter = [1.2, 1 / 1.2, 1.1, 1 / 1.1, 1.0, 1.0]
    rows = []
    for reader, factor, first in (("a", 0.5, "unaided"), ("b", 2.0, "aided")):  # AB/BA
        for c, s, j in zip(cases, base, jitter, strict=True):
            rows.append((reader, "unaided", 1 if first == "unaided" else 2, c, s))
            rows.append((reader, "aided", 1 if first == "aided" else 2, c, s * factor * j))
    df = pd.DataFrame(rows, columns=["reader", "arm", "session", "case", "seconds"])
    out = {r["reader"]: r for r in time_analysis(df, engine="reml")["paired_tests"]}
    assert out["a"]["ratio"] == pytest.approx(0.5) and out["b"]["ratio"] == pytest.approx(2.0)
    logd = np.log(jitter)
    half = stats.t.ppf(0.975, 5) * logd.std(ddof=1) / np.sqrt(6)
    assert out["a"]["ratio_ci"] == pytest.approx([0.5 * np.exp(-half), 0.5 * np.exp(half)])
