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
