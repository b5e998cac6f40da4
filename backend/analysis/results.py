"""The results JSON of a reader study: the statistics engine's output, reshaped for the page.

``results_compute`` takes the long-format tables of the read model (``analysis.tables``) and calls
``boneread_ml.stats`` for every number; it only renames keys and picks the parts the page, the
PDF and the CSV show. A section the data cannot support yet (no reader has read both arms, one
truth class only, ...) is None, with the engine's reason in ``notes``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from boneread_ml.stats.accuracy import accuracy_table
from boneread_ml.stats.data import StatsInputError
from boneread_ml.stats.lesions import lesion_scores
from boneread_ml.stats.mrmc import mrmc_analysis
from boneread_ml.stats.timing import time_analysis

ARMS = ("unaided", "aided")
#: The engine's differences are first minus second: with AI minus without.
ARM_ORDER = ["aided", "unaided"]


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, recursively."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _time_section(times: pd.DataFrame, notes: list[str]) -> dict[str, Any] | None:
    if times.empty:
        notes.append("Reading time: no submitted reading yet.")
        return None
    try:
        result = time_analysis(times[["reader", "arm", "session", "case", "seconds"]])
    except (StatsInputError, ValueError, ZeroDivisionError) as exc:
        notes.append(f"Reading time: {exc}")
        return None
    totals = result["totals"]
    tests = {row["reader"]: row for row in result["paired_tests"]}
    carry = result.get("carry_over") or {}
    notes.extend(f"Time model: {note}" for note in result["model"].get("notes", []))
    if result["model"].get("converged") is False:
        notes.append("Time model: the mixed model did not converge; read its ratio with care.")
    return {
        "per_reader": [
            {
                "reader": row["reader"],
                "unaided_minutes": row["minutes_unaided"],
                "aided_minutes": row["minutes_aided"],
                "n_unaided": row["cases_unaided"],
                "n_aided": row["cases_aided"],
                "t_p": tests.get(row["reader"], {}).get("t_p"),
                "wilcoxon_p": tests.get(row["reader"], {}).get("wilcoxon_p"),
                # the reader's own ratio aided/unaided (geometric mean over paired cases)
                "ratio": tests.get(row["reader"], {}).get("ratio"),
                "ratio_ci": tests.get(row["reader"], {}).get("ratio_ci"),
            }
            for row in totals["per_reader"]
        ],
        "mean_unaided_minutes": totals["mean_minutes_unaided"],
        "mean_aided_minutes": totals["mean_minutes_aided"],
        "ratio_of_means": totals["ratio_of_means"],
        "ratio": result["ratio"],
        "ratio_ci": result["ratio_ci"],
        "ratio_p": result["p"],
        # The engine reports the arm x period term on the log scale (see its docstring).
        "carryover": {
            "estimate": carry.get("estimate"),
            "se": carry.get("se"),
            "p": carry.get("p"),
            "scale": "log",
        }
        if "estimate" in carry
        else None,
        "model": result["model"],
        # The data the distribution plot draws (per-case times, not statistics).
        "per_case_seconds": {
            arm: [float(s) for s in times.loc[times["arm"] == arm, "seconds"]] for arm in ARMS
        },
    }


def _accuracy_row(reader: str | None, arm: str, summary: dict[str, Any]) -> dict[str, Any]:
    sens = summary.get("sensitivity") or {}
    spec = summary.get("specificity") or {}
    auc = summary.get("auc") or {}
    row = {
        "arm": arm,
        "n_cases": summary.get("n_cases"),
        "n_positive": summary.get("n_positive"),
        "sensitivity": sens.get("estimate"),
        "sensitivity_ci": sens.get("ci"),
        "specificity": spec.get("estimate"),
        "specificity_ci": spec.get("ci"),
        "auc": auc.get("auc"),
        "auc_ci": auc.get("ci"),
    }
    if reader is not None:
        row["reader"] = reader
    return row


def _roc(summary: dict[str, Any]) -> dict[str, Any] | None:
    roc = summary.get("roc")
    if not roc:
        return None
    return {"fpr": roc["fpr"], "tpr": roc["tpr"], "auc": (summary.get("auc") or {}).get("auc")}


def _accuracy_section(
    answers: pd.DataFrame, notes: list[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if answers.empty:
        notes.append("Accuracy: no submitted answer yet.")
        return None, None
    try:
        table = accuracy_table(
            answers[["reader", "arm", "case", "truth", "rating", "answer"]],
            arms=ARM_ORDER,
            with_roc_points=True,
        )
    except (StatsInputError, ValueError) as exc:
        notes.append(f"Accuracy: {exc}")
        return None, None
    accuracy = {
        "per_reader": [
            _accuracy_row(row["reader"], row["arm"], row) for row in table["per_reader"]
        ],
        "pooled": [
            _accuracy_row(None, arm, table["pooled"][arm]) for arm in ARMS if arm in table["pooled"]
        ],
        "delong": [
            {
                "reader": row["reader"],
                "auc_aided": row["auc_a"],
                "auc_unaided": row["auc_b"],
                "difference": row["difference"],
                "ci": row["ci"],
                "p": row["p"],
                "z": row["z"],
            }
            for row in table["delong_per_reader"]
        ],
    }
    roc: dict[str, Any] = {"pooled": {}, "per_reader": {}}
    for arm, summary in table["pooled"].items():
        if (curve := _roc(summary)) is not None:
            roc["pooled"][arm] = curve
    for row in table["per_reader"]:
        if (curve := _roc(row)) is not None:
            roc["per_reader"].setdefault(row["reader"], {})[row["arm"]] = curve
    return accuracy, roc


def _mrmc_section(answers: pd.DataFrame, notes: list[str]) -> dict[str, Any] | None:
    if answers.empty:
        return None
    try:
        result = mrmc_analysis(
            answers.rename(columns={"arm": "treatment"})[
                ["reader", "treatment", "case", "truth", "rating"]
            ],
            treatments=ARM_ORDER,
        )
    except (StatsInputError, ValueError) as exc:
        notes.append(f"MRMC: {exc}")
        return None
    return result.as_dict()


#: A mark within this many pixels (voxels) of a truth lesion's centre localises it.
HIT_DISTANCE = 15.0
#: Planar marks and lesions carry their view; shifting the posterior view far away keeps a mark
#: on one view from matching a lesion on the other (coordinates are per image).
VIEW_OFFSET = {"posterior": 1.0e6}


def _with_view_offset(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    shift = frame["view"].map(VIEW_OFFSET).fillna(0.0) if "view" in frame else 0.0
    frame["x"] = frame["x"].astype(float) + shift
    frame["y"] = frame["y"].astype(float)
    if "z" in frame and frame["z"].notna().all():
        frame["z"] = frame["z"].astype(float)
    else:
        frame = frame.drop(columns=["z"], errors="ignore")
    return frame


def _lesion_section(tables: Any, notes: list[str]) -> dict[str, Any] | None:
    marks, truth = tables.marks, tables.truth_lesions
    if marks.empty or truth.empty:
        return None
    try:
        rows = lesion_scores(
            _with_view_offset(marks.dropna(subset=["x", "y"])),
            _with_view_offset(truth.dropna(subset=["x", "y"])),
            sorted(set(tables.case_labels.values())),
            hit_distance=HIT_DISTANCE,
        )
    except (StatsInputError, ValueError, KeyError) as exc:
        notes.append(f"Lesion level: {exc}")
        return None

    def estimate(value: Any) -> tuple[Any, Any]:
        if isinstance(value, dict):
            return value.get("estimate"), value.get("ci")
        return value, None

    out = []
    for row in rows:
        loc, loc_ci = estimate(row.get("localisation_sensitivity"))
        acc, acc_ci = estimate(row.get("classification_accuracy"))
        out.append(
            {
                "reader": row["reader"],
                "arm": row["arm"],
                "localisation_sensitivity": loc,
                "localisation_sensitivity_ci": loc_ci,
                "false_marks_per_case": row.get("false_marks_per_case"),
                "classification_accuracy": acc,
                "classification_accuracy_ci": acc_ci,
                "n_lesions": row.get("n_lesions"),
            }
        )
    return {"per_reader": out, "pooled": [], "hit_distance": HIT_DISTANCE}


def results_compute(*, tables: Any) -> dict[str, Any]:
    """The results JSON (shape: docs/reader-study-results.md) from the read
    model's tables (``analysis.tables.StudyTables``)."""
    notes: list[str] = []
    time = _time_section(tables.times, notes)
    accuracy, roc = _accuracy_section(tables.answers, notes)
    mrmc = _mrmc_section(tables.answers, notes)
    return _clean(
        {
            "study": tables.study,
            "design": tables.design,
            "time": time,
            "accuracy": accuracy,
            "roc": roc,
            "mrmc": mrmc,
            "lesions": _lesion_section(tables, notes),
            "flagged": tables.flagged,
            "notes": notes + list(getattr(tables, "notes", [])),
        }
    )
