"""Does the pre-trained report encoder help? MT-UNet with vs without it, over training seeds.

Reads one ``boneread-ml evaluate`` output per training seed (each evaluated the two releases of
that seed on the same held-out cases, the pre-trained one first) and writes the paired
difference of the mean lesion-class Dice per seed (paired bootstrap over cases) and pooled over
seeds, with a two-level bootstrap CI (seeds resampled, then cases), to ``OUT/summary.{json,md}``.

    python benchmarks/experiment/pretrain_compare.py --out docs/results/pretrain \\
        var/res/ptcmp_s0 var/res/ptcmp_s1 var/res/ptcmp_s2
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))


def per_case(folder: Path, key: str) -> dict[str, dict[str, float]]:
    """model -> case_id -> value of ``key`` from ``folder/per_case.csv``."""
    out: dict[str, dict[str, float]] = {}
    with open(folder / "per_case.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            value = row.get(key, "")
            out.setdefault(row["model"], {})[row["case_id"]] = (
                float(value) if value not in ("", "nan") else math.nan
            )
    return out


def two_level_bootstrap(diffs: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """95% CI of the mean of ``diffs`` (seeds x cases, NaN = missing): seeds, then cases resampled."""
    rng = np.random.default_rng(seed)
    n_seeds, n_cases = diffs.shape
    means = []
    for _ in range(n_boot):
        rows = diffs[rng.integers(n_seeds, size=n_seeds)]
        cols = rng.integers(n_cases, size=n_cases)
        means.append(np.nanmean(rows[:, cols]))
    lo, hi = np.nanpercentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def main(argv: list[str] | None = None) -> int:
    from boneread_ml.evaluation.metrics import paired_bootstrap_difference

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluations", nargs="+", help="one boneread-ml evaluate --out per seed")
    parser.add_argument("--out", required=True)
    parser.add_argument("--with-name", default="mt_unet_pretrained_text")
    parser.add_argument("--without-name", default="mt_unet")
    parser.add_argument("--key", default="mean_class_dice")
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rows, diffs, cases = [], [], None
    for folder in map(Path, args.evaluations):
        values = per_case(folder, args.key)
        a, b = values[args.with_name], values[args.without_name]
        ids = sorted(a)
        if cases is None:
            cases = ids
        if ids != cases or sorted(b) != cases:
            raise SystemExit(f"{folder}: evaluated on other cases than {args.evaluations[0]}")
        x = np.array([a[c] for c in ids])
        y = np.array([b[c] for c in ids])
        mean, lo, hi = paired_bootstrap_difference(x, y, n_boot=args.n_boot, seed=args.seed)
        rows.append({"evaluation": str(folder), "with": float(np.nanmean(x)),
                     "without": float(np.nanmean(y)), "difference": mean, "ci": [lo, hi]})  # fmt: skip
        diffs.append(np.where(np.isnan(x) | np.isnan(y), np.nan, x - y))
    d = np.array(diffs)
    lo, hi = two_level_bootstrap(d, args.n_boot, args.seed)
    pooled = {"difference": float(np.nanmean(d)), "ci": [lo, hi], "seeds": len(rows),
              "cases": len(cases or [])}  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"key": args.key, "with": args.with_name, "without": args.without_name,
              "per_seed": rows, "pooled": pooled,
              "command": "python benchmarks/experiment/pretrain_compare.py "
              + " ".join(argv if argv is not None else sys.argv[1:])}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    lines = [
        f"| evaluation | {args.with_name} | {args.without_name} | difference (95% CI) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['evaluation']} | {r['with']:.3f} | {r['without']:.3f} | "
                     f"{r['difference']:+.3f} ({r['ci'][0]:+.3f} to {r['ci'][1]:+.3f}) |")  # fmt: skip
    lines.append(f"| pooled ({pooled['seeds']} seeds x {pooled['cases']} cases) | | | "
                 f"{pooled['difference']:+.3f} ({lo:+.3f} to {hi:+.3f}) |")  # fmt: skip
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
