"""Sample size for a reader study from a pilot study.

AUC (Hillis & Obuchowski; Hillis, Obuchowski & Berbaum 2011, Acad Radiol 18:129, as RJafroc's
``SsPowerGivenJK(method = "OR")``): from the pilot's OR variance components (Var, Cov1-3 at K*
cases, and sigma^2_TR = MS(TR) - Var + Cov1 + Cov2 - Cov3), the power of the random-reader,
random-case test of two treatments with J readers and K cases for an AUC difference d is

    den  = sigma^2_TR + K*/K (Var - Cov1 + (J - 1) max(Cov2 - Cov3, 0))
    ncp  = J d^2 / (2 den)
    ddf  = den^2 / ((sigma^2_TR + K*/K (Var - Cov1 - max(Cov2 - Cov3, 0)))^2 / (J - 1))
    power = P(F(1, ddf, ncp) > F_{1-alpha}(1, ddf)).

A negative sigma^2_TR estimate is used as it is (as RJafroc does); ``floor_var_tr`` sets it to 0.

Time: the power to show a time ratio is estimated by simulating studies from the fitted mixed
model's variance components (reader, case, reader x arm, residual; log scale) and analysing each
with the same mixed model (fast REML engine); power is the share of simulations whose CI of the
ratio excludes 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from boneread_ml.stats.data import StatsInputError


def pilot_components(var_components: dict, *, n_cases: int) -> dict:
    """Pilot inputs from an MRMC result's ``var_components`` and its number of cases."""
    vc = var_components
    var_tr = vc["ms_tr"] - vc["var"] + vc["cov1"] + vc["cov2"] - vc["cov3"]
    return {
        "var_tr": float(var_tr),
        "var": float(vc["var"]),
        "cov1": float(vc["cov1"]),
        "cov2": float(vc["cov2"]),
        "cov3": float(vc["cov3"]),
        "n_cases": int(n_cases),
    }


def auc_power(
    *,
    readers: int,
    cases: int,
    effect: float,
    pilot: dict,
    alpha: float = 0.05,
    floor_var_tr: bool = False,
) -> dict:
    """Power of the OR random-reader random-case test for an AUC difference ``effect``.

    Args:
        readers, cases: planned numbers of readers (J >= 2) and cases (K).
        effect: the AUC difference to detect.
        pilot: :func:`pilot_components` output (var_tr, var, cov1..3, n_cases).
        alpha: two-sided significance level.
        floor_var_tr: set a negative sigma^2_TR to zero.

    Returns:
        ``{"power", "ncp", "ddf", "readers", "cases", "effect"}``.
    """
    if readers < 2 or cases < 2:
        raise StatsInputError("need at least 2 readers and 2 cases")
    var_tr = max(pilot["var_tr"], 0.0) if floor_var_tr else pilot["var_tr"]
    s = pilot["n_cases"] / cases
    c23 = max(pilot["cov2"] - pilot["cov3"], 0.0)
    den = var_tr + s * (pilot["var"] - pilot["cov1"] + (readers - 1) * c23)
    if den <= 0:
        raise StatsInputError("the pilot's variance components give a non-positive variance")
    ncp = readers * effect**2 / (2.0 * den)
    ddf = den**2 / ((var_tr + s * (pilot["var"] - pilot["cov1"] - c23)) ** 2 / (readers - 1))
    f_crit = stats.f.ppf(1 - alpha, 1, ddf)
    # scipy's non-central F is wrong at ncp == 0 (it returns sf - 1); use the central F there
    power = float(stats.ncf.sf(f_crit, 1, ddf, ncp) if ncp > 0 else stats.f.sf(f_crit, 1, ddf))
    return {
        "power": power,
        "ncp": float(ncp),
        "ddf": float(ddf),
        "readers": readers,
        "cases": cases,
        "effect": effect,
    }


