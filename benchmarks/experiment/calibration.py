"""Lesion-probability calibration of a shipped model, fitted and measured on cases it never saw.

The lesion list shows each lesion's probability. A release records a logistic recalibration of
it (``postprocess.lesion_calibration``, applied by ``predict``). It used to be fitted on 16 of
the model's own training cases, where the network is surer and more often right than on new
cases, and its expected calibration error (ECE) on held-out cases was 0.19 (issue 15 asks for
<= 0.05). Here it is fitted on a calibration set the model was not trained on and measured on
a third, separate evaluation set:

* the training data of the shipped checkpoints is the synthetic set with data seed 0;
* the calibration set is a fresh synthetic set (data seed 1), the evaluation set another one
  (data seed 2), both made by the same generator (synthetic phantoms, not clinical data);
* per predicted lesion of each case (through ``predict``, at the release's lesion threshold):
  its raw probability (mean softmax of its class), its size, and whether it is right (the
  true lesion pixels under it are mostly its class; one over background only is wrong);
* rows: the raw probability, the release's current recalibration, and the recalibration
  refitted on the calibration set (``fit_lesion_calibration``, the same Platt scaling on the
  logit and the log size, or with their squares too: ``--features``, by default the set with
  the lower 5-fold cross-validated Brier score on the calibration cases); ECE (10 equal-width
  bins) and Brier score on the evaluation set, with 95% bootstrap CIs over evaluation cases
  (2,000 resamples), and the reliability table;
* beside each ECE, the ECE the same stated probabilities would show if they were perfectly
  calibrated (``ece_if_calibrated``: outcomes drawn from them, 2,000 times; mean and 95th
  percentile): binning a finite set of lesions gives a calibrated model an ECE above 0 (about
  0.04 for 500 lesions), so a measured ECE is read against it.

The predicted lesions of each set are kept beside it (``lesions-<sha>.json``, for these weights,
post-processing but the recalibration and floor, and cases), so a refit with other
``--features`` does not predict again.

``--write-release`` records the refitted recalibration in the release's ``config.json`` (the
weights and their sha256 are untouched), with the calibration set it came from. A lesion floor
the release had (``postprocess.lesion_floor``, chosen on the old calibration's probabilities) is
removed, with a warning: refit it on the calibration set with ``boneread-ml floor --held-out``.
The fit and the raw, current and held-out rows always see every lesion the network states (no
floor); a release with a floor adds the row ``shown``: its current recalibration measured on the
lesions its floor keeps, the ones a reader is shown.

Run (the numbers in docs/results/calibration/ come from it)::

    python benchmarks/experiment/calibration.py --kind planar --release ml/checkpoints/planar \\
        --calibration-cases 480 --evaluation-cases 320 --write-release --threads 2 \\
        --out docs/results/calibration/planar.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.data.datasets import load_arrays  # noqa: E402
from boneread_ml.data.manifest import generate  # noqa: E402
from boneread_ml.evaluation.calibrate import (  # noqa: E402
    LESION_FEATURE_SETS,
    apply_lesion_calibration,
    choose_lesion_features,
    fit_lesion_calibration,
)
from boneread_ml.evaluation.metrics import (  # noqa: E402
    ece_if_calibrated,
    expected_calibration_error,
    lesion_outcomes,
)
from boneread_ml.models.release import update_release_config  # noqa: E402
from boneread_ml.predict import load_model, predict  # noqa: E402

logger = logging.getLogger("calibration")

CALIBRATION_DATA_SEED = 1
EVALUATION_DATA_SEED = 2
N_BINS = 10
N_BOOT = 2000


def data_set(kind: str, cases: int, seed: int, root: Path) -> tuple[Path, list[dict]]:
    """The synthetic set (generated unless ``root`` already holds it with these settings)."""
    manifest = root / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if len(data["cases"]) == cases and data.get("seed") == seed and data.get("kind") == kind:
            return root, data["cases"]
    generate(kind, cases, seed, root, dicom=False, workers=os.cpu_count() or 1)
    return root, json.loads(manifest.read_text(encoding="utf-8"))["cases"]


def lesions_cached(
    model, root: Path, cases: list[dict], config: dict
) -> list[list[tuple[float, int, bool]]]:
    """:func:`lesions_of`, kept beside the data set for these weights, post-processing and cases
    (a refit with other ``--features`` then skips the predictions; the recalibration and a
    floor do not change what is kept: raw probabilities of every stated lesion; the lesion
    threshold and the report-site rule do)."""
    post = {
        k: v
        for k, v in (config.get("postprocess") or {}).items()
        if k not in ("lesion_calibration", "lesion_floor")
    }
    key = {
        "weights_sha256": config.get("weights_sha256"),
        "postprocess": post,
        "cases": [c["case_id"] for c in cases],
    }
    path = root / f"lesions-{str(key['weights_sha256'])[:12]}.json"
    if path.exists():
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept.get("key") == key:
            logger.info("reusing the predicted lesions in %s", path)
            return [[(float(p), int(n), bool(r)) for p, n, r in case] for case in kept["lesions"]]
    lesions = lesions_of(model, root, cases)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "lesions": lesions}), encoding="utf-8")
    tmp.replace(path)
    return lesions


def lesions_of(model, root: Path, cases: list[dict]) -> list[list[tuple[float, int, bool]]]:
    """Per case, per predicted lesion: (raw probability, size, right)."""
    out = []
    for case in cases:
        arrays = load_arrays(root, case)
        spacing = arrays.get("spacing_mm")
        result = predict(
            arrays["image"],
            case["report"]["text"] if model.tokenizer is not None else "",
            model,
            spacing_mm=None if spacing is None else [float(s) for s in spacing],
        )
        rights = [
            r for _, r in lesion_outcomes(result.instance_map, result.lesions, arrays["label"])
        ]
        out.append(
            [
                (
                    float(les["probability_uncalibrated"]),
                    int(les.get("area_px", les.get("volume_vox"))),
                    bool(right),
                )
                for les, right in zip(result.lesions, rights, strict=True)
            ]
        )
    return out


def scores(per_case: list[list[tuple[float, bool]]]) -> dict[str, float]:
    p = np.array([q for case in per_case for q, _ in case], dtype=float)
    y = np.array([r for case in per_case for _, r in case], dtype=float)
    if p.size == 0:
        return {"ece": float("nan"), "brier": float("nan"), "lesions": 0}
    return {
        "ece": expected_calibration_error(p, y, n_bins=N_BINS),
        "brier": float(np.mean((p - y) ** 2)),
        "lesions": int(p.size),
    }


def with_ci(per_case: list[list[tuple[float, bool]]], seed: int = 0) -> dict[str, Any]:
    """ECE and Brier over all lesions, and their 95% CIs from resampling cases."""
    point = scores(per_case)
    rng = np.random.default_rng(seed)
    draws = {"ece": [], "brier": []}
    for _ in range(N_BOOT):
        pick = rng.integers(0, len(per_case), size=len(per_case))
        s = scores([per_case[i] for i in pick])
        for key in draws:
            draws[key].append(s[key])
    for key, values in draws.items():
        lo, hi = np.nanquantile(values, [0.025, 0.975])
        point[f"{key}_ci"] = [float(lo), float(hi)]
    # the ECE these probabilities would show if they were perfectly calibrated (binning noise)
    stated_p = np.array([q for case in per_case for q, _ in case], dtype=float)
    point["ece_if_calibrated"] = ece_if_calibrated(stated_p, n_bins=N_BINS, draws=N_BOOT, seed=seed)
    return point


def reliability(per_case: list[list[tuple[float, bool]]]) -> list[dict[str, Any]]:
    p = np.array([q for case in per_case for q, _ in case], dtype=float)
    y = np.array([r for case in per_case for _, r in case], dtype=float)
    bins = np.clip((p * N_BINS).astype(int), 0, N_BINS - 1)
    return [
        {
            "bin": [b / N_BINS, (b + 1) / N_BINS],
            "lesions": int((bins == b).sum()),
            "mean_probability": float(p[bins == b].mean()),
            "fraction_right": float(y[bins == b].mean()),
        }
        for b in range(N_BINS)
        if (bins == b).any()
    ]


def stated(lesions, calibration) -> list[list[tuple[float, bool]]]:
    """The probability the lesion list would state under ``calibration`` (None: raw)."""
    return [
        [(apply_lesion_calibration(calibration, p, n), r) for p, n, r in case] for case in lesions
    ]


def shown(per_case: list[list[tuple[float, bool]]], floor: float | None):
    """The lesions the lesion list keeps under a floor on the stated probability (None: all),
    as ``apply_lesion_floor`` does: stated below the floor is dropped."""
    if floor is None:
        return per_case
    return [[(q, r) for q, r in case if q >= floor] for case in per_case]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("planar", "spectct"), required=True)
    parser.add_argument("--release", type=Path, required=True)
    parser.add_argument("--calibration-cases", type=int, default=80)
    parser.add_argument("--evaluation-cases", type=int, default=80)
    parser.add_argument("--data-dir", type=Path, default=REPO / "var" / "data" / "calibration")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--features",
        choices=("cv", *LESION_FEATURE_SETS),
        default="cv",
        help="the refit's feature set; cv (default): the one with the lowest 5-fold "
        "cross-validated Brier score on the calibration cases",
    )
    parser.add_argument(
        "--write-release",
        action="store_true",
        help="record the refitted recalibration in the release's config.json",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch

    torch.set_num_threads(args.threads)

    model = load_model(args.release)
    # fitted and measured on every lesion the network states: a floor would hide the low ones
    model.config.setdefault("postprocess", {}).pop("lesion_floor", None)
    config = json.loads((args.release / "config.json").read_text(encoding="utf-8"))
    training_seed = config.get("seed")
    cal_root, cal_cases = data_set(
        args.kind,
        args.calibration_cases,
        CALIBRATION_DATA_SEED,
        args.data_dir / f"{args.kind}-s{CALIBRATION_DATA_SEED}",
    )
    ev_root, ev_cases = data_set(
        args.kind,
        args.evaluation_cases,
        EVALUATION_DATA_SEED,
        args.data_dir / f"{args.kind}-s{EVALUATION_DATA_SEED}",
    )
    logger.info("predicting %d calibration cases", len(cal_cases))
    cal = lesions_cached(model, cal_root, cal_cases, config)
    logger.info("predicting %d evaluation cases", len(ev_cases))
    ev = lesions_cached(model, ev_root, ev_cases, config)

    current = (config.get("postprocess") or {}).get("lesion_calibration")
    floor = ((config.get("postprocess") or {}).get("lesion_floor") or {}).get("min_probability")
    chosen, cv_scores = args.features, None
    if args.features == "cv":
        try:
            chosen, cv_scores = choose_lesion_features(cal)
        except ValueError as exc:
            parser.error(f"--features cv: {exc}")
        logger.info("feature set %s (cross-validated %s)", chosen, cv_scores)
    refit = fit_lesion_calibration(
        [lesion for case in cal for lesion in case], features=LESION_FEATURE_SETS[chosen]
    )
    rows = {
        "raw": {"calibration": None},
        "current": {
            "calibration": current,
            # what the release records about its fit; releases from training record none
            "fitted_on": (current or {}).get("fitted_on") or "16 of the model's training cases",
        },
        "held_out": {
            "calibration": refit,
            "fitted_on": f"{len(cal_cases)} synthetic cases, data seed {CALIBRATION_DATA_SEED}",
            "feature_set": chosen,
            # chosen on the calibration cases only (5 folds of cases), never on the evaluation set
            "feature_sets_cv": cv_scores,
        },
    }
    if floor is not None:
        # what a reader is shown: the release as it stands, its floor dropping the low ones
        rows["shown"] = {**rows["current"], "floor": float(floor)}
    for row in rows.values():
        probs = shown(stated(ev, row["calibration"]), row.get("floor"))
        row["evaluation"] = with_ci(probs)
        row["reliability"] = reliability(probs)
        row["calibration_set"] = scores(shown(stated(cal, row["calibration"]), row.get("floor")))

    record = {
        "benchmark": "lesion calibration",
        "kind": args.kind,
        "release": str(args.release),
        "weights_sha256": config.get("weights_sha256"),
        "lesion_threshold": (config.get("postprocess") or {}).get("lesion_threshold"),
        "training_seed": training_seed,
        "calibrated_threshold_on": (config.get("postprocess") or {}).get("calibrated_on"),
        "calibration_set": {"data_seed": CALIBRATION_DATA_SEED, "cases": len(cal_cases)},
        "evaluation_set": {"data_seed": EVALUATION_DATA_SEED, "cases": len(ev_cases)},
        "ece_bins": N_BINS,
        "bootstrap": f"{N_BOOT} resamples of evaluation cases",
        "target_ece": 0.05,
        "rows": rows,
        "met": bool(rows["held_out"]["evaluation"]["ece"] <= 0.05),
        "synthetic": True,
        "command": "python benchmarks/experiment/calibration.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, row in rows.items():
        e = row["evaluation"]
        logger.info(
            "%s: ECE %.3f (%.3f-%.3f; if calibrated %.3f, 95th percentile %.3f), Brier %.3f, "
            "%d lesions",
            name, e["ece"], *e["ece_ci"], e["ece_if_calibrated"]["mean"],
            e["ece_if_calibrated"]["p95"], e["brier"], e["lesions"],
        )  # fmt: skip
    if args.write_release and refit is not None:
        postprocess = dict(config.get("postprocess") or {})
        postprocess["lesion_calibration"] = {
            **refit,
            "fitted_on": {
                "data_seed": CALIBRATION_DATA_SEED,
                "cases": len(cal_cases),
                "command": record["command"],
            },
        }
        if postprocess.pop("lesion_floor", None) is not None:
            # chosen on the old calibration's probabilities: it would cut at another point
            logger.warning(
                "removed the release's lesion floor (fitted on the old calibration); refit it on "
                "the calibration set: boneread-ml floor --release %s --held-out --data-root %s",
                args.release,
                cal_root,
            )
        update_release_config(args.release, postprocess=postprocess)
        logger.info("recorded in %s", args.release / "config.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
