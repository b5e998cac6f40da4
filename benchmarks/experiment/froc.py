"""Lesion detection as an FROC: sensitivity against false positives per case, over probability floors.

The issue's detection target (sensitivity >= 0.9 at <= 1 false positive per case) is one point
of a free-response ROC. For each release (``--model NAME=PATH`` with ``{fold}`` / ``{seed}``)
and each test case of its fold, the release predicts as the product does (its threshold,
recalibration and report-site rule; any lesion floor or site gate taken off), and every
predicted lesion keeps its stated probability and the true lesions it overlaps. Sweeping a floor
on the stated probability over ``FLOORS`` gives, per training seed and pooled over all folds'
cases, the lesion sensitivity (true lesions overlapped by a kept lesion / true lesions) and the
false positives per case (kept lesions overlapping no true lesion / cases); curves are averaged
over seeds. The operating points read off the curve (best sensitivity at <= 0.5, 1, 2 false
positives per case, and the false positives needed for 0.9 sensitivity, if any floor reaches it)
get 95% CIs from the two-level bootstrap of ``seeds.py`` (training seeds, then cases).

These points are chosen on the test cases themselves: they describe what the network's
probabilities can do, they are not a tuned result (a release's floor is chosen on its
calibration cases, ``boneread_ml.evaluation.calibrate.choose_lesion_floor``).

    python benchmarks/experiment/froc.py --folds 0 1 2 3 4 --seeds 0 1 2 \\
        --model 'mt_unet=var/exp/new_f{fold}_s{seed}/mt_unet/release' \\
        --data-root var/data/planar --out docs/results/planar-lesion-floor/froc.json
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

from release_args import add_release_arguments, check_release_arguments  # noqa: E402

#: probability floors swept (0: every lesion the release states)
FLOORS = tuple(round(0.02 * i, 2) for i in range(50))
#: false positives per case at which the best sensitivity is read off
FP_BUDGETS = (0.5, 1.0, 2.0)
TARGET_SENSITIVITY = 0.9


def case_lesions(
    model: Any, image: np.ndarray, text: str, truth: np.ndarray, spacing_mm=None
) -> dict[str, Any]:
    """One case: its true lesion count and, per predicted lesion, probability and hit true ids.

    ``spacing_mm``: the voxel spacing, as the product passes it (a SPECT/CT release reads the
    report's sites on the CT with it)."""
    from boneread_ml.predict import predict

    result = predict(image, text, model, spacing_mm=spacing_mm)
    lesions = []
    for lesion in result.lesions:
        hits = np.unique(truth[result.instance_map == lesion["id"]])
        lesions.append((float(lesion["probability"]), [int(i) for i in hits if i]))
    return {"n_true": int(len([i for i in np.unique(truth) if i])), "lesions": lesions}


#: the true lesions' phantom properties for the missed-lesion table: groups and bins
MISS_GROUPS = ("class_name", "site", "depth_layer")
MISS_BINS = {"uptake_ratio": (1.5, 2.5), "area_px": (15, 40), "volume_vox": (50, 200)}


def missed_lesions(per_seed: dict[int, list[dict]], manifest: dict) -> dict[str, Any]:
    """Which true lesions no stated lesion overlaps (at floor 0): by class, bone, depth in the
    body (which view shows it best), uptake and size.

    The phantom records these per lesion (``manifest.json``: ``class_name``, ``site``,
    ``depth_layer``, ``uptake_ratio`` over the bone around it, ``area_px`` on planar scans,
    ``volume_vox`` on SPECT/CT; a property the phantom does not record is left out); a lesion
    counts once per training seed.
    """
    truth = {c["case_id"]: {int(les["id"]): les for les in c["lesions"]} for c in manifest["cases"]}
    rows = []
    for cases in per_seed.values():
        for case in cases:
            found = found_ids(case)
            for lesion_id, les in truth[case["case_id"]].items():
                rows.append((les, lesion_id in found))

    def share(selected):
        return {"lesions": len(selected), "missed": sum(1 for _, f in selected if not f)}

    out: dict[str, Any] = {"all": share(rows)}
    for key in MISS_GROUPS:
        out[key] = {value: share([r for r in rows if r[0].get(key) == value])
                    for value in sorted({str(r[0].get(key)) for r in rows})}  # fmt: skip
    for key, (low, high) in MISS_BINS.items():
        if not any(key in les for les, _ in rows):
            continue
        out[key] = {
            f"< {low:g}": share([r for r in rows if r[0][key] < low]),
            f"{low:g} to < {high:g}": share([r for r in rows if low <= r[0][key] < high]),
            f">= {high:g}": share([r for r in rows if r[0][key] >= high]),
        }
    return out


def found_ids(case: dict[str, Any], floor: float = 0.0) -> set[int]:
    """The true lesion ids of one case that a stated lesion at or above ``floor`` overlaps."""
    return {i for p, hits in case["lesions"] if p >= floor for i in hits}


def counts_at(case: dict[str, Any], floor: float) -> tuple[int, int, int]:
    """(true lesions, of them found, false positives) of one case at a floor."""
    false_positives = sum(1 for p, hits in case["lesions"] if p >= floor and not hits)
    return case["n_true"], len(found_ids(case, floor)), false_positives


def case_table(cases: list[dict[str, Any]], floors=FLOORS) -> np.ndarray:
    """(floors, cases, 3): true lesions, found, false positives of every case at every floor."""
    return np.array([[counts_at(c, q) for c in cases] for q in floors], dtype=float)


def curve(table: np.ndarray) -> dict[str, np.ndarray]:
    """Pooled sensitivity and false positives per case at every floor of a case table."""
    n_true = table[:, :, 0].sum(axis=1)
    return {
        "sensitivity": np.divide(table[:, :, 1].sum(axis=1), n_true, where=n_true > 0,
                                 out=np.full(table.shape[0], np.nan)),
        "fp_per_case": table[:, :, 2].sum(axis=1) / max(1, table.shape[1]),
    }  # fmt: skip


def operating_points(sens: np.ndarray, fp: np.ndarray) -> dict[str, float | None]:
    """Best sensitivity within each false-positive budget; false positives at the target."""
    out: dict[str, float | None] = {}
    for budget in FP_BUDGETS:
        ok = (fp <= budget) & np.isfinite(sens)
        out[f"sensitivity_at_{budget:g}_fp"] = float(sens[ok].max()) if ok.any() else 0.0
    reach = sens >= TARGET_SENSITIVITY
    out[f"fp_at_{TARGET_SENSITIVITY:g}_sensitivity"] = (
        float(fp[reach].min()) if reach.any() else None
    )
    return out


def pooled_points(tables: list[np.ndarray]):
    """The seed-averaged curve of per-seed case tables and its operating points."""
    curves = [curve(t) for t in tables]
    with warnings.catch_warnings():  # a resample without true lesions has no sensitivity
        warnings.simplefilter("ignore", RuntimeWarning)
        sens = np.nanmean([c["sensitivity"] for c in curves], axis=0)
    fp = np.mean([c["fp_per_case"] for c in curves], axis=0)
    return sens, fp, operating_points(sens, fp)


def bootstrap(tables: list[np.ndarray], n_boot: int, seed: int) -> dict[str, list | None]:
    """95% CIs of the operating points: seeds with replacement, then cases with replacement."""
    rng = np.random.default_rng(seed)
    n = tables[0].shape[1]
    samples: dict[str, list[float]] = {}
    for _ in range(n_boot):
        drawn = [tables[i] for i in rng.integers(0, len(tables), len(tables))]
        _, _, points = pooled_points([t[:, rng.integers(0, n, n)] for t in drawn])
        for key, value in points.items():
            samples.setdefault(key, []).append(np.nan if value is None else value)
    out: dict[str, list | None] = {}
    for key, values in samples.items():
        v = np.array(values, dtype=float)
        reached = np.isfinite(v)
        out[key] = (
            [float(np.percentile(v[reached], 2.5)), float(np.percentile(v[reached], 97.5))]
            if reached.mean() >= 0.95
            else None  # the target is not reached in enough resamples for a CI
        )
    return out


def paired_difference(
    tables: list[np.ndarray], other: list[np.ndarray], n_boot: int, seed: int
) -> dict[str, dict[str, Any]]:
    """This model's operating points minus another's on the same cases and training seeds.

    The two-level bootstrap draws the same seeds and the same cases for both (paired), so the
    CI of each difference carries the training-seed and the case-to-case variation once.
    A point that either model does not reach (the target sensitivity) has no difference.
    """
    if len(tables) != len(other) or any(
        a.shape != b.shape for a, b in zip(tables, other, strict=True)
    ):
        raise ValueError("the paired FROCs must have the same seeds, floors and cases")
    _, _, ours = pooled_points(tables)
    _, _, theirs = pooled_points(other)
    rng = np.random.default_rng(seed)
    n = tables[0].shape[1]
    samples: dict[str, list[float]] = {key: [] for key in ours}
    for _ in range(n_boot):
        s = rng.integers(0, len(tables), len(tables))
        c = rng.integers(0, n, n)
        _, _, a = pooled_points([tables[i][:, c] for i in s])
        _, _, b = pooled_points([other[i][:, c] for i in s])
        for key in samples:
            if a[key] is not None and b[key] is not None:
                samples[key].append(a[key] - b[key])
    out: dict[str, dict[str, Any]] = {}
    for key, values in samples.items():
        if ours[key] is None or theirs[key] is None or len(values) < 0.95 * n_boot:
            continue
        lo, hi = np.percentile(values, [2.5, 97.5])
        out[key] = {"difference": float(ours[key] - theirs[key]), "ci": [float(lo), float(hi)]}
    return out


def floor_points(tables: list[np.ndarray], i: int) -> dict[str, float]:
    """Sensitivity, false positives per case and lesion F1 (2 found / (2 found + false
    positives + missed), pooled over cases) at the ``i``-th floor of per-seed case tables
    (:func:`case_table`), seed-averaged."""
    found, missed, false_pos = 0.0, 0.0, 0.0
    sens, fps = [], []
    for t in tables:
        n_true, hit, fp = t[i].sum(axis=0)
        found, missed, false_pos = found + hit, missed + n_true - hit, false_pos + fp
        sens.append(hit / n_true if n_true else np.nan)
        fps.append(fp / max(1, t.shape[1]))
    denominator = 2 * found + false_pos + missed
    return {
        "sensitivity": float(np.nanmean(sens)) if np.isfinite(sens).any() else float("nan"),
        "fp_per_case": float(np.mean(fps)),
        "lesion_f1": float(2 * found / denominator) if denominator else float("nan"),
    }


def compare_floors(
    per_seed: list[list[dict[str, Any]]], floors: list[float], n_boot: int, seed: int
) -> dict[str, Any]:
    """:func:`floor_points` at each floor (any, not only the swept ones) with 95% CIs, and each
    floor minus the first, paired (the same seeds and cases drawn for all: two-level bootstrap
    as :func:`bootstrap`)."""
    tables = [case_table(cases, floors) for cases in per_seed]
    rng = np.random.default_rng(seed)
    n = tables[0].shape[1]
    draws: list[list[dict[str, float]]] = []
    for _ in range(n_boot):
        s, c = rng.integers(0, len(tables), len(tables)), rng.integers(0, n, n)
        drawn = [tables[i][:, c] for i in s]
        draws.append([floor_points(drawn, j) for j in range(len(floors))])

    def ci(values: list[float]) -> list[float] | None:
        v = np.array(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size < 0.95 * n_boot:
            return None
        return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]

    points = [floor_points(tables, j) for j in range(len(floors))]
    keys = ("sensitivity", "fp_per_case", "lesion_f1")
    out: dict[str, Any] = {
        "at_floor": {
            f"{q:g}": {k: {"value": points[j][k], "ci": ci([d[j][k] for d in draws])} for k in keys}
            for j, q in enumerate(floors)
        },
        "minus_first": {},
    }
    for j, q in enumerate(floors[1:], start=1):
        out["minus_first"][f"{q:g}"] = {
            k: {
                "difference": points[j][k] - points[0][k],
                "ci": ci([d[j][k] - d[0][k] for d in draws]),
            }
            for k in keys
        }
    return out


def tables_of(record: dict[str, Any], seeds: list[int]) -> list[np.ndarray]:
    """Per-seed case tables of a written FROC record (its ``per_case``)."""
    per_case = {int(k): v for k, v in record["per_case"].items()}
    missing = [s for s in seeds if s not in per_case]
    if missing:
        raise ValueError(f"no training seed {missing} in the FROC record")
    return [case_table(per_case[s]) for s in seeds]


def fold_subset(record: dict[str, Any], folds: list[int]) -> dict[str, Any]:
    """The record's rows of ``folds`` only (a 5-fold record paired with a run on some of them).

    Raises:
        ValueError: the record lacks one of the folds.
    """
    missing = sorted(set(folds) - set(record.get("folds") or []))
    if missing:
        raise ValueError(f"it has folds {record.get('folds')}, not {missing}")
    keep = set(folds)
    per_case = {
        seed: [row for row in rows if int(row.get("fold", -1)) in keep]
        for seed, rows in record["per_case"].items()
    }
    return {**record, "folds": sorted(keep), "per_case": per_case}


def evaluated_rows(
    path: str, name: str, folds: list[int], seeds: list[int], lesion_threshold: float | None
) -> dict[int, dict[int, list]]:
    """Fold -> seed -> per-case rows of an earlier record of model ``name``, for the ``folds``
    it covers.

    Raises:
        ValueError: another model or lesion threshold, a seed missing, or no fold of the run.
    """
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    theirs = list(record.get("model") or {})
    if theirs != [name]:
        raise ValueError(f"a record of {theirs}, not of {name}")
    if record.get("lesion_threshold") != lesion_threshold:
        raise ValueError("another lesion threshold")
    tables_of(record, seeds)  # every seed present
    shared = sorted(set(record.get("folds") or []) & set(folds))
    if not shared:
        raise ValueError(f"it has folds {record.get('folds')}, none of {folds}")
    subset = fold_subset(record, shared)
    return {
        fold: {s: [r for r in subset["per_case"][str(s)] if int(r["fold"]) == fold] for s in seeds}
        for fold in shared
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_release_arguments(parser)
    parser.add_argument("--lesion-threshold", type=float, default=None,
                        help="candidates at this threshold on 1 - p(background) instead of the "
                             "release's (its recalibration still states their probability)")  # fmt: skip
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--boot-seed", type=int, default=0)
    parser.add_argument("--paired-with", metavar="FROC_JSON",
                        help="another model's froc.py output on the same seeds and cases, covering "
                             "these folds (its other folds are left out): also write this model's "
                             "operating points minus its, paired")  # fmt: skip
    parser.add_argument("--evaluated", metavar="FROC_JSON",
                        help="an earlier froc.py record of this model (same name, seeds and lesion "
                             "threshold): the run's folds it covers are taken from it, not "
                             "evaluated again (their releases may be gone)")  # fmt: skip
    parser.add_argument("--floors", nargs="+", type=float, default=[], metavar="Q",
                        help="floors to compare (the first is the reference): "
                             "sensitivity, false positives per case and lesion F1 at each, with "
                             "CIs, and each minus the first, paired")  # fmt: skip
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    outside = [q for q in args.floors if not 0 <= q <= 1]
    if outside:
        parser.error(f"--floors {outside[0]:g}: a floor is a probability, from 0 to 1")
    name, template, manifest = check_release_arguments(parser, args)
    earlier: dict[int, dict[int, list[dict]]] = {}  # fold -> seed -> rows
    if args.evaluated:
        try:
            earlier = evaluated_rows(
                args.evaluated, name, args.folds, args.seeds, args.lesion_threshold
            )
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"--evaluated {args.evaluated}: {exc}")
    other = None
    if args.paired_with:
        try:
            other = json.loads(Path(args.paired_with).read_text(encoding="utf-8"))
            other_tables = tables_of(other, args.seeds)
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"--paired-with {args.paired_with}: not a usable FROC record ({exc})")
        if other.get("lesion_threshold") != args.lesion_threshold:
            parser.error(f"--paired-with {args.paired_with}: another lesion threshold")
        try:
            other = fold_subset(other, args.folds)
        except ValueError as exc:
            parser.error(f"--paired-with {args.paired_with}: {exc}")
        other_tables = tables_of(other, args.seeds)

    import torch

    from boneread_ml.data.datasets import case_texts, load_arrays
    from boneread_ml.predict import load_model

    torch.set_num_threads(args.threads)
    per_seed: dict[int, list[dict]] = {s: [] for s in args.seeds}
    for fold in args.folds:
        cases = [c for c in manifest["cases"] if int(c["fold"]) == fold]
        if fold in earlier:
            for seed in args.seeds:
                rows = earlier[fold][seed]
                if [r["case_id"] for r in rows] != [c["case_id"] for c in cases]:
                    raise SystemExit(
                        f"--evaluated {args.evaluated}: fold {fold} seed {seed} has other cases "
                        f"than {args.data_root}"
                    )
                per_seed[seed].extend(rows)
            continue
        for seed in args.seeds:
            model = load_model(template.format(fold=fold, seed=seed))
            post = model.config.setdefault("postprocess", {})
            for key in ("lesion_floor", "site_gate"):  # every lesion the network states
                post.pop(key, None)
            if args.lesion_threshold is not None:
                post["lesion_threshold"] = args.lesion_threshold
            mode = model.config.get("text_mode", "report") if model.tokenizer else "none"
            for case, text in zip(cases, case_texts(cases, mode, 0), strict=True):
                arrays = load_arrays(args.data_root, case)
                row = case_lesions(
                    model, arrays["image"], text, arrays["instance"], arrays.get("spacing_mm")
                )
                per_seed[seed].append({"case_id": case["case_id"], "fold": fold, **row})
    tables = [case_table(per_seed[s]) for s in args.seeds]
    sens, fp, points = pooled_points(tables)
    record = {
        "command": "python benchmarks/experiment/froc.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "model": {name: template},
        "lesion_threshold": args.lesion_threshold,  # None: each release's own
        "folds": args.folds,
        "seeds": args.seeds,
        "cases": len(per_seed[args.seeds[0]]),
        "synthetic": True,
        "floors": list(FLOORS),
        "sensitivity": [float(v) for v in sens],
        "fp_per_case": [float(v) for v in fp],
        "operating_points": points,
        "operating_points_ci": bootstrap(tables, args.n_boot, args.boot_seed),
        "missed_lesions": missed_lesions(per_seed, manifest),
        "n_boot": args.n_boot,
        "evaluated_earlier": {"froc": args.evaluated, "folds": sorted(earlier)}
        if earlier
        else None,
        "per_case": per_seed,
    }
    if args.floors:
        record["floors_compared"] = compare_floors(
            [per_seed[s] for s in args.seeds], args.floors, args.n_boot, args.boot_seed
        )
    if other is not None:
        for seed in args.seeds:
            theirs = [c["case_id"] for c in other["per_case"][str(seed)]]
            if theirs != [c["case_id"] for c in per_seed[seed]]:
                raise SystemExit(f"--paired-with {args.paired_with}: seed {seed} has other cases")
        record["paired_with"] = {
            "froc": args.paired_with,
            "model": other.get("model"),
            "difference": paired_difference(tables, other_tables, args.n_boot, args.boot_seed),
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
    keys = ("operating_points", "operating_points_ci", "missed_lesions", "paired_with",
            "floors_compared")  # fmt: skip
    print(json.dumps({key: record[key] for key in keys if key in record}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
