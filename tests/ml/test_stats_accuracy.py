"""Accuracy per reader and arm: sensitivity/specificity CIs and per-reader AUCs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from boneread_ml.stats.accuracy import accuracy_table, proportion, sens_spec
from boneread_ml.stats.data import StatsInputError
from boneread_ml.stats.roc import delong_test
from boneread_ml.stats.simulate import SimulationSpec, simulate_study


def test_wilson_interval_by_hand():
    p = proportion(8, 10, method="wilson")
    z = stats.norm.ppf(0.975)
    centre = (0.8 + z**2 / 20) / (1 + z**2 / 10)
    half = z / (1 + z**2 / 10) * np.sqrt(0.8 * 0.2 / 10 + z**2 / 400)
    assert p["ci"] == [pytest.approx(centre - half), pytest.approx(centre + half)]


def test_exact_interval_is_clopper_pearson():
    p = proportion(3, 12, method="exact")
    assert p["ci"][0] == pytest.approx(stats.beta.ppf(0.025, 3, 10))
    assert p["ci"][1] == pytest.approx(stats.beta.ppf(0.975, 4, 9))
    assert proportion(0, 5, method="exact")["ci"][0] == 0.0


def test_sensitivity_and_specificity_counts():
    truth = np.array([1, 1, 1, 0, 0, 0, 0])
    answer = np.array([1, 0, 1, 0, 1, 0, 0])
    ss = sens_spec(truth, answer)
    assert ss["sensitivity"]["estimate"] == pytest.approx(2 / 3)
    assert ss["specificity"]["estimate"] == pytest.approx(3 / 4)


def test_accuracy_table_per_reader_and_delong():
    df = simulate_study(SimulationSpec(n_readers=3, n_cases=30, seed=2))
    out = accuracy_table(df, arms=["aided", "unaided"])
    assert len(out["per_reader"]) == 6
    row = next(r for r in out["per_reader"] if r["reader"] == "R01" and r["arm"] == "aided")
    g = df[(df.reader == "R01") & (df.arm == "aided")]
    assert row["sensitivity"]["successes"] == int(((g.truth == 1) & (g.answer == "yes")).sum())
    test = next(t for t in out["delong_per_reader"] if t["reader"] == "R01")
    a = df[(df.reader == "R01") & (df.arm == "aided")].sort_values("case")
    u = df[(df.reader == "R01") & (df.arm == "unaided")].sort_values("case")
    ref = delong_test(a.truth.to_numpy(), a.rating.to_numpy(), u.rating.to_numpy())
    assert test["z"] == pytest.approx(ref.z) and test["auc_a"] == pytest.approx(row["auc"]["auc"])


def test_unknown_answers_are_refused():
    df = pd.DataFrame(
        {
            "reader": [1, 1],
            "arm": ["a", "a"],
            "case": [1, 2],
            "truth": [0, 1],
            "rating": [10, 90],
            "answer": ["maybe", "yes"],
        }
    )
    with pytest.raises(StatsInputError, match="yes/no"):
        accuracy_table(df)


def test_positive_value_matches_numbers_and_text():
    from boneread_ml.stats.data import binary_truth

    assert list(binary_truth(pd.Series([0.0, 1.0, 1.0]), positive="1")) == [0, 1, 1]
    assert list(binary_truth(pd.Series(["Good", "Poor"]), positive="Poor")) == [0, 1]
    with pytest.raises(StatsInputError, match="no row has truth == 'Bad'"):
        binary_truth(pd.Series(["Good", "Poor"]), positive="Bad")
