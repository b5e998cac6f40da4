"""benchmarks/summary.py renders every results JSON (status polling and the statistics coverage
runs included), and docs/benchmarks.md is its current output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def summary(load_script):
    return load_script("benchmarks/summary.py")


def test_every_results_file_has_a_section(summary):
    names = {p.stem for p in (REPO / "benchmarks" / "results").glob("*.json")}
    assert names <= set(summary.BENCHMARKS), names - set(summary.BENCHMARKS)


def test_status_polling_and_coverage_numbers_come_from_their_json(summary):
    polling = json.loads((REPO / "benchmarks/results/status_polling.json").read_text())
    text = "\n".join(summary.status_polling(polling))
    assert f"| {polling['requests']} | {polling['requests_per_s']:.1f} |" in text
    assert f"{polling['latency_ms']['p95']:.0f}" in text
    coverage = json.loads((REPO / "benchmarks/results/stats_coverage.json").read_text())
    text = "\n".join(summary.stats_coverage(coverage))
    t = coverage["time_ratio"]
    assert f"{t['covered']} / {t['n']} | {t['coverage']:.3f} ({t['mc_se']:.3f})" in text


def test_docs_benchmarks_md_is_the_summary_output(summary):
    assert (REPO / "docs/benchmarks.md").read_text(encoding="utf-8") == summary.render()
