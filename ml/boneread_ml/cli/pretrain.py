"""Pre-train the report encoder (small character BERT) with MacBERT's MLM-as-correction objective.

The corpus is the reports of a phantom data root's training folds (the held-out fold is never
read), each also rewritten at other informativeness levels. The output folder loads like a
local MacBERT copy::

    boneread-ml pretrain --data-root var/data/planar --exclude-fold 0 --out var/pretrained/planar_bert
    boneread-ml train --config ml/configs/planar.yaml --text-encoder var/pretrained/planar_bert ...

See ``boneread_ml.models.pretrain`` for the objective, the similar-token table and the segmenter.
"""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", required=True, help="phantom data root (manifest.json)")
    parser.add_argument("--exclude-fold", type=int, action="append", default=None,
                        help="fold whose reports are not read (repeatable; default 0, the "
                             "experiment's test fold)")  # fmt: skip
    parser.add_argument("--out", required=True, help="output folder (config, weights, tokenizer)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--rewrite", type=float, nargs="*", default=[0.5, 0.75, 1.0],
                        help="informativeness levels at which each report is also rewritten")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from boneread_ml.models.pretrain import pretrain, report_corpus

    exclude = args.exclude_fold if args.exclude_fold is not None else [0]
    texts = report_corpus(
        args.data_root, exclude_folds=exclude, rewrite_informativeness=args.rewrite
    )
    logger.info("corpus: %d distinct reports (folds %s excluded)", len(texts), exclude)
    result = pretrain(
        texts, args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        max_length=args.max_length, num_threads=args.threads,
        extra_record={"data_root": str(args.data_root), "excluded_folds": exclude,
                      "rewrite_informativeness": args.rewrite},
    )  # fmt: skip
    logger.info("loss %.3f -> %.3f", result.record["loss_first"], result.record["loss_last"])
    return 0
