"""How well the planar atlas lands on each scan's bones: the fitted registration against the
outline's scaling alone.

For every case of a generated planar set, :func:`register_atlas` lays the atlas's regions on the
scan both ways (``SITE_REGISTRATIONS``): "fitted" (scale, rotation, shift and arm pose fitted to
the scan's bone uptake) and "outline" (the body outline's scaling at one arm pose, what releases
trained before 2026-12-06 read). Each is scored
against the phantom's own bone map (``bone`` in the case arrays: every pixel of a bone) by Dice
in four bands of rows (head and neck, chest and arms, abdomen and pelvis, legs), and the fit is
timed per case (wall clock, this process, one thread). Synthetic phantom data only: the atlas is
the phantom's own anatomy template, so this measures the registration, not an atlas of real
patients.

Run::

    python benchmarks/experiment/atlas_registration.py --data-root var/data/calibration/planar-s2 \\
        --out docs/results/planar-atlas-registration/registration_s2.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

import numpy as np  # noqa: E402

from boneread_ml.data.manifest import load_case_arrays, load_manifest  # noqa: E402
from boneread_ml.data.report_sites import SITE_REGISTRATIONS, register_atlas  # noqa: E402

#: bands of rows of the 1,024-row matrix scored apart
BANDS = {"head": (0, 250), "chest_arms": (250, 450), "abdomen_pelvis": (450, 600),
         "legs": (600, 1024)}  # fmt: skip


def band_dice(atlas: np.ndarray, bone: np.ndarray) -> dict[str, float]:
    """Dice of the atlas's bones (any layer) and the true bone map, per band of rows."""
    found = atlas.any(axis=0)
    out = {}
    for name, (lo, hi) in BANDS.items():
        a, b = found[lo:hi], bone[lo:hi]
        out[name] = 2.0 * float((a & b).sum()) / max(1, int(a.sum() + b.sum()))
    return out


def measure(root: Path, limit: int | None = None) -> dict:
    """Per-band Dice of each registration, and the fit's time per case."""
    cases = load_manifest(root)["cases"][:limit]
    register_atlas(load_case_arrays(root, cases[0])["image"])  # draw the atlas poses once
    rows: dict[str, list] = {way: [] for way in SITE_REGISTRATIONS}
    seconds = []
    for case in cases:
        arrays = load_case_arrays(root, case)
        if arrays["image"].shape[-2:] != (1024, 256):
            raise SystemExit(f"{case['case_id']}: the bands assume a 1024 x 256 matrix")
        bone = arrays["bone"] > 0
        t0 = time.perf_counter()
        fitted = register_atlas(arrays["image"], "fitted")
        seconds.append(time.perf_counter() - t0)
        rows["fitted"].append(band_dice(fitted, bone))
        rows["outline"].append(band_dice(register_atlas(arrays["image"], "outline"), bone))
    summary = {
        way: {band: round(float(np.mean([r[band] for r in per_case])), 4) for band in BANDS}
        for way, per_case in rows.items()
    }
    for way, per_case in rows.items():
        summary[way]["worst_case_band"] = round(float(min(min(r.values()) for r in per_case)), 4)
    return {
        "cases": len(cases),
        "bone_dice": summary,
        "fit_seconds_per_case": {
            "median": round(float(np.median(seconds)), 3),
            "p95": round(float(np.percentile(seconds, 95)), 3),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True, help="a generated planar set")
    parser.add_argument("--cases", type=int, help="the first N cases only")
    parser.add_argument("--out", help="JSON to write (default: print only)")
    args = parser.parse_args(argv)
    root = Path(args.data_root)
    manifest = load_manifest(root)
    if manifest.get("kind") != "planar":
        parser.error(f"{root} holds {manifest.get('kind')!r} cases; this measures planar sets")
    result = {
        "benchmark": "planar_atlas_registration",
        "command": "python benchmarks/experiment/atlas_registration.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "data_seed": manifest.get("seed"),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "threads": 1,
        },  # fmt: skip
        **measure(root, args.cases),
    }
    for way, dice in result["bone_dice"].items():
        print(f"{way}: " + ", ".join(f"{k} {v:.3f}" for k, v in dice.items()))  # noqa: T201
    print(f"fit: {result['fit_seconds_per_case']} s per case")  # noqa: T201
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
