"""Where a release's pixel-level AUC comes from: its lesion pixels' probabilities against the
background's, for several releases on the same cases.

``boneread-ml evaluate`` reports a pixel AUC per lesion class on a fixed sample of pixels (every
lesion pixel and a seeded sample of background ones, ``evaluation.evaluate.pixel_sample``). The
planar release trained on fitted site maps scored lower there than the release before it
(benign 0.836 against 0.881) while its lesions were outlined and classed better. An AUC over
that sample ranks every lesion pixel against every background pixel, so it is moved by the
lesion pixels a network leaves near zero (they tie with, or fall below, the background) as much
as by those it states. For each release, on the same sample as the evaluation's:

* the AUC of each lesion class (its own probability) and of lesion against background
  (``1 - p(background)``), the latter also for the lesions the report describes and the ones
  it does not apart;
* metastatic against benign inside the true lesions (``p(met) / (p(met) + p(benign))``);
* the share of lesion pixels below 0.001 and 0.01 and above 0.5, of background pixels above
  0.01 and 0.5 (``1 - p(background)``), and quantiles of the lesion pixels' scores.

Synthetic phantom cases only. Through ``predict`` (the product path: the release's site maps,
rule and threshold; probabilities are the network's softmax, before any rule).

    python benchmarks/experiment/pixel_scores.py --data-root var/data/calibration/planar-s2 \\
        --cases 100 --model before=var/oldrel/planar --model shipped=ml/checkpoints/planar \\
        --out docs/results/planar-atlas-registration/pixel_scores.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

import numpy as np  # noqa: E402

from boneread_ml.evaluation.metrics import roc_auc  # noqa: E402

#: thresholds on 1 - p(background) whose shares are reported
LOW, VERY_LOW, HIGH = 0.01, 0.001, 0.5
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def breakdown(truth: np.ndarray, probs: np.ndarray, described: np.ndarray) -> dict:
    """The pixel-score figures of one release over its sampled pixels.

    Args:
        truth: class per sampled pixel (0 background, 1 benign, 2 metastatic).
        probs: (3, n) the release's background, benign, metastatic probabilities there.
        described: per sampled pixel, whether it lies in a lesion the report describes.

    Returns:
        AUCs, shares and quantiles (see the module's docstring).
    """
    truth = np.asarray(truth)
    lesion = truth > 0
    background = ~lesion
    described = np.asarray(described, bool) & lesion
    undescribed = lesion & ~described
    score = 1.0 - probs[0]
    out: dict = {
        "pixels": {"lesion": int(lesion.sum()), "background": int(background.sum()),
                   "described": int(described.sum()), "undescribed": int(undescribed.sum())},
        "auc": {
            "benign": roc_auc(truth == 1, probs[1]),
            "metastatic": roc_auc(truth == 2, probs[2]),
            "lesion_vs_background": roc_auc(lesion, score),
            "described_vs_background": roc_auc(described[described | background],
                                               score[described | background]),
            "undescribed_vs_background": roc_auc(undescribed[undescribed | background],
                                                 score[undescribed | background]),
            "metastatic_vs_benign_in_lesions": roc_auc(
                truth[lesion] == 2, probs[2][lesion] / (probs[1][lesion] + probs[2][lesion] + 1e-12)
            ),
        },
        "lesion_share": {
            f"below_{VERY_LOW}": float((score[lesion] < VERY_LOW).mean()),
            f"below_{LOW}": float((score[lesion] < LOW).mean()),
            f"above_{HIGH}": float((score[lesion] > HIGH).mean()),
        },
        "background_share": {
            f"above_{LOW}": float((score[background] > LOW).mean()),
            f"above_{HIGH}": float((score[background] > HIGH).mean()),
        },
        "lesion_quantiles": dict(zip(map(str, QUANTILES),
                                     np.quantile(score[lesion], QUANTILES).tolist(), strict=True)),
    }  # fmt: skip
    return out


def sampled(root: Path, cases: list[dict], models: dict, seed: int = 0) -> dict:
    """Per release: the sampled pixels' truth, probabilities and described flags, concatenated."""
    from boneread_ml.data.manifest import load_case_arrays
    from boneread_ml.evaluation.evaluate import pixel_sample
    from boneread_ml.predict import predict

    acc: dict = {name: {"truth": [], "probs": [], "described": []} for name in models}
    for i, case in enumerate(cases):
        arrays = load_case_arrays(root, case)
        label, instance = arrays["label"], arrays["instance"]
        report = case.get("report") or {}
        ids = sorted({j for m in report.get("mentions") or [] for j in m["lesion_ids"]})
        idx = pixel_sample(label, i, seed)  # the evaluation's sample of this case
        described = np.isin(instance.ravel()[idx], ids) & (label.ravel()[idx] > 0)
        spacing = tuple(float(v) for v in arrays["pixel_spacing_mm"])
        for name, model in models.items():
            p = predict(arrays["image"], report.get("text", ""), model, spacing_mm=spacing)
            acc[name]["truth"].append(label.ravel()[idx])
            acc[name]["probs"].append(p.probabilities.reshape(3, -1)[:, idx])
            acc[name]["described"].append(described)
    return {
        name: {k: np.concatenate(v, axis=-1) for k, v in parts.items()}
        for name, parts in acc.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, type=Path, help="a planar synthetic set")
    parser.add_argument("--cases", type=int, default=100, help="its first N cases")
    parser.add_argument("--model", action="append", required=True, metavar="NAME=RELEASE")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    pairs = [m.split("=", 1) for m in args.model]
    if any(len(p) != 2 or not p[0] for p in pairs):
        parser.error("--model must be NAME=RELEASE")
    if len({name for name, _ in pairs}) != len(pairs):
        parser.error("--model: each NAME once (a second one would replace the first's results)")
    import torch

    from boneread_ml.data.manifest import load_manifest
    from boneread_ml.predict import load_model

    torch.set_num_threads(args.threads)
    models = {name: load_model(path) for name, path in pairs}
    if any(m.task != "planar" for m in models.values()):
        parser.error("planar releases only (the pixel sample is the planar evaluation's)")
    cases = load_manifest(args.data_root)["cases"][: args.cases]
    data = sampled(args.data_root, cases, models)
    record = {
        "command": "python benchmarks/experiment/pixel_scores.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "data_root": str(args.data_root),
        "cases": len(cases),
        "models": {name: {"release": path, "sha256": models[name].checksum} for name, path in pairs},
        "results": {name: breakdown(d["truth"], d["probs"], d["described"])
                    for name, d in data.items()},
        "synthetic": True,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    for name, r in record["results"].items():
        print(name, json.dumps(r["auc"]), json.dumps(r["lesion_share"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
