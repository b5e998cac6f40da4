"""Input checks shared by the statistics: long-format tables in, clear errors out.

Every problem with the input raises :class:`StatsInputError` (a ``ValueError``) whose message
names the problem (the missing column, the reader, the case); the command line turns it into
exit status 2 and the results page shows the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


class StatsInputError(ValueError):
    """The data cannot be analysed as given; the message says why."""


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV export; any failure becomes a :class:`StatsInputError`."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError as exc:
        raise StatsInputError(f"cannot read {path}: no such file") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise StatsInputError(f"cannot read {path} as CSV: {exc}") from exc
    if df.empty:
        raise StatsInputError(f"{path} has no data rows")
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    """Raise when any of ``columns`` is missing, naming them all."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise StatsInputError(
            f"{what} lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, df.columns))})"
        )


def numeric_column(df: pd.DataFrame, column: str) -> np.ndarray:
    """The column as floats; blanks or text raise, naming the first bad row."""
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise StatsInputError(
            f"column {column} must be a finite number in every row; row {i + 2} has "
            f"{df[column].iloc[i]!r}"
        )
    return values.to_numpy(dtype=float)


def binary_truth(values: pd.Series, *, positive=None, column: str = "truth") -> np.ndarray:
    """Truth as 0/1. Without ``positive``: the column must hold 0/1 (or true/false)."""
    if values.isna().any() or (values.astype(str).str.strip() == "").any():
        raise StatsInputError(f"column {column} is empty in some rows: every case needs a truth")
    if positive is not None:
        pos = str(positive).strip()
        as_text = values.astype(str).str.strip()
        hit = as_text == pos
        numbers = pd.to_numeric(values, errors="coerce")
        try:
            if not numbers.isna().any():  # numeric truth: 1 matches 1.0
                hit = numbers == float(pos)
        except ValueError:
            pass
        if not hit.any():
            raise StatsInputError(f"no row has {column} == {pos!r} (the positive value)")
        return hit.to_numpy(dtype=int)
    mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1}
    as_text = values.astype(str).str.strip().str.lower()
    unknown = sorted(set(as_text) - set(mapping))
    if unknown:
        raise StatsInputError(f"column {column} must be 0/1 (1 = positive); found {unknown[:5]}")
    return as_text.map(mapping).to_numpy(dtype=int)


@dataclass(frozen=True)
class MRMCData:
    """A fully crossed reader study as arrays.

    Attributes:
        treatments, readers, cases: labels (as strings), in analysis order.
        truth: (c,) 0/1.
        ratings: (t, r, c) ratings, higher = more likely positive.
    """

    treatments: tuple[str, ...]
    readers: tuple[str, ...]
    cases: tuple[str, ...]
    truth: np.ndarray
    ratings: np.ndarray


def _natural_key(x: str):
    try:
        return (0, float(x), x)
    except ValueError:
        return (1, 0.0, x)


def mrmc_data(
    df: pd.DataFrame,
    *,
    reader: str = "reader",
    treatment: str = "treatment",
    case: str = "case",
    truth: str = "truth",
    rating: str = "rating",
    treatments: Iterable[str] | None = None,
    allow_constant: bool = False,
) -> MRMCData:
    """Check a long-format table (one row per reader x treatment x case) and return arrays.

    Args:
        df: the table.
        reader, treatment, case, truth, rating: column names.
        treatments: the analysis order (the difference is first - second); default: sorted.
        allow_constant: accept a reader x treatment with one rating for every case.

    Raises:
        StatsInputError: missing columns, a case without truth or with two truths, a reader
            missing a treatment or a case, duplicate rows, a non-numeric rating, one truth
            class only, constant ratings.
    """
    require_columns(df, [reader, treatment, case, truth, rating])
    d = pd.DataFrame(
        {
            "reader": df[reader].astype(str).str.strip(),
            "treatment": df[treatment].astype(str).str.strip(),
            "case": df[case].astype(str).str.strip(),
            "truth_raw": df[truth],
        }
    )
    missing_truth = d["truth_raw"].isna() | (d["truth_raw"].astype(str).str.strip() == "")
    if missing_truth.any():
        cases = sorted(set(d.loc[missing_truth, "case"]), key=_natural_key)
        raise StatsInputError(f"case(s) without truth: {', '.join(cases[:10])}")
    d["truth"] = binary_truth(d["truth_raw"], column=truth)
    d["rating"] = numeric_column(df, rating)
    per_case = d.groupby("case")["truth"].nunique()
    if (per_case > 1).any():
        bad = sorted(per_case.index[per_case > 1], key=_natural_key)
        raise StatsInputError(f"case(s) with conflicting truth across rows: {', '.join(bad[:10])}")
    dup = d.duplicated(["reader", "treatment", "case"])
    if dup.any():
        r = d[dup].iloc[0]
        raise StatsInputError(
            f"reader {r['reader']} rated case {r['case']} twice in treatment {r['treatment']}"
        )
    all_t = sorted(d["treatment"].unique(), key=_natural_key)
    if treatments is not None:
        order = [str(t) for t in treatments]
        unknown = sorted(set(order) - set(all_t))
        if unknown:
            raise StatsInputError(f"treatment(s) {unknown} not in the data (has {all_t})")
        d = d[d["treatment"].isin(order)]
        all_t = order
    if len(all_t) < 2:
        raise StatsInputError(f"need at least two treatments; the data has {all_t}")
    readers = sorted(d["reader"].unique(), key=_natural_key)
    for rd in readers:
        got = set(d.loc[d["reader"] == rd, "treatment"])
        if got != set(all_t):
            raise StatsInputError(
                f"reader {rd} has ratings in treatment(s) {sorted(got)} only; every reader "
                f"must read every treatment ({all_t})"
            )
    cases = sorted(d["case"].unique(), key=_natural_key)
    truth_by_case = d.groupby("case")["truth"].first()
    y = truth_by_case.loc[cases].to_numpy(dtype=int)
    if y.sum() == 0 or y.sum() == len(y):
        raise StatsInputError("the cases must include both truth classes (0 and 1)")
    piv = d.pivot_table(index=["treatment", "reader"], columns="case", values="rating")
    piv = piv.reindex(
        index=pd.MultiIndex.from_product([all_t, readers]), columns=cases
    )  # NaN for missing cells
    ratings = piv.to_numpy(dtype=float).reshape(len(all_t), len(readers), len(cases))
    if np.isnan(ratings).any():
        ti, ri, ci = (int(v[0]) for v in np.nonzero(np.isnan(ratings)))
        raise StatsInputError(
            f"reader {readers[ri]} has no rating for case {cases[ci]} in treatment "
            f"{all_t[ti]}; the design must be fully crossed (every reader reads every case "
            "in every treatment)"
        )
    if not allow_constant:
        for ti, t in enumerate(all_t):
            for ri, rd in enumerate(readers):
                if np.all(ratings[ti, ri] == ratings[ti, ri, 0]):
                    raise StatsInputError(
                        f"reader {rd} gives every case the same rating ({ratings[ti, ri, 0]:g}) "
                        f"in treatment {t}: constant ratings carry no ROC information"
                    )
    return MRMCData(tuple(all_t), tuple(readers), tuple(cases), y, ratings)
