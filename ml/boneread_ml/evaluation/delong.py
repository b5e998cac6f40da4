"""Backwards-compatible import path: DeLong lives in :mod:`boneread_ml.stats.roc`."""

from boneread_ml.stats.roc import DeLongResult, delong_covariance, delong_test, midrank

__all__ = ["DeLongResult", "delong_covariance", "delong_test", "midrank"]
