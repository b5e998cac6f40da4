"""Generate synthetic bone scans or SPECT/CT cases with masks, DICOM and Chinese reports.

Example::

    boneread-ml synth --kind planar --cases 100 --seed 0 --out var/synth/planar --workers 2
"""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def _unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number within [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number within [0, 1], got {value}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer seed, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``synth`` options."""
    from boneread_ml.data.manifest import DEFAULT_INFORMATIVENESS

    parser.add_argument(
        "--kind", required=True, choices=["planar", "spectct"], help="whole-body planar or SPECT/CT"
    )
    parser.add_argument("--cases", required=True, type=_positive_int, help="number of cases")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument(
        "--informativeness",
        type=_unit_interval,
        default=DEFAULT_INFORMATIVENESS,
        help=f"probability that the report describes a lesion with site and class (default {DEFAULT_INFORMATIVENESS})",
    )
    parser.add_argument(
        "--workers", type=_positive_int, default=1, help="worker processes (default 1)"
    )
    parser.add_argument("--no-dicom", action="store_true", help="write arrays and manifest only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run the generator; returns the process exit code."""
    from boneread_ml.data.manifest import generate

    try:
        out = generate(
            args.kind,
            args.cases,
            args.seed,
            args.out,
            informativeness=args.informativeness,
            dicom=not args.no_dicom,
            workers=args.workers,
            progress=not args.no_progress,
        )
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    log.info("wrote %s", out / "manifest.json")
    return 0
