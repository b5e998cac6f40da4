"""Train a segmenter (MT-UNet, an ablation or a baseline) from a YAML config.

Examples::

    boneread-ml train --config ml/configs/planar.yaml --data-root var/data/planar --out var/runs/planar
    boneread-ml train --config ml/configs/planar.yaml --model unet --cv --out var/runs/planar_unet_cv
    boneread-ml train --config ml/configs/spectct.yaml --set train.init_from=ml/checkpoints/planar \\
        --set train.freeze=[encoder] --set train.unfreeze_at_step=100 --out var/runs/spectct_tl
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
from pathlib import Path

from boneread_ml.training.config import deep_update, load_config, parse_override, resolve_data_root

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="experiment YAML (ml/configs/*.yaml)")
    parser.add_argument(
        "--data-root", help="phantom data root (manifest.json); or BONEREAD_DATA_ROOT"
    )
    parser.add_argument("--out", required=True, help="run folder (checkpoints, summary, release/)")
    parser.add_argument("--model", help="registry name (mt_unet, mt_unet_no_text, unet, ...)")
    parser.add_argument("--fold", type=int, action="append", help="validation fold (repeatable)")
    parser.add_argument(
        "--cv", action="store_true", help="5-fold cross-validation (one model per fold)"
    )
    parser.add_argument(
        "--all-data", action="store_true", help="no validation fold: train on every case"
    )
    parser.add_argument(
        "--release", help="also write the released weights here (e.g. ml/checkpoints/planar)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--seed", type=int, help="override train.seed")
    parser.add_argument(
        "--text-encoder", help="local BERT/MacBERT folder (from_pretrained, no download)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, e.g. train.max_steps=50 (repeatable)")  # fmt: skip


def command_line(args: argparse.Namespace) -> str:
    """The equivalent ``boneread-ml train`` command (recorded in the release's config.json)."""
    parts = ["boneread-ml", "train"]
    for key, value in vars(args).items():
        if key in ("command", "verbose") or value in (None, False, []):
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            parts.append(flag)
        elif isinstance(value, list):
            for v in value:
                parts += [flag, str(v)]
        else:
            parts += [flag, str(value)]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    from boneread_ml.training.run import train_cross_validation, train_fold

    overrides: dict = {}
    for item in args.set:
        overrides = deep_update(overrides, parse_override(item))
    if args.model:
        overrides["model"] = args.model
    if args.seed is not None:
        overrides = deep_update(overrides, {"train": {"seed": args.seed}})
    if args.text_encoder:
        overrides = deep_update(overrides, {"text": {"pretrained": args.text_encoder}})
    cfg = load_config(args.config, overrides)
    root = resolve_data_root(cfg, args.data_root)
    out = Path(args.out)
    command = command_line(args)
    if args.cv:
        summaries = train_cross_validation(cfg, root, out, resume=args.resume)
        scores = [s["best_val_mean_class_dice"] for s in summaries]
        logger.info("cross-validation mean-class Dice per fold: %s", scores)
        (out / "cv_summary.json").write_text(json.dumps(summaries, indent=2), encoding="utf-8")
        return 0
    folds = [] if args.all_data else args.fold
    summary = train_fold(
        cfg, root, out, val_folds=folds, resume=args.resume, release_dir=args.release,
        extra_metadata={"command": command, "config": cfg},
    )  # fmt: skip
    logger.info(
        "done: best validation mean-class Dice %s, %d steps in %.0f s; release in %s",
        summary["best_val_mean_class_dice"], summary["steps"], summary["seconds"], summary["release"],
    )  # fmt: skip
    return 0
