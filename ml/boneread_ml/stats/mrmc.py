"""Multi-reader multi-case ROC analysis: Obuchowski-Rockette (OR) and Dorfman-Berbaum-Metz (DBM).

OR (Obuchowski & Rockette 1995) with Hillis's denominator degrees of freedom (Hillis 2007,
Stat Med 26:596; Hillis, Berbaum & Metz 2008, Acad Radiol 15:647), as in OR-DBM MRMC 2.5,
RJafroc and MRMCaov. For t treatments, r readers and figures of merit theta_ij:

* MS(T) = r * sum_i (theta_i. - theta..)^2 / (t - 1),
  MS(TR) = sum_ij (theta_ij - theta_i. - theta_.j + theta..)^2 / ((t - 1)(r - 1));
* Var, Cov1 (same reader, other treatment), Cov2 (other reader, same treatment) and Cov3
  (other reader, other treatment): averages of the error covariance matrix of the theta_ij,
  estimated by the jackknife over cases (default), DeLong's method or a stratified bootstrap;
* random readers and cases: F = MS(T) / (MS(TR) + r max(Cov2 - Cov3, 0)) on
  (t - 1, ddf_H) with ddf_H = (MS(TR) + r max(Cov2 - Cov3, 0))^2 / (MS(TR)^2 / ((t-1)(r-1)));
* fixed readers (random cases): chi2 = (t - 1) MS(T) / (Var - Cov1 + (r - 1) max(Cov2 - Cov3, 0))
  on t - 1 degrees of freedom; normal CIs;
* random readers, fixed cases: F = MS(T) / MS(TR) on (t - 1, (t - 1)(r - 1));
* single-treatment CIs (Hillis 2007): theta_i. +- t_{df_i} sqrt(MS(R)_i / r + max(Cov2_i, 0)).

DBM (Dorfman, Berbaum & Metz 1992) runs the three-way ANOVA on jackknife pseudovalues
(centred so that their mean per reader and treatment is the figure of merit, as RJafroc does),
with Hillis's ddf; with jackknife covariances it gives the OR F and ddf (Hillis 2005).

Validated against the published Van Dyke analysis (tests/ml/test_stats_mrmc.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from boneread_ml.stats.data import MRMCData, StatsInputError, mrmc_data
from boneread_ml.stats.roc import delong_covariance, delong_placements

COVARIANCE_METHODS = ("jackknife", "delong", "bootstrap")
FACTOR_KINDS = ("random", "fixed")


# --- figures of merit and their error covariance ---------------------------------------------


def auc_matrix(data: MRMCData) -> np.ndarray:
    """Empirical AUC per treatment and reader, shape (t, r)."""
    t, r, c = data.ratings.shape
    aucs, _, _ = delong_placements(data.truth, data.ratings.reshape(t * r, c))
    return aucs.reshape(t, r)


def jackknife_auc(data: MRMCData) -> np.ndarray:
    """AUC with each case left out in turn, shape (t, r, c) (closed form from placements)."""
    t, r, c = data.ratings.shape
    aucs, v10, v01 = delong_placements(data.truth, data.ratings.reshape(t * r, c))
    y = data.truth.astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    jack = np.empty((t * r, c))
    # leaving out positive i: mean of the other positives' placements, and likewise
    jack[:, y] = (m * aucs[:, None] - v10) / (m - 1) if m > 1 else np.nan
    jack[:, ~y] = (n * aucs[:, None] - v01) / (n - 1) if n > 1 else np.nan
    return jack.reshape(t, r, c)


def jackknife_covariance(jack: np.ndarray) -> np.ndarray:
    """Jackknife covariance of the figures of merit from leave-one-case-out values.

    Args:
        jack: (t, r, c) figure of merit without case k.

    Returns:
        (t*r, t*r) covariance, index i*r + j; (c-1)/c * sum_k (J_k - J.)(J_k - J.)'.
    """
    t, r, c = jack.shape
    flat = jack.reshape(t * r, c)
    centred = flat - flat.mean(axis=1, keepdims=True)
    return (c - 1) / c * centred @ centred.T


def bootstrap_covariance(
    data: MRMCData, *, n_boot: int = 2000, seed: int = 0, fom=None
) -> np.ndarray:
    """Covariance of the figures of merit over case bootstraps (stratified by truth).

    Args:
        data: the study.
        n_boot: bootstrap samples.
        seed: random seed (results are reproducible).
        fom: callable (truth (c,), ratings (t, r, c)) -> (t, r); default empirical AUC.
    """
    rng = np.random.default_rng(seed)
    t, r, c = data.ratings.shape
    pos, neg = np.flatnonzero(data.truth == 1), np.flatnonzero(data.truth == 0)
    values = np.empty((n_boot, t * r))
    for b in range(n_boot):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        y, s = data.truth[idx], data.ratings[:, :, idx]
        if fom is None:
            aucs, _, _ = delong_placements(y, s.reshape(t * r, len(idx)))
            values[b] = aucs
        else:
            values[b] = np.asarray(fom(y, s)).ravel()
    return np.cov(values, rowvar=False, ddof=1)


def delong_error_covariance(data: MRMCData) -> np.ndarray:
    """DeLong covariance of all t*r AUCs (index i*r + j)."""
    t, r, c = data.ratings.shape
    _, cov = delong_covariance(data.truth, data.ratings.reshape(t * r, c))
    return cov


# --- variance components ---------------------------------------------------------------------


@dataclass(frozen=True)
class VarComponents:
    """OR variance components and the treatment mean squares.

    Attributes:
        var: mean error variance of a figure of merit.
        cov1: same reader, different treatments.
        cov2: different readers, same treatment.
        cov3: different readers, different treatments.
        ms_t, ms_tr, ms_r: mean squares of treatment, treatment x reader, reader.
    """

    var: float
    cov1: float
    cov2: float
    cov3: float
    ms_t: float
    ms_tr: float
    ms_r: float

    def as_dict(self) -> dict:
        return asdict(self)


def _masks(t: int, r: int) -> dict[str, np.ndarray]:
    ti = np.repeat(np.arange(t), r)
    ri = np.tile(np.arange(r), t)
    same_t = ti[:, None] == ti[None, :]
    same_r = ri[:, None] == ri[None, :]
    return {
        "var": same_t & same_r,
        "cov1": ~same_t & same_r,
        "cov2": same_t & ~same_r,
        "cov3": ~same_t & ~same_r,
    }


def covariance_components(cov: np.ndarray, t: int, r: int) -> dict[str, float]:
    """Average the (t*r, t*r) covariance into Var, Cov1, Cov2, Cov3 (NaN when undefined)."""
    out = {}
    for name, mask in _masks(t, r).items():
        out[name] = float(cov[mask].mean()) if mask.any() else float("nan")
    return out


def mean_squares(theta: np.ndarray) -> dict[str, float]:
    """MS(T), MS(TR), MS(R) of a (t, r) table of figures of merit."""
    t, r = theta.shape
    grand = theta.mean()
    mt, mr = theta.mean(axis=1), theta.mean(axis=0)
    ms_t = r * float(((mt - grand) ** 2).sum()) / (t - 1)
    ms_r = t * float(((mr - grand) ** 2).sum()) / (r - 1) if r > 1 else float("nan")
    inter = theta - mt[:, None] - mr[None, :] + grand
    ms_tr = float((inter**2).sum()) / ((t - 1) * (r - 1)) if r > 1 else float("nan")
    return {"ms_t": ms_t, "ms_tr": ms_tr, "ms_r": ms_r}


def var_components(theta: np.ndarray, cov: np.ndarray) -> VarComponents:
    """Variance components of the OR model from the figures of merit and their covariance."""
    t, r = theta.shape
    return VarComponents(**covariance_components(cov, t, r), **mean_squares(theta))


# --- results ---------------------------------------------------------------------------------


@dataclass
class MRMCResult:
    """One MRMC analysis (all numbers the CLI and the results page report).

    ``difference``/``ci`` compare the first treatment with the second; with more than two
    treatments ``pairs`` lists every pairwise comparison.
    """

    method: str
    covariance: str
    readers: str
    cases: str
    treatments: list[str]
    reader_ids: list[str]
    auc: dict[str, list[float]]
    auc_mean: dict[str, float]
    difference: float
    statistic_name: str  # "F" or "chi2"
    statistic: float
    df_numerator: float
    df_denominator: float | None
    p: float
    ci: list[float]
    single_treatment: dict[str, dict]
    var_components: dict[str, float]
    pairs: list[dict] = field(default_factory=list)
    per_reader: list[dict] = field(default_factory=list)
    dbm_mean_squares: dict[str, float] | None = None
    n_cases: int = 0
    n_positive: int = 0
    alpha: float = 0.05

    def as_dict(self) -> dict:
        """The CLI's JSON keys (issue 13 item 6) plus details."""
        out = {
            "method": self.method,
            "covariance": self.covariance,
            "readers": self.readers,
            "cases": self.cases,
            "treatments": self.treatments,
            "reader_ids": self.reader_ids,
            "auc": self.auc,
            "auc_mean": self.auc_mean,
            "difference": self.difference,
            self.statistic_name: self.statistic,
            "df_numerator": self.df_numerator,
            "df_denominator": self.df_denominator,
            "p": self.p,
            "ci": self.ci,
            "single_treatment": self.single_treatment,
            "var_components": self.var_components,
            "pairs": self.pairs,
            "n_cases": self.n_cases,
            "n_positive": self.n_positive,
            "alpha": self.alpha,
        }
        if self.per_reader:
            out["per_reader"] = self.per_reader
        if self.dbm_mean_squares is not None:
            out["dbm_mean_squares"] = self.dbm_mean_squares
        return out


