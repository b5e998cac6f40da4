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
) -> list[dict]:
    """For each number of readers, the fewest cases reaching ``power`` (None if > max_cases)."""
    out = []
    for j in readers:
        lo, hi = 2, max_cases
        if auc_power(readers=j, cases=hi, effect=effect, pilot=pilot, alpha=alpha)["power"] < power:
            out.append({"readers": j, "cases": None, "power": None})
            continue
        while lo < hi:  # power increases with cases
            mid = (lo + hi) // 2
            if (
                auc_power(readers=j, cases=mid, effect=effect, pilot=pilot, alpha=alpha)["power"]
                >= power
            ):
                hi = mid
            else:
                lo = mid + 1
        res = auc_power(readers=j, cases=lo, effect=effect, pilot=pilot, alpha=alpha)
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
