"""Result plots (PNG): Dice with CIs per model, ROC curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from boneread_ml.evaluation.metrics import roc_curve  # noqa: E402


def plot_dice_ci(
    summaries: Sequence[dict[str, Any]], path: str | Path, key: str = "mean_class_dice"
) -> Path:
    """Horizontal error bars: mean Dice and bootstrap 95% CI per model."""
    names = [s["model"] for s in summaries]
    means = [s[key] for s in summaries]
    lows = [s[key] - s[f"{key}_ci"][0] for s in summaries]
    highs = [s[f"{key}_ci"][1] - s[key] for s in summaries]
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(names) + 1.2))
    ax.errorbar(means, range(len(names)), xerr=[lows, highs], fmt="o", capsize=3)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{key.replace('_', ' ')} (mean, bootstrap 95% CI)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_roc(curves: dict[str, tuple[Any, Any, float]], path: str | Path, title: str) -> Path:
    """ROC curves: ``{model: (truth, score, auc)}``."""
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (y, s, auc) in curves.items():
        fpr, tpr = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})", lw=1)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
