"""Evaluate released models on held-out phantom cases: metrics, CIs, DeLong, tables, plots.

Example::

    boneread-ml evaluate --data-root var/data/planar --folds 0 --out docs/results/planar \\
        --checkpoint var/runs/planar/mt_unet/release --checkpoint var/runs/planar/unet/release
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    ("model", "model"),
    ("mean_class_dice", "mean lesion-class Dice (95% CI)"),
    ("case_dice", "Dice over all cases (lesion-free stated empty = 1)"),
    ("benign_dice", "benign Dice"),
    ("metastatic_dice", "metastatic Dice"),
    ("mean_class_dice_tol1", "mean lesion-class Dice, 1-px tolerance"),
    ("metastatic_dice_tol1", "metastatic Dice, 1-px tolerance"),
    ("lesion_iou", "lesion IoU"),
    ("lesion_sensitivity", "lesion sens."),
    ("lesion_specificity", "lesion spec."),
    ("lesion_accuracy", "accuracy"),
    ("benign_auc", "benign AUC"),
    ("metastatic_auc", "metastatic AUC"),
    ("lesion_detection_sensitivity", "lesion detection sens."),
    ("lesion_class_accuracy", "lesion class acc."),
    ("mixed_case_lesion_class_accuracy", "lesion class acc., mixed-class cases"),
    ("false_positives_per_case", "FP / case"),
    ("lesion_ece", "lesion ECE"),
]
COMPARISON_COLUMNS = [
    ("model", "model"),
    ("mean_class_dice_difference", "Dice difference (reference − model, 95% CI)"),
    ("ci_above_zero", "CI > 0"),
    ("case_dice_difference", "all-case Dice difference (95% CI)"),
    ("benign_auc_difference", "benign ΔAUC"),
    ("benign_delong_p", "DeLong p"),
    ("metastatic_auc_difference", "metastatic ΔAUC"),
    ("metastatic_delong_p", "DeLong p"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", action="append", required=True, help="release dir (repeatable)"
    )
    parser.add_argument("--name", action="append", help="table label per checkpoint (same order)")
    parser.add_argument("--data-root", required=True, help="phantom data root")
    parser.add_argument(
        "--folds", type=int, nargs="*", help="folds to evaluate (default: all cases)"
    )
    parser.add_argument("--out", required=True, help="folder for tables and plots")
    parser.add_argument(
        "--reference", help="model compared against the others (default: the first)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of bootstrap, pixel sample, shuffling"
    )
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--calibrate-folds", type=int, nargs="*",
                        help="first choose each uncalibrated checkpoint's lesion threshold on these "
                             "(training) folds; writes postprocess into its config.json")  # fmt: skip
    parser.add_argument("--calibrate-cases", type=int, default=16, help="cases used to calibrate")
    parser.add_argument("--keyword-rule-from",
                        help="name of an image-only model whose masks the keyword rule relabels "
                             "(adds a keyword_rule row)")  # fmt: skip
    parser.add_argument("--probe-texts-for",
                        help="name of a text model also evaluated with each probe text (sides or "
                             "sites swapped, impression only, called normal) and with no report")  # fmt: skip


def evaluate_checkpoints(
    checkpoints: list[str], names: list[str] | None, data_root: str | Path, folds: list[int] | None,
    out: str | Path, *, reference: str | None = None, seed: int = 0, n_boot: int = 2000,
    keyword_rule_from: str | None = None, probe_texts_for: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Evaluate, compare and write ``summary.{csv,md}``, ``per_case.csv``,
    ``comparison.{csv,md}``, ``dice_ci.png``, ``roc_<class>.png``, ``results.json``.

    ``keyword_rule_from``: the name of an image-only model among ``names`` whose masks the
    keyword rule relabels; adds its row to every table (``keyword_rule`` on the no-text MT-UNet,
    ``keyword_rule_<name>`` on another network: :func:`keyword_rule_name`). ``probe_texts_for``: a
    text model among ``names`` also evaluated with each probe text (``NAME [sides_swapped]``,
    ``NAME [impression_only]``, ``NAME [called_normal]``, ...) and with no report
    (``NAME [none]``), to show what of the report it reads and what it does when the report
    says nothing or misses every lesion."""
    from boneread_ml.data.datasets import PROBE_TEXT_MODES, read_manifest
    from boneread_ml.evaluation.compare import compare_to_reference
    from boneread_ml.evaluation.evaluate import evaluate_model, summarize
    from boneread_ml.evaluation.keyword_rule import keyword_rule_name
    from boneread_ml.evaluation.metrics import LESION_CLASSES
    from boneread_ml.evaluation.plots import plot_dice_ci, plot_roc
    from boneread_ml.evaluation.tables import markdown_table, write_csv
    from boneread_ml.predict import load_model

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cases = read_manifest(data_root)["cases"]
    if folds:
        cases = [c for c in cases if int(c["fold"]) in set(folds)]
    if not cases:
        raise ValueError(f"no cases in folds {folds}")
    names = names or []
    evals = []
    for i, ckpt in enumerate(checkpoints):
        model = load_model(ckpt)
        name = names[i] if i < len(names) else model.config.get("model_name")
        evals.append(evaluate_model(model, data_root, cases, name=name, seed=seed))
        if name == keyword_rule_from:
            evals.append(
                evaluate_model(model, data_root, cases, name=keyword_rule_name(name), seed=seed,
                               text="none", keyword_rule=True)
            )  # fmt: skip
        if name == probe_texts_for:
            for mode in (*PROBE_TEXT_MODES, "none"):
                evals.append(
                    evaluate_model(model, data_root, cases, name=f"{name} [{mode}]", seed=seed,
                                   text=mode)
                )  # fmt: skip
    if keyword_rule_from and not any(e.name == keyword_rule_name(keyword_rule_from) for e in evals):
        raise ValueError(f"keyword rule: no model named {keyword_rule_from!r} was evaluated")
    summaries = [summarize(e, n_boot=n_boot, seed=seed) for e in evals]
    per_case = [{"model": e.name, **row} for e in evals for row in e.rows]
    write_csv(summaries, out / "summary.csv")
    write_csv(per_case, out / "per_case.csv")
    (out / "summary.md").write_text(markdown_table(summaries, SUMMARY_COLUMNS), encoding="utf-8")
    ref = next((e for e in evals if e.name == reference), evals[0]) if reference else evals[0]
    comparison = compare_to_reference(
        ref, [e for e in evals if e is not ref], n_boot=n_boot, seed=seed
    )
    if comparison:
        write_csv(comparison, out / "comparison.csv")
        (out / "comparison.md").write_text(
            markdown_table(comparison, COMPARISON_COLUMNS, digits=4), encoding="utf-8"
        )
    plot_dice_ci(summaries, out / "dice_ci.png")
    for c, cname in LESION_CLASSES.items():
        curves = {
            e.name: (*e.scores[c], s[f"{cname}_auc"]) for e, s in zip(evals, summaries, strict=True)
        }
        plot_roc(curves, out / f"roc_{cname}.png", f"pixel ROC, {cname} lesions")
    results = {
        "cases": len(cases),
        "folds": folds,
        "seed": seed,
        "summaries": summaries,
        "comparison": comparison,
    }
    (out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return results


def run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(args.threads)
    if args.calibrate_folds:
        import json

        from boneread_ml.data.datasets import read_manifest
        from boneread_ml.evaluation.calibrate import calibrate_release

        if set(args.calibrate_folds) & set(args.folds or []):
            raise ValueError("calibration folds overlap the evaluated folds")
        cases = [
            c
            for c in read_manifest(args.data_root)["cases"]
            if int(c["fold"]) in set(args.calibrate_folds)
        ]
        for ckpt in args.checkpoint:
            config = json.loads((Path(ckpt) / "config.json").read_text(encoding="utf-8"))
            if "postprocess" not in config:
                calibrate_release(
                    ckpt, args.data_root, cases[: args.calibrate_cases], seed=args.seed
                )
    results = evaluate_checkpoints(
        args.checkpoint, args.name, args.data_root, args.folds, args.out,
        reference=args.reference, seed=args.seed, n_boot=args.n_boot,
        keyword_rule_from=args.keyword_rule_from, probe_texts_for=args.probe_texts_for,
    )  # fmt: skip
    for s in results["summaries"]:
        lo, hi = s["mean_class_dice_ci"]
        logger.info(
            "%-24s mean lesion-class Dice %.3f (%.3f-%.3f)",
            s["model"],
            s["mean_class_dice"],
            lo,
            hi,
        )
    return 0
