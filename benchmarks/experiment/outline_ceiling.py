"""SPECT/CT: how much of a lesion's outline the SPECT and the CT show, and how much the network draws.

The SPECT/CT lesion-class Dice stays near 0.4 (target 0.8) while a 1-voxel tolerance lifts it to
about 0.58, and the SPECT of neighbouring slices adds nothing: the outline, not the finding,
is what is missed. This measures, per true lesion, the **oracle threshold Dice**
(``boneread_ml.evaluation.outline``: the best Dice one threshold on a map reaches in the
lesion's box, chosen knowing the truth) on

* ``spect``: the SPECT counts as the network sees them (on the CT grid);
* ``spect_in_bone``: the same, marked only inside the bone (the phantom's bone grown by one
  voxel: where its lesions lie, as the CT shows it);
* ``ct_in_bone``: the CT's HU inside the bone, above or below the threshold (sclerotic or lytic),
  whichever is better;
* ``spect_and_ct_in_bone``: both at once, the SPECT over one threshold where the CT is beyond
  another (16 levels of the CT, either side);
* ``network_probability``: the release's lesion probability (1 - p(background));

(written to ``--out`` and, as tables, to the same name with ``.md``) and the release's own
outline (``network``: its stated lesion voxels of the components that
touch the lesion, 0 for a lesion it misses; ``network_found``: the same over the lesions it
touches; ``network_unfloored``: before the release's lesion-probability floor). Means over lesions with 95% CIs from resampling cases (lesions of one case stay
together), by class, lesion kind, size and visibility (the lesion's local contrast-to-noise
ratio on the SPECT against its own bone, ``boneread_ml.evaluation.visibility``, as
``detectability.py`` bins it for planar scans); ``weighted``: the same means with each lesion weighing
as many voxels as it has (nearer a volume's Dice, which large lesions dominate).

    python benchmarks/experiment/outline_ceiling.py --data-root var/data/spectct-outline \\
        --release ml/checkpoints/spectct --out docs/results/spectct-outline/outline.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from detectability import bin_labels, cnr_bin  # noqa: E402

#: where the phantom's lesions lie: its bone mask grown by this many voxels
BONE_GROW = 1
#: lesion size bins (voxels on the CT grid, 3 x 3.9 x 3.9 mm: 45.6 mm3 each)
SIZE_EDGES = (50, 200)
MAPS = (
    "spect",
    "spect_in_bone",
    "ct_in_bone",
    "spect_and_ct_in_bone",
    "network_probability",
    "network_unfloored",
    "network",
)


def size_bin(volume_vox: int) -> str:
    lo, hi = SIZE_EDGES
    return f"< {lo}" if volume_vox < lo else f"{lo} to < {hi}" if volume_vox < hi else f">= {hi}"


def case_rows(
    arrays: dict[str, np.ndarray], prediction, unfloored, lesions: list[dict], margin: int
) -> list:
    """One row per true lesion of a case: its oracle ceilings and the network's outline, as
    stated (``prediction``, ``network``) and before the release's lesion floor (``unfloored``,
    the same release's prediction without the floor; ``network_unfloored``)."""
    from scipy import ndimage

    from boneread_ml.evaluation.outline import (
        lesion_boxes,
        lesion_ceilings,
        predicted_outline_dice,
    )
    from boneread_ml.evaluation.visibility import lesion_visibility, smoothed_views

    image, instance = np.asarray(arrays["image"]), np.asarray(arrays["instance"])
    bone = ndimage.binary_dilation(np.asarray(arrays["bone"]) > 0, iterations=BONE_GROW)
    maps = {
        "spect": (image[0], None, False),
        "spect_in_bone": (image[0], bone, False),
        "ct_in_bone": (image[1], bone, True),
        "network_probability": (1.0 - prediction.probabilities[0], None, False),
    }
    joint = {"spect_and_ct_in_bone": (image[0], image[1], bone)}
    ceilings = lesion_ceilings(maps, instance, margin, joint)
    boxes = lesion_boxes(instance, margin)
    stated = prediction.label_map > 0
    unfloored = unfloored.label_map > 0
    by_id = {les["id"]: les for les in lesions}
    visibility = lesion_visibility(smoothed_views(image[:1]), instance, np.asarray(arrays["bone"]))
    rows = []
    for lesion_id, row in ceilings.items():
        les = by_id.get(lesion_id, {})
        rows.append(
            {
                "lesion_id": lesion_id,
                "class_name": les.get("class_name"),
                "kind": les.get("kind"),
                "cnr": visibility[lesion_id]["cnr"],
                **row,
                "network_unfloored": predicted_outline_dice(
                    unfloored, instance, lesion_id, boxes[lesion_id]
                ),
                "network": predicted_outline_dice(stated, instance, lesion_id, boxes[lesion_id]),
            }
        )
    return rows


