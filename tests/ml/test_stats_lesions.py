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


# --- wAFROC against an independent brute-force implementation of the definition -------------


def _random_froc(rng, *, n_normal, n_abnormal, max_lesions, readers, arms, weights):
    """Random FROC data whose matching is unambiguous: lesion marks sit on the lesion centre,
    false marks 1000 away from every lesion. Ratings are small integers, so ties are common."""
    lesions, marks = [], []
    for k in range(n_abnormal):
        for li in range(int(rng.integers(1, max_lesions + 1))):
            row = {"case": f"A{k}", "lesion": str(li), "x": 100.0 * li, "y": 0.0, "label": None}
            if weights:
                row["weight"] = float(rng.uniform(0.2, 3.0))
            lesions.append(row)
    les = pd.DataFrame(lesions)
    cases = [f"A{k}" for k in range(n_abnormal)] + [f"N{k}" for k in range(n_normal)]
    for reader in readers:
        for arm in arms:
            for _, lesion in les.iterrows():
                for _ in range(int(rng.integers(0, 3))):  # 0, 1 or 2 marks (a duplicate)
                    marks.append((reader, arm, lesion["case"], lesion["x"], 0.0, None,
                                  float(rng.integers(1, 6))))  # fmt: skip
            for case in cases:  # false marks, on normal and abnormal cases
                for _ in range(int(rng.integers(0, 3))):
                    marks.append((reader, arm, case, 5000.0 + rng.uniform(), 1000.0, None,
                                  float(rng.integers(1, 6))))  # fmt: skip
    return _marks(marks), les, cases


def _wafroc_brute(marks, les, cases, reader, arm):
    """The definition, one term at a time, straight from the raw marks."""
    mine = marks[(marks["reader"] == reader) & (marks["arm"] == arm)]
    abnormal = [c for c in cases if c in set(les["case"])]
    normal = [c for c in cases if c not in set(les["case"])]
    total = 0.0
    for n in normal:
        fps = [m.rating for m in mine.itertuples() if m.case == n]
        fp = max(fps) if fps else -np.inf
        for a in abnormal:
            case_lesions = les[les["case"] == a]
            wsum = case_lesions["weight"].sum() if "weight" in les else len(case_lesions)
            for lesion in case_lesions.itertuples():
                w = (lesion.weight if "weight" in les else 1.0) / wsum
                hits = [m.rating for m in mine.itertuples() if m.case == a and m.x == lesion.x]
                ll = max(hits) if hits else -np.inf
                total += w * (1.0 if ll > fp else 0.5 if ll == fp else 0.0)
    return total / (len(normal) * len(abnormal))


@pytest.mark.parametrize("seed", range(6))
def test_wafroc_equals_brute_force_on_random_froc_data(seed):
    rng = np.random.default_rng(seed)
    marks, les, cases = _random_froc(
        rng, n_normal=5, n_abnormal=4, max_lesions=3, readers=["r1", "r2"], arms=["a", "u"],
        weights=seed % 2 == 1,
    )  # fmt: skip
    theta, jack, trts, rdrs, order = wafroc_arrays(marks, les, cases, hit_distance=5.0)
    for ti, arm in enumerate(trts):
        for ri, reader in enumerate(rdrs):
            assert theta[ti, ri] == pytest.approx(
                _wafroc_brute(marks, les, cases, reader, arm), abs=1e-12
            )
            # each jackknife value is the FOM of the data without that case
            for ci, case in enumerate(order):
                rest = [c for c in cases if c != case]
                expected = _wafroc_brute(
                    marks[marks["case"] != case], les[les["case"] != case], rest, reader, arm
                )
                assert jack[ti, ri, ci] == pytest.approx(expected, abs=1e-12)


def test_wafroc_with_one_lesion_per_case_is_the_empirical_auc_of_ll_vs_fp():
    """AFROC/ROC relation: one lesion per abnormal case (weights then all 1) makes wAFROC the
    AFROC FOM, the Wilcoxon AUC of the lesions' LL ratings against the normal cases' highest
    false-mark ratings (unmarked: lowest, tied)."""
    from boneread_ml.stats.roc import empirical_auc

    rng = np.random.default_rng(11)
    marks, les, cases = _random_froc(
        rng, n_normal=7, n_abnormal=6, max_lesions=1, readers=["r"], arms=["u"], weights=True
    )
    theta, *_ = wafroc_arrays(marks, les, cases, hit_distance=5.0)
    low = -1e9
    fp = [
        marks.loc[(marks["case"] == c), "rating"].max() if (marks["case"] == c).any() else low
        for c in cases
        if c.startswith("N")
    ]
    on_lesion = marks[marks["x"] < 1000]
    ll = [
        on_lesion.loc[on_lesion["case"] == c, "rating"].max()
        if (on_lesion["case"] == c).any()
        else low
        for c in cases
        if c.startswith("A")
    ]
    y = np.array([1] * len(ll) + [0] * len(fp))
    assert theta[0, 0] == pytest.approx(empirical_auc(y, np.array(ll + fp, float)), abs=1e-12)


def test_wafroc_limits():
    les = LESIONS
    # every lesion found above every false mark: 1; nothing marked: every pair tied at -inf: 0.5
    marks = _marks(
        [
            ("r", "u", "A", 10, 10, None, 9),
            ("r", "u", "A", 50, 50, None, 8),
            ("r", "u", "B", 20, 20, None, 7),
            ("r", "u", "N1", 0, 0, None, 6),
            ("r", "u", "N2", 0, 0, None, 6),
        ]
    )
    theta, *_ = wafroc_arrays(marks, les, CASES, hit_distance=5.0)
    assert theta[0, 0] == 1.0
    only_false = _marks([("r", "u", "N1", 0, 0, None, 3)])
    theta, *_ = wafroc_arrays(only_false, les, CASES, hit_distance=5.0)
    # N1: FP 3 beats every unfound lesion (0); N2: unmarked, ties with them (0.5)
    assert theta[0, 0] == pytest.approx((0 + 0.5) / 2)
