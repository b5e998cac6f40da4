"""Which lesions a network finds, by how visible each lesion is in the image.

The FROC (``froc.py``) says how many true lesions no predicted lesion touches, by site, size and
uptake. This asks whether those lesions can be seen at all: every true lesion of the FROC
records' cases gets its local contrast-to-noise ratio (``boneread_ml.evaluation.visibility``:
lesion mean minus ring mean over the ring's spread, smoothed counts, better view), and each
record's detections are tallied by CNR bin, at floor 0 (every lesion the release states) and at
the floor of the record's best sensitivity with at most 1 false positive per case. 95% CIs from
the two-level bootstrap of ``froc.py`` (training seeds, then cases).

No network runs here: it reads the FROC records (their ``per_case`` hits) and the phantom's
arrays, so a record made on another machine is tallied as it was.

    python benchmarks/experiment/detectability.py --data-root var/data/planar \\
        --froc mt_unet=docs/results/planar-lesion-floor/froc.json \\
        --froc mt_unet_balanced=docs/results/planar-lesion-balance/froc.json \\
        --out docs/results/planar-detectability/detectability.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from froc import fold_subset, found_ids  # noqa: E402

#: CNR bin edges: under 1 (no brighter than the ordinary variation around it) .. 5 and over
CNR_EDGES = (1.0, 2.0, 3.0, 5.0)
FP_BUDGET = 1.0


def bin_labels(edges=CNR_EDGES) -> list[str]:
    inner = [f"{lo:g} to < {hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [f"< {edges[0]:g}", *inner, f">= {edges[-1]:g}"]


def cnr_bin(cnr: float, edges=CNR_EDGES) -> int:
    """Bin index of a CNR (a lesion without a ring, NaN, counts as the lowest bin)."""
    return 0 if not np.isfinite(cnr) else int(np.searchsorted(edges, cnr, side="right"))


def operating_floor(record: dict[str, Any], budget: float = FP_BUDGET) -> float:
    """The lowest floor of the record's best seed-averaged sensitivity at <= budget FP per case."""
    floors = np.asarray(record["floors"], float)
    sens = np.asarray(record["sensitivity"], float)
    fp = np.asarray(record["fp_per_case"], float)
    ok = (fp <= budget) & np.isfinite(sens)
    if not ok.any():
        return float("inf")  # nothing is kept within the budget
    best = sens[ok].max()
    return float(floors[ok & (sens == best)].min())


def case_visibility(data_root: Path, case: dict[str, Any], ring: str = "around") -> dict[int, dict]:
    from boneread_ml.data.datasets import load_arrays
    from boneread_ml.evaluation.visibility import lesion_visibility, smoothed_views

    arrays = load_arrays(data_root, case)
    image = np.asarray(arrays["image"])
    emission = image if image.ndim == 3 else image[:1]  # planar: both views; SPECT/CT: SPECT
    bone = None
    if ring == "bone":
        if "bone" not in arrays:
            raise ValueError(f"case {case['case_id']} has no bone mask for --ring bone")
        bone = np.asarray(arrays["bone"])
    return lesion_visibility(smoothed_views(emission), np.asarray(arrays["instance"]), bone)


def tally(
    record: dict[str, Any], visibility: dict[str, dict[int, dict]], floor: float, n_bins: int
) -> np.ndarray:
    """(seeds, cases, bins, 3): lesions, found at floor 0, found at ``floor``."""
    seeds = sorted(record["per_case"], key=int)
    out = []
    for seed in seeds:
        rows = []
        for case in record["per_case"][seed]:
            counts = np.zeros((n_bins, 3), int)
            any_hit, kept_hit = found_ids(case), found_ids(case, floor)
            for lesion_id, vis in visibility[case["case_id"]].items():
                b = cnr_bin(vis["cnr"])
                counts[b] += (1, lesion_id in any_hit, lesion_id in kept_hit)
            rows.append(counts)
        out.append(rows)
    cases = {len(rows) for rows in out}
    if len(cases) != 1:
        raise ValueError("the record's seeds have different numbers of cases")
    return np.asarray(out)


