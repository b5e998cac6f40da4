"""Does the report carry information about lesion class that the image lacks?

For every lesion of a generated set this builds two feature sets and fits a
cross-validated logistic regression (folds = the manifest's patient folds):

* image only: size, intensity relative to the patient's bone, contrast against
  the surrounding bone, anterior/posterior ratio (planar) or HU correlates
  (SPECT/CT), shape, site, and case-level multiplicity and alignment;
* image + report: the same plus what a reader takes from the report text
  (is the lesion's region named in a finding with a metastatic or a benign
  phrase, cancer or trauma history, metastases in the impression).

The report features are parsed from the report *text*, never from the ground
truth.  The script also sweeps the generator's ``informativeness`` knob on
the same images (:func:`boneread_ml.data.manifest.rewrite_report`).

Run::

    python -m boneread_ml.analysis.text_value --kind planar --cases 400 --seed 0 \\
        --workers 2 --out benchmarks/results/text_value_planar.json
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from boneread_ml.data import reports
from boneread_ml.data.manifest import (
    DEFAULT_INFORMATIVENESS,
    generate,
    load_case_arrays,
    load_manifest,
    rewrite_report,
)
from boneread_ml.evaluation.visibility import lesion_ring, smoothed_views

log = logging.getLogger(__name__)

SITES = ("skull", "spine", "rib", "sternum", "pelvis", "scapula", "clavicle", "long_bone", "joint")
IMAGE_FEATURES_PLANAR = (
    "log_area", "peak_ratio", "mean_ratio", "contrast", "log_ant_post", "elongation", "extent",
    "lateral_offset", "log_n_lesions", "n_sites", "aligned_neighbours",
)  # fmt: skip
IMAGE_FEATURES_SPECTCT = (
    "log_area", "peak_ratio", "mean_ratio", "contrast", "hu_mean", "hu_delta", "hu_std", "elongation",
    "extent", "log_n_lesions", "n_sites", "aligned_neighbours",
)  # fmt: skip
REPORT_FEATURES = (
    "named_metastatic",
    "named_benign",
    "not_named",
    "history_cancer",
    "history_trauma",
    "impression_metastatic",
    "impression_benign",
)


def _shape_features(mask: np.ndarray) -> tuple[float, float]:
    coords = np.argwhere(mask).astype(float)
    if len(coords) < 3:
        return 1.0, 1.0
    ev = np.sort(np.linalg.eigvalsh(np.cov(coords.T)))[::-1]
    elongation = float(np.sqrt((ev[0] + 1e-3) / (ev[-1] + 1e-3)))
    span = coords.max(0) - coords.min(0) + 1
    extent = float(mask.sum() / np.prod(span))
    return elongation, extent


def image_features(case: dict, arrays: dict[str, np.ndarray], kind: str) -> list[dict[str, float]]:
    """Per-lesion image features (a dict per lesion, in manifest order)."""
    image, inst = arrays["image"], arrays["instance"]
    emission = image[:1] if kind == "spectct" else image
    smooth = smoothed_views(emission)
    refs = [float(np.percentile(s[s > np.percentile(s, 50)], 90)) + 1e-6 for s in smooth]
    centroids = (
        np.array([les["centroid"] for les in case["lesions"]])
        if case["lesions"]
        else np.zeros((0, 2))
    )
    n_sites = len({les["site"] for les in case["lesions"]})
    feats = []
    objects = ndimage.find_objects(inst)
    for les in case["lesions"]:
        # work on the lesion's bounding box plus a margin (3D volumes are large)
        box = tuple(slice(max(b.start - 5, 0), b.stop + 5) for b in objects[les["id"] - 1])
        m = inst[box] == les["id"]
        ring = lesion_ring(m, inst[box])
        crops = [s[box] for s in smooth]
        peaks = [float(s[m].max()) / r for s, r in zip(crops, refs, strict=True)]
        means = [float(s[m].mean()) / r for s, r in zip(crops, refs, strict=True)]
        contrast = max(float(s[m].mean()) / (float(s[ring].mean()) + 1e-3) for s in crops)
        elong, extent = _shape_features(m)
        c = np.array(les["centroid"])
        d = np.abs(centroids - c)
        if kind == "planar":
            aligned = int(((d[:, 0] < 40) & (d[:, 1] < 12)).sum() - 1)
        else:
            aligned = int(((np.abs(d[:, 0]) < 20) & (np.abs(d[:, 2]) < 8)).sum() - 1)
        f = {
            "log_area": float(np.log(m.sum())),
            "peak_ratio": max(peaks),
            "mean_ratio": max(means),
            "contrast": float(np.log(contrast)),
            "elongation": float(np.log(elong)),
            "extent": extent,
            "log_n_lesions": float(np.log1p(len(case["lesions"]))),
            "n_sites": float(n_sites),
            "aligned_neighbours": float(aligned),
        }
        if kind == "planar":
            f["log_ant_post"] = float(np.log((peaks[0] + 1e-3) / (peaks[1] + 1e-3)))
            f["lateral_offset"] = float(abs(c[1] - image.shape[-1] / 2) / (image.shape[-1] / 2))
        else:
            ct = image[1][box]
            f["hu_mean"] = float(ct[m].mean()) / 100.0
            f["hu_delta"] = float(ct[m].mean() - ct[ring].mean()) / 100.0 if ring.any() else 0.0
            f["hu_std"] = float(ct[m].std()) / 100.0
        for s in SITES:
            f[f"site_{s}"] = float(les["site"] == s)
        feats.append(f)
    return feats


_NEG = re.compile(r"未见[^，。]*转移")


def report_features(case: dict, report: dict) -> list[dict[str, float]]:
    """Per-lesion features a reader takes from the report text."""
    sentences = [s for s in report["findings"].split("。") if s]
    history = report["history"]
    impression = _NEG.sub("", report["impression"])
    feats = []
    for les in case["lesions"]:
        naming = [
            s
            for s in sentences
            if les["region"] in s or les["region"] in reports.expand_site_phrase(s)
        ]
        met = any(any(t in _NEG.sub("", s) for t in reports.METASTATIC_TERMS) for s in naming)
        ben = any(any(t in s for t in reports.BENIGN_TERMS) for s in naming)
        feats.append(
            {
                "named_metastatic": float(met),
                "named_benign": float(ben),
                "not_named": float(not naming),
                "history_cancer": float("癌" in history),
                "history_trauma": float("外伤" in history or "跌倒" in history),
                "impression_metastatic": float("转移" in impression),
                "impression_benign": float(
                    any(t in impression for t in ("退行性", "骨折", "骨质增生"))
                ),
            }
        )
    return feats


def _cv_auc(
    x: np.ndarray, y: np.ndarray, folds: np.ndarray, groups: np.ndarray, n_boot: int, rng
) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    oof = np.zeros(len(y))
    per_fold = []
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=1.0))
        model.fit(x[tr], y[tr])
        oof[te] = model.predict_proba(x[te])[:, 1]
        if len(np.unique(y[te])) == 2:
            per_fold.append(float(roc_auc_score(y[te], oof[te])))
    return {
        "auc": float(roc_auc_score(y, oof)),
        "auc_per_fold_mean": float(np.mean(per_fold)),
        "auc_per_fold_sd": float(np.std(per_fold)),
        "accuracy": float(accuracy_score(y, oof > 0.5)),
        "oof": oof,
    }


def _paired_bootstrap(y, a, b, groups, n_boot, rng) -> tuple[float, float]:
    from sklearn.metrics import roc_auc_score

    uniq = np.unique(groups)
    idx_of = {g: np.nonzero(groups == g)[0] for g in uniq}
    diffs = []
    for _ in range(n_boot):
        pick = np.concatenate([idx_of[g] for g in rng.choice(uniq, len(uniq))])
        if len(np.unique(y[pick])) < 2:
            continue
        diffs.append(roc_auc_score(y[pick], b[pick]) - roc_auc_score(y[pick], a[pick]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(lo), float(hi)


def analyse(
    root: str | Path, sweep=(0.0, 0.35, 0.7, 1.0), n_boot: int = 1000, seed: int = 0
) -> dict:
    """Run the comparison on a generated folder; returns the result dict (JSON-ready)."""
    manifest = load_manifest(root)
    kind = manifest["kind"]
    names_img = (IMAGE_FEATURES_PLANAR if kind == "planar" else IMAGE_FEATURES_SPECTCT) + tuple(
        f"site_{s}" for s in SITES
    )
    img_rows, y, folds, groups, cases_with = [], [], [], [], []
    for case in manifest["cases"]:
        if not case["lesions"]:
            continue
        arrays = load_case_arrays(root, case)
        img_rows += image_features(case, arrays, kind)
        y += [int(les["label"] == 2) for les in case["lesions"]]
        folds += [case["fold"]] * len(case["lesions"])
        groups += [case["patient_id"]] * len(case["lesions"])
        cases_with.append(case)
    y, folds, groups = np.array(y), np.array(folds), np.array(groups)
    x_img = np.array([[r[n] for n in names_img] for r in img_rows])
    rng = np.random.default_rng(seed)
    image_only = _cv_auc(x_img, y, folds, groups, n_boot, rng)
    result = {
        "kind": kind,
        "seed": manifest["seed"],
        "generator_version": manifest["generator_version"],
        "cases": len(manifest["cases"]),
        "cases_with_lesions": len(cases_with),
        "lesions": int(len(y)),
        "metastatic_fraction": float(y.mean()),
        "image_features": list(names_img),
        "report_features": list(REPORT_FEATURES),
        "model": "StandardScaler + LogisticRegression(C=1), 5-fold CV by patient (manifest folds)",
        "image_only": {k: v for k, v in image_only.items() if k != "oof"},
        "sweep": [],
    }
    for p in sweep:
        rep_rows = []
        for case in cases_with:
            rep = (
                case["report"]
                if p == manifest["params"]["informativeness"]
                else rewrite_report(manifest, case, p)
            )
            rep_rows += report_features(case, rep)
        x_rep = np.array([[r[n] for n in REPORT_FEATURES] for r in rep_rows])
        both = _cv_auc(np.hstack([x_img, x_rep]), y, folds, groups, n_boot, rng)
        text_only = _cv_auc(x_rep, y, folds, groups, n_boot, rng)
        lo, hi = _paired_bootstrap(y, image_only["oof"], both["oof"], groups, n_boot, rng)
        result["sweep"].append(
            {
                "informativeness": p,
                "image_plus_report": {k: v for k, v in both.items() if k != "oof"},
                "report_only": {k: v for k, v in text_only.items() if k != "oof"},
                "auc_gain": both["auc"] - image_only["auc"],
                "auc_gain_95ci": [lo, hi],
                "lesions_not_named": float(x_rep[:, REPORT_FEATURES.index("not_named")].mean()),
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line: generate (or reuse) a set, run the analysis, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["planar", "spectct"], default="planar")
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data", help="reuse a generated folder instead of generating one")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", help="JSON result path")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data or generate(
            args.kind, args.cases, args.seed, Path(tmp) / "set", informativeness=DEFAULT_INFORMATIVENESS,
            dicom=False, workers=args.workers, progress=True,
        )  # fmt: skip
        result = analyse(root, n_boot=args.bootstrap)
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    log.info("image only AUC %.3f", result["image_only"]["auc"])
    for s in result["sweep"]:
        log.info(
            "informativeness %.2f: image+report AUC %.3f (gain %.3f, 95%% CI %.3f..%.3f), report only %.3f",
            s["informativeness"], s["image_plus_report"]["auc"], s["auc_gain"], *s["auc_gain_95ci"], s["report_only"]["auc"],
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