def cluster_bootstrap(
    values_by_case: list[np.ndarray],
    n_boot: int,
    seed: int,
    weights_by_case: list[np.ndarray] | None = None,
) -> list[float]:
    """Mean over all lesions (weighted: each lesion by its weight) and its 95% CI, resampling
    cases (NaNs dropped)."""
    if weights_by_case is None:
        weights_by_case = [np.ones(len(v)) for v in values_by_case]
    pairs = [
        (v[np.isfinite(v)], w[np.isfinite(v)])
        for v, w in zip(values_by_case, weights_by_case, strict=True)
    ]
    pairs = [(v, w) for v, w in pairs if v.size]
    if not pairs:
        return [float("nan")] * 3
    sums = np.array([(v * w).sum() for v, w in pairs])
    counts = np.array([w.sum() for _, w in pairs])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(pairs), size=(n_boot, len(pairs)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return [float(sums.sum() / counts.sum()), float(lo), float(hi)]


def summarise(rows: list[dict], n_boot: int, seed: int) -> dict[str, Any]:
    """Mean (95% CI) of every map over ``rows``, plus the found share and network_found."""
    cases = sorted({r["case_id"] for r in rows})
    out: dict[str, Any] = {"lesions": len(rows), "cases": len(cases)}
    sizes = [np.array([r["volume_vox"] for r in rows if r["case_id"] == c], float) for c in cases]
    out["weighted"] = {}
    for name in MAPS:
        by_case = [np.array([r[name] for r in rows if r["case_id"] == c], float) for c in cases]
        out[name] = [round(x, 4) for x in cluster_bootstrap(by_case, n_boot, seed)]
        out["weighted"][name] = [
            round(x, 4) for x in cluster_bootstrap(by_case, n_boot, seed, sizes)
        ]
    found = [np.array([r["network"] for r in rows if r["case_id"] == c and r["network"] > 0])
             for c in cases]  # fmt: skip
    out["network_found"] = [round(x, 4) for x in cluster_bootstrap(found, n_boot, seed)]
    # the release's outline against the SPECT's ceiling, lesion by lesion
    gap = [np.array([r["network"] - r["spect_in_bone"] for r in rows if r["case_id"] == c])
           for c in cases]  # fmt: skip
    out["network_minus_spect_in_bone"] = [round(x, 4) for x in cluster_bootstrap(gap, n_boot, seed)]
    out["found_share"] = round(float(np.mean([r["network"] > 0 for r in rows])), 4)
    out["found_share_unfloored"] = round(
        float(np.mean([r["network_unfloored"] > 0 for r in rows])), 4
    )
    return out


def _ci(x: list[float]) -> str:
    return f"{x[0]:.2f} ({x[1]:.2f}-{x[2]:.2f})"


def markdown(groups: dict[str, dict[str, Any]]) -> str:
    """The tables of the result: every map by lesion group, with found shares."""
    head = ["group", "lesions", "found (stated / before the floor)", *MAPS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, g in groups.items():
        cells = [
            name,
            str(g["lesions"]),
            f"{g['found_share']:.2f} / {g['found_share_unfloored']:.2f}",
        ]
        lines.append("| " + " | ".join(cells + [_ci(g[m]) for m in MAPS]) + " |")
    lines += ["", "Weighted by lesion size (voxels):", "", "| group | " + " | ".join(MAPS) + " |",
              "|" + "---|" * (len(MAPS) + 1)]  # fmt: skip
    for name in ("all", "found"):
        lines.append(
            f"| {name} | " + " | ".join(_ci(groups[name]["weighted"][m]) for m in MAPS) + " |"
        )
    gap = groups["found"]["network_minus_spect_in_bone"]
    lines += ["", f"network minus spect_in_bone on the lesions found, paired: {_ci(gap)}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, type=Path,
                        help="SPECT/CT phantom cases the release was not trained on")  # fmt: skip
    parser.add_argument("--release", type=Path, default=Path("ml/checkpoints/spectct"))
    parser.add_argument("--margin", type=int, default=4,
                        help="voxels a lesion's bounding box is grown by (4: 12-16 mm, about "
                             "one SPECT FWHM)")  # fmt: skip
    parser.add_argument("--cases", type=int, help="only the first N cases")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--boot-seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.margin < 0:
        parser.error(f"--margin must be 0 or more, got {args.margin}")
    import torch

    from boneread_ml.data.datasets import load_arrays, read_manifest
    from boneread_ml.predict import load_model, predict

    torch.set_num_threads(args.threads)
    try:
        manifest = read_manifest(args.data_root)
    except (OSError, ValueError) as exc:
        parser.error(f"--data-root {args.data_root}: {exc}")
    if manifest.get("kind") != "spectct":
        parser.error(
            f"--data-root {args.data_root} holds {manifest.get('kind')} cases, not spectct"
        )
    from boneread_ml.models.release import CheckpointError

    try:
        model = load_model(args.release)
    except (CheckpointError, OSError, ValueError) as exc:
        parser.error(f"--release {args.release}: {exc}")
    if model.task != "spectct":
        parser.error(f"--release {args.release} is a {model.task} model, not spectct")
    postprocess = {
        k: v for k, v in (model.config.get("postprocess") or {}).items() if k != "lesion_floor"
    }
    without_floor = dataclasses.replace(model, config={**model.config, "postprocess": postprocess})
    cases = manifest["cases"][: args.cases]
    rows = []
    for case in cases:
        arrays = load_arrays(args.data_root, case)
        if "bone" not in arrays:
            parser.error(f"case {case['case_id']} has no bone mask (a phantom case is needed)")
        stated, unfloored = (
            predict(arrays["image"], case["report"]["text"], m, spacing_mm=arrays["spacing_mm"])
            for m in (model, without_floor)
        )
        for row in case_rows(arrays, stated, unfloored, case.get("lesions", []), args.margin):
            rows.append({"case_id": case["case_id"], **row})
    groups: dict[str, dict[str, Any]] = {
        "all": summarise(rows, args.n_boot, args.boot_seed),
        # the same lesion-by-lesion comparison on the lesions the release finds
        "found": summarise([r for r in rows if r["network"] > 0], args.n_boot, args.boot_seed),
    }
    for key, value_of in (
        ("class", lambda r: r["class_name"]),
        ("kind", lambda r: r["kind"]),
        ("size_vox", lambda r: size_bin(r["volume_vox"])),
        ("cnr", lambda r: bin_labels()[cnr_bin(r["cnr"])]),
    ):
        for value in sorted({str(value_of(r)) for r in rows}):
            subset = [r for r in rows if str(value_of(r)) == value]
            groups[f"{key}={value}"] = summarise(subset, args.n_boot, args.boot_seed)
    result = {
        "command": "python benchmarks/experiment/outline_ceiling.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "synthetic": True,
        "release": {
            "path": str(args.release),
            "weights_sha256": model.config["weights_sha256"],
        },
        "data": {"root": str(args.data_root), "seed": manifest.get("seed"), "cases": len(cases)},
        "settings": {
            "margin_vox": args.margin,
            "bone_grown_by_vox": BONE_GROW,
            "size_edges_vox": list(SIZE_EDGES),
            "n_boot": args.n_boot,
        },  # fmt: skip
        "maps": list(MAPS),
        "groups": groups,
        "per_lesion": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(groups), encoding="utf-8")
    print(markdown(groups))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
