"""Evaluate models trained with several training seeds and pool the comparison over seeds.

Each seed's releases (trained by ``run.py --train-seed S --train-only --runs DIR``) are
calibrated on the same training cases (lesion threshold and lesion-probability
recalibration, ``boneread_ml.evaluation.calibrate``) and evaluated through ``predict`` on the
held-out fold, with the keyword-rule row and the report probes (sides swapped, sites swapped,
impression only). The pooled comparison takes, per test case, the reference's metric minus the
other model's, averaged over the seeds it is defined in, and a two-level bootstrap (seeds with
replacement, then cases with replacement, 2,000 times) gives the 95% CI of the mean, so the CI
carries both the training-seed and the test-case variation.

Run (the numbers in docs/results/planar-grounding/ come from it)::

    python benchmarks/experiment/seeds.py --seeds 0 1 2 \\
        --model mt_unet=var/exp/new_s{seed}/mt_unet/release \\
        --model mt_unet_base=var/exp/base_s{seed}/mt_unet/release \\
        --model mt_unet_no_text=var/exp/base_s{seed}/mt_unet_no_text/release \\
        --data-root var/data/planar --out docs/results/planar-grounding
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.cli.evaluate import evaluate_checkpoints  # noqa: E402
from boneread_ml.evaluation.calibrate import calibrate_release  # noqa: E402
from boneread_ml.evaluation.metrics import case_dice  # noqa: E402

logger = logging.getLogger("seeds")

#: per-case metrics pooled over seeds (mean over seeds of the per-case value, then over cases)
CASE_KEYS = (
    "mean_class_dice", "case_dice", "mean_class_dice_tol1", "benign_dice", "metastatic_dice",
    "metastatic_dice_tol1", "lesion_dice", "false_positives",
)  # fmt: skip
#: summary metrics reported per seed and as their mean over seeds
SUMMARY_KEYS = (
    "mean_class_dice", "case_dice", "mean_class_dice_tol1", "benign_dice", "metastatic_dice",
    "metastatic_dice_tol1", "lesion_detection_sensitivity", "lesion_class_accuracy",
    "mixed_case_lesion_class_accuracy", "mixed_case_described_lesion_class_accuracy",
    "false_positives_per_case", "lesion_ece",
    "benign_auc", "metastatic_auc",
)  # fmt: skip


def read_per_case(path: Path) -> list[dict]:
    """The rows of an evaluation's ``per_case.csv``.

    Rows written before ``case_dice`` existed get it from their ``mean_class_dice``
    (:func:`boneread_ml.evaluation.metrics.case_dice`, the same rule as a new evaluation).
    """
    import csv

    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r.get("case_dice") in (None, ""):
            r["case_dice"] = str(case_dice(r["mean_class_dice"]))
    return rows


def two_level_bootstrap(
    diffs: np.ndarray, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of a (seeds, cases) array of paired differences and its 95% CI.

    Each resample draws seeds with replacement, then cases with replacement (the
    same cases for every drawn seed: the test set is shared), and averages the
    defined (non-NaN) values.
    """
    d = np.asarray(diffs, dtype=float)
    mean = float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")
    rng = np.random.default_rng(seed)
    n_seeds, n_cases = d.shape
    means = []
    for _ in range(n_boot):
        s = rng.integers(0, n_seeds, n_seeds)
        c = rng.integers(0, n_cases, n_cases)
        v = d[np.ix_(s, c)]
        if np.isfinite(v).any():
            means.append(np.nanmean(v))
    if not means:  # the metric is defined for no case (e.g. no test case has metastases)
        return mean, float("nan"), float("nan")
    lo, hi = np.percentile(means, [2.5, 97.5])
    return mean, float(lo), float(hi)


