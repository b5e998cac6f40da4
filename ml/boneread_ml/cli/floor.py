"""Choose a release's lesion-probability floor and record it.

The floor (``postprocess.lesion_floor``) drops the lesions whose stated probability is below it
(``boneread_ml.predict.apply_lesion_floor``). It is never chosen on test cases. Two sources:

* ``--held-out`` (recommended): every case of ``--data-root``, a synthetic set the release was
  never trained on (a fresh data seed, as the 480-case recalibration of
  ``benchmarks/experiment/calibration.py`` uses). A network is surer of its training cases'
  lesions, so a floor chosen on them cuts deeper than it should on new cases
  (``docs/results/spectct-floor-held-out/``). A data root that holds any of the release's training
  cases (its ``calibrated_on`` case ids, which name their data seed) is refused.
* otherwise the release's calibration cases (``postprocess.calibrated_on``: training cases, the
  ones its threshold was chosen on), which training uses when the YAML sets
  ``train.fit_lesion_floor``.

The release's threshold, recalibration and site rule stay as they are.

Example (the shipped SPECT/CT release, on its held-out calibration set of data seed 1)::

    boneread-ml synth --kind spectct --cases 480 --seed 1 --no-dicom --workers 2 \\
        --out var/data/calibration/spectct-s1
    boneread-ml floor --release ml/checkpoints/spectct --held-out \\
        --data-root var/data/calibration/spectct-s1
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from boneread_ml.evaluation.calibrate import FLOOR_OBJECTIVES

    parser.add_argument("--release", required=True, help="release dir (config.json is updated)")
    parser.add_argument("--data-root", required=True, help="phantom data holding its cases")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="fit on every case of --data-root, a set the release was not trained on "
        "(default: the release's calibrated_on training cases)",
    )
    parser.add_argument("--objective", choices=FLOOR_OBJECTIVES, default="lesion_f1")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")


def run(args: argparse.Namespace) -> int:
    import torch

    from boneread_ml.evaluation.calibrate import fit_lesion_floor

    torch.set_num_threads(args.threads)
    release, root = Path(args.release), Path(args.data_root)
    config_file, manifest_file = release / "config.json", root / "manifest.json"
    for path, what in ((config_file, "release"), (manifest_file, "data root")):
        if not path.is_file():
            raise SystemExit(f"{what} {path.parent}: no {path.name}")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    manifest = json.loads(manifest_file.read_text("utf-8"))
    training = (config.get("postprocess") or {}).get("calibrated_on") or []
    if args.held_out:
        cases, fitted_on = held_out_cases(manifest, training, root, config)
        fitted_on["command"] = shlex.join(
            ["boneread-ml", "floor", "--release", args.release, "--held-out",
             "--data-root", args.data_root, "--objective", args.objective]
        )  # fmt: skip
    else:
        if not training:
            raise SystemExit(
                f"{release}: no postprocess.calibrated_on (calibrate the threshold first, or "
                "fit on a held-out set with --held-out)"
            )
        by_id = {c["case_id"]: c for c in manifest["cases"]}
        missing = [case_id for case_id in training if case_id not in by_id]
        if missing:
            raise SystemExit(
                f"{root}: {len(missing)} of the release's {len(training)} calibration cases "
                f"are not in it (first: {missing[0]}); generate the phantom they come from"
            )
        cases, fitted_on = [by_id[i] for i in training], None
    section = fit_lesion_floor(release, root, cases, args.objective, fitted_on=fitted_on)
    print(json.dumps({k: v for k, v in section.items() if k != "scores_by_floor"}))  # noqa: T201
    return 0


def held_out_cases(
    manifest: dict, training: list[str], root: Path, config: dict
) -> tuple[list[dict], dict]:
    """Every case of a held-out data root, and what the floor records it was fitted on;
    refused when the root is empty or not of the release's task, when the release names no
    training cases, or when the root shares their data seed (a case id is
    ``<kind>-s<seed>-<index>``)."""
    cases = manifest.get("cases") or []
    if not cases:
        raise SystemExit(f"{root}: no cases to fit the floor on")
    if not training:
        raise SystemExit(
            f"{root}: the release records no postprocess.calibrated_on, so which data seed it "
            "was trained on is unknown; a held-out set cannot be checked"
        )
    task = config.get("task")
    if manifest.get("kind") != task:
        raise SystemExit(f"{root}: {manifest.get('kind')} cases, the release reads {task}")
    trained = {case_id.rsplit("-", 1)[0] for case_id in training}
    shared = [c["case_id"] for c in cases if c["case_id"].rsplit("-", 1)[0] in trained]
    if shared:
        raise SystemExit(
            f"{root}: {len(shared)} of its {len(cases)} cases come from the data seed the "
            f"release was trained on (first: {shared[0]}); generate a set with another "
            "--seed for --held-out"
        )
    return cases, {"data_seed": manifest.get("seed"), "cases": len(cases)}
