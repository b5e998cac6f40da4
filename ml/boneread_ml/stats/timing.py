"""Reading time: per-reader totals, the aided/unaided time ratio from a mixed model, paired tests.

Input: one row per reader x arm x case (long format) with the columns reader, arm, session
(the period: 1 = first reading session, 2 = second, ...), case and seconds (open-to-submit or
active time; the caller chooses which column to pass).

* Totals: minutes per reader per arm over the case set (the source study's table), the mean
  over readers per arm, and the ratio of those means.
* Ratio: a linear mixed model on log(seconds) with fixed effects arm and period and crossed
  random effects reader, case and reader x arm (statsmodels MixedLM, variance components on a
  single all-encompassing group; REML). exp(arm coefficient) is the ratio of geometric mean
  times aided/unaided, with a Wald 95% CI. The reader x arm component lets the CI generalise to
  other readers when readers profit unequally from the aid (it may be switched off).
* Carry-over: the same model with an arm x period interaction; its coefficient (on the log
  scale) and Wald p are reported. In a crossover (AB/BA) design this term is confounded with
  the sequence group, so a small p flags carry-over or a period-dependent aid effect.
* Per reader: paired t-test and Wilcoxon signed-rank test of the per-case times (aided -
  unaided) over the cases read in both arms, and that reader's time ratio aided/unaided: the
  geometric mean of the per-case ratios, exp(mean(log aided - log unaided)), with the t interval
  of the mean log difference (n - 1 df) exponentiated. It is the one-reader analogue of the
  mixed model's ratio (fixed cases of that reader; no period adjustment, since each reader reads
  each arm in one period only).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from boneread_ml.stats.data import StatsInputError, numeric_column, require_columns

TIME_COLUMNS = ("reader", "arm", "session", "case", "seconds")


def time_data(
    df: pd.DataFrame,
    *,
    aided: str = "aided",
    seconds: str = "seconds",
) -> pd.DataFrame:
    """Check a reading-time table; return reader, case, arm, aided (0/1), period, seconds, log_t.

    Raises:
        StatsInputError: missing columns, not exactly two arms, the aided arm absent,
            non-positive or missing times, a reader with one arm only, duplicate rows.
    """
    require_columns(df, ["reader", "arm", "session", "case", seconds], what="time data")
    out = pd.DataFrame(
        {
            "reader": df["reader"].astype(str).str.strip(),
            "case": df["case"].astype(str).str.strip(),
            "arm": df["arm"].astype(str).str.strip(),
            "period": df["session"].astype(str).str.strip(),
            "seconds": numeric_column(df, seconds),
        }
    )
    arms = sorted(out["arm"].unique())
    if len(arms) != 2:
        raise StatsInputError(f"time data needs exactly two arms; found {arms}")
    if str(aided) not in arms:
        raise StatsInputError(f"the aided arm {aided!r} is not in the data (arms: {arms})")
    if (out["seconds"] <= 0).any():
        i = int(np.flatnonzero(out["seconds"].to_numpy() <= 0)[0])
        raise StatsInputError(
            f"reading times must be positive; row {i + 2} has {out['seconds'][i]}"
        )
    dup = out.duplicated(["reader", "arm", "case"])
    if dup.any():
        r = out[dup].iloc[0]
        raise StatsInputError(
            f"reader {r['reader']} has two times for case {r['case']} in arm {r['arm']}"
        )
    for rd, g in out.groupby("reader"):
        if g["arm"].nunique() < 2:
            raise StatsInputError(
                f"reader {rd} has times in arm {g['arm'].iloc[0]} only; every reader must read "
                "in both arms"
            )
    out["aided"] = (out["arm"] == str(aided)).astype(int)
    out["log_t"] = np.log(out["seconds"])
    return out


def reader_totals(d: pd.DataFrame, *, aided: str = "aided") -> dict:
    """Minutes per reader per arm (sum over cases), their mean per arm and the ratio of means."""
    unaided = d.loc[d["aided"] == 0, "arm"].iloc[0]
    rows = []
    for rd, g in d.groupby("reader", sort=True):
        a, u = g[g["aided"] == 1], g[g["aided"] == 0]
        rows.append(
            {
                "reader": rd,
                "minutes_aided": float(a["seconds"].sum() / 60.0),
                "minutes_unaided": float(u["seconds"].sum() / 60.0),
                "cases_aided": len(a),
                "cases_unaided": len(u),
            }
        )
    mean_a = float(np.mean([r["minutes_aided"] for r in rows]))
    mean_u = float(np.mean([r["minutes_unaided"] for r in rows]))
    return {
        "arms": {"aided": str(aided), "unaided": str(unaided)},
        "per_reader": rows,
        "mean_minutes_aided": mean_a,
        "mean_minutes_unaided": mean_u,
        "ratio_of_means": mean_a / mean_u if mean_u > 0 else float("nan"),
    }


def reader_ratio(aided_s, unaided_s, *, alpha: float = 0.05) -> dict:
    """One reader's time ratio aided/unaided over paired cases: exp(mean log difference) with
    the exponentiated t interval (n - 1 df) of the mean log difference.

    Returns ``{"ratio", "ratio_ci", "log_ratio_se", "n_cases"}``; the CI is None with fewer
    than 2 paired cases, and degenerate ([ratio, ratio]) when all log differences are equal.
    """
    a = np.log(np.asarray(aided_s, dtype=float))
    u = np.log(np.asarray(unaided_s, dtype=float))
    if len(a) != len(u) or len(a) == 0:
        raise StatsInputError("a reader's time ratio needs the same cases in both arms")
    diff = a - u
    n = len(diff)
    mean = float(diff.mean())
    if n < 2:
        return {"ratio": float(np.exp(mean)), "ratio_ci": None, "log_ratio_se": None, "n_cases": n}
    se = float(diff.std(ddof=1) / np.sqrt(n))
    q = float(stats.t.ppf(1 - alpha / 2, n - 1))
    return {
        "ratio": float(np.exp(mean)),
        "ratio_ci": [float(np.exp(mean - q * se)), float(np.exp(mean + q * se))],
        "log_ratio_se": se,
        "n_cases": n,
    }


def paired_tests(d: pd.DataFrame, *, alpha: float = 0.05) -> list[dict]:
    """Per reader: paired t-test and Wilcoxon signed-rank on per-case seconds (aided - unaided),
    and the reader's time ratio aided/unaided with its CI (:func:`reader_ratio`)."""
    out = []
    for rd, g in d.groupby("reader", sort=True):
        wide = g.pivot_table(index="case", columns="aided", values="seconds")
        wide = wide.dropna()
        row = {"reader": rd, "n_cases": len(wide)}
        if len(wide) < 2:
            row.update({"mean_difference_s": None, "t": None, "t_p": None, "wilcoxon_p": None})
            row.update({"ratio": None, "ratio_ci": None})
            if len(wide) == 1:
                row["ratio"] = reader_ratio(wide[1], wide[0], alpha=alpha)["ratio"]
            out.append(row)
            continue
        rr = reader_ratio(wide[1], wide[0], alpha=alpha)
        row["ratio"], row["ratio_ci"] = rr["ratio"], rr["ratio_ci"]
        diff = wide[1] - wide[0]
        row["mean_difference_s"] = float(diff.mean())
        row["median_difference_s"] = float(diff.median())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tt = stats.ttest_rel(wide[1], wide[0])
            row["t"] = float(tt.statistic)
            row["t_p"] = float(tt.pvalue)
            if np.all(diff == 0):
                row["wilcoxon_statistic"], row["wilcoxon_p"] = None, 1.0
            else:
                w = stats.wilcoxon(wide[1], wide[0])
                row["wilcoxon_statistic"] = float(w.statistic)
                row["wilcoxon_p"] = float(w.pvalue)
        out.append(row)
    return out


