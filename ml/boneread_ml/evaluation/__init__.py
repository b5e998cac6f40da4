"""evaluation: pure numpy metrics, bootstrap CIs, fast DeLong, tables and plots."""

from boneread_ml.evaluation.delong import DeLongResult, delong_covariance, delong_test
from boneread_ml.evaluation.metrics import (
    bootstrap_ci,
    case_metrics,
    confusion_counts,
    dice,
    lesion_detection,
    metrics_from_counts,
    paired_bootstrap_difference,
    roc_auc,
    roc_curve,
)

__all__ = [
    "DeLongResult",
    "bootstrap_ci",
    "case_metrics",
    "confusion_counts",
    "delong_covariance",
    "delong_test",
    "dice",
    "lesion_detection",
    "metrics_from_counts",
    "paired_bootstrap_difference",
    "roc_auc",
    "roc_curve",
]
