"""Which true lesions change class verdict when every pixel of a stated lesion takes its class.

Since the one-class-per-lesion change (``predict.lesion_table``), every pixel of a stated
lesion (a connected set of lesion pixels) carries the class with the larger summed probability
over the whole lesion. The evaluation calls a found true lesion rightly classed when the
predicted pixels over it are mostly its class (``metrics.lesion_detection``). On 320 unseen
SPECT/CT volumes the shipped release's lesion class accuracy fell 0.888 -> 0.883 with the
change while its Dice rose. This script says which true lesions changed verdict and why.

Per case, through ``predict`` (the release as shipped: threshold, site rule, floor):

* ``after``: the label map ``predict`` returns (one class per stated lesion);
* ``before``: the same lesion pixels, each with its own likelier class (``p(met) > p(benign)``
  on the probabilities ``predict`` returns, which the report-site rule has already rewritten
  for the lesions it relabels: exactly the map of the code before the change).

Every found true lesion whose verdict differs is put in one cause:

* ``several_stated``: more than one stated lesion lies over it (each takes its own class);
* ``other_class_neighbour``: one stated lesion, which also covers a true lesion of the other
  class, and the summed probability over the true lesion alone would have given the other
  class: the neighbour decided;
* ``same_class_neighbour``: as above, the neighbour of its own class;
* ``background``: one stated lesion, reaching beyond the true lesion over no other true lesion,
  and the part beyond decided;
* ``sum_vs_count``: the stated lesion's part over the true lesion alone, summed, gives the
  stated class, but most of its pixels there are of the other class.

Synthetic phantom cases only.

    python benchmarks/experiment/class_verdicts.py --release ml/checkpoints/spectct \\
        --data-root var/data/ece/spectct-s2 --cases 320 \\
        --out docs/results/one-class-per-lesion/class_verdicts_spectct.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

import numpy as np  # noqa: E402

from boneread_ml.evaluation.calibrate import labels_at  # noqa: E402

CAUSES = (
    "several_stated",
    "other_class_neighbour",
    "same_class_neighbour",
    "background",
    "sum_vs_count",
)


def majority(values: np.ndarray) -> int:
    """The most frequent class among lesion pixels (ties to the lower class, as the metric)."""
    values = values[values > 0]
    return int(np.bincount(values).argmax())


def per_pixel_classes(label_map: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The lesion pixels of ``label_map`` with each pixel's own likelier class (the product's
    per-pixel rule, ``labels_at``, with every pixel a lesion)."""
    return np.where(label_map > 0, labels_at(probs, -1.0), 0).astype(np.uint8)


def verdicts(
    after: np.ndarray,
    before: np.ndarray,
    stated: np.ndarray,
    probs: np.ndarray,
    true_instance: np.ndarray,
    true_label: np.ndarray,
) -> list[dict]:
    """One row per found true lesion of a case: its verdict before and after, and the cause.

    Args:
        after: the one-class-per-lesion label map.
        before: the per-pixel label map over the same lesion pixels.
        stated: the stated lesions' ids (``Prediction.instance_map``).
        probs: (3, *spatial) the probabilities the maps came from.
        true_instance, true_label: the truth.

    Returns:
        dicts with ``lesion``, ``true_class``, ``right_before``, ``right_after`` and ``cause``
        (one of :data:`CAUSES` where the verdict changed, else None); where it changed also
        ``pixels`` (the stated pixels on the true lesion) and its class's share of them
        (``true_class_pixel_share``, each pixel's own class) and of their summed lesion-class
        probability (``true_class_probability_share``).
    """
    rows = []
    for t in (int(i) for i in np.unique(true_instance) if i != 0):
        region = true_instance == t
        if not np.any(after[region] > 0):
            continue
        true_cls = majority(true_label[region])
        right_before = majority(before[region]) == true_cls
        right_after = majority(after[region]) == true_cls
        cause, shares = None, {}
        if right_before != right_after:
            # over the stated pixels on the true lesion: its class's share of them, and of
            # their summed lesion-class probability
            under = after[region] > 0
            p_true = probs[true_cls][region][under].sum()
            p_other = probs[3 - true_cls][region][under].sum()
            shares = {
                "pixels": int(under.sum()),
                "true_class_pixel_share": float(np.mean(before[region][under] == true_cls)),
                "true_class_probability_share": float(p_true / (p_true + p_other)),
            }
            ids = [int(i) for i in np.unique(stated[region]) if i != 0]
            if len(ids) > 1:
                cause = "several_stated"
            else:
                lesion = stated == ids[0]
                overlap = lesion & region
                stated_cls = int(after[lesion][0])
                own_sum = 1 if probs[1][overlap].sum() >= probs[2][overlap].sum() else 2
                if own_sum == stated_cls:
                    cause = "sum_vs_count"
                else:
                    beyond = lesion & ~region
                    others = [int(i) for i in np.unique(true_instance[beyond]) if i not in (0, t)]
                    classes = {majority(true_label[true_instance == i]) for i in others}
                    if 3 - true_cls in classes:
                        cause = "other_class_neighbour"
                    elif classes:
                        cause = "same_class_neighbour"
                    else:
                        cause = "background"
        rows.append(
            {
                "lesion": t,
                "true_class": true_cls,
                "right_before": bool(right_before),
                "right_after": bool(right_after),
                "cause": cause,
                **shares,
            }
        )
    return rows