def _fit(d: pd.DataFrame, formula: str, reader_arm: bool):
    import statsmodels.formula.api as smf

    vc = {"reader": "0 + C(reader)", "case": "0 + C(case)"}
    if reader_arm:
        vc["reader_arm"] = "0 + C(reader):C(aided)"
    d = d.assign(one=1)
    model = smf.mixedlm(formula, d, groups="one", vc_formula=vc, re_formula="0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(reml=True, method=["lbfgs", "powell"])


@dataclass
class MixedModelResult:
    """Time ratio from the mixed model on log time."""

    ratio: float
    ratio_ci: list[float]
    log_ratio: float
    log_ratio_se: float
    p: float
    variance_components: dict[str, float]
    period_effects: dict[str, float]
    carry_over: dict | None
    n_obs: int
    converged: bool
    formula: str
    notes: list[str] = field(default_factory=list)
    df: float | None = None


def _fit_summary(d: pd.DataFrame, *, interaction: bool, reader_arm: bool, engine: str) -> dict:
    """Fixed effects, their SEs and Wald p, variance components, with either engine."""
    if engine == "reml":
        r = reml_fit(d, interaction=interaction, reader_arm=reader_arm)
        p = {k: float(2 * stats.norm.sf(abs(r["fe"][k] / r["se"][k]))) for k in r["fe"]}
        vc = dict(r["vcomp"], residual=r["scale"])
        return {"fe": r["fe"], "se": r["se"], "p": p, "vcomp": vc, "converged": r["converged"]}
    if engine != "statsmodels":
        raise StatsInputError("engine must be 'statsmodels' or 'reml'")
    periods = d["period"].nunique()
    formula = "log_t ~ aided" + (" * C(period)" if interaction else " + C(period)")
    if periods == 1:
        formula = "log_t ~ aided"
    fit = _fit(d, formula, reader_arm)
    names = list(fit.fe_params.index)
    vc = {name: float(v) for name, v in zip(fit.model.exog_vc.names, fit.vcomp, strict=False)}
    vc["residual"] = float(fit.scale)
    return {
        "fe": {k: float(fit.fe_params[k]) for k in names},
        "se": {k: float(fit.bse_fe[k]) for k in names},
        "p": {k: float(fit.pvalues[k]) for k in names},
        "vcomp": vc,
        "converged": bool(fit.converged),
    }


def ratio_df(d: pd.DataFrame, vcomp: dict, se: float, *, n_fixed: int) -> float:
    """Satterthwaite-style degrees of freedom for the arm effect.

    The arm estimate's variance has a reader x arm part, about 2 sigma^2_RA / r, known from the
    r readers only (df_R = r - number of periods, at least 1: readers minus the between-reader
    period/sequence contrast), and a within-reader remainder with the residual df. Satterthwaite
    combines them: df = se^4 / (A^2 / df_R + B^2 / df_E). With no reader x arm variance this is
    the residual df (the CI is then practically normal); when that component dominates it
    tends to df_R, so that a study with few readers gets the wider t interval it needs.
    """
    r = d["reader"].nunique()
    periods = d["period"].nunique()
    df_r = max(r - periods, 1)
    df_e = max(len(d) - n_fixed - r * 2 - d["case"].nunique() + 1, 1)
    var = se**2
    a = min(2.0 * max(vcomp.get("reader_arm", 0.0), 0.0) / r, var)
    b = var - a
    denom = a**2 / df_r + b**2 / df_e
    return float(var**2 / denom) if denom > 0 else float(df_e)


def mixed_model_ratio(
    d: pd.DataFrame,
    *,
    alpha: float = 0.05,
    reader_arm: bool = True,
    carry_over: bool = True,
    engine: str = "statsmodels",
) -> MixedModelResult:
    """Fit log(seconds) ~ arm + period with crossed random reader, case (and reader x arm).

    Args:
        d: output of :func:`time_data`.
        alpha: 1 - confidence level.
        reader_arm: include the reader x arm variance component.
        carry_over: also fit the arm x period model and report the interaction.
        engine: "statsmodels" (MixedLM, REML) or "reml" (:func:`reml_fit`, the same model
            and estimator, fast; used by the simulations).
    """
    notes = []
    periods = sorted(d["period"].unique())
    formula = "log_t ~ aided + C(period)" if len(periods) > 1 else "log_t ~ aided"
    if len(periods) == 1:
        notes.append("one session only: no period effect in the model")
    fit = _fit_summary(d, interaction=False, reader_arm=reader_arm, engine=engine)
    b, se = fit["fe"]["aided"], fit["se"]["aided"]
    df = ratio_df(d, fit["vcomp"], se, n_fixed=len(fit["fe"])) if reader_arm else None
    ref = stats.t(df) if df is not None else stats.norm
    q = float(ref.ppf(1 - alpha / 2))
    p = float(2 * ref.sf(abs(b / se))) if se > 0 else 0.0
    period_fx = {
        k.split("[T.")[-1].rstrip("]"): v for k, v in fit["fe"].items() if k.startswith("C(period)")
    }
    co = None
    if carry_over and len(periods) > 1:
        both = d.groupby("period")["aided"].nunique()
        if (both < 2).any():
            notes.append("an arm never occurs in some period: carry-over term not estimable")
        else:
            fit2 = _fit_summary(d, interaction=True, reader_arm=reader_arm, engine=engine)
            terms = [k for k in fit2["fe"] if k.startswith("aided:")]
            co = {
                "terms": {
                    k: {"estimate": fit2["fe"][k], "se": fit2["se"][k], "p": fit2["p"][k]}
                    for k in terms
                }
            }
            if len(terms) == 1:
                co.update(co["terms"][terms[0]])
    return MixedModelResult(
        ratio=float(np.exp(b)),
        ratio_ci=[float(np.exp(b - q * se)), float(np.exp(b + q * se))],
        log_ratio=float(b),
        log_ratio_se=float(se),
        p=p,
        variance_components=fit["vcomp"],
        period_effects=period_fx,
        carry_over=co,
        n_obs=len(d),
        converged=fit["converged"],
        formula=formula + " + (1|reader) + (1|case)" + (" + (1|reader:arm)" if reader_arm else ""),
        notes=notes,
        df=df,
    )


def time_analysis(
    df: pd.DataFrame,
    *,
    aided: str = "aided",
    seconds: str = "seconds",
    alpha: float = 0.05,
    reader_arm: bool = True,
    engine: str = "statsmodels",
) -> dict:
    """Everything the time table and the CLI report, as one JSON-able dict.

    Keys: ``ratio``, ``ratio_ci`` (mixed model), ``p``, ``totals`` (per reader per arm
    minutes, means, ratio of means), ``paired_tests`` (per reader), ``carry_over``,
    ``model`` (variance components, formula, convergence), ``per_case`` summary per arm,
    ``flagged`` (times worth a look, :func:`flag_times`).
    """
    d = time_data(df, aided=aided, seconds=seconds)
    mm = mixed_model_ratio(d, alpha=alpha, reader_arm=reader_arm, engine=engine)
    per_arm = {
        arm: {
            "n": len(g),
            "median_s": float(g["seconds"].median()),
            "mean_s": float(g["seconds"].mean()),
            "q1_s": float(g["seconds"].quantile(0.25)),
            "q3_s": float(g["seconds"].quantile(0.75)),
        }
        for arm, g in d.groupby("arm")
    }
    return {
        "ratio": mm.ratio,
        "ratio_ci": mm.ratio_ci,
        "p": mm.p,
        "alpha": alpha,
        "totals": reader_totals(d, aided=aided),
        "paired_tests": paired_tests(d, alpha=alpha),
        "carry_over": mm.carry_over,
        "per_case": per_arm,
        "flagged": flag_times(d),
        "ratio_df": mm.df,
        "model": {
            "formula": mm.formula,
            "log_ratio": mm.log_ratio,
            "log_ratio_se": mm.log_ratio_se,
            "variance_components": mm.variance_components,
            "period_effects": mm.period_effects,
            "converged": mm.converged,
            "n_obs": mm.n_obs,
            "notes": mm.notes,
            "engine": engine,
        },
    }


# --- a fast REML fit of the same model (simulations and sample size) -------------------------


def _design(d: pd.DataFrame, interaction: bool, reader_arm: bool):
    periods = sorted(d["period"].unique())
    cols, names = [np.ones(len(d)), d["aided"].to_numpy(float)], ["Intercept", "aided"]
    for p in periods[1:]:
        cols.append((d["period"] == p).to_numpy(float))
        names.append(f"C(period)[T.{p}]")
    if interaction:
        for p in periods[1:]:
            cols.append(((d["period"] == p) & (d["aided"] == 1)).to_numpy(float))
            names.append(f"aided:C(period)[T.{p}]")
    x = np.column_stack(cols)
    blocks, zs = [], []
    groups = {"case": d["case"], "reader": d["reader"]}
    if reader_arm:
        groups["reader_arm"] = d["reader"] + "|" + d["aided"].astype(str)
    for name, g in groups.items():
        codes, _ = pd.factorize(g)
        z = np.zeros((len(d), codes.max() + 1))
        z[np.arange(len(d)), codes] = 1.0
        zs.append(z)
        blocks.append((name, z.shape[1]))
    return x, names, np.hstack(zs), blocks


def reml_fit(
    d: pd.DataFrame,
    *,
    interaction: bool = False,
    reader_arm: bool = True,
    at: dict | None = None,
) -> dict:
    """REML fit of log_t ~ aided + period (+ aided x period) with crossed random reader, case
    (and reader x arm), by the Woodbury identity: every step works on the q x q random-effects
    system, so it takes milliseconds where MixedLM takes seconds. Same model and estimator as
    :func:`mixed_model_ratio`'s statsmodels fit (tests/ml/test_stats_time.py compares them).

    Args:
        d: output of :func:`time_data`.
        interaction: add the aided x period terms.
        reader_arm: include the reader x arm component.
        at: evaluate at these variances (keys case, reader[, reader_arm], residual) instead
            of optimising (to compare criteria with another fit).

    Returns:
        ``{"fe": {name: estimate}, "se": {name: se}, "vcomp": {name: variance}, "scale",
        "criterion"}`` (criterion: -2 REML log-likelihood up to a constant).
    """
    from scipy import optimize

    x, names, z, blocks = _design(d, interaction, reader_arm)
    y = d["log_t"].to_numpy(float)
    n, p = x.shape
    q = z.shape[1]
    ztz, ztx, zty = z.T @ z, z.T @ x, z.T @ y
    xtx, xty, yty = x.T @ x, x.T @ y, y @ y
    block_index = np.concatenate([np.full(k, i) for i, (_, k) in enumerate(blocks)])

    def parts(theta):
        s2 = np.exp(theta[0])
        g = np.exp(theta[1:])[block_index]
        m = np.diag(s2 / g) + ztz
        cho = np.linalg.cholesky(m)
        solve = lambda b: np.linalg.solve(cho.T, np.linalg.solve(cho, b))  # noqa: E731
        mzx, mzy = solve(ztx), solve(zty)
        xvx = (xtx - ztx.T @ mzx) / s2
        xvy = (xty - ztx.T @ mzy) / s2
        yvy = (yty - zty @ mzy) / s2
        logdet_v = (n - q) * np.log(s2) + np.log(g).sum() + 2 * np.log(np.diag(cho)).sum()
        return xvx, xvy, yvy, logdet_v

    def objective(theta):
        xvx, xvy, yvy, logdet_v = parts(theta)
        sign, logdet_x = np.linalg.slogdet(xvx)
        beta = np.linalg.solve(xvx, xvy)
        return logdet_v + logdet_x + yvy - beta @ xvy

    resid_var = float(np.var(y - x @ np.linalg.lstsq(x, y, rcond=None)[0]))
    start = np.log(np.full(1 + len(blocks), max(resid_var, 1e-6) / (1 + len(blocks))))
    if at is not None:
        x_opt = np.log([at["residual"]] + [max(at[name], 1e-12) for name, _ in blocks])
        res = optimize.OptimizeResult(x=x_opt, success=True, fun=objective(x_opt))
    else:
        # optimise the variance ratios with the residual variance profiled out (REML's
        # sigma^2 = r'H^-1 r / (n - p)), then evaluate the full criterion there
        def profiled(log_ratios):
            xvx, xvy, yvy, logdet_h = parts(np.concatenate([[0.0], log_ratios]))
            _, logdet_x = np.linalg.slogdet(xvx)
            rss = yvy - np.linalg.solve(xvx, xvy) @ xvy
            return (n - p) * np.log(max(rss, 1e-300) / (n - p)) + logdet_h + logdet_x

        ratio_start = start[1:] - start[0]
        opt = optimize.minimize(
            profiled,
            ratio_start,
            method="L-BFGS-B",
            bounds=[(np.log(1e-8), np.log(1e4))] * len(ratio_start),
        )
        xvx, xvy, yvy, _ = parts(np.concatenate([[0.0], opt.x]))
        s2 = (yvy - np.linalg.solve(xvx, xvy) @ xvy) / (n - p)
        x_opt = np.concatenate([[np.log(s2)], opt.x + np.log(s2)])
        res = optimize.OptimizeResult(x=x_opt, success=opt.success, fun=objective(x_opt))
    xvx, xvy, _, _ = parts(res.x)
    cov = np.linalg.inv(xvx)
    beta = cov @ xvy
    vc = np.exp(res.x)
    return {
        "fe": dict(zip(names, beta.tolist(), strict=True)),
        "se": dict(zip(names, np.sqrt(np.diag(cov)).tolist(), strict=True)),
        "vcomp": {name: float(v) for (name, _), v in zip(blocks, vc[1:], strict=True)},
        "scale": float(vc[0]),
        "converged": bool(res.success),
        "criterion": float(res.fun),
    }


def flag_times(d: pd.DataFrame, *, min_seconds: float = 5.0, mad_limit: float = 3.5) -> list[dict]:
    """Reading times worth a look: shorter than ``min_seconds`` or, on the log scale, more than
    ``mad_limit`` robust SDs (1.4826 MAD) from that reader's median in that arm. Flags are for
    review; the analysis keeps every time.

    Args:
        d: output of :func:`time_data`.
    """
    out = []
    for (rd, arm), g in d.groupby(["reader", "arm"], sort=True):
        med = g["log_t"].median()
        mad = 1.4826 * (g["log_t"] - med).abs().median()
        for _, row in g.iterrows():
            reasons = []
            if row["seconds"] < min_seconds:
                reasons.append(f"shorter than {min_seconds:g} s")
            if mad > 0 and abs(row["log_t"] - med) > mad_limit * mad:
                reasons.append(
                    "unusually long for this reader and arm"
                    if row["log_t"] > med
                    else "unusually short for this reader and arm"
                )
            if reasons:
                out.append(
                    {
                        "reader": rd,
                        "arm": arm,
                        "case": row["case"],
                        "seconds": float(row["seconds"]),
                        "reasons": reasons,
                    }
                )
    return out
