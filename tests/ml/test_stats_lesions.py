"""Lesion-level scores and the wAFROC figure of merit on hand-made marks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from boneread_ml.stats.lesions import lesion_scores, match_marks, wafroc_analysis, wafroc_arrays

LESIONS = pd.DataFrame(
    {
        "case": ["A", "A", "B"],
        "lesion": ["1", "2", "1"],
        "x": [10.0, 50.0, 20.0],
        "y": [10.0, 50.0, 20.0],
        "label": ["metastatic", "benign", "metastatic"],
    }
)
CASES = ["A", "B", "N1", "N2"]  # N1, N2: normal cases


def _marks(rows):
    return pd.DataFrame(rows, columns=["reader", "arm", "case", "x", "y", "label", "rating"])


def _hits(m):
    return [None if pd.isna(x) else x for x in m["lesion"]]


def test_a_mark_hits_within_the_distance_or_inside_the_mask():
    marks = _marks(
        [
            ("r", "u", "A", 13, 14, None, 1),  # 5 from lesion A1
            ("r", "u", "A", 30, 30, None, 1),  # far from both
            ("r", "u", "B", 2, 2, None, 1),  # far from B1, but inside its mask
        ]
    )
    mask = np.zeros((40, 40), dtype=bool)
    mask[0:5, 0:5] = True
    m = match_marks(marks, LESIONS, hit_distance=6.0, masks={("B", "1"): mask})
    assert _hits(m) == ["1", None, "1"]
    m = match_marks(marks, LESIONS, hit_distance=4.0)
    assert _hits(m) == [None, None, None]


def test_localisation_false_marks_and_classification():
    marks = _marks(
        [
            ("r", "u", "A", 11, 10, "metastatic", 80),  # hits A1, right label
            ("r", "u", "A", 12, 10, "benign", 60),  # second mark on A1: duplicate
            ("r", "u", "A", 51, 50, "metastatic", 70),  # hits A2, wrong label
            ("r", "u", "N1", 5, 5, "metastatic", 40),  # false mark
            ("r", "u", "B", 90, 90, "benign", 30),  # false mark, B1 missed
        ]
    )
    (row,) = lesion_scores(marks, LESIONS, CASES, hit_distance=5.0)
    assert row["localisation_sensitivity"]["estimate"] == pytest.approx(2 / 3)
    assert row["false_marks"] == 2 and row["false_marks_per_case"] == pytest.approx(0.5)
    assert row["duplicate_marks"] == 1
    # the highest-rated mark of each found lesion carries the label: A1 right, A2 wrong
    assert row["classification_accuracy"]["estimate"] == pytest.approx(0.5)


def _wafroc_by_hand(fp, ll, w):
    total = 0.0
    for f in fp:
        for lls, ws in zip(ll, w, strict=True):
            for x, wt in zip(lls, ws, strict=True):
                total += wt * (1.0 if x > f else 0.5 if x == f else 0.0)
    return total / (len(fp) * len(ll))


def test_wafroc_figure_of_merit_by_hand():
    marks = _marks(
        [
            ("r", "u", "A", 10, 10, None, 5),  # A1 LL = 5
            ("r", "u", "B", 20, 21, None, 2),  # B1 LL = 2
            ("r", "u", "N1", 0, 0, None, 3),  # N1 FP = 3
            ("r", "u", "N1", 1, 0, None, 1),
            # N2 unmarked: FP = -inf; A2 unmarked: LL = -inf
        ]
    )
    theta, jack, trts, rdrs, cases = wafroc_arrays(marks, LESIONS, CASES, hit_distance=5.0)
    fp = [3.0, -np.inf]
    ll = [[5.0, -np.inf], [2.0]]
    w = [[0.5, 0.5], [1.0]]
    assert theta[0, 0] == pytest.approx(_wafroc_by_hand(fp, ll, w))
    # leave out case N1 (index 2) and case A (index 0)
    assert jack[0, 0, 2] == pytest.approx(_wafroc_by_hand([-np.inf], ll, w))
    assert jack[0, 0, 0] == pytest.approx(_wafroc_by_hand(fp, ll[1:], w[1:]))


def test_wafroc_or_analysis_runs_on_two_arms_and_readers():
    rng = np.random.default_rng(1)
    rows = []
    for reader in ("r1", "r2", "r3"):
        for arm, boost in (("u", 0), ("a", 1)):
            for case, x in (("A", 10), ("B", 20)):
                rows.append((reader, arm, case, x, x, None, float(rng.integers(2, 5) + boost)))
            rows.append((reader, arm, "N1", 0, 0, None, float(rng.integers(1, 4))))
    res = wafroc_analysis(_marks(rows), LESIONS, CASES, hit_distance=5.0, treatments=["a", "u"])
    assert res.method == "or-wafroc" and res.treatments == ["a", "u"]
    assert 0 <= res.p <= 1 and len(res.auc["a"]) == 3
