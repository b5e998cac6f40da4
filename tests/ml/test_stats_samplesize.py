"""Sample size: Hillis-Obuchowski power against RJafroc's published values for Van Dyke.

RJafroc's tests (tests/testthat, dataset02 = Van Dyke, OR method, RRRC):
SsPowerGivenJK(effectSize = -0.043800322, J = 10, K = 165) -> power 0.80541995;
SsPowerGivenJK(J = 6, K = 111) (observed effect) -> 0.5526116;
SsSampleSizeKGivenJ(J = 6) (observed effect) -> K = 251.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from boneread_ml.stats.data import StatsInputError
from boneread_ml.stats.mrmc import mrmc_analysis
from boneread_ml.stats.samplesize import (
    auc_power,
    auc_sample_size,
    pilot_components,
    time_power,
    time_ratio_power,
    time_sample_size,
)

VANDYKE = Path(__file__).resolve().parents[1] / "fixtures" / "reference_data" / "vandyke_roc.csv"


@pytest.fixture(scope="module")
def pilot():
    res = mrmc_analysis(pd.read_csv(VANDYKE))
    return pilot_components(res.var_components, n_cases=res.n_cases), res.difference


def test_var_tr_matches_rjafroc(pilot):
    p, _ = pilot
    assert p["var_tr"] == pytest.approx(0.00020040252, abs=1e-10)


def test_power_matches_rjafroc(pilot):
    p, observed = pilot
    assert auc_power(readers=10, cases=165, effect=-0.043800322, pilot=p)["power"] == pytest.approx(
        0.80541995, abs=1e-7
    )
    assert auc_power(readers=6, cases=111, effect=observed, pilot=p)["power"] == pytest.approx(
        0.5526116, abs=1e-7
    )


def test_sample_size_matches_rjafroc_and_is_minimal(pilot):
    p, observed = pilot
    (row,) = auc_sample_size(effect=observed, pilot=p, readers=[6])
    assert row["cases"] == 251 and row["power"] >= 0.8
    assert auc_power(readers=6, cases=250, effect=observed, pilot=p)["power"] < 0.8


def test_power_is_alpha_without_an_effect(pilot):
    p, _ = pilot
    assert auc_power(readers=5, cases=100, effect=0.0, pilot=p)["power"] == pytest.approx(0.05)


def test_time_power_is_high_for_a_large_effect_and_low_without_one():
    vc = {"reader": 0.04, "case": 0.09, "reader_arm": 0.0025, "residual": 0.12}
    big = time_power(readers=4, cases=12, time_ratio=0.62, variance_components=vc, n_sim=5, seed=1)
    none = time_power(readers=4, cases=12, time_ratio=1.0, variance_components=vc, n_sim=5, seed=1)
    assert big["power"] == 1.0
    assert none["power"] <= 0.4


VC = {"reader": 0.04, "case": 0.09, "reader_arm": 0.0025, "residual": 0.12}


def test_time_ratio_power_se_is_the_balanced_crossover_variance():
    res = time_ratio_power(readers=6, cases=30, time_ratio=0.8, variance_components=VC)
    assert res["se_log_ratio"] == pytest.approx(np.sqrt((2 * 0.0025 + 2 * 0.12 / 30) / 6))
    assert 0 < res["power"] < 1
    assert time_ratio_power(readers=6, cases=30, time_ratio=1.0, variance_components=VC)[
        "power"
    ] == pytest.approx(0.05, abs=1e-9)


def test_time_ratio_power_agrees_with_simulation():
    approx = time_ratio_power(readers=4, cases=8, time_ratio=0.85, variance_components=VC)
    sim = time_power(readers=4, cases=8, time_ratio=0.85, variance_components=VC, n_sim=40, seed=3)
    assert abs(sim["power"] - approx["power"]) < 3 * max(sim["power_se"], 0.05)


def test_time_sample_size_rows_reach_the_power_by_simulation():
    (row,) = time_sample_size(
        time_ratio=0.8, variance_components=VC, power=0.8, readers=[6], n_sim=20, seed=5
    )
    assert row["cases"] is not None and row["power"] >= 0.8 and row["n_sim"] == 20

    # the search starts at the fewest cases the t approximation needs and only goes up
    def approx(k):
        return time_ratio_power(readers=6, cases=k, time_ratio=0.8, variance_components=VC)

    start = next(k for k in range(2, 200) if approx(k)["power"] >= 0.8)
    assert row["cases"] >= start
    assert row["power_approx"] == pytest.approx(approx(row["cases"])["power"])


def test_time_sample_size_without_enough_readers_is_none():
    # a large reader x arm variance: more cases cannot make up for two readers
    vc = dict(VC, reader_arm=0.05)
    (row,) = time_sample_size(time_ratio=0.9, variance_components=vc, readers=[2], n_sim=20)
    assert row["cases"] is None and row["n_sim"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"power": 1.2}, "power must be between 0 and 1"),
        ({"time_ratio": 1.0}, "must be positive and not 1"),
        ({"variance_components": dict(VC, residual=0.0)}, "residual variance"),
    ],
)
def test_time_sample_size_bad_input(kwargs, message):
    args = {"time_ratio": 0.8, "variance_components": VC, "readers": [4], "n_sim": 20, **kwargs}
    with pytest.raises(StatsInputError, match=message):
        time_sample_size(**args)
