"""What decided the class of each lesion a report describes, on the cases with both classes.

``per_case.csv`` of an evaluation keeps counts per case (described lesions found, how many of
them right), not which lesion was wrong or why. For every (fold, training seed) release this
reads the fold's test cases whose truth has both classes, predicts each as the product does
(``predict()``, the release's threshold, floor and site rule) and writes one row per lesion the
report describes: found or not, the class of the stated lesion over it and whether it is the
true class, what gave that class (``class_source``: ``report_site``, the report-site rule, or
``image``, the network), the kind of site (:func:`site_map_coverage.site_of`), and the means of
the report's own-class and other-class site maps over the true lesion (the rule decides a stated
lesion whose own map's mean reaches ``min_cover``). The summary tallies the wrong ones by what
gave their class and by site. Synthetic phantom data only.

Run (after ``grid.py --evaluate``, which calibrates each release)::

    python benchmarks/experiment/described_lesions.py --folds 0 1 2 3 4 --seeds 0 1 2 \\
        --model 'var/exp/half_f{fold}_s{seed}/mt_unet/release' --data-root var/data/planar \\
        --out docs/results/one-class-per-lesion/described_lesions.json
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_map_coverage import site_of  # noqa: E402

from boneread_ml.data.datasets import case_texts, load_arrays  # noqa: E402
from boneread_ml.predict import load_model, predict, report_site_maps  # noqa: E402


def lesion_rows(release: str, data_root: Path, fold: int) -> list[dict]:
    """One row per described lesion of fold ``fold``'s mixed-class test cases."""
    model = load_model(release)
    manifest = json.loads((data_root / "manifest.json").read_text(encoding="utf-8"))
    cases = [c for c in manifest["cases"] if int(c["fold"]) == fold]
    rows = []
    for case, text in zip(cases, case_texts(cases, "report"), strict=True):
        arrays = load_arrays(data_root, case)
        label = arrays["label"]
        if not ((label == 1).any() and (label == 2).any()):
            continue
        spacing = arrays.get("spacing_mm")
        pred = predict(arrays["image"], text, model, spacing_mm=spacing)
        maps, _ = report_site_maps(model, text, arrays["image"], spacing)
        stated = {les["id"]: les for les in pred.lesions}
        described = {i for m in case["report"]["mentions"] for i in m["lesion_ids"]}
        for les in case["lesions"]:
            where = arrays["instance"] == les["id"]
            if les["id"] not in described or not where.any():
                continue
            own = other = None
            if maps is not None:
                own = float(maps[les["label"] - 1][where].mean())
                other = float(maps[2 - les["label"]][where].mean())
            row = {"case_id": case["case_id"], "lesion": les["id"], "true_class": les["label"],
                   "site": site_of(les), "region": les.get("region"), "side": les.get("side"),
                   "own_map": own, "other_map": other, "found": False, "stated_class": None,
                   "right": None, "class_source": None}  # fmt: skip
            under = pred.instance_map[where]
            under = under[under > 0]
            if under.size:
                hit = stated[int(np.bincount(under).argmax())]
                row.update(found=True, stated_class=hit["label"],
                           right=hit["label"] == les["label"], class_source=hit["class_source"])  # fmt: skip
            rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict:
    found = [r for r in rows if r["found"]]
    wrong = [r for r in found if not r["right"]]
    return {
        "described": len(rows),
        "found": len(found),
        "right": len(found) - len(wrong),
        "wrong": len(wrong),
        "found_by_source": dict(Counter(r["class_source"] for r in found)),
        "wrong_by_source": dict(Counter(r["class_source"] for r in wrong)),
        "wrong_by_site": dict(Counter(r["site"] for r in wrong).most_common()),
        "found_by_site": dict(Counter(r["site"] for r in found).most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--model", required=True, help="release path with {fold} and {seed}")
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--out", required=True, help="JSON summary; the rows go beside it (.csv)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if "{fold}" not in args.model or "{seed}" not in args.model:
        parser.error("--model must contain {fold} and {seed}")
    missing = [
        args.model.format(fold=f, seed=s)
        for f in args.folds
        for s in args.seeds
        if not (Path(args.model.format(fold=f, seed=s)) / "config.json").exists()
    ]
    if missing:
        parser.error(f"no release at {', '.join(missing)}")
    rows = []
    for fold in args.folds:
        for seed in args.seeds:
            for row in lesion_rows(
                args.model.format(fold=fold, seed=seed), Path(args.data_root), fold
            ):
                rows.append({"fold": fold, "seed": seed, **row})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.with_suffix(".csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["fold"])
        writer.writeheader()
        writer.writerows(rows)
    record = {
        "command": "python benchmarks/experiment/described_lesions.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "folds": args.folds,
        "seeds": args.seeds,
        **summary(rows),
        "synthetic": True,
    }
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: record[k] for k in ("described", "found", "right", "wrong",
                                              "wrong_by_source", "wrong_by_site")}, ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
