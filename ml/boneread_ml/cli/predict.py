"""Run a shipped checkpoint on one case and print its lesion table (JSON).

Example::

    boneread-ml predict --checkpoint ml/checkpoints/planar --npz var/data/planar/arrays/case0000.npz \\
        --report-file report.txt --out var/pred.npz
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", required=True, help="release dir (model.safetensors + config.json)"
    )
    parser.add_argument(
        "--npz", required=True, help="npz with an 'image' array (the phantom's format)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--report", default="", help="report text (Chinese)")
    group.add_argument("--report-file", help="file with the report text (UTF-8)")
    parser.add_argument("--out", help="write label_map / probabilities / instance_map here (.npz)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")


def run(args: argparse.Namespace) -> int:
    import torch

    from boneread_ml.predict import load_model, predict

    torch.set_num_threads(args.threads)
    report = Path(args.report_file).read_text(encoding="utf-8") if args.report_file else args.report
    with np.load(args.npz) as npz:
        images = npz["image"]
        spacing = next((npz[k] for k in ("pixel_spacing_mm", "spacing_mm") if k in npz.files), None)
    model = load_model(args.checkpoint)
    result = predict(
        images, report, model, spacing_mm=None if spacing is None else list(map(float, spacing))
    )
    if args.out:
        np.savez_compressed(args.out, label_map=result.label_map, probabilities=result.probabilities,
                            instance_map=result.instance_map)  # fmt: skip
    json.dump({"model": result.model_name, "sha256": result.checksum, "lesions": result.lesions},
              sys.stdout, ensure_ascii=False, indent=2)  # fmt: skip
    sys.stdout.write("\n")
    return 0
