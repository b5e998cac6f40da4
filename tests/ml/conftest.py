"""Shared fixtures for tests/ml.

Phantom fixtures: small generated data sets, made once per test session.
"""

from __future__ import annotations

import pytest

PLANAR_CASES, PLANAR_SEED = 8, 11
SPECTCT_CASES, SPECTCT_SEED = 2, 14


@pytest.fixture(scope="session")
def planar_set(tmp_path_factory):
    """A generated planar set (arrays, DICOM, manifest); returns its root."""
    from boneread_ml.data.manifest import generate

    return generate("planar", PLANAR_CASES, PLANAR_SEED, tmp_path_factory.mktemp("planar"))


@pytest.fixture(scope="session")
def spectct_set(tmp_path_factory):
    """A generated SPECT/CT set (arrays, DICOM, manifest); returns its root."""
    from boneread_ml.data.manifest import generate

    return generate("spectct", SPECTCT_CASES, SPECTCT_SEED, tmp_path_factory.mktemp("spectct"))


@pytest.fixture()
def toy_experiment(tmp_path):
    """benchmarks/experiment/run.py's ``main`` and the arguments of a 2-step MT-UNet run on a
    6-case toy planar set (runs under ``tmp_path / "runs"``)."""
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo / "benchmarks" / "experiment"))
    import run as experiment_run

    from boneread_ml.training.toy_data import make_toy_dataset

    root = make_toy_dataset(tmp_path / "data", "planar", cases=6, seed=0)
    common = ["--task", "planar", "--cases", "6", "--seed", "0", "--config", str(repo / "ml/configs/toy.yaml"),
              "--data-root", str(root), "--runs", str(tmp_path / "runs"), "--models", "mt_unet",
              "--train-only", "--steps", "2", "--threads", "1"]  # fmt: skip
    return experiment_run.main, common
