"""Reader-study statistics on exported CSVs: `stats delong|mrmc|time|samplesize`, one JSON object on stdout.

Bad input (missing columns, a reader with one treatment only, a case without truth, constant
ratings, an unreadable file) exits with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np
import pandas as pd

from boneread_ml.stats.data import (
    StatsInputError,
    binary_truth,
    numeric_column,
    read_csv,
    require_columns,
)


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="stats_command", required=True)

    p = sub.add_parser("delong", help="DeLong test of two ROC AUCs (pROC roc.test conventions)")
    p.add_argument("--csv", required=True, help="CSV with one row per case")
    p.add_argument("--truth", required=True, help="truth column")
    p.add_argument("--positive", required=True, help="value of the truth column for positives")
    p.add_argument("--a", required=True, help="score column of curve a")
    p.add_argument("--b", required=True, help="score column of curve b")
    p.add_argument(
        "--unpaired",
        action="store_true",
        help="curves on different cases: each uses the rows where its column is filled",
    )
    p.add_argument("--alternative", choices=["two-sided", "greater", "less"], default="two-sided")
    p.add_argument("--alpha", type=float, default=0.05)

    p = sub.add_parser("mrmc", help="MRMC ROC analysis (Obuchowski-Rockette / DBM)")
    p.add_argument(
        "--csv", required=True, help="long format: reader, treatment, case, truth, rating"
    )
    p.add_argument(
        "--covariance", choices=["jackknife", "delong", "bootstrap"], default="jackknife"
    )
    p.add_argument("--readers", choices=["random", "fixed"], default="random")
    p.add_argument("--cases", choices=["random", "fixed"], default="random")
    p.add_argument("--method", choices=["or", "dbm"], default="or")
    p.add_argument("--treatment-column", default="treatment", help="e.g. arm")
    p.add_argument("--treatments", help="comma-separated order; difference = first - second")
    p.add_argument("--n-boot", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alpha", type=float, default=0.05)

    p = sub.add_parser("time", help="reading time: totals, mixed-model ratio, paired tests")
    p.add_argument("--csv", required=True, help="long format: reader, arm, session, case, seconds")
    p.add_argument("--aided", default="aided", help="value of the arm column for the aided arm")
    p.add_argument("--seconds", default="seconds", help="time column (e.g. active_seconds)")
    p.add_argument("--engine", choices=["statsmodels", "reml"], default="statsmodels")
    p.add_argument("--alpha", type=float, default=0.05)

    p = sub.add_parser("samplesize", help="readers and cases for an AUC difference (OR, Hillis)")
    p.add_argument("--csv", required=True, help="pilot study, MRMC long format")
    p.add_argument("--effect", type=float, required=True, help="AUC difference to detect")
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--readers", default="3-15", help="a range such as 3-15, or a list 4,6,8")
    p.add_argument("--treatment-column", default="treatment")


def _delong(args) -> dict:
    from boneread_ml.stats.roc import delong_test, delong_unpaired_test

    df = read_csv(args.csv)
    require_columns(df, [args.truth, args.a, args.b])
    if args.unpaired:
        out = []
        for col in (args.a, args.b):
            rows = df[df[col].notna() & (df[col].astype(str).str.strip() != "")]
            if rows.empty:
                raise StatsInputError(f"column {col} has no values")
            out.append(
                (
                    binary_truth(rows[args.truth], positive=args.positive, column=args.truth),
                    numeric_column(rows, col),
                )
            )
        (ya, sa), (yb, sb) = out
        _check_curve(ya, sa, args.a)
        _check_curve(yb, sb, args.b)
        res = delong_unpaired_test(ya, sa, yb, sb, args.alpha, alternative=args.alternative)
    else:
        y = binary_truth(df[args.truth], positive=args.positive, column=args.truth)
        for col in (args.a, args.b):
            blank = df[col].isna() | (df[col].astype(str).str.strip() == "")
            if blank.any():
                raise StatsInputError(
                    f"column {col} is empty in row {int(blank.to_numpy().argmax()) + 2}: the "
                    "paired test needs both scores for every case (use --unpaired for curves "
                    "on different cases)"
                )
        sa, sb = numeric_column(df, args.a), numeric_column(df, args.b)
        _check_curve(y, sa, args.a)
        _check_curve(y, sb, args.b)
        res = delong_test(y, sa, sb, args.alpha, alternative=args.alternative)
    out = res.as_dict()
    out["n_positive"] = int(y.sum()) if not args.unpaired else [int(ya.sum()), int(yb.sum())]
    return out


def _check_curve(y: np.ndarray, s: np.ndarray, col: str) -> None:
    if y.sum() == 0 or y.sum() == len(y):
        raise StatsInputError(f"the cases of {col} must include positives and negatives")
    if np.all(s == s[0]):
        raise StatsInputError(
            f"column {col} has the same value ({s[0]:g}) for every case: constant ratings "
            "carry no ROC information"
        )


def _mrmc(args) -> dict:
    from boneread_ml.stats.data import mrmc_data
    from boneread_ml.stats.mrmc import mrmc_analysis

    df = read_csv(args.csv)
    treatments = [t.strip() for t in args.treatments.split(",")] if args.treatments else None
    data = mrmc_data(df, treatment=args.treatment_column, treatments=treatments)
    if len(data.treatments) != 2 and args.treatments is None:
        raise StatsInputError(
            f"the data has {len(data.treatments)} treatments {list(data.treatments)}; choose two "
            "with --treatments A,B"
        )
    res = mrmc_analysis(
        data,
        covariance=args.covariance,
        readers=args.readers,
        cases=args.cases,
        method=args.method,
        alpha=args.alpha,
        n_boot=args.n_boot,
        seed=args.seed,
    )
    return res.as_dict()


def _time(args) -> dict:
    from boneread_ml.stats.timing import time_analysis

    df = read_csv(args.csv)
    return time_analysis(
        df, aided=args.aided, seconds=args.seconds, engine=args.engine, alpha=args.alpha
    )


def _readers(text: str) -> list[int]:
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-", 1))
            values = list(range(lo, hi + 1))
        else:
            values = [int(x) for x in text.split(",")]
    except ValueError as exc:
        raise StatsInputError(f"--readers must look like 3-15 or 4,6,8, not {text!r}") from exc
    if not values or min(values) < 2:
        raise StatsInputError("--readers needs numbers of at least 2")
    return values


def _samplesize(args) -> dict:
    from boneread_ml.stats.data import mrmc_data
    from boneread_ml.stats.mrmc import mrmc_analysis
    from boneread_ml.stats.samplesize import auc_sample_size, pilot_components

    if not 0 < args.power < 1:
        raise StatsInputError("--power must be between 0 and 1")
    data = mrmc_data(read_csv(args.csv), treatment=args.treatment_column)
    pilot_res = mrmc_analysis(data)
    pilot = pilot_components(pilot_res.var_components, n_cases=len(data.cases))
    return {
        "pilot": {**pilot, "readers": len(data.readers), "difference": pilot_res.difference},
        "effect": args.effect,
        "power": args.power,
        "alpha": args.alpha,
        "designs": auc_sample_size(
            effect=args.effect,
            pilot=pilot,
            power=args.power,
            alpha=args.alpha,
            readers=_readers(args.readers),
        ),
    }


def run(args) -> int:
    handlers = {"delong": _delong, "mrmc": _mrmc, "time": _time, "samplesize": _samplesize}
    try:
        result = handlers[args.stats_command](args)
    except StatsInputError as exc:
        print(f"boneread-ml stats {args.stats_command}: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # anything else the data made impossible
        print(f"boneread-ml stats {args.stats_command}: error: {exc}", file=sys.stderr)
        return 2
    json.dump(_clean(result), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="boneread-ml stats", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    pd.set_option("mode.copy_on_write", True)
    sys.exit(main())