def shares(table: np.ndarray) -> np.ndarray:
    """(bins, 2): found share at floor 0 and at the operating floor, pooled over seeds and cases."""
    total = table.sum(axis=(0, 1)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total[:, 1:] / total[:, :1]


def bootstrap(table: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(bins, 2, 2) 95% CI of :func:`shares`: seeds with replacement, then cases."""
    rng = np.random.default_rng(seed)
    n_seeds, n_cases = table.shape[:2]
    draws = np.empty((n_boot, table.shape[2], 2))
    for i in range(n_boot):
        s = rng.integers(0, n_seeds, n_seeds)
        c = rng.integers(0, n_cases, n_cases)
        draws[i] = shares(table[s][:, c])
    with warnings.catch_warnings():  # a bin without lesions has no share, and no CI
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.stack(
            [np.nanpercentile(draws, 2.5, axis=0), np.nanpercentile(draws, 97.5, axis=0)], -1
        )


def _rounded(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, type=Path)
    parser.add_argument("--froc", action="append", required=True, metavar="NAME=FROC_JSON",
                        help="a froc.py record (repeatable)")  # fmt: skip
    parser.add_argument("--ring", choices=("around", "bone"), default="around",
                        help="the reference ring: everything 1-3 px around the lesion, or only "
                             "its bone there (the phantom's bone mask)")  # fmt: skip
    parser.add_argument("--folds", type=int, nargs="+",
                        help="only these folds of every record (to compare a run on some folds "
                             "with a record of all five)")  # fmt: skip
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--boot-seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    from boneread_ml.data.datasets import read_manifest

    try:
        manifest = read_manifest(args.data_root)
    except (OSError, ValueError) as exc:
        parser.error(f"--data-root {args.data_root}: {exc}")
    by_id = {c["case_id"]: c for c in manifest["cases"]}
    records: dict[str, dict[str, Any]] = {}
    for spec in args.froc:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            parser.error(f"--froc must be NAME=FROC_JSON, got {spec!r}")
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
            record["per_case"], record["floors"]  # noqa: B018 (a FROC record has both)
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"--froc {path}: not a usable FROC record ({exc})")
        if args.folds:
            try:
                record = fold_subset(record, args.folds)
            except ValueError as exc:
                parser.error(f"--froc {path}: {exc}")
        unknown = sorted(
            {c["case_id"] for rows in record["per_case"].values() for c in rows} - set(by_id)
        )
        if unknown:
            parser.error(f"--froc {path}: case {unknown[0]} is not in {args.data_root} "
                         f"({len(unknown)} unknown; another phantom seed or size?)")  # fmt: skip
        records[name] = {**record, "path": path}

    case_ids = sorted(
        {c["case_id"] for r in records.values() for rows in r["per_case"].values() for c in rows}
    )
    try:
        visibility = {
            cid: case_visibility(args.data_root, by_id[cid], args.ring) for cid in case_ids
        }
    except ValueError as exc:
        parser.error(str(exc))
    labels = bin_labels()
    lesions_by_bin = dict.fromkeys(labels, 0)
    for lesions in visibility.values():
        for vis in lesions.values():
            lesions_by_bin[labels[cnr_bin(vis["cnr"])]] += 1
    n_lesions = sum(lesions_by_bin.values())
    result: dict[str, Any] = {
        "command": "python benchmarks/experiment/detectability.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "synthetic": True,
        "measure": "local CNR: (lesion mean - ring mean) / ring std, counts smoothed by a "
        "Gaussian of sigma 1 px, ring 1-3 px outside the lesion on no other lesion, better view",
        "ring": args.ring,
        "cnr_bins": labels,
        "cases": len(case_ids),
        "lesions": n_lesions,
        "lesions_by_bin": lesions_by_bin,
        "share_below": {
            f"{e:g}": round(
                sum(1 for les in visibility.values() for v in les.values() if not v["cnr"] >= e)
                / max(n_lesions, 1),
                4,
            )
            for e in CNR_EDGES
        },  # fmt: skip
        "models": {},
    }
    for name, record in records.items():
        floor = operating_floor(record)
        table = tally(record, visibility, floor, len(labels))
        found, ci = shares(table), bootstrap(table, args.n_boot, args.boot_seed)
        result["models"][name] = {
            "froc": record["path"],
            "folds": record.get("folds"),
            "seeds": sorted(int(s) for s in record["per_case"]),
            "floor_at_1_fp": None if not np.isfinite(floor) else floor,
            "by_bin": {
                label: {
                    "lesions_over_seeds": int(table[:, :, b, 0].sum()),
                    "found_any": _rounded(found[b, 0]),
                    "found_any_ci": [_rounded(ci[b, 0, 0]), _rounded(ci[b, 0, 1])],
                    "found_at_1_fp": _rounded(found[b, 1]),
                    "found_at_1_fp_ci": [_rounded(ci[b, 1, 0]), _rounded(ci[b, 1, 1])],
                }
                for b, label in enumerate(labels)
            },
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{n_lesions} lesions in {len(case_ids)} cases; share by CNR bin: "
          + ", ".join(f"{k} {v / max(n_lesions, 1):.2f}" for k, v in lesions_by_bin.items()))  # fmt: skip
    print("| model | " + " | ".join(f"CNR {label}" for label in labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name, model in result["models"].items():
        cells = [f"{v['found_any']} / {v['found_at_1_fp']}" for v in model["by_bin"].values()]
        print(f"| {name} (found: any / at <= 1 FP) | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