def auc_sample_size(
    *,
    effect: float,
    pilot: dict,
    power: float = 0.8,
    alpha: float = 0.05,
    readers: list[int] | range = range(3, 21),
    max_cases: int = 2000,
    floor_var_tr: bool = False,
) -> list[dict]:
    """For each number of readers, the fewest cases reaching ``power`` (None if > max_cases).

    ``floor_var_tr`` sets a negative sigma^2_TR estimate to 0 (see :func:`auc_power`).
    """

    def pw(j: int, k: int) -> dict:
        return auc_power(
            readers=j, cases=k, effect=effect, pilot=pilot, alpha=alpha,
            floor_var_tr=floor_var_tr,
        )  # fmt: skip

    out = []
    for j in readers:
        lo, hi = 2, max_cases
        if pw(j, hi)["power"] < power:
            out.append({"readers": j, "cases": None, "power": None})
            continue
        while lo < hi:  # power increases with cases
            mid = (lo + hi) // 2
            if pw(j, mid)["power"] >= power:
                hi = mid
            else:
                lo = mid + 1
        res = pw(j, lo)
        out.append({"readers": j, "cases": lo, "power": res["power"]})
    return out


def simulate_times(
    *,
    readers: int,
    cases: int,
    time_ratio: float,
    variance_components: dict,
    median_unaided_s: float = 90.0,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One simulated AB/BA crossover time study from mixed-model variance components."""
    vc = variance_components
    sd = {k: float(np.sqrt(max(vc.get(k, 0.0), 0.0))) for k in ("reader", "case", "reader_arm")}
    sd_e = float(np.sqrt(vc["residual"]))
    rdr = rng.normal(0, sd["reader"], readers)
    cse = rng.normal(0, sd["case"], cases)
    ra = rng.normal(0, sd["reader_arm"], (readers, 2))
    rows = []
    for j in range(readers):
        for aided in (0, 1):
            session = 1 if (aided == 1) == (j % 2 == 0) else 2
            log_t = (
                np.log(median_unaided_s)
                + np.log(time_ratio) * aided
                + rdr[j]
                + cse
                + ra[j, aided]
                + rng.normal(0, sd_e, cases)
            )
            rows.append(
                pd.DataFrame(
                    {
                        "reader": f"R{j}",
                        "arm": "aided" if aided else "unaided",
                        "session": session,
                        "case": [f"C{k}" for k in range(cases)],
                        "seconds": np.exp(log_t),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def time_power(
    *,
    readers: int,
    cases: int,
    time_ratio: float,
    variance_components: dict,
    n_sim: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict:
    """Simulated power to show ``time_ratio`` != 1 with the mixed model's CI.

    Args:
        readers, cases: planned design (every reader reads every case in both arms).
        time_ratio: the ratio aided/unaided to detect (e.g. 0.8).
        variance_components: log-scale components ``reader``, ``case``, ``reader_arm``,
            ``residual`` (``time_analysis(...)["model"]["variance_components"]`` of a pilot).
        n_sim: simulated studies.
    """
    from boneread_ml.stats.timing import mixed_model_ratio, time_data

    if readers < 2 or cases < 2:
        raise StatsInputError("need at least 2 readers and 2 cases")
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_sim):
        df = simulate_times(
            readers=readers,
            cases=cases,
            time_ratio=time_ratio,
            variance_components=variance_components,
            rng=rng,
        )
        mm = mixed_model_ratio(time_data(df), alpha=alpha, carry_over=False, engine="reml")
        hits += int(mm.ratio_ci[1] < 1.0 or mm.ratio_ci[0] > 1.0)
    p = hits / n_sim
    return {
        "power": p,
        "power_se": float(np.sqrt(p * (1 - p) / n_sim)),
        "n_sim": n_sim,
        "readers": readers,
        "cases": cases,
        "time_ratio": time_ratio,
    }


def time_ratio_power(
    *,
    readers: int,
    cases: int,
    time_ratio: float,
    variance_components: dict,
    alpha: float = 0.05,
) -> dict:
    """Approximate power of the mixed model's test of a time ratio in a complete AB/BA design.

    In a balanced complete crossover every reader reads every case in both arms, so reader,
    case and period effects cancel from the arm estimate, whose variance is
    (2 sigma^2_RA + 2 sigma^2_E / K) / J on the log scale; its df are the Satterthwaite
    combination of the reader x arm part (J - 2 df) and the residual part (the residual df),
    as :func:`boneread_ml.stats.timing.ratio_df` does for a fitted study. Power is that of the
    two-sided t test, P(|T'| > t_{1-alpha/2, df}) with T' non-central t(df, ncp =
    |log ratio| / se). Used as the starting point of :func:`time_sample_size`, whose answer
    comes from simulation.
    """
    if readers < 2 or cases < 2:
        raise StatsInputError("need at least 2 readers and 2 cases")
    vc = variance_components
    s2_ra = max(float(vc.get("reader_arm", 0.0)), 0.0)
    s2_e = float(vc["residual"])
    a = 2.0 * s2_ra / readers
    b = 2.0 * s2_e / (readers * cases)
    var = a + b
    df_r = max(readers - 2, 1)
    # n - fixed effects (intercept, arm, period) - reader x arm levels - cases + 1
    df_e = max(2 * readers * cases - 3 - 2 * readers - cases + 1, 1)
    df = var**2 / (a**2 / df_r + b**2 / df_e)
    ncp = abs(np.log(time_ratio)) / np.sqrt(var)
    q = stats.t.ppf(1 - alpha / 2, df)
    power = float(stats.nct.sf(q, df, ncp) + stats.nct.cdf(-q, df, ncp))
    return {"power": power, "df": float(df), "se_log_ratio": float(np.sqrt(var))}


def time_sample_size(
    *,
    time_ratio: float,
    variance_components: dict,
    power: float = 0.8,
    alpha: float = 0.05,
    readers: list[int] | range = (4, 6, 8, 10),
    max_cases: int = 1000,
    n_sim: int = 100,
    seed: int = 0,
    max_steps: int = 6,
) -> list[dict]:
    """For each number of readers, the cases needed to show ``time_ratio`` at ``power``, by
    simulation from the mixed model's variance components.

    The search starts at the fewest cases the t approximation
    (:func:`time_ratio_power`) gives, simulates ``n_sim`` studies there (:func:`time_power`,
    each analysed with the same mixed model) and, while the simulated power is below the
    target, raises the cases by a quarter (at most ``max_steps`` times). A reader count whose
    approximate power stays below the target up to ``max_cases`` (the reader x arm variance
    alone can make more cases useless), or whose simulated power is still short after the
    steps, gets ``cases: None``. The seed is fixed, so the same inputs
    give the same table.

    Returns:
        ``[{"readers", "cases", "power" (simulated), "power_se", "power_approx", "n_sim"}]``.
    """
    if not 0 < power < 1:
        raise StatsInputError("power must be between 0 and 1")
    if time_ratio <= 0 or time_ratio == 1:
        raise StatsInputError("the time ratio to detect must be positive and not 1")
    if float(variance_components.get("residual", 0.0)) <= 0:
        raise StatsInputError("the residual variance of log time must be positive")

    def approx(j: int, k: int) -> float:
        return time_ratio_power(
            readers=j, cases=k, time_ratio=time_ratio, variance_components=variance_components,
            alpha=alpha,
        )["power"]  # fmt: skip

    # every case count up to 200, then every tenth
    candidates = [*range(2, min(max_cases, 200) + 1), *range(210, max_cases + 1, 10)]
    out = []
    for j in readers:
        # a scan, not a bisection: with few readers the Satterthwaite df fall towards J - 2 as
        # cases are added, so the approximate power need not rise monotonically with cases
        k = next((k for k in candidates if approx(j, k) >= power), None)
        if k is None:
            out.append(
                {"readers": j, "cases": None, "power": None, "power_se": None,
                 "power_approx": None, "n_sim": 0}
            )  # fmt: skip
            continue
        for step in range(max_steps + 1):
            sim = time_power(
                readers=j,
                cases=k,
                time_ratio=time_ratio,
                variance_components=variance_components,
                n_sim=n_sim,
                alpha=alpha,
                seed=seed + j,
            )
            if sim["power"] >= power or step == max_steps or k >= max_cases:
                break
            k = min(max_cases, int(np.ceil(k * 1.25)))
        out.append(
            {
                "readers": j,
                "cases": k if sim["power"] >= power else None,
                "power": sim["power"],
                "power_se": sim["power_se"],
                "power_approx": approx(j, k),
                "n_sim": n_sim,
                "cases_tried": k,
            }
        )
    return out
