"""The command-line arguments shared by the scripts that evaluate one release per fold and
training seed (``froc.py``, ``fp_sites.py``): which trainings, where the data is, and their
checks, so that every such script names a bad argument the same way."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_release_arguments(parser: argparse.ArgumentParser) -> None:
    """``--folds``, ``--seeds``, ``--model NAME=PATH`` (with ``{fold}`` and ``{seed}``),
    ``--data-root`` and ``--threads``."""
    parser.add_argument("--folds", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--model", required=True, help="NAME=PATH with {fold} and {seed}")
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--threads", type=int, default=1)


def check_release_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[str, str, dict[str, Any]]:
    """The model's name and path template and the data root's manifest; a parser error that
    names the argument when the model is not NAME=PATH or the data root has no manifest."""
    if "=" not in args.model:
        parser.error(f"--model must be NAME=PATH, got {args.model!r}")
    manifest_file = Path(args.data_root) / "manifest.json"
    if not manifest_file.is_file():
        parser.error(f"--data-root {args.data_root}: no manifest.json (generate the phantom first)")
    name, template = args.model.split("=", 1)
    return name, template, json.loads(manifest_file.read_text(encoding="utf-8"))
