"""Simulated reader studies with a known time ratio and a known AUC gain.

The simulator produces one record per reader x arm x case, in the order a reader would read
them, with everything a driver needs to replay the study through the real services (reader,
arm, session, order, case, seconds, truth, rating 0-100, answer yes/no); the statistics run on
the same records.

Ratings follow a Roe-Metz style binormal model. For reader j, arm a and case k with truth D_k:

    X = mu_ja * D_k + c_k + (rc)_jk + e_jak,   c ~ N(0, s_c^2), rc ~ N(0, s_rc^2), e ~ N(0, s_e^2)

with s_c^2 + s_rc^2 + s_e^2 = 1 and reader-specific separations mu_ja = mu_a + u_j + v_ja
(u ~ N(0, s_u^2), v ~ N(0, s_v^2)). A reader's AUC is Phi(mu_ja / sqrt(2)), so the population
mean AUC of arm a is Phi(mu_a / sqrt(2 + s_u^2 + s_v^2)); mu_a is solved from the requested
AUCs. Ratings are 100 * Phi(X / 1.6 - 0.5 * mu) rounded to 0.1; the answer is "yes" when the
rating is at least 50.

Times are log-normal: log t = log(median unaided) + log(ratio) * aided + period effect * (second
session) + reader + case + reader x arm + residual, so exp of the arm effect (the estimand of
the mixed model) is the requested ratio. Readers follow an AB/BA crossover: half read aided in
the first session, half unaided.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

ARMS = ("unaided", "aided")


@dataclass(frozen=True)
class SimulationSpec:
    """Parameters of a simulated study (defaults: the source study's 102/164 time ratio)."""

    n_readers: int = 6
    n_cases: int = 60
    prevalence: float = 0.5
    auc_unaided: float = 0.80
    auc_aided: float = 0.86
    sd_reader_skill: float = 0.15  # s_u
    sd_reader_arm_skill: float = 0.10  # s_v
    var_case: float = 0.3  # s_c^2
    var_reader_case: float = 0.2  # s_rc^2 (the rest of 1 is the residual)
    time_ratio: float = 0.62
    median_unaided_s: float = 90.0
    period_effect: float = 0.95  # second session is 5% faster (learning)
    sd_log_reader: float = 0.25
    sd_log_case: float = 0.30
    sd_log_reader_arm: float = 0.05
    sd_log_residual: float = 0.35
    seed: int = 0

    def __post_init__(self):
        if self.n_readers < 2 or self.n_cases < 4:
            raise ValueError("need at least 2 readers and 4 cases")
        if not 0 < self.prevalence < 1:
            raise ValueError("prevalence must be in (0, 1)")
        for a in (self.auc_unaided, self.auc_aided):
            if not 0.5 <= a < 1:
                raise ValueError("AUCs must be in [0.5, 1)")
        if self.var_case + self.var_reader_case >= 1:
            raise ValueError("var_case + var_reader_case must be below 1")
        if self.time_ratio <= 0:
            raise ValueError("time_ratio must be positive")

    @property
    def auc_gain(self) -> float:
        return self.auc_aided - self.auc_unaided

    def mu(self, auc: float) -> float:
        """Mean separation of an arm whose population mean AUC is ``auc``."""
        spread = 2.0 + self.sd_reader_skill**2 + self.sd_reader_arm_skill**2
        return float(stats.norm.ppf(auc) * np.sqrt(spread))


def simulate_study(spec: SimulationSpec | None = None, **overrides) -> pd.DataFrame:
    """Simulate one study; one row per reader x arm x case.

    Args:
        spec: parameters (default :class:`SimulationSpec`); ``overrides`` replace fields.

    Returns:
        DataFrame with columns reader, arm, treatment (= arm), session, order, case, truth,
        rating, answer ("yes"/"no"), seconds.
    """
    spec = spec or SimulationSpec()
    if overrides:
        spec = SimulationSpec(**{**asdict(spec), **overrides})
    rng = np.random.default_rng(spec.seed)
    r, c = spec.n_readers, spec.n_cases
    n_pos = max(1, min(c - 1, round(spec.prevalence * c)))
    truth = np.zeros(c, dtype=int)
    truth[rng.permutation(c)[:n_pos]] = 1
    mu = {0: spec.mu(spec.auc_unaided), 1: spec.mu(spec.auc_aided)}
    var_e = 1.0 - spec.var_case - spec.var_reader_case
    case_fx = rng.normal(0, np.sqrt(spec.var_case), c)
    rc_fx = rng.normal(0, np.sqrt(spec.var_reader_case), (r, c))
    skill = rng.normal(0, spec.sd_reader_skill, r)
    skill_arm = rng.normal(0, spec.sd_reader_arm_skill, (r, 2))
    t_reader = rng.normal(0, spec.sd_log_reader, r)
    t_case = rng.normal(0, spec.sd_log_case, c)
    t_reader_arm = rng.normal(0, spec.sd_log_reader_arm, (r, 2))
    rows = []
    for j in range(r):
        first_aided = j % 2 == 0  # AB/BA crossover
        for aided in (0, 1):
            session = 1 if (aided == 1) == first_aided else 2
            m = mu[aided] + skill[j] + skill_arm[j, aided]
            x = m * truth + case_fx + rc_fx[j] + rng.normal(0, np.sqrt(var_e), c)
            rating = np.round(100 * stats.norm.cdf(x / 1.6 - 0.5 * mu[aided]), 1)
            log_t = (
                np.log(spec.median_unaided_s)
                + np.log(spec.time_ratio) * aided
                + np.log(spec.period_effect) * (session == 2)
                + t_reader[j]
                + t_case
                + t_reader_arm[j, aided]
                + rng.normal(0, spec.sd_log_residual, c)
            )
            order = rng.permutation(c)
            for pos, k in enumerate(order):
                rows.append(
                    {
                        "reader": f"R{j + 1:02d}",
                        "arm": ARMS[aided],
                        "treatment": ARMS[aided],
                        "session": session,
                        "order": pos + 1,
                        "case": f"C{k + 1:03d}",
                        "truth": int(truth[k]),
                        "rating": float(rating[k]),
                        "answer": "yes" if rating[k] >= 50 else "no",
                        "seconds": float(np.round(np.exp(log_t[k]), 2)),
                    }
                )
    return pd.DataFrame(rows)


def simulation_records(spec: SimulationSpec | None = None, **overrides) -> list[dict]:
    """The simulated study as plain dicts in reading order (reader, session, order) for a
    driver that replays it through the application's services."""
    df = simulate_study(spec, **overrides)
    df = df.sort_values(["reader", "session", "order"], kind="mergesort")
    return df.to_dict(orient="records")


def recover_effects(df: pd.DataFrame, spec: SimulationSpec, *, alpha: float = 0.05) -> dict:
    """Analyse one simulated study and say whether the CIs cover the known effects.

    The time ratio comes from the mixed model (fast REML engine, the same model as the
    statsmodels fit); the AUC gain from the OR analysis (jackknife, random readers and cases).
    """
    from boneread_ml.stats.mrmc import mrmc_analysis
    from boneread_ml.stats.timing import mixed_model_ratio, time_data

    mm = mixed_model_ratio(time_data(df), alpha=alpha, carry_over=False, engine="reml")
    mr = mrmc_analysis(df, treatments=["aided", "unaided"], alpha=alpha)
    return {
        "time_ratio": mm.ratio,
        "time_ratio_ci": mm.ratio_ci,
        "time_covered": bool(mm.ratio_ci[0] <= spec.time_ratio <= mm.ratio_ci[1]),
        "auc_gain": mr.difference,
        "auc_gain_ci": mr.ci,
        "auc_covered": bool(mr.ci[0] <= spec.auc_gain <= mr.ci[1]),
        "auc_p": mr.p,
    }