def _check_kinds(readers: str, cases: str) -> None:
    if readers not in FACTOR_KINDS or cases not in FACTOR_KINDS:
        raise StatsInputError(f"readers and cases must each be one of {FACTOR_KINDS}")
    if readers == "fixed" and cases == "fixed":
        raise StatsInputError(
            "readers and cases cannot both be fixed: nothing random is left to test against"
        )


def _interval(est: float, se: float, dist, alpha: float) -> list[float]:
    q = float(dist.ppf(1.0 - alpha / 2.0))
    return [est - q * se, est + q * se]


def or_analysis(
    theta: np.ndarray,
    cov: np.ndarray,
    *,
    readers: str = "random",
    cases: str = "random",
    alpha: float = 0.05,
    treatments: list[str] | None = None,
    reader_ids: list[str] | None = None,
    covariance: str = "jackknife",
) -> MRMCResult:
    """Obuchowski-Rockette test from figures of merit and their error covariance.

    Works for any figure of merit (AUC, wAFROC, ...).

    Args:
        theta: (t, r) figures of merit.
        cov: (t*r, t*r) error covariance (index i*r + j); ignored for fixed cases.
        readers, cases: "random" or "fixed".
        alpha: 1 - confidence level.
        treatments, reader_ids: labels for the output.
        covariance: the name of the covariance method, for the output.

    Returns:
        :class:`MRMCResult`.
    """
    _check_kinds(readers, cases)
    t, r = theta.shape
    if t < 2:
        raise StatsInputError("need at least two treatments")
    if r < 2 and readers == "random":
        raise StatsInputError("random-reader analysis needs at least two readers")
    treatments = treatments or [str(i) for i in range(t)]
    reader_ids = reader_ids or [str(j) for j in range(r)]
    vc = var_components(theta, cov)
    ms_t, ms_tr = vc.ms_t, vc.ms_tr
    cov23 = max(vc.cov2 - vc.cov3, 0.0) if r > 1 else 0.0
    tmeans = theta.mean(axis=1)

    if readers == "random" and cases == "random":
        den = ms_tr + r * cov23
        stat_name, stat = "F", ms_t / den if den > 0 else float("inf")
        ddf = den**2 / (ms_tr**2 / ((t - 1) * (r - 1))) if ms_tr > 0 else float("inf")
        p = float(stats.f.sf(stat, t - 1, ddf))
        se_diff, diff_dist, df_den = np.sqrt(2.0 / r * den), stats.t(ddf), float(ddf)
    elif readers == "fixed":
        den = vc.var - vc.cov1 + (r - 1) * cov23
        stat_name, stat = "chi2", (t - 1) * ms_t / den if den > 0 else float("inf")
        p = float(stats.chi2.sf(stat, t - 1))
        se_diff, diff_dist, df_den = np.sqrt(2.0 / r * den), stats.norm, None
    else:  # random readers, fixed cases
        ddf = (t - 1) * (r - 1)
        stat_name, stat = "F", ms_t / ms_tr if ms_tr > 0 else float("inf")
        p = float(stats.f.sf(stat, t - 1, ddf))
        se_diff, diff_dist, df_den = np.sqrt(2.0 * ms_tr / r), stats.t(ddf), float(ddf)

    pairs = []
    for a in range(t):
        for b in range(a + 1, t):
            d = float(tmeans[a] - tmeans[b])
            pairs.append(
                {
                    "treatment_a": treatments[a],
                    "treatment_b": treatments[b],
                    "difference": d,
                    "se": float(se_diff),
                    "ci": _interval(d, float(se_diff), diff_dist, alpha),
                    "p": float(2 * diff_dist.sf(abs(d) / se_diff)) if se_diff > 0 else 0.0,
                }
            )

    single = {}
    for i, name in enumerate(treatments):
        row = theta[i]
        ms_r_i = float(row.var(ddof=1)) if r > 1 else float("nan")
        block = slice(i * r, (i + 1) * r)
        sub = cov[block, block]
        var_i = float(np.diag(sub).mean())
        cov2_i = float(sub[~np.eye(r, dtype=bool)].mean()) if r > 1 else 0.0
        if readers == "random" and cases == "random":
            den_i = ms_r_i + r * max(cov2_i, 0.0)
            df_i = den_i**2 / (ms_r_i**2 / (r - 1)) if ms_r_i > 0 else float("inf")
            se_i, dist_i = np.sqrt(den_i / r), stats.t(df_i)
        elif readers == "fixed":
            se_i = np.sqrt((var_i + (r - 1) * max(cov2_i, 0.0)) / r)
            df_i, dist_i = None, stats.norm
        else:
            df_i = float(r - 1)
            se_i, dist_i = np.sqrt(ms_r_i / r), stats.t(df_i)
        single[name] = {
            "auc": float(tmeans[i]),
            "se": float(se_i),
            "ci": _interval(float(tmeans[i]), float(se_i), dist_i, alpha),
            "df": None if df_i is None else float(df_i),
            "var": var_i,
            "cov2": cov2_i,
            "ms_r": ms_r_i,
        }

    per_reader = []
    if readers == "fixed" and t >= 2:
        # each reader's own difference with its covariance-based standard error (normal)
        for j, rid in enumerate(reader_ids):
            ia, ib = 0 * r + j, 1 * r + j
            d = float(theta[0, j] - theta[1, j])
            v = float(cov[ia, ia] + cov[ib, ib] - 2 * cov[ia, ib])
            se = float(np.sqrt(max(v, 0.0)))
            per_reader.append(
                {
                    "reader": rid,
                    "difference": d,
                    "se": se,
                    "ci": _interval(d, se, stats.norm, alpha),
                    "p": float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else 0.0,
                }
            )
    return MRMCResult(
        method="or",
        covariance=covariance if cases == "random" else "none (fixed cases)",
        readers=readers,
        cases=cases,
        treatments=list(treatments),
        reader_ids=list(reader_ids),
        auc={name: [float(v) for v in theta[i]] for i, name in enumerate(treatments)},
        auc_mean={name: float(tmeans[i]) for i, name in enumerate(treatments)},
        difference=pairs[0]["difference"],
        statistic_name=stat_name,
        statistic=float(stat),
        df_numerator=float(t - 1),
        df_denominator=df_den,
        p=p,
        ci=pairs[0]["ci"],
        single_treatment=single,
        var_components=vc.as_dict(),
        pairs=pairs,
        per_reader=per_reader,
        alpha=alpha,
    )