def summarise(rows: list[dict]) -> dict:
    """Class accuracy before and after, and the changed verdicts by cause and direction."""
    n = len(rows)
    lost = Counter(r["cause"] for r in rows if r["right_before"] and not r["right_after"])
    gained = Counter(r["cause"] for r in rows if r["right_after"] and not r["right_before"])
    return {
        "found_lesions": n,
        "class_accuracy_before": sum(r["right_before"] for r in rows) / n if n else None,
        "class_accuracy_after": sum(r["right_after"] for r in rows) / n if n else None,
        "right_to_wrong": {c: lost.get(c, 0) for c in CAUSES},
        "wrong_to_right": {c: gained.get(c, 0) for c in CAUSES},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True, type=Path)
    parser.add_argument("--data-root", required=True, type=Path, help="a synthetic set")
    parser.add_argument("--cases", type=int, default=320, help="its first N cases")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if not (args.data_root / "manifest.json").is_file():
        parser.error(f"--data-root {args.data_root}: no manifest.json (make it with synth)")
    import torch

    from boneread_ml.data.manifest import load_case_arrays, load_manifest
    from boneread_ml.predict import load_model, predict

    torch.set_num_threads(args.threads)
    model = load_model(args.release)
    manifest = load_manifest(args.data_root)
    if manifest.get("kind") != model.task:
        parser.error(f"--data-root holds {manifest.get('kind')} cases, the release is {model.task}")
    cases = manifest["cases"][: args.cases]
    rows, mixed_rows = [], []
    for case in cases:
        arrays = load_case_arrays(args.data_root, case)
        report = case.get("report") or {}
        # SPECT/CT volumes store spacing_mm, planar scans pixel_spacing_mm
        spacing = arrays.get("spacing_mm", arrays.get("pixel_spacing_mm"))
        spacing = None if spacing is None else tuple(float(v) for v in spacing)
        p = predict(arrays["image"], report.get("text", ""), model, spacing_mm=spacing)
        before = per_pixel_classes(p.label_map, p.probabilities)
        case_rows = verdicts(
            p.label_map, before, p.instance_map, p.probabilities, arrays["instance"],
            arrays["label"],
        )  # fmt: skip
        for r in case_rows:
            r["case_id"] = case["case_id"]
        rows += case_rows
        if {1, 2} <= set(np.unique(arrays["label"]).tolist()):
            mixed_rows += case_rows
    record = {
        "command": "python benchmarks/experiment/class_verdicts.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "release": str(args.release),
        "sha256": model.checksum,
        "data_root": str(args.data_root),
        "cases": len(cases),
        "all_cases": summarise(rows),
        "mixed_class_cases": summarise(mixed_rows),
        "changed": [r for r in rows if r["cause"] is not None],
        "synthetic": True,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(json.dumps({k: record[k] for k in ("all_cases", "mixed_class_cases")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
