"""The printable report: a real PDF (WeasyPrint) whose first page is not blank when rasterised
(pdftoppm) and whose text (pdftotext) carries the results' numbers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.plots import PLOTS, plot_render
from analysis.report import fmt, fmt_ci, report_pdf
from core.exceptions import NotFoundError

RESULTS = {
    "study": {"id": "x", "name": "Bone scan AI study", "generated_at": "2026-12-01 21:00 UTC"},
    "design": {
        "n_readers": 2,
        "n_cases": 6,
        "n_positive": 3,
        "n_negative": 3,
        "arms": ["unaided", "aided"],
        "n_sessions": 2,
        "washout_days": 28,
        "readings_done": 24,
        "readings_expected": 24,
        "complete": True,
        "time_measure": "active",
        "flagged_excluded": 1,
    },
    "time": {
        "per_reader": [
            {"reader": "R1", "unaided_minutes": 164.04, "aided_minutes": 101.96, "ratio": 0.6216,
             "ratio_ci": [0.5137, 0.7522], "t_p": 0.0004, "wilcoxon_p": 0.031},
            {"reader": "R2", "unaided_minutes": 150.5, "aided_minutes": 95.25, "ratio": 0.633,
             "t_p": 0.002, "wilcoxon_p": 0.031},
        ],
        "mean_unaided_minutes": 157.27,
        "mean_aided_minutes": 98.605,
        "ratio": 0.6234,
        "ratio_ci": [0.5512, 0.7051],
        "ratio_p": 0.00001,
        "carryover": {"estimate": 0.012, "se": 0.05, "p": 0.81},
        "ratio_of_means": 0.627,
        "per_case_seconds": {"unaided": [1500, 1700, 1600, 1400], "aided": [900, 1000, 1100, 950]},
    },
    "accuracy": {
        "per_reader": [
            {"reader": "R1", "arm": "unaided", "sensitivity": 0.6667, "sensitivity_ci": [0.2, 0.94],
             "specificity": 1.0, "specificity_ci": [0.44, 1.0], "auc": 0.7778, "auc_ci": [0.4, 1.0]},
            {"reader": "R1", "arm": "aided", "sensitivity": 1.0, "sensitivity_ci": [0.44, 1.0],
             "specificity": 1.0, "specificity_ci": [0.44, 1.0], "auc": 0.8889, "auc_ci": [0.6, 1.0]},
        ],
        "pooled": [],
        "delong": [
            {"reader": "R1", "auc_unaided": 0.7778, "auc_aided": 0.8889, "difference": 0.1111,
             "ci": [-0.1, 0.32], "p": 0.3},
        ],
    },
    "roc": {
        "pooled": {
            "unaided": {"fpr": [0, 0, 0.5, 1], "tpr": [0, 0.5, 0.8, 1], "auc": 0.7778},
            "aided": {"fpr": [0, 0, 0.3, 1], "tpr": [0, 0.7, 1, 1], "auc": 0.8889},
        },
        "per_reader": {"R1": {"unaided": {"fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}}},
    },
    "mrmc": {
        "auc": {"unaided": [0.7778], "aided": [0.8889]},
        "auc_mean": {"unaided": 0.74321, "aided": 0.84567},
        "difference": 0.10246,
        "F": 5.4321,
        "df_numerator": 1,
        "df_denominator": 12.3,
        "p": 0.0378,
        "ci": [0.00712, 0.19781],
    },
    "lesions": None,
    "flagged": [
        {"reader": "R2", "case": "C004", "arm": "aided", "session": 2, "seconds": 2400.0,
         "reason": "phone call"}
    ],
    "notes": [],
}  # fmt: skip


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    path.write_bytes(report_pdf(results=RESULTS, lang="en"))
    return path


def test_each_plot_is_a_png_with_content():
    for name in PLOTS:
        png = plot_render(results=RESULTS, name=name, lang="zh-CN")
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(png) > 5_000, name  # drawn axes and data, not an empty canvas


def test_an_unknown_plot_is_a_404_naming_the_plots():
    with pytest.raises(NotFoundError, match="paired-times"):
        plot_render(results=RESULTS, name="pie", lang="en")


def test_pdf_text_carries_the_numbers(pdf_path):
    assert pdf_path.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in (
        "164.0",  # R1 without AI, minutes
        "102.0",  # R1 with AI
        fmt(RESULTS["time"]["ratio"], 2),
        fmt_ci(RESULTS["time"]["ratio_ci"], 2),
        "0.62 (0.51 – 0.75)",  # R1's own ratio and CI
        fmt(RESULTS["mrmc"]["difference"]),
        fmt_ci(RESULTS["mrmc"]["ci"]),
        "0.778",
        "C004",
        "Obuchowski-Rockette",
        "Methods",
    ):
        assert expected in text, expected


def test_pdf_first_page_renders_and_is_not_blank(pdf_path, tmp_path):
    assert shutil.which("pdftoppm"), "poppler-utils missing: run scripts/system-deps.sh"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "p")],
        check=True,
    )
    (png,) = tmp_path.glob("p-*.png")
    pixels = np.asarray(Image.open(png).convert("L"))
    assert pixels.shape[0] > pixels.shape[1]  # portrait A4
    dark = (pixels < 128).mean()
    assert 0.01 < dark < 0.5, dark  # text and table lines, not a blank or a black page


def test_chinese_report_renders_with_chinese_text(tmp_path):
    path = tmp_path / "zh.pdf"
    path.write_bytes(report_pdf(results=RESULTS, lang="zh-CN"))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "阅片研究报告" in text
    assert "无AI" in text
