"""The comparison experiment: MT-UNet vs its no-text and shuffled-text ablations vs 8 MONAI baselines.

Every model is trained by the same loop (``boneread_ml.training.run.train_fold``)
with the same data, seed, batch size, optimizer, learning-rate schedule and
number of optimizer steps (an equal training budget), on folds 1-4 of a fixed
synthetic set, and evaluated on the held-out fold 0 (patients never seen)
through the product path (``predict``). The reference (MT-UNet) is compared
with every other model: paired bootstrap 95% CI of the mean lesion-class Dice
difference over test cases, DeLong on pixel-level AUCs.

Run (documented in docs/ml.md; the numbers in docs/results/<task>/ come from it)::

    .venv/bin/python benchmarks/experiment/run.py --task planar --cases 120 --seed 0

Finished models are skipped on a re-run (their release exists), so the
experiment can be resumed after an interruption; ``--fresh`` retrains.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.cli.evaluate import evaluate_checkpoints  # noqa: E402
from boneread_ml.evaluation.calibrate import calibrate_release  # noqa: E402
from boneread_ml.models.registry import MODEL_NAMES  # noqa: E402
from boneread_ml.training.config import deep_update, load_config, parse_override  # noqa: E402
from boneread_ml.training.run import train_fold  # noqa: E402

logger = logging.getLogger("experiment")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["planar", "spectct"], default="planar")
    parser.add_argument(
        "--cases", type=int, default=120, help="synthetic cases (generated if missing)"
    )
    parser.add_argument("--seed", type=int, default=0, help="data (phantom) and bootstrap seed")
    parser.add_argument("--train-seed", type=int,
                        help="training seed (weights, crops, text dropout; default: --seed), so that "
                             "several trainings on the same data can be compared")  # fmt: skip
    parser.add_argument("--steps", type=int, help="optimizer steps per model (default: the YAML's)")
    parser.add_argument(
        "--models", nargs="*", default=list(MODEL_NAMES), help="subset of the registry"
    )
    parser.add_argument("--config", help="experiment YAML (default ml/configs/<task>.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. train.lesion_balance=true "
                             "(repeatable; checked like the YAML)")  # fmt: skip
    parser.add_argument("--text-encoder",
                        help="local BERT folder for the text models (text.pretrained), e.g. one "
                             "written by `boneread-ml pretrain`")  # fmt: skip
    parser.add_argument("--test-fold", type=int, default=0)
    parser.add_argument("--data-root", help="default var/data/<task>")
    parser.add_argument("--runs", help="default var/experiment/<task>")
    parser.add_argument("--results", help="default docs/results/<task>")
    parser.add_argument(
        "--fresh", action="store_true", help="retrain models that already have a release"
    )
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument(
        "--threads", type=int, help="torch threads per process (default: the YAML's)"
    )
    parser.add_argument("--train-only", action="store_true",
                        help="train the listed models, skip the evaluation (to train groups of models "
                             "in parallel processes; a last run without it evaluates them all)")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    data_root = Path(args.data_root or REPO / "var" / "data" / args.task)
    runs = Path(args.runs or REPO / "var" / "experiment" / args.task)
    results = Path(args.results or REPO / "docs" / "results" / args.task)
    command = "python benchmarks/experiment/run.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    if not (data_root / "manifest.json").exists():
        from boneread_ml.data.manifest import generate

        logger.info(
            "generating %d %s cases with seed %d into %s",
            args.cases,
            args.task,
            args.seed,
            data_root,
        )
        generate(args.task, args.cases, args.seed, data_root, dicom=False)
    manifest = json.loads((data_root / "manifest.json").read_text(encoding="utf-8"))
    if len(manifest["cases"]) != args.cases or int(manifest.get("seed", args.seed)) != args.seed:
        raise SystemExit(f"{data_root} holds {len(manifest['cases'])} cases of seed {manifest.get('seed')}; "
                         f"asked for {args.cases} of seed {args.seed} (use another --data-root)")  # fmt: skip

    overrides: dict = {}
    try:
        for text in args.set:
            overrides = deep_update(overrides, parse_override(text))
        base = load_config(args.config or REPO / "ml" / "configs" / f"{args.task}.yaml", overrides)
    except ValueError as exc:
        raise SystemExit(f"run.py: {exc}") from None
    train_seed = args.seed if args.train_seed is None else args.train_seed
    base = deep_update(base, {"train": {"seed": train_seed, "val_every": 0}})
    if args.steps:
        base = deep_update(base, {"train": {"max_steps": args.steps}})
    if args.threads:
        base = deep_update(base, {"train": {"num_threads": args.threads}})
    if args.text_encoder:
        base = deep_update(base, {"text": {"pretrained": args.text_encoder}})
    releases, timings = [], {}
    for name in args.models:
        release = runs / name / "release"
        if (release / "config.json").exists() and not args.fresh:
            logger.info("%s: release exists, skipped", name)
        else:
            cfg = deep_update(base, {"model": name, "experiment": f"{args.task}_{name}"})
            t0 = time.perf_counter()
            train_fold(cfg, data_root, runs / name, val_folds=[args.test_fold],
                       extra_metadata={"command": command, "config": cfg})  # fmt: skip
            timings[name] = time.perf_counter() - t0
        releases.append(str(release))
    if args.train_only:
        return 0
    # every model gets its lesion threshold from the same training cases (never the test fold)
    train_cases = [c for c in manifest["cases"] if int(c["fold"]) != args.test_fold]
    calib_cases = train_cases[: int(base["train"]["calibrate_cases"])]
    for release in releases:
        config = json.loads((Path(release) / "config.json").read_text(encoding="utf-8"))
        if "lesion_calibration" not in config.get("postprocess", {}):
            calibrate_release(release, data_root, calib_cases, seed=args.seed)
    evaluated = evaluate_checkpoints(
        releases, list(args.models), data_root, [args.test_fold], results,
        reference=args.models[0], seed=args.seed, n_boot=args.n_boot,
        keyword_rule_from="mt_unet_no_text" if "mt_unet_no_text" in args.models else None,
        probe_texts_for="mt_unet" if "mt_unet" in args.models else None,
    )  # fmt: skip
    record = {
        "command": command,
        "task": args.task,
        "cases": args.cases,
        "seed": args.seed,
        "train_seed": train_seed,
        "test_fold": args.test_fold,
        "train": base["train"],
        "input_scale": base["input_scale"],
        "text_encoder": args.text_encoder,
        "train_seconds_this_run": timings,
        "generator_version": manifest.get("generator_version"),
        "data_params": manifest.get("params"),
    }
    (results / "experiment.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    ref = evaluated["summaries"][0]
    logger.info("reference %s: mean lesion-class Dice %.3f", ref["model"], ref["mean_class_dice"])
    for row in evaluated["comparison"]:
        lo, hi = row["mean_class_dice_difference_ci"]
        logger.info(
            "  vs %-22s %+.4f (95%% CI %+.4f..%+.4f)",
            row["model"],
            row["mean_class_dice_difference"],
            lo,
            hi,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
