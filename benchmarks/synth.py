"""Phantom generation speed: cases per second, planar and SPECT/CT.

Generates full cases (arrays, manifest, Chinese reports and DICOM with SEG)
into a temporary folder with 2 worker processes (the target machine has 2
CPU cores).  Target: 100 planar cases in under 60 s.

Run::

    .venv/bin/python benchmarks/synth.py                  # writes benchmarks/results/synth.json
    .venv/bin/python benchmarks/synth.py --planar 20 --spectct 2   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.data.manifest import GENERATOR_VERSION, generate  # noqa: E402

TARGET_PLANAR_100_S = 60.0


def time_kind(kind: str, cases: int, workers: int, dicom: bool, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        root = generate(kind, cases, seed, Path(tmp) / kind, dicom=dicom, workers=workers)
        elapsed = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        n_files = sum(1 for p in root.rglob("*.dcm"))
    return {
        "kind": kind,
        "cases": cases,
        "workers": workers,
        "dicom": dicom,
        "seconds": round(elapsed, 2),
        "cases_per_second": round(cases / elapsed, 3),
        "seconds_per_case": round(elapsed / cases, 3),
        "dicom_files": n_files,
        "output_mb": round(size / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planar", type=int, default=100, help="planar cases (default 100)")
    parser.add_argument("--spectct", type=int, default=6, help="SPECT/CT cases (default 6)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "synth.json"))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    runs = [
        time_kind("planar", args.planar, args.workers, True, seed=0),
        time_kind("planar", args.planar, args.workers, False, seed=0),
        time_kind("spectct", args.spectct, args.workers, True, seed=0),
    ]
    planar_full = runs[0]
    projected_100 = planar_full["seconds_per_case"] * 100
    result = {
        "benchmark": "synth",
        "generator_version": GENERATOR_VERSION,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "the 2 cores are shared with other processes; the load average shows how busy they were",
        },
        "runs": runs,
        "target": {
            "planar_100_cases_s": TARGET_PLANAR_100_S,
            "planar_100_cases_measured_or_projected_s": round(projected_100, 1),
            "met": projected_100 < TARGET_PLANAR_100_S,
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
