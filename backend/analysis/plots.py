"""The results page's and the PDF's plots, drawn server-side with matplotlib as PNG.

Each plot is a pure function of the results JSON (``analysis.results``): it draws numbers the
statistics engine computed and computes none itself. The page shows the PNGs; the PDF embeds the
same bytes, so page and report cannot disagree.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from core.exceptions import NotFoundError  # noqa: E402

# Chinese labels need a CJK font (Debian's fonts-noto-cjk, installed by scripts/system-deps.sh);
# matplotlib falls back to DejaVu for Latin text when it is missing.
matplotlib.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]
matplotlib.rcParams["font.family"] = "sans-serif"
matplotlib.rcParams["axes.unicode_minus"] = False

ARM_COLOURS = {"unaided": "#6b7280", "aided": "#2563eb"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "unaided": "Without AI",
        "aided": "With AI",
        "reader": "Reader",
        "total_minutes": "Total reading time (min)",
        "paired_title": "Reading time per reader",
        "case_seconds": "Time per case (s)",
        "case_title": "Time per case",
        "fpr": "1 - specificity",
        "tpr": "Sensitivity",
        "roc_title": "ROC, readers pooled",
        "roc_readers_title": "ROC per reader",
        "auc_diff": "AUC with AI - AUC without AI (95% CI)",
        "forest_title": "AUC differences",
        "mrmc": "OR-Hillis (all readers)",
        "no_data": "No data yet",
    },
    "zh-CN": {
        "unaided": "无AI",
        "aided": "有AI",
        "reader": "阅片者",
        "total_minutes": "总阅片时间（分钟）",
        "paired_title": "每位阅片者的阅片时间",
        "case_seconds": "每例时间（秒）",
        "case_title": "每例阅片时间",
        "fpr": "1 - 特异度",
        "tpr": "敏感度",
        "roc_title": "ROC曲线（阅片者合并）",
        "roc_readers_title": "每位阅片者的ROC曲线",
        "auc_diff": "AUC差值：有AI - 无AI（95% CI）",
        "forest_title": "AUC差值",
        "mrmc": "OR-Hillis（全部阅片者）",
        "no_data": "暂无数据",
    },
}


def _labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang.startswith("en") else "zh-CN"]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=130)
    plt.close(fig)
    return buffer.getvalue()


def _empty(fig: Figure, ax: Any, text: str) -> bytes:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12)
    ax.set_axis_off()
    return _png(fig)


def plot_paired_times(results: dict[str, Any], lang: str) -> bytes:
    """Total minutes per reader, without and with AI, joined per reader (a paired plot)."""
    labels = _labels(lang)
    time = results.get("time") or {}
    rows = time.get("per_reader") or []
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if not rows:
        return _empty(fig, ax, labels["no_data"])
    for row in rows:
        ax.plot(
            [0, 1],
            [row["unaided_minutes"], row["aided_minutes"]],
            color="#9ca3af",
            marker="o",
            zorder=1,
        )
        ax.annotate(
            row["reader"],
            (1, row["aided_minutes"]),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    means = [time.get("mean_unaided_minutes"), time.get("mean_aided_minutes")]
    if None not in means:
        ax.plot([0, 1], means, color="#111827", marker="D", linewidth=2.5, zorder=2)
    ax.set_xticks([0, 1], [labels["unaided"], labels["aided"]])
    ax.set_xlim(-0.3, 1.4)
    ax.set_ylabel(labels["total_minutes"])
    ax.set_title(labels["paired_title"])
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def plot_case_times(results: dict[str, Any], lang: str) -> bytes:
    """The distribution of per-case times in each arm (box plot with the points)."""
    labels = _labels(lang)
    per_case = ((results.get("time") or {}).get("per_case_seconds")) or {}
    arms = [arm for arm in ("unaided", "aided") if per_case.get(arm)]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if not arms:
        return _empty(fig, ax, labels["no_data"])
    data = [per_case[arm] for arm in arms]
    box = ax.boxplot(data, widths=0.5, patch_artist=True, showfliers=False)
    for patch, arm in zip(box["boxes"], arms, strict=True):
        patch.set_facecolor(ARM_COLOURS[arm])
        patch.set_alpha(0.35)
    for index, (arm, values) in enumerate(zip(arms, data, strict=True), start=1):
        jitter = [index + ((k * 37) % 21 - 10) / 70 for k in range(len(values))]
        ax.scatter(jitter, values, s=6, color=ARM_COLOURS[arm], alpha=0.6)
    ax.set_xticks(range(1, len(arms) + 1), [labels[arm] for arm in arms])
    ax.set_ylabel(labels["case_seconds"])
    ax.set_title(labels["case_title"])
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _auc_text(auc: float | None) -> str:
    return "" if auc is None else f" (AUC {auc:.3f})"


def plot_roc_pooled(results: dict[str, Any], lang: str) -> bytes:
    """Empirical ROC curves per arm, the readers' ratings pooled."""
    labels = _labels(lang)
    curves = ((results.get("roc") or {}).get("pooled")) or {}
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    if not curves:
        return _empty(fig, ax, labels["no_data"])
    for arm in ("unaided", "aided"):
        curve = curves.get(arm)
        if not curve:
            continue
        ax.step(
            curve["fpr"],
            curve["tpr"],
            where="post",
            color=ARM_COLOURS[arm],
            linewidth=2,
            label=labels[arm] + _auc_text(curve.get("auc")),
        )
    ax.plot([0, 1], [0, 1], linestyle=":", color="#9ca3af")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(labels["fpr"])
    ax.set_ylabel(labels["tpr"])
    ax.set_title(labels["roc_title"])
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def plot_roc_readers(results: dict[str, Any], lang: str) -> bytes:
    """One small ROC panel per reader, both arms."""
    labels = _labels(lang)
    per_reader = ((results.get("roc") or {}).get("per_reader")) or {}
    readers = list(per_reader)
    if not readers:
        fig, ax = plt.subplots(figsize=(4.8, 3))
        return _empty(fig, ax, labels["no_data"])
    columns = min(4, len(readers))
    rows = (len(readers) + columns - 1) // columns
    fig, axes = plt.subplots(
        rows, columns, figsize=(2.4 * columns, 2.4 * rows + 0.4), squeeze=False
    )
    for index, reader in enumerate(readers):
        ax = axes[index // columns][index % columns]
        for arm in ("unaided", "aided"):
            curve = per_reader[reader].get(arm)
            if curve:
                ax.step(
                    curve["fpr"],
                    curve["tpr"],
                    where="post",
                    color=ARM_COLOURS[arm],
                    label=f"{labels[arm]} {curve['auc']:.2f}"
                    if curve.get("auc") is not None
                    else labels[arm],
                )
        ax.plot([0, 1], [0, 1], linestyle=":", color="#9ca3af", linewidth=0.8)
        ax.set_title(reader, fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
        ax.legend(loc="lower right", fontsize=6)
    for index in range(len(readers), rows * columns):
        axes[index // columns][index % columns].set_axis_off()
    fig.suptitle(labels["roc_readers_title"], fontsize=10)
    return _png(fig)


def plot_forest(results: dict[str, Any], lang: str) -> bytes:
    """AUC difference (aided - unaided) per reader with its DeLong CI, and the MRMC estimate with
    its OR-Hillis CI at the bottom."""
    labels = _labels(lang)
    delong = ((results.get("accuracy") or {}).get("delong")) or []
    mrmc = results.get("mrmc")
    rows: list[tuple[str, float, list[float], bool]] = [
        (row["reader"], row["difference"], row["ci"], False)
        for row in delong
        if row.get("difference") is not None and row.get("ci")
    ]
    if mrmc and mrmc.get("difference") is not None and mrmc.get("ci"):
        rows.append((labels["mrmc"], mrmc["difference"], mrmc["ci"], True))
    fig, ax = plt.subplots(figsize=(5.8, 0.42 * max(len(rows), 2) + 1.3))
    if not rows:
        return _empty(fig, ax, labels["no_data"])
    for y, (_name, estimate, ci, summary) in enumerate(rows):
        ax.plot(
            ci, [y, y], color="#111827" if summary else "#6b7280", linewidth=2 if summary else 1
        )
        ax.plot(
            [estimate],
            [y],
            marker="D" if summary else "s",
            markersize=8 if summary else 5,
            color="#111827" if summary else "#2563eb",
        )
    ax.axvline(0, color="#ef4444", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), [row[0] for row in rows])
    ax.invert_yaxis()
    ax.set_xlabel(labels["auc_diff"])
    ax.set_title(labels["forest_title"])
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


PLOTS: dict[str, Callable[[dict[str, Any], str], bytes]] = {
    "paired-times": plot_paired_times,
    "case-times": plot_case_times,
    "roc": plot_roc_pooled,
    "roc-readers": plot_roc_readers,
    "forest": plot_forest,
}


def plot_render(*, results: dict[str, Any], name: str, lang: str = "zh-CN") -> bytes:
    """The PNG of plot ``name`` (one of :data:`PLOTS`)."""
    try:
        draw = PLOTS[name]
    except KeyError:
        raise NotFoundError(
            f"No plot named {name!r}; the plots are: {', '.join(PLOTS)}.",
            extra={"plots": list(PLOTS)},
        ) from None
    return draw(results, lang)
