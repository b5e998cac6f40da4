"""benchmarks/experiment/grid.py: a (fold, training seed) grid trained and evaluated in parallel."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks" / "experiment"))

import grid  # noqa: E402


@pytest.fixture()
def toy(tmp_path):
    from boneread_ml.training.toy_data import make_toy_dataset

    root = make_toy_dataset(tmp_path / "data", "planar", cases=6, seed=0)
    run_args = ["--task", "planar", "--cases", "6", "--seed", "0",
                "--config", str(REPO / "ml/configs/toy.yaml"), "--data-root", str(root),
                "--steps", "2", "--threads", "1"]  # fmt: skip
    return root, run_args


def test_every_fold_and_seed_is_trained_evaluated_and_pooled_then_not_redone(toy, tmp_path):
    root, run_args = toy
    runs, out = tmp_path / "runs", tmp_path / "eval"
    own = ["--name", "g", "--folds", "0", "1", "--seeds", "1", "--jobs", "2", "--runs", str(runs),
           "--evaluate", str(out), "--poll", "0.2"]  # fmt: skip
    assert grid.main([*own, "--", *run_args]) == 0
    releases = {}
    for fold in (0, 1):
        release = runs / f"g_f{fold}_s1" / "mt_unet" / "release"
        config = json.loads((release / "config.json").read_text(encoding="utf-8"))
        assert config["seed"] == 1 and config["val_folds"] == [fold]  # trained as asked
        assert (out / f"fold{fold}" / "seed1" / "results.json").exists()  # evaluated on its fold
        releases[fold] = (release / "model.safetensors").stat().st_mtime_ns
    record = json.loads((runs / "g_grid.json").read_text(encoding="utf-8"))
    assert [(j["fold"], j["seed"], j["state"]) for j in record["jobs"]] == [
        (0, 1, "done"),
        (1, 1, "done"),
    ]
    # the printed pooling command pools both folds' cases
    subprocess.run(shlex.split(record["pool"]), check=True, capture_output=True, cwd=REPO)
    pooled = json.loads((out / "pooled.json").read_text(encoding="utf-8"))
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    want = [c for c in manifest["cases"] if int(c["fold"]) in (0, 1)]
    assert (pooled["folds"], pooled["seeds"], pooled["test_cases"]) == ([0, 1], [1], len(want))
    # a second run finds the releases and the evaluations and redoes neither
    assert grid.main([*own, "--", *run_args]) == 0
    for fold in (0, 1):
        release = runs / f"g_f{fold}_s1" / "mt_unet" / "release"
        assert (release / "model.safetensors").stat().st_mtime_ns == releases[fold]


def test_a_grid_cut_off_at_its_deadline_says_what_is_missing(toy, tmp_path, capsys):
    _, run_args = toy
    runs = tmp_path / "runs"
    own = ["--name", "g", "--folds", "0", "1", "2", "--seeds", "0", "--jobs", "2",
           "--runs", str(runs), "--deadline", "1", "--poll", "0.1"]  # fmt: skip
    assert grid.main([*own, "--", *run_args]) == 1
    record = json.loads((runs / "g_grid.json").read_text(encoding="utf-8"))
    states = {(j["fold"], j["seed"]): j["state"] for j in record["jobs"]}
    assert states == {
        (0, 0): "stopped at the deadline",
        (1, 0): "stopped at the deadline",
        (2, 0): "not started",
    }
    assert not list(runs.glob("g_f*_s0/mt_unet/release/model.safetensors"))
    err = capsys.readouterr().err
    assert "fold 2 seed 0 (not started)" in err and "fold 0 seed 0 (stopped" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--test-fold", "3"], "the grid sets --test-fold itself"),
        (["--train-seed=4"], "the grid sets --train-seed=4 itself"),
        (["--runs", "x"], "the grid sets --runs itself"),
    ],
)
def test_run_arguments_the_grid_owns_are_refused_by_name(toy, tmp_path, capsys, extra, message):
    _, run_args = toy
    with pytest.raises(SystemExit):
        grid.main(["--name", "g", "--folds", "0", "--seeds", "0", "--runs", str(tmp_path),
                   "--", *run_args, *extra])  # fmt: skip
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g_grid.json").exists()


def test_evaluating_needs_the_cases_and_training_needs_run_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit, match="--evaluate needs the run.py argument --data-root"):
        grid.main(["--name", "g", "--folds", "0", "--seeds", "0", "--runs", str(tmp_path),
                   "--evaluate", str(tmp_path / "e"), "--", "--task", "planar"])  # fmt: skip
    with pytest.raises(SystemExit):
        grid.main(["--name", "g", "--folds", "0", "--seeds", "0", "--runs", str(tmp_path)])
    assert "give run.py's arguments after --" in capsys.readouterr().err


def test_an_interrupted_grid_stops_the_jobs_it_started(toy, tmp_path, monkeypatch):
    """The jobs run in their own process sessions; Ctrl-C in the grid must not leave them
    training on."""
    _, run_args = toy
    runs = tmp_path / "runs"

    def interrupt(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(grid.time, "sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        grid.main(["--name", "g", "--folds", "0", "1", "--seeds", "0", "--jobs", "2",
                   "--runs", str(runs), "--", *run_args])  # fmt: skip
    assert (runs / "g_f0_s0.log").exists() and (runs / "g_f1_s0.log").exists()  # both started
    left = subprocess.run(["pgrep", "-f", str(runs)], capture_output=True, text=True)
    assert left.returncode == 1, f"still running: {left.stdout}"


def test_a_grid_killed_with_sigterm_stops_its_jobs_too(toy, tmp_path):
    """`kill PID` on a grid running in the background (where a shell's `&` also leaves SIGINT
    ignored) must not orphan its trainings: before, the grid died and they trained on."""
    import os
    import signal
    import time

    _, run_args = toy
    runs = tmp_path / "runs"
    cmd = [sys.executable, str(REPO / "benchmarks/experiment/grid.py"), "--name", "g", "--folds",
           "0", "1", "--seeds", "0", "--jobs", "2", "--poll", "0.2", "--runs", str(runs), "--",
           *run_args, "--steps", "400"]  # fmt: skip
    grid_proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not ((runs / "g_f0_s0.log").exists() and (runs / "g_f1_s0.log").exists()):
            assert time.monotonic() < deadline, "the grid did not start its jobs"
            time.sleep(0.2)
        time.sleep(1.0)  # the trainings are under way
        os.kill(grid_proc.pid, signal.SIGTERM)
        grid_proc.wait(timeout=30)
        time.sleep(0.5)
        left = subprocess.run(["pgrep", "-f", str(runs)], capture_output=True, text=True)
        assert left.returncode == 1, f"still running: {left.stdout}"
    finally:
        subprocess.run(["pkill", "-9", "-f", str(runs)], check=False)