def pseudovalues(theta: np.ndarray, jack: np.ndarray) -> np.ndarray:
    """Jackknife pseudovalues c*theta - (c-1)*theta(-k), centred to mean theta (RJafroc)."""
    c = jack.shape[2]
    pv = c * theta[:, :, None] - (c - 1) * jack
    return pv + (theta - pv.mean(axis=2))[:, :, None]


def dbm_mean_squares(pv: np.ndarray) -> dict[str, float]:
    """Three-way (treatment x reader x case) ANOVA mean squares of pseudovalues (t, r, c)."""
    t, r, c = pv.shape
    g = pv.mean()
    mt, mr, mc = pv.mean(axis=(1, 2)), pv.mean(axis=(0, 2)), pv.mean(axis=(0, 1))
    mtr, mtc, mrc = pv.mean(axis=2), pv.mean(axis=1), pv.mean(axis=0)
    ms = {
        "ms_t": r * c * ((mt - g) ** 2).sum() / (t - 1),
        "ms_r": t * c * ((mr - g) ** 2).sum() / (r - 1),
        "ms_c": t * r * ((mc - g) ** 2).sum() / (c - 1),
        "ms_tr": c * ((mtr - mt[:, None] - mr[None, :] + g) ** 2).sum() / ((t - 1) * (r - 1)),
        "ms_tc": r * ((mtc - mt[:, None] - mc[None, :] + g) ** 2).sum() / ((t - 1) * (c - 1)),
        "ms_rc": t * ((mrc - mr[:, None] - mc[None, :] + g) ** 2).sum() / ((r - 1) * (c - 1)),
    }
    resid = (
        pv
        - mtr[:, :, None]
        - mtc[:, None, :]
        - mrc[None, :, :]
        + mt[:, None, None]
        + mr[None, :, None]
        + mc[None, None, :]
        - g
    )
    ms["ms_trc"] = (resid**2).sum() / ((t - 1) * (r - 1) * (c - 1))
    return {k: float(v) for k, v in ms.items()}


