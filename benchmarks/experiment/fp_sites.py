"""Where a planar model's false positives lie relative to the sites its report names.

For each release (``--model NAME=PATH`` with ``{fold}`` / ``{seed}`` placeholders) and each test
case of its fold, every predicted lesion is listed with whether it is right (overlaps a true
lesion), whether it lies inside a region the report names (mean of the benign / metastatic site
maps >= ``--min-cover``), its stated probability and size; every true lesion with whether the
report describes it and whether it was found. The release is used as it is, except that its
report-site gate, if any, is taken off, so that the lesions it would remove are seen.

It then counts, over all (fold, seed) runs, what a report-site gate at each probability in
``--grid`` would keep (true and false lesions, per case), beside a plain probability filter
at the same probabilities that ignores the report (the simple alternative). Output: a JSON
with the per-lesion rows and the counts; the table is printed.

    python benchmarks/experiment/fp_sites.py --folds 0 1 2 --seeds 0 1 2 \\
        --model 'mt_unet=var/exp/new_f{fold}_s{seed}/mt_unet/release' \\
        --data-root var/data/planar --out docs/results/planar-site-gate/fp_sites.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from release_args import add_release_arguments, check_release_arguments  # noqa: E402

GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def case_rows(
    model: Any, image: np.ndarray, arrays: dict, case: dict, min_cover: float
) -> tuple[list, list]:
    """(predicted-lesion rows, true-lesion rows) of one case."""
    from boneread_ml.data.report_sites import planar_site_maps
    from boneread_ml.predict import predict

    text = case["report"]["text"]
    result = predict(image, text, model)
    maps = planar_site_maps(text, image, registration=model.site_registration)
    named = np.maximum(maps[0], maps[1])
    truth = arrays["instance"]
    predicted = []
    for lesion in result.lesions:
        region = result.instance_map == lesion["id"]
        predicted.append({
            "case_id": case["case_id"],
            "right": bool((truth[region] > 0).any()),
            "report_names_sites": bool(maps.any()),
            "inside_named_site": bool(maps.any()) and float(named[region].mean()) >= min_cover,
            "probability": float(lesion["probability"]),
            "area_px": int(region.sum()),
        })  # fmt: skip
    described = {i for m in case["report"]["mentions"] for i in m["lesion_ids"]}
    true_rows = []
    for lesion_id in (int(i) for i in np.unique(truth) if i):
        region = truth == lesion_id
        true_rows.append({
            "case_id": case["case_id"],
            "described": lesion_id in described,
            "inside_named_site": bool(maps.any()) and float(named[region].mean()) >= min_cover,
            "found": bool((result.label_map[region] > 0).any()),
        })  # fmt: skip
    return predicted, true_rows


def counts(predicted: list[dict], n_cases: int, grid=GRID) -> list[dict]:
    """Kept true / false lesions per case under the gate and under a plain filter."""
    out = []
    for p in grid:
        gate = [r for r in predicted if r["inside_named_site"] or r["probability"] >= p]
        plain = [r for r in predicted if r["probability"] >= p]
        out.append({
            "min_probability": p,
            "gate_right": sum(r["right"] for r in gate),
            "gate_false_per_case": sum(not r["right"] for r in gate) / n_cases,
            "plain_right": sum(r["right"] for r in plain),
            "plain_false_per_case": sum(not r["right"] for r in plain) / n_cases,
        })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_release_arguments(parser)
    parser.add_argument("--min-cover", type=float, default=0.5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    name, template, manifest = check_release_arguments(parser, args)

    import torch

    from boneread_ml.data.datasets import load_arrays
    from boneread_ml.predict import load_model

    torch.set_num_threads(args.threads)
    predicted, true_rows, n_cases = [], [], 0
    for fold in args.folds:
        cases = [c for c in manifest["cases"] if int(c["fold"]) == fold]
        for seed in args.seeds:
            model = load_model(template.format(fold=fold, seed=seed))
            model.config.setdefault("postprocess", {}).pop("site_gate", None)
            for case in cases:
                arrays = load_arrays(args.data_root, case)
                p, t = case_rows(model, arrays["image"], arrays, case, args.min_cover)
                for row in p + t:
                    row.update(fold=fold, seed=seed)
                predicted += p
                true_rows += t
                n_cases += 1
    false = [r for r in predicted if not r["right"]]
    right = [r for r in predicted if r["right"]]
    summary = {
        "cases_x_seeds": n_cases,
        "false_positives": len(false),
        "false_positives_outside_named_sites": sum(
            r["report_names_sites"] and not r["inside_named_site"] for r in false
        ),
        "false_positives_report_names_no_site": sum(not r["report_names_sites"] for r in false),
        "false_positive_median_probability": float(np.median([r["probability"] for r in false]))
        if false else None,
        "false_positive_median_area_px": float(np.median([r["area_px"] for r in false]))
        if false else None,
        "right_lesions": len(right),
        "right_lesions_outside_named_sites": sum(
            r["report_names_sites"] and not r["inside_named_site"] for r in right
        ),
        "true_lesions": len(true_rows),
        "true_lesions_described": sum(r["described"] for r in true_rows),
        "true_lesions_found": sum(r["found"] for r in true_rows),
        "true_lesions_undescribed_found": sum(
            r["found"] and not r["described"] for r in true_rows
        ),
    }  # fmt: skip
    record = {
        "command": "python benchmarks/experiment/fp_sites.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "model": {name: template},
        "folds": args.folds,
        "seeds": args.seeds,
        "min_cover": args.min_cover,
        "synthetic": True,
        "summary": summary,
        "by_min_probability": counts(predicted, n_cases),
        "predicted_lesions": predicted,
        "true_lesions": true_rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(summary, indent=1))
    print(
        "| min probability | gate: right lesions | gate: false / case | plain filter: right | plain: false / case |"
    )
    print("|---|---|---|---|---|")
    for row in record["by_min_probability"]:
        print(f"| {row['min_probability']:.1f} | {row['gate_right']} | {row['gate_false_per_case']:.2f} "
              f"| {row['plain_right']} | {row['plain_false_per_case']:.2f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