def compare_rows(
    matrix: Callable[[str, str], np.ndarray], ref: str, names: list[str], n_boot: int, seed: int
) -> list[dict]:
    """The reference minus every other row, per metric of :data:`CASE_KEYS`.

    ``matrix(name, key)``: that row's (seeds, cases) values. Each entry gives the mean paired
    difference, its :func:`two_level_bootstrap` CI and the per-seed means.
    """
    comparison = []
    for name in names:
        if name == ref:
            continue
        entry: dict = {"reference": ref, "model": name}
        for key in CASE_KEYS:
            d = matrix(ref, key) - matrix(name, key)
            mean, lo, hi = two_level_bootstrap(d, n_boot, seed)
            entry[key] = {"difference": mean, "ci": [lo, hi], "ci_above_zero": bool(lo > 0),
                          "per_seed": [float(np.nanmean(x)) for x in d]}  # fmt: skip
        comparison.append(entry)
    return comparison


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--model", action="append", required=True,
                        help="NAME=release path with {seed}; the first is the reference")  # fmt: skip
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--test-fold", type=int, default=0)
    parser.add_argument("--calibrate-cases", type=int, default=16)
    parser.add_argument("--data-seed", type=int, default=0, help="bootstrap / pixel-sample seed")
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keyword-rule-from", default="mt_unet_no_text")
    parser.add_argument("--probe-texts-for", default=None,
                        help="default: the reference; a name that is no --model: no probe texts")  # fmt: skip
    parser.add_argument("--fit-lesion-floor", nargs="*", default=[], metavar="NAME[:OBJECTIVE]",
                        help="calibrate these models with a lesion-probability floor too, chosen "
                             "for OBJECTIVE (lesion_f1, the default, or dice)")  # fmt: skip
    parser.add_argument("--fresh", action="store_true",
                        help="re-evaluate seeds whose results.json exists (default: reuse them)")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import torch

    torch.set_num_threads(args.threads)
    models = [m.split("=", 1) for m in args.model]
    names = [n for n, _ in models]
    floors = dict((f.split(":", 1) + ["lesion_f1"])[:2] for f in args.fit_lesion_floor)
    if unknown := set(floors) - set(names):
        parser.error(f"--fit-lesion-floor names no --model: {sorted(unknown)}")
    out = Path(args.out)
    manifest = json.loads((Path(args.data_root) / "manifest.json").read_text(encoding="utf-8"))
    train_cases = [c for c in manifest["cases"] if int(c["fold"]) != args.test_fold]
    calib = train_cases[: args.calibrate_cases]
    per_seed = {}
    for seed in args.seeds:
        done = out / f"seed{seed}" / "results.json"
        if done.exists() and not args.fresh:  # evaluated by an earlier (per-seed) run
            per_seed[seed] = json.loads(done.read_text(encoding="utf-8"))
            have = {entry["model"] for entry in per_seed[seed]["summaries"]}
            if missing := [n for n in names if n not in have]:
                parser.error(
                    f"{done} (an earlier evaluation, reused) has no rows of {', '.join(missing)}: "
                    "delete it or pass --fresh"
                )
            continue
        releases = [path.format(seed=seed) for _, path in models]
        for name, release in zip(names, releases, strict=True):
            config = json.loads((Path(release) / "config.json").read_text(encoding="utf-8"))
            post = config.get("postprocess") or {}
            floor = floors.get(name)
            if "lesion_calibration" not in post or (floor and "lesion_floor" not in post):
                calibrate_release(
                    release, args.data_root, calib, seed=args.data_seed,
                    fit_floor=floor is not None, floor_objective=floor or "lesion_f1",
                )  # fmt: skip
        per_seed[seed] = evaluate_checkpoints(
            releases, names, args.data_root, [args.test_fold], out / f"seed{seed}",
            reference=names[0], seed=args.data_seed, n_boot=args.n_boot,
            keyword_rule_from=args.keyword_rule_from if args.keyword_rule_from in names else None,
            probe_texts_for=args.probe_texts_for or names[0],
        )  # fmt: skip
    # per-case rows of every evaluated row name, by seed
    rows: dict[str, dict[int, list[dict]]] = {}
    for seed in args.seeds:
        for r in read_per_case(out / f"seed{seed}" / "per_case.csv"):
            rows.setdefault(r["model"], {}).setdefault(seed, []).append(r)
    # a row some seeds lack (an earlier evaluation, reused, had another row set) is left out of
    # the pooled table rather than compared on the seeds that have it
    row_names = [name for name in rows if len(rows[name]) == len(args.seeds)]
    if partial := [name for name in rows if name not in row_names]:
        logging.getLogger(__name__).warning(
            "rows left out, not evaluated for every seed: %s", ", ".join(partial)
        )
    ref = names[0]

    def matrix(name: str, key: str) -> np.ndarray:
        def val(x):
            try:
                return float(x)
            except (TypeError, ValueError):
                return float("nan")

        return np.array([[val(r.get(key)) for r in rows[name][s]] for s in args.seeds])

    summary = []
    for name in row_names:
        entry = {"model": name}
        for key in SUMMARY_KEYS:
            values = [
                next(x for x in per_seed[s]["summaries"] if x["model"] == name).get(key)
                for s in args.seeds
            ]
            if key == "case_dice":  # an evaluation from before the key: from its rows
                values = [
                    float(np.mean([float(r[key]) for r in rows[name][s]])) if v is None else v
                    for s, v in zip(args.seeds, values, strict=True)
                ]
            entry[key] = float(np.nanmean(np.array(values, dtype=float)))
            entry[f"{key}_per_seed"] = values
        summary.append(entry)
    comparison = compare_rows(matrix, ref, row_names, args.n_boot, args.data_seed)
    record = {
        "command": "python benchmarks/experiment/seeds.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "seeds": args.seeds,
        "test_fold": args.test_fold,
        "test_cases": len(rows[ref][args.seeds[0]]),
        "calibration_cases": [c["case_id"] for c in calib],
        "models": dict(models),
        "summary": summary,
        "comparison": comparison,
    }  # fmt: skip
    (out / "pooled.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    for entry in summary:
        logger.info("%-32s Dice %.3f tol1 %.3f met %.3f mixed-acc %.3f (described %.3f) ECE %.3f FP %.2f",
                    entry["model"], entry["mean_class_dice"], entry["mean_class_dice_tol1"],
                    entry["metastatic_dice"], entry["mixed_case_lesion_class_accuracy"],
                    entry["mixed_case_described_lesion_class_accuracy"], entry["lesion_ece"],
                    entry["false_positives_per_case"])  # fmt: skip
    for entry in comparison:
        d = entry["mean_class_dice"]
        logger.info(
            "%s - %-30s %+.4f (%+.4f..%+.4f)", ref, entry["model"], d["difference"], *d["ci"]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
