"""One call for a finished reader study: every number the results page, the PDF and the
exports show (time, accuracy, MRMC), from one long-format table.

Input: one row per reader x arm x case with reader, arm, session, case, truth (0/1),
rating (0-100), answer (yes/no) and seconds, the columns the simulator writes and the
reader-study export provides.
"""

from __future__ import annotations

import pandas as pd

from boneread_ml.stats.accuracy import accuracy_table
from boneread_ml.stats.data import StatsInputError, require_columns
from boneread_ml.stats.mrmc import mrmc_analysis
from boneread_ml.stats.timing import time_analysis

METHODS_TEXT = (
    "Reading time per case was analysed on the log scale with a linear mixed model (fixed "
    "effects: arm and session; crossed random effects: reader, case and reader x arm; REML), "
    "and the aided/unaided ratio of geometric mean times is reported with a 95% CI (t quantile, "
    "Satterthwaite-type degrees of freedom); an "
    "arm x session term was fitted to check for carry-over. Per reader, per-case times were "
    "compared with the paired t-test and the Wilcoxon signed-rank test. Diagnostic accuracy "
    "was summarised per reader and arm by sensitivity and specificity (Wilson 95% CIs) and the "
    "empirical (trapezoidal) ROC AUC of the 0-100 confidence (DeLong CIs; paired DeLong test "
    "between arms per reader). The reader-averaged AUC difference was tested with the "
    "Obuchowski-Rockette method with jackknife covariances and Hillis denominator degrees of "
    "freedom, treating readers and cases as random."
)


def reader_study_analysis(
    df: pd.DataFrame,
    *,
    aided: str = "aided",
    unaided: str | None = None,
    seconds: str = "seconds",
    active_seconds: str | None = "active_seconds",
    covariance: str = "jackknife",
    engine: str = "statsmodels",
    alpha: float = 0.05,
    with_roc_points: bool = True,
) -> dict:
    """Time, accuracy and MRMC results of one study.

    Args:
        df: long format (reader, arm, session, case, truth, rating, answer, seconds).
        aided: the aided arm's label; ``unaided`` the other (default: the other label).
        seconds: the time column to analyse (open-to-submit time).
        active_seconds: a second time column (active time); when the table has it, the result
            also holds ``time_active``, the same analysis of that column.
        covariance: MRMC covariance method.
        engine: mixed-model engine ("statsmodels" or the equivalent fast "reml").
        alpha: 1 - confidence level.
        with_roc_points: include empirical ROC points per reader/arm and pooled (plots).

    Returns:
        ``{"time": ..., "accuracy": ..., "mrmc": ..., "methods": str}`` (plus ``time_active``);
        MRMC's difference is aided - unaided.

    Raises:
        StatsInputError: the message names the problem in the data.
    """
    require_columns(df, ["reader", "arm", "session", "case", "truth", "rating", seconds])
    arms = sorted(df["arm"].astype(str).unique())
    if unaided is None:
        others = [a for a in arms if a != str(aided)]
        if len(others) != 1:
            raise StatsInputError(f"need the aided arm {aided!r} and one other; arms: {arms}")
        unaided = others[0]
    order = [str(aided), str(unaided)]
    mr = mrmc_analysis(
        df.drop(columns=["treatment"], errors="ignore").rename(columns={"arm": "treatment"}),
        covariance=covariance,
        treatments=order,
        alpha=alpha,
    )
    out = {
        "time": time_analysis(df, aided=aided, seconds=seconds, engine=engine, alpha=alpha),
        "accuracy": accuracy_table(df, arms=order, alpha=alpha, with_roc_points=with_roc_points),
        "mrmc": mr.as_dict(),
        "methods": METHODS_TEXT,
    }
    if active_seconds and active_seconds in df.columns and active_seconds != seconds:
        # the same analysis of active reading time (open-to-submit minus idle/hidden time)
        out["time_active"] = time_analysis(
            df, aided=aided, seconds=active_seconds, engine=engine, alpha=alpha
        )
    return out
