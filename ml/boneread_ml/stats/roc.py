"""Empirical ROC AUC and DeLong's tests, following pROC's ``roc.test`` conventions.

* Paired (correlated) curves: DeLong, DeLong & Clarke-Pearson (1988), with the fast
  mid-rank algorithm of Sun & Xu (2014, IEEE Signal Processing Letters 21(11)).
  Statistic ``Z``, standard normal reference; the CI of the difference is
  ``d +- z_{1-alpha/2} * sd`` (pROC's ``ci_delong_paired``).
* Unpaired curves (different cases): pROC's ``delong.unpaired.test``: statistic
  ``D = (auc1 - auc2) / sqrt(S1 + S2)`` with ``S = var(V10)/m + var(V01)/n`` for each curve,
  reference distribution Student t with
  ``df = (S1 + S2)^2 / (S1^2 / (N1 - 1) + S2^2 / (N2 - 1))`` (N = all cases of that curve).
  pROC reports no CI for this test; ours is ``d +- t_{df, 1-alpha/2} * sqrt(S1 + S2)``, the
  interval that inverts the same test.
* One-sided alternatives as pROC: ``greater`` means auc_a > auc_b (p = P(stat' >= stat)),
  ``less`` means auc_a < auc_b. The CI stays two-sided, as pROC's.

Validated against pROC's published numbers on its aSAH data (tests/ml/test_stats_roc.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

ALTERNATIVES = ("two-sided", "greater", "less")


def midrank(x: np.ndarray) -> np.ndarray:
    """Mid-ranks (1-based; ties get the mean of their ranks).

    Args:
        x: values, shape (n,).

    Returns:
        Ranks, shape (n,), float.
    """
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    n = len(x)
    ranks_sorted = np.empty(n, dtype=float)
    i = 0
    while i < n:
        j = i
        while j < n and sorted_x[j] == sorted_x[i]:
            j += 1
        ranks_sorted[i:j] = 0.5 * (i + j - 1) + 1
        i = j
    ranks = np.empty(n, dtype=float)
    ranks[order] = ranks_sorted
    return ranks


def _check_truth(y_true: np.ndarray) -> np.ndarray:
    y = np.asarray(y_true).astype(bool).ravel()
    if y.sum() == 0 or (~y).sum() == 0:
        raise ValueError("DeLong needs at least one positive and one negative case")
    return y


def delong_placements(
    y_true: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical AUCs and DeLong placement values (structural components).

    Args:
        y_true: binary truth, shape (n,); 1 = positive (case), 0 = control.
        scores: shape (k, n) or (n,); higher means more likely positive.

    Returns:
        (aucs (k,), v10 (k, m) placements of the m positives, v01 (k, n0) of the n0 negatives).
        ``v10[r, i]`` is the fraction of negatives scored below positive i (ties count 1/2), so
        ``aucs == v10.mean(axis=1) == v01.mean(axis=1)``.

    Raises:
        ValueError: when either class is absent or shapes disagree.
    """
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.atleast_2d(np.asarray(scores, dtype=float))
    if s.shape[1] != y.shape[0]:
        raise ValueError(f"scores have {s.shape[1]} cases, y_true has {y.shape[0]}")
    y = _check_truth(y)
    m, n = int(y.sum()), int((~y).sum())
    pos, neg = s[:, y], s[:, ~y]
    tx = stats.rankdata(pos, axis=1)
    ty = stats.rankdata(neg, axis=1)
    tz = stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    aucs = tz[:, :m].sum(axis=1) / m / n - (m + 1.0) / 2.0 / n
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return aucs, v10, v01


def empirical_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Trapezoidal (Mann-Whitney) AUC of one score vector; ties count one half."""
    aucs, _, _ = delong_placements(y_true, scores)
    return float(aucs[0])


def delong_covariance(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix for k scores on the same cases.

    Args:
        y_true: binary truth, shape (n,); 1 = positive (case), 0 = control.
        scores: shape (k, n) or (n,); higher means more likely positive.

    Returns:
        (aucs (k,), covariance (k, k)).

    Raises:
        ValueError: when either class is absent or shapes disagree.
    """
    aucs, v10, v01 = delong_placements(y_true, scores)
    m, n = v10.shape[1], v01.shape[1]
    sx = np.atleast_2d(np.cov(v10)) if m > 1 else np.zeros((len(aucs), len(aucs)))
    sy = np.atleast_2d(np.cov(v01)) if n > 1 else np.zeros((len(aucs), len(aucs)))
    return aucs, sx / m + sy / n


def auc_ci_delong(y_true: np.ndarray, scores: np.ndarray, *, alpha: float = 0.05) -> dict:
    """AUC with pROC's ``ci.auc(method="delong")``: normal interval clipped to [0, 1].

    Returns:
        ``{"auc", "se", "ci": [low, high]}``.
    """
    aucs, cov = delong_covariance(y_true, scores)
    auc, se = float(aucs[0]), float(np.sqrt(max(cov[0, 0], 0.0)))
    q = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return {"auc": auc, "se": se, "ci": [max(0.0, auc - q * se), min(1.0, auc + q * se)]}


