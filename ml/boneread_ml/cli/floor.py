"""Choose a release's lesion-probability floor on its calibration cases and record it.

The floor (``postprocess.lesion_floor``) drops the lesions whose stated probability is below it
(``boneread_ml.predict.apply_lesion_floor``). It is chosen on the cases the release's threshold
was calibrated on (``postprocess.calibrated_on``, training cases), never on test cases, with the
release's threshold, recalibration and site rule as they are. Training does the same when the
YAML sets ``train.fit_lesion_floor``.

Example (the shipped planar release; its calibration cases are in the seed-0 phantom)::

    boneread-ml floor --release ml/checkpoints/planar --data-root var/data/planar
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from boneread_ml.evaluation.calibrate import FLOOR_OBJECTIVES

    parser.add_argument("--release", required=True, help="release dir (config.json is updated)")
    parser.add_argument("--data-root", required=True, help="phantom data holding its cases")
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
    wanted = (config.get("postprocess") or {}).get("calibrated_on") or []
    if not wanted:
        raise SystemExit(f"{release}: no postprocess.calibrated_on (calibrate the threshold first)")
    by_id = {c["case_id"]: c for c in json.loads(manifest_file.read_text("utf-8"))["cases"]}
    missing = [case_id for case_id in wanted if case_id not in by_id]
    if missing:
        raise SystemExit(
            f"{root}: {len(missing)} of the release's {len(wanted)} calibration cases are not "
            f"in it (first: {missing[0]}); generate the phantom they come from"
        )
    section = fit_lesion_floor(release, root, [by_id[i] for i in wanted], args.objective)
    print(json.dumps({k: v for k, v in section.items() if k != "scores_by_floor"}))  # noqa: T201
    return 0
