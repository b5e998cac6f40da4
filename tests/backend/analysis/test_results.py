"""results_compute on hand-made tables: lesion-level scores come from the engine with the
planar view respected; missing data gives empty sections with reasons, never an exception."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.results import results_compute

MARK_COLUMNS = ["reader", "arm", "session", "case", "mark", "label", "shape", "view", "x", "y", "z",
                "ai_lesion_id"]  # fmt: skip


def tables(marks: list[dict], truth: list[dict]) -> SimpleNamespace:
    return SimpleNamespace(
        study={"id": "s", "name": "t", "generated_at": ""},
        design={},
        times=pd.DataFrame(columns=["reader", "arm", "session", "case", "seconds"]),
        answers=pd.DataFrame(
            columns=["reader", "arm", "session", "case", "truth", "answer", "rating"]
        ),
        marks=pd.DataFrame(marks, columns=MARK_COLUMNS),
        truth_lesions=pd.DataFrame(
            truth, columns=["case", "lesion", "label", "view", "x", "y", "z"]
        ),
        flagged=[],
        notes=[],
        case_labels={1: "C001", 2: "C002"},
    )


def mark(case: str, view: str, x: float, y: float, label: str = "metastatic") -> dict:
    return {"reader": "R1", "arm": "aided", "session": 1, "case": case, "mark": 1, "label": label,
            "shape": "point", "view": view, "x": x, "y": y, "z": None, "ai_lesion_id": None}  # fmt: skip


TRUTH = [
    {"case": "C001", "lesion": 1, "label": "metastatic", "view": "anterior", "x": 100, "y": 200, "z": None},
    {"case": "C001", "lesion": 2, "label": "benign", "view": "posterior", "x": 50, "y": 60, "z": None},
]  # fmt: skip


def test_lesion_level_counts_hits_false_marks_and_respects_the_view():
    result = results_compute(
        tables=tables(
            [
                mark("C001", "anterior", 103, 204),  # hits lesion 1 (5 px away), right label
                # Same coordinates as lesion 2 but on the anterior view: a false mark.
                mark("C001", "anterior", 50, 60, "benign"),
                mark("C002", "posterior", 10, 10),  # a case without lesions: false mark
            ],
            TRUTH,
        )
    )
    (row,) = result["lesions"]["per_reader"]
    assert row["localisation_sensitivity"] == pytest.approx(0.5)  # 1 of 2 lesions found
    assert row["false_marks_per_case"] == pytest.approx(2 / 2)  # 2 false marks over 2 cases
    assert row["classification_accuracy"] == pytest.approx(1.0)
    assert result["time"] is None and result["accuracy"] is None and result["mrmc"] is None
    assert any("no submitted" in note for note in result["notes"])


def test_no_marks_means_no_lesion_section():
    assert results_compute(tables=tables([], TRUTH))["lesions"] is None