@dataclass(frozen=True)
class DeLongResult:
    """DeLong comparison of AUC a against AUC b.

    Attributes:
        auc_a, auc_b: the two AUCs.
        difference: auc_a - auc_b.
        variance_a, variance_b: DeLong variances of each AUC.
        covariance: DeLong covariance (0 for unpaired curves).
        z: the test statistic (pROC's Z when paired, its D when unpaired).
        p_value: p for ``alternative``.
        ci_low, ci_high: two-sided CI of the difference.
        df: degrees of freedom of D's t reference (None when paired: normal reference).
        alternative: "two-sided", "greater" (a > b) or "less" (a < b).
        paired: whether the paired test was used.
    """

    auc_a: float
    auc_b: float
    difference: float
    variance_a: float
    variance_b: float
    covariance: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    df: float | None = None
    alternative: str = "two-sided"
    paired: bool = True

    def as_dict(self) -> dict:
        """The CLI's keys: auc_a, auc_b, z, df (unpaired), p, ci, and the rest."""
        out = {
            "auc_a": self.auc_a,
            "auc_b": self.auc_b,
            "difference": self.difference,
            "z": self.z,
            "p": self.p_value,
            "ci": [self.ci_low, self.ci_high],
            "variance_a": self.variance_a,
            "variance_b": self.variance_b,
            "covariance": self.covariance,
            "alternative": self.alternative,
            "paired": self.paired,
            "statistic": "Z" if self.paired else "D",
        }
        if not self.paired:
            out["df"] = self.df
        return out


def _p_value(stat: float, alternative: str, dist) -> float:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    if alternative == "two-sided":
        return float(2.0 * dist.sf(abs(stat)))
    if alternative == "greater":
        return float(dist.sf(stat))
    return float(dist.cdf(stat))


def _ratio(diff: float, se: float) -> float:
    # a zero standard error (identical scores) gives 0, or +-inf for a nonzero difference (pROC)
    if se > 0:
        return diff / se
    return 0.0 if diff == 0 else float(np.sign(diff) * np.inf)


def delong_test(
    y_true: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    alpha: float = 0.05,
    *,
    alternative: str = "two-sided",
) -> DeLongResult:
    """Paired DeLong test (pROC's ``roc.test(method="delong", paired=TRUE)``).

    Args:
        y_true: binary truth (n,).
        score_a: scores of reader/model a (n,).
        score_b: scores of reader/model b on the same cases (n,).
        alpha: 1 - confidence level of the difference's (two-sided) CI.
        alternative: "two-sided", "greater" (auc_a > auc_b) or "less".

    Returns:
        :class:`DeLongResult` (statistic Z, standard normal reference).
    """
    aucs, cov = delong_covariance(y_true, np.vstack([score_a, score_b]))
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    se = float(np.sqrt(var)) if var > 0 else 0.0
    z = _ratio(diff, se)
    p = _p_value(z, alternative, stats.norm)
    q = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return DeLongResult(
        auc_a=float(aucs[0]),
        auc_b=float(aucs[1]),
        difference=diff,
        variance_a=float(cov[0, 0]),
        variance_b=float(cov[1, 1]),
        covariance=float(cov[0, 1]),
        z=float(z),
        p_value=p,
        ci_low=diff - q * se,
        ci_high=diff + q * se,
        alternative=alternative,
    )


def delong_unpaired_test(
    y_a: np.ndarray,
    score_a: np.ndarray,
    y_b: np.ndarray,
    score_b: np.ndarray,
    alpha: float = 0.05,
    *,
    alternative: str = "two-sided",
) -> DeLongResult:
    """Unpaired DeLong test (pROC's ``roc.test(method="delong", paired=FALSE)``).

    Args:
        y_a, score_a: truth and scores of curve a.
        y_b, score_b: truth and scores of curve b (other cases, any number).
        alpha: 1 - confidence level of the difference's CI.
        alternative: "two-sided", "greater" (auc_a > auc_b) or "less".

    Returns:
        :class:`DeLongResult` with ``z`` = pROC's D and ``df`` its t degrees of freedom.
    """
    auc_a, var_a = _single(y_a, score_a)
    auc_b, var_b = _single(y_b, score_b)
    n_a, n_b = len(np.ravel(y_a)), len(np.ravel(y_b))
    diff = auc_a - auc_b
    total = var_a + var_b
    se = float(np.sqrt(total)) if total > 0 else 0.0
    d = _ratio(diff, se)
    denom = var_a**2 / (n_a - 1) + var_b**2 / (n_b - 1)
    df = float(total**2 / denom) if denom > 0 else float("inf")
    dist = stats.t(df) if np.isfinite(df) else stats.norm
    p = _p_value(d, alternative, dist)
    q = float(dist.ppf(1.0 - alpha / 2.0))
    return DeLongResult(
        auc_a=auc_a,
        auc_b=auc_b,
        difference=diff,
        variance_a=var_a,
        variance_b=var_b,
        covariance=0.0,
        z=float(d),
        p_value=p,
        ci_low=diff - q * se,
        ci_high=diff + q * se,
        df=df,
        alternative=alternative,
        paired=False,
    )


def _single(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    aucs, cov = delong_covariance(y, score)
    return float(aucs[0]), float(cov[0, 0])


def roc_curve_points(y_true: np.ndarray, scores: np.ndarray) -> dict:
    """Empirical ROC operating points (every distinct threshold), for plots.

    Returns:
        ``{"fpr": [...], "tpr": [...], "thresholds": [...]}`` from (0, 0) to (1, 1).
    """
    y = _check_truth(y_true)
    s = np.asarray(scores, dtype=float).ravel()
    thresholds = np.unique(s)[::-1]
    pos, neg = y.sum(), (~y).sum()
    tpr = [0.0] + [float((s[y] >= t).sum() / pos) for t in thresholds]
    fpr = [0.0] + [float((s[~y] >= t).sum() / neg) for t in thresholds]
    return {"fpr": fpr, "tpr": tpr, "thresholds": [None] + [float(t) for t in thresholds]}
