"""Per-reader, per-arm accuracy: sensitivity and specificity of the yes/no answer with Wilson or
exact (Clopper-Pearson) CIs, and the empirical AUC of the 0-100 confidence with DeLong CIs.
Per reader, the paired DeLong test compares the two arms on the same cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from boneread_ml.stats.data import StatsInputError, binary_truth, numeric_column, require_columns
from boneread_ml.stats.roc import auc_ci_delong, delong_test, roc_curve_points

CI_METHODS = {"wilson": "wilson", "exact": "beta"}
YES = {"yes", "y", "1", "true", "positive", "metastatic"}
NO = {"no", "n", "0", "false", "negative", "benign"}


def proportion(successes: int, total: int, *, method: str = "wilson", alpha: float = 0.05) -> dict:
    """A proportion with its CI; ``method`` is "wilson" or "exact" (Clopper-Pearson)."""
    if method not in CI_METHODS:
        raise StatsInputError(f"CI method must be one of {sorted(CI_METHODS)}")
    if total == 0:
        return {"estimate": None, "ci": [None, None], "successes": 0, "n": 0}
    low, high = proportion_confint(successes, total, alpha=alpha, method=CI_METHODS[method])
    return {
        "estimate": successes / total,
        "ci": [float(low), float(high)],
        "successes": int(successes),
        "n": int(total),
    }


def _answers(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    bad = sorted(set(text) - YES - NO)
    if bad:
        raise StatsInputError(f"answers must be yes/no; found {bad[:5]}")
    return text.isin(YES).to_numpy(dtype=int)


def sens_spec(truth: np.ndarray, answer: np.ndarray, *, method: str = "wilson", alpha=0.05):
    """Sensitivity and specificity of binary answers against binary truth."""
    truth, answer = np.asarray(truth, int), np.asarray(answer, int)
    tp = int(((truth == 1) & (answer == 1)).sum())
    tn = int(((truth == 0) & (answer == 0)).sum())
    return {
        "sensitivity": proportion(tp, int((truth == 1).sum()), method=method, alpha=alpha),
        "specificity": proportion(tn, int((truth == 0).sum()), method=method, alpha=alpha),
    }


def accuracy_table(
    df: pd.DataFrame,
    *,
    arm: str = "arm",
    ci_method: str = "wilson",
    alpha: float = 0.05,
    arms: list[str] | None = None,
    with_roc_points: bool = False,
) -> dict:
    """Accuracy per reader and arm, pooled per arm, and per-reader paired DeLong between arms.

    Args:
        df: long format with reader, ``arm``, case, truth (0/1), rating (0-100) and
            optionally answer (yes/no).
        arm: the arm column ("arm" or "treatment").
        ci_method: "wilson" or "exact" for sensitivity/specificity.
        arms: order of the two arms for the DeLong difference (first - second).
        with_roc_points: add empirical ROC points (for plots) per reader/arm and pooled.

    Returns:
        ``{"per_reader": [...], "pooled": {arm: ...}, "delong_per_reader": [...]}``.
    """
    require_columns(df, ["reader", arm, "case", "truth", "rating"], what="accuracy data")
    d = pd.DataFrame(
        {
            "reader": df["reader"].astype(str),
            "arm": df[arm].astype(str),
            "case": df["case"].astype(str),
            "truth": binary_truth(df["truth"]),
            "rating": numeric_column(df, "rating"),
        }
    )
    has_answer = "answer" in df.columns
    if has_answer:
        d["answer"] = _answers(df["answer"])
    arm_order = arms or sorted(d["arm"].unique())
    per_reader, pooled, tests = [], {}, []

    def summary(g: pd.DataFrame) -> dict:
        out = {"n_cases": len(g), "n_positive": int(g["truth"].sum())}
        if has_answer:
            out.update(sens_spec(g["truth"], g["answer"], method=ci_method, alpha=alpha))
        if 0 < g["truth"].sum() < len(g):
            out["auc"] = auc_ci_delong(g["truth"].to_numpy(), g["rating"].to_numpy(), alpha=alpha)
            if with_roc_points:
                out["roc"] = roc_curve_points(g["truth"].to_numpy(), g["rating"].to_numpy())
        return out

    for (rd, a), g in d.groupby(["reader", "arm"], sort=True):
        per_reader.append({"reader": rd, "arm": a, **summary(g)})
    for a, g in d.groupby("arm", sort=True):
        pooled[a] = summary(g)  # pooled over readers: reading events, not independent cases
    if len(arm_order) == 2:
        for rd, g in d.groupby("reader", sort=True):
            wide = g.pivot_table(index="case", columns="arm", values="rating")
            if set(arm_order) - set(wide.columns):
                continue
            wide = wide.dropna()
            y = g.groupby("case")["truth"].first().loc[wide.index].to_numpy()
            if 0 < y.sum() < len(y):
                res = delong_test(y, wide[arm_order[0]].to_numpy(), wide[arm_order[1]].to_numpy())
                tests.append({"reader": rd, "arms": arm_order, **res.as_dict()})
    return {"per_reader": per_reader, "pooled": pooled, "delong_per_reader": tests}