def dbm_analysis(
    theta: np.ndarray,
    jack: np.ndarray,
    *,
    readers: str = "random",
    cases: str = "random",
    alpha: float = 0.05,
    treatments: list[str] | None = None,
    reader_ids: list[str] | None = None,
) -> MRMCResult:
    """Dorfman-Berbaum-Metz analysis of jackknife pseudovalues with Hillis's ddf.

    Args:
        theta: (t, r) figures of merit.
        jack: (t, r, c) leave-one-case-out figures of merit.
        readers, cases: "random" or "fixed".
    """
    _check_kinds(readers, cases)
    t, r, c = jack.shape
    if r < 2:
        raise StatsInputError("DBM needs at least two readers")
    treatments = treatments or [str(i) for i in range(t)]
    reader_ids = reader_ids or [str(j) for j in range(r)]
    pv = pseudovalues(theta, jack)
    ms = dbm_mean_squares(pv)
    tmeans = theta.mean(axis=1)
    if readers == "random" and cases == "random":
        den = ms["ms_tr"] + max(ms["ms_tc"] - ms["ms_trc"], 0.0)
        ddf = den**2 / (ms["ms_tr"] ** 2 / ((t - 1) * (r - 1)))
        stat_name, stat = "F", ms["ms_t"] / den
        se_diff, dist = np.sqrt(2.0 / (r * c) * den), stats.t(ddf)
    elif readers == "fixed":
        ddf = (t - 1) * (c - 1)
        stat_name, stat = "F", ms["ms_t"] / ms["ms_tc"]
        se_diff, dist = np.sqrt(2.0 * ms["ms_tc"] / (r * c)), stats.t(ddf)
    else:
        ddf = (t - 1) * (r - 1)
        stat_name, stat = "F", ms["ms_t"] / ms["ms_tr"]
        se_diff, dist = np.sqrt(2.0 * ms["ms_tr"] / (r * c)), stats.t(ddf)
    p = float(stats.f.sf(stat, t - 1, ddf))
    pairs = []
    for a in range(t):
        for b in range(a + 1, t):
            d = float(tmeans[a] - tmeans[b])
            pairs.append(
                {
                    "treatment_a": treatments[a],
                    "treatment_b": treatments[b],
                    "difference": d,
                    "se": float(se_diff),
                    "ci": _interval(d, float(se_diff), dist, alpha),
                }
            )
    single = {}
    for i, name in enumerate(treatments):
        sub = pv[i]  # (r, c)
        g = sub.mean()
        ms_r = c * ((sub.mean(axis=1) - g) ** 2).sum() / (r - 1)
        ms_c = r * ((sub.mean(axis=0) - g) ** 2).sum() / (c - 1)
        resid = sub - sub.mean(axis=1)[:, None] - sub.mean(axis=0)[None, :] + g
        ms_rc = (resid**2).sum() / ((r - 1) * (c - 1))
        if readers == "random" and cases == "random":
            den_i = ms_r + max(ms_c - ms_rc, 0.0)
            df_i = den_i**2 / (ms_r**2 / (r - 1))
        elif readers == "fixed":
            den_i, df_i = ms_c, c - 1
        else:
            den_i, df_i = ms_r, r - 1
        se_i = float(np.sqrt(den_i / (r * c)))
        single[name] = {
            "auc": float(tmeans[i]),
            "se": se_i,
            "ci": _interval(float(tmeans[i]), se_i, stats.t(df_i), alpha),
            "df": float(df_i),
        }
    vc = var_components(theta, jackknife_covariance(jack))
    return MRMCResult(
        method="dbm",
        covariance="jackknife",
        readers=readers,
        cases=cases,
        treatments=list(treatments),
        reader_ids=list(reader_ids),
        auc={name: [float(v) for v in theta[i]] for i, name in enumerate(treatments)},
        auc_mean={name: float(tmeans[i]) for i, name in enumerate(treatments)},
        difference=pairs[0]["difference"],
        statistic_name=stat_name,
        statistic=float(stat),
        df_numerator=float(t - 1),
        df_denominator=float(ddf),
        p=p,
        ci=pairs[0]["ci"],
        single_treatment=single,
        var_components=vc.as_dict(),
        pairs=pairs,
        dbm_mean_squares=ms,
        alpha=alpha,
    )


