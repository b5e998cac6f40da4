"""`python -m boneread_ml stats ...`: JSON keys, published numbers, and every bad-input message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from boneread_ml.stats.cli import main
from boneread_ml.stats.simulate import SimulationSpec, simulate_study

REF = Path(__file__).resolve().parents[1] / "fixtures" / "reference_data"
ML = Path(__file__).resolve().parents[2] / "ml"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_python_m_boneread_ml_stats_is_the_entry_point():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ML), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "boneread_ml", "stats", "mrmc", "--csv", REF / "vandyke_roc.csv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["F"] == pytest.approx(4.4563187, abs=1e-6)
    # the exit status of bad input passes through the package's main unchanged
    from boneread_ml.cli.main import main as package_main

    assert package_main(["stats", "mrmc", "--csv", "/nonexistent.csv"]) == 2


def test_delong_keys_and_proc_numbers(capsys):
    code, out, _ = run(
        capsys,
        "delong",
        "--csv",
        REF / "asah.csv",
        "--truth",
        "outcome",
        "--positive",
        "Poor",
        "--a",
        "wfns",
        "--b",
        "s100b",
    )
    assert code == 0
    res = json.loads(out)
    assert {"auc_a", "auc_b", "z", "p", "ci"} <= set(res) and "df" not in res
    assert res["z"] == pytest.approx(2.20898359144091, abs=1e-6)
    assert res["ci"] == [
        pytest.approx(0.0104061769564846, abs=1e-6),
        pytest.approx(0.174214419249478, abs=1e-6),
    ]


def test_delong_unpaired_reports_d_and_df(capsys, tmp_path):
    df = pd.read_csv(REF / "asah.csv")
    df.loc[60:, "wfns"] = None  # curve a: first 60 patients; curve b: the rest
    df.loc[:59, "s100b"] = None
    path = tmp_path / "split.csv"
    df.to_csv(path, index=False)
    code, out, _ = run(
        capsys,
        "delong",
        "--csv",
        path,
        "--truth",
        "outcome",
        "--positive",
        "Poor",
        "--a",
        "wfns",
        "--b",
        "s100b",
        "--unpaired",
        "--alternative",
        "greater",
    )
    assert code == 0
    res = json.loads(out)
    assert res["statistic"] == "D" and res["df"] > 0 and res["alternative"] == "greater"


def test_mrmc_keys(capsys):
    code, out, _ = run(capsys, "mrmc", "--csv", REF / "vandyke_roc.csv", "--readers", "fixed")
    res = json.loads(out)
    assert code == 0
    assert {
        "auc",
        "auc_mean",
        "difference",
        "chi2",
        "df_numerator",
        "df_denominator",
        "p",
        "ci",
        "single_treatment",
        "var_components",
    } <= set(res)
    assert set(res["var_components"]) >= {"var", "cov1", "cov2", "cov3", "ms_t", "ms_tr"}
    assert set(res["single_treatment"]["0"]) >= {"ci", "df"}
    assert res["chi2"] == pytest.approx(5.4759532, abs=1e-6)


def test_time_keys(capsys, tmp_path):
    path = tmp_path / "times.csv"
    simulate_study(SimulationSpec(n_readers=4, n_cases=12, seed=1)).to_csv(path, index=False)
    code, out, err = run(capsys, "time", "--csv", path, "--engine", "reml")
    assert code == 0, err
    res = json.loads(out)
    assert {"ratio", "ratio_ci", "totals", "paired_tests", "carry_over"} <= set(res)
    # each reader's own time ratio with its CI, from the per-case log differences
    df = pd.read_csv(path)
    for row in res["paired_tests"]:
        g = df[df.reader == row["reader"]].pivot_table(
            index="case", columns="arm", values="seconds"
        )
        logd = np.log(g["aided"]) - np.log(g["unaided"])
        assert row["ratio"] == pytest.approx(float(np.exp(logd.mean())), rel=1e-9)
        assert row["ratio_ci"][0] < row["ratio"] < row["ratio_ci"][1]


@pytest.fixture
def vandyke(tmp_path):
    def write(mutate, name="bad.csv"):
        df = mutate(pd.read_csv(REF / "vandyke_roc.csv"))
        path = tmp_path / name
        df.to_csv(path, index=False)
        return path

    return write


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.drop(columns=["truth"]), "lacks column(s) truth"),
        (
            lambda d: d[~((d.reader == 3) & (d.treatment == 1))],
            "reader 3 has ratings in treatment(s) ['0'] only",
        ),
        (lambda d: d.assign(truth=d.truth.where(d.case != 7)), "case(s) without truth: 7"),
        (
            lambda d: d.assign(rating=d.rating.where(d.reader != 2, 3.0)),
            "reader 2 gives every case the same rating (3)",
        ),
    ],
)
def test_mrmc_bad_input_exits_2_with_the_reason(capsys, vandyke, mutate, message):
    code, out, err = run(capsys, "mrmc", "--csv", vandyke(mutate))
    assert code == 2 and out == ""
    assert message in err


def test_unreadable_file_exits_2(capsys, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    code, out, err = run(capsys, "mrmc", "--csv", path)
    assert code == 2 and out == "" and "cannot read" in err
    code, _, err = run(capsys, "time", "--csv", tmp_path / "missing.csv")
    assert code == 2 and "no such file" in err


# (how the aSAH table is spoiled, --positive, --b, what the message must say)
DELONG_BAD_INPUTS = {
    "constant ratings": (
        lambda df: df.assign(ndka=1.0),
        "Poor",
        "ndka",
        ["column ndka has the same value (1) for every case"],
    ),
    "positive value absent": (
        lambda df: df.assign(ndka=1.0),
        "Bad",
        "s100b",
        ["no row has outcome == 'Bad'"],
    ),
    "case without truth": (
        lambda df: df.assign(outcome=df.outcome.where(df.index != 5)),
        "Poor",
        "s100b",
        ["every case needs a truth"],
    ),
    "missing column": (lambda df: df, "Poor", "nope", ["lacks column(s) nope"]),
    "blank rating": (
        lambda df: df.assign(s100b=df.s100b.where(df.index != 9)),
        "Poor",
        "s100b",
        ["column s100b is empty in row 11", "--unpaired"],
    ),
}


@pytest.mark.parametrize("case", list(DELONG_BAD_INPUTS))
def test_delong_bad_input_exits_2(capsys, tmp_path, case):
    spoil, positive, b, expected = DELONG_BAD_INPUTS[case]
    path = tmp_path / "bad.csv"
    spoil(pd.read_csv(REF / "asah.csv")).to_csv(path, index=False)
    code, out, err = run(
        capsys,
        "delong",
        *("--csv", path, "--truth", "outcome", "--positive", positive),
        *("--a", "wfns", "--b", b),
    )
    assert code == 2 and out == ""
    for text in expected:
        assert text in err


def test_time_bad_input_exits_2(capsys, tmp_path):
    df = simulate_study(SimulationSpec(n_readers=2, n_cases=6, seed=1))
    path = tmp_path / "t.csv"
    df[~((df.reader == "R02") & (df.arm == "aided"))].to_csv(path, index=False)
    code, _, err = run(capsys, "time", "--csv", path)
    assert code == 2 and "reader R02 has times in arm unaided only" in err


def test_samplesize_reproduces_rjafroc_251_cases_for_6_readers(capsys):
    code, out, err = run(
        capsys,
        "samplesize",
        "--csv",
        REF / "vandyke_roc.csv",
        "--effect",
        "-0.04380032206119144",
        "--readers",
        "6,10",
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["designs"][0] == {
        "readers": 6,
        "cases": 251,
        "power": pytest.approx(0.8005, abs=1e-3),
    }
    assert res["pilot"]["var_tr"] == pytest.approx(0.00020040252, abs=1e-10)
    code, _, err = run(
        capsys,
        "samplesize",
        "--csv",
        REF / "vandyke_roc.csv",
        "--effect",
        "0.05",
        "--readers",
        "six",
    )
    assert code == 2 and "--readers must look like" in err