def mrmc_analysis(
    data: MRMCData | pd.DataFrame,
    *,
    covariance: str = "jackknife",
    readers: str = "random",
    cases: str = "random",
    method: str = "or",
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
    treatments: list[str] | None = None,
) -> MRMCResult:
    """MRMC analysis of empirical AUCs from a long-format table or :class:`MRMCData`.

    Args:
        data: long-format DataFrame (reader, treatment, case, truth, rating) or MRMCData.
        covariance: "jackknife" (default), "delong" or "bootstrap" (OR only).
        readers, cases: "random" or "fixed".
        method: "or" (Obuchowski-Rockette) or "dbm" (Dorfman-Berbaum-Metz, jackknife).
        alpha: 1 - confidence level.
        n_boot, seed: bootstrap samples and seed.
        treatments: the order of the treatments (difference = first - second).

    Raises:
        StatsInputError: bad input (see :func:`boneread_ml.stats.data.mrmc_data`) or options.
    """
    if covariance not in COVARIANCE_METHODS:
        raise StatsInputError(f"covariance must be one of {COVARIANCE_METHODS}")
    if method not in ("or", "dbm"):
        raise StatsInputError("method must be 'or' or 'dbm'")
    if method == "dbm" and covariance != "jackknife":
        raise StatsInputError("DBM uses jackknife pseudovalues; choose --covariance jackknife")
    if isinstance(data, pd.DataFrame):
        data = mrmc_data(data, treatments=treatments)
    theta = auc_matrix(data)
    labels = {"treatments": list(data.treatments), "reader_ids": list(data.readers)}
    if method == "dbm":
        res = dbm_analysis(
            theta, jackknife_auc(data), readers=readers, cases=cases, alpha=alpha, **labels
        )
    else:
        if covariance == "jackknife":
            cov = jackknife_covariance(jackknife_auc(data))
        elif covariance == "delong":
            cov = delong_error_covariance(data)
        else:
            cov = bootstrap_covariance(data, n_boot=n_boot, seed=seed)
        res = or_analysis(
            theta, cov, readers=readers, cases=cases, alpha=alpha, covariance=covariance, **labels
        )
    res.n_cases = len(data.cases)
    res.n_positive = int(data.truth.sum())
    return res
