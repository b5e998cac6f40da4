"""The seeds comparison over several patient folds: every (fold, training seed) evaluated, pooled.

For each test fold, ``seeds.py`` calibrates and evaluates that fold's releases of every training
seed (trained by ``run.py --test-fold F --train-seed S --train-only``) into ``OUT/foldF/``. This
script then pools the per-case rows of all folds: each case is a test case of exactly one fold,
so every seed has one value per case of the whole set. Means are over cases, then over seeds;
lesion ratios (detection sensitivity, class accuracy, mixed-class class accuracy) are pooled
sums over the cases of a seed, then averaged over seeds. Paired differences to the reference
(the first ``--model``, or ``--reference NAME``, which may name a ``--reuse`` row: a model
whose releases are gone but whose per-case rows were kept) get the two-level bootstrap of ``seeds.py`` (seeds, then cases, with
replacement), so the CI carries the training-seed and the case-to-case variation, over all
folds' cases.

Run (the numbers in docs/results/planar-site-rule/folds/ come from it)::

    python benchmarks/experiment/folds.py --folds 0 1 2 3 4 --seeds 0 1 2 \\
        --model 'mt_unet_site_rule=var/exp/site_f{fold}_s{seed}/mt_unet/release' \\
        --model 'mt_unet=var/exp/f{fold}_s{seed}/mt_unet/release' \\
        --model 'mt_unet_no_text=var/exp/f{fold}_s{seed}/mt_unet_no_text/release' \\
        --data-root var/data/planar --out docs/results/planar-site-rule/folds
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seeds  # noqa: E402

logger = logging.getLogger("folds")

#: lesion ratios pooled as sums over a seed's cases: name -> (numerator, denominator, mixed only)
RATIOS = {
    "lesion_detection_sensitivity": ("detected", "n_lesions", False),
    "lesion_class_accuracy": ("correct_class", "detected", False),
    "mixed_case_lesion_class_accuracy": ("correct_class", "detected", True),
    "mixed_case_described_lesion_class_accuracy": (
        "correct_class_described",
        "detected_described",
        True,
    ),
}


def _value(x: str | None) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def read_rows(
    out: Path, folds: list[int], seed_list: list[int], reuse: dict[str, Path] | None = None
) -> dict[str, dict[int, list]]:
    """Row name -> seed -> the per-case rows of every fold (fold order, then the CSV's order).

    ``reuse``: row name -> another comparison's output directory (same layout) whose rows of
    that name join these, e.g. the keyword rule of an earlier comparison on the same cases,
    folds and training seeds (its no-text network does not depend on the models compared here).
    A reused name's rows come from its directory only: rows of that name in ``out`` (say a fold
    copied in from an earlier comparison) are not read, so no case counts twice.
    """
    reuse = reuse or {}
    rows: dict[str, dict[int, list]] = {}
    sources = [(out, None)] + [(Path(d), name) for name, d in (reuse or {}).items()]
    for fold in folds:
        for seed in seed_list:
            for root, only in sources:
                path = root / f"fold{fold}" / f"seed{seed}" / "per_case.csv"
                for row in seeds.read_per_case(path):
                    if only == row["model"] or (only is None and row["model"] not in reuse):
                        rows.setdefault(row["model"], {}).setdefault(seed, []).append(row)
    for name in reuse or {}:
        if name not in rows:
            raise SystemExit(f"--reuse {name}: no rows of that name in {reuse[name]}")
    return rows


def select_rows(rows: dict, names: list[str] | None, reference: str, where: Path) -> dict:
    """``rows`` (of :func:`read_rows`) limited to ``names`` and the reference (``--rows``);
    all of them when ``names`` is None."""
    if names is None:
        return rows
    if missing := [n for n in [reference, *names] if n not in rows]:
        raise SystemExit(f"--rows: no rows named {', '.join(missing)} in {where}")
    return {n: r for n, r in rows.items() if n in names or n == reference}


#: --cases: which test cases are pooled, by the per-case row's mixed_classes column
CASE_SETS = {"all": None, "mixed": "True", "single": "False"}


def case_subset(rows: dict, which: str) -> dict:
    """``rows`` (of :func:`read_rows`) limited to the cases ``--cases`` names; every row of
    every seed must say whether its case has both classes (evaluations since the mixed-class
    metrics have the column)."""
    wanted = CASE_SETS[which]
    if wanted is None:
        return rows
    for name, by_seed in rows.items():
        for seed, seed_rows in by_seed.items():
            if any(r.get("mixed_classes") not in ("True", "False") for r in seed_rows):
                raise SystemExit(
                    f"--cases {which}: the rows of {name} (seed {seed}) do not say which cases "
                    "have both classes (no mixed_classes column): an evaluation from before it"
                )
    subset = {
        name: {seed: [r for r in seed_rows if r["mixed_classes"] == wanted]
               for seed, seed_rows in by_seed.items()}
        for name, by_seed in rows.items()
    }  # fmt: skip
    if not any(subset[name][seed] for name in subset for seed in subset[name]):
        raise SystemExit(f"--cases {which}: no such test case in the pooled folds")
    return subset


def summarise(rows: list[dict]) -> dict[str, float]:
    """One seed's summary over all its test cases."""
    out = {
        key: float(np.nanmean([_value(r.get(key)) for r in rows]))
        for key in seeds.CASE_KEYS
        if key != "false_positives"
    }
    out["false_positives_per_case"] = float(
        np.nanmean([_value(r.get("false_positives")) for r in rows])
    )
    for name, (num, den, mixed_only) in RATIOS.items():
        chosen = [r for r in rows if not mixed_only or r.get("mixed_classes") == "True"]
        d = sum(_value(r.get(den)) for r in chosen)
        out[name] = float(sum(_value(r.get(num)) for r in chosen) / d) if d else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--model", action="append", required=True,
                        help="NAME=release path with {fold} and {seed}; the first is the reference")  # fmt: skip
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-seed", type=int, default=0, help="bootstrap / pixel-sample seed")
    parser.add_argument("--fit-lesion-floor", nargs="*", default=[], metavar="NAME[:OBJECTIVE]",
                        help="passed to seeds.py: calibrate these models with a lesion floor too")  # fmt: skip
    parser.add_argument("--keyword-rule-from", default="mt_unet_no_text", metavar="NAME",
                        help="passed to seeds.py: the image-only --model whose masks the keyword "
                             "rule relabels (its row: keyword_rule, or keyword_rule_NAME for "
                             "another network than mt_unet_no_text)")  # fmt: skip
    parser.add_argument("--reuse", action="append", default=[], metavar="NAME=DIR",
                        help="rows NAME of another comparison's output DIR (same cases, folds "
                             "and seeds) join this one")  # fmt: skip
    parser.add_argument("--reference", default=None, metavar="NAME",
                        help="the row the others are compared with (default: the first --model); "
                             "may be a --reuse row")  # fmt: skip
    parser.add_argument("--pair", action="append", default=[], metavar="A=B",
                        help="also compare row A minus row B (paired, the same bootstrap), e.g. "
                             "two models as trained when the reference is one with a floor")  # fmt: skip
    parser.add_argument("--rows", nargs="+", default=None, metavar="NAME",
                        help="pool only these rows (default: every row found), e.g. to leave "
                             "out probe rows that one fold's earlier evaluation does not have")  # fmt: skip
    parser.add_argument("--pool-only", action="store_true",
                        help="evaluate nothing: refuse, naming them, when a fold and seed has no "
                             "evaluation under --out (an evaluation takes minutes of CPU; a "
                             "mistyped --out evaluated every fold again)")  # fmt: skip
    parser.add_argument("--pooled", default=None, metavar="FILE",
                        help="where the pooled table goes (default: OUT/pooled.json), e.g. a "
                             "second pooling of other rows or seeds of the same evaluations")  # fmt: skip
    parser.add_argument("--cases", choices=sorted(CASE_SETS), default="all",
                        help="pool only these test cases: mixed, the scans whose report "
                             "describes both classes (where the report must say which lesion is "
                             "which); single, the others; all (default)")  # fmt: skip
    args = parser.parse_args(argv)
    reuse = dict(r.split("=", 1) for r in args.reuse if "=" in r)
    if len(reuse) != len(args.reuse):
        parser.error("--reuse must be NAME=DIR")
    pairs = [tuple(p.split("=", 1)) for p in args.pair if "=" in p]
    if len(pairs) != len(args.pair):
        parser.error("--pair must be A=B")
    for a, b in pairs:
        if a == b:  # refused before any fold is evaluated (minutes of CPU each)
            raise SystemExit(f"--pair {a}={b}: a row minus itself")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    out = Path(args.out)
    names = [m.split("=", 1)[0] for m in args.model]
    if both := sorted(set(names) & set(reuse)):
        parser.error(f"{', '.join(both)}: both a --model (evaluated) and a --reuse row")
    ref = args.reference or names[0]
    if ref not in names and ref not in reuse:
        parser.error(f"--reference {ref}: neither a --model nor a --reuse row")
    if args.pool_only:
        missing = [
            str(out / f"fold{fold}" / f"seed{seed}" / name)
            for fold in args.folds
            for seed in args.seeds
            for name in ("results.json", "per_case.csv")
            if not (out / f"fold{fold}" / f"seed{seed}" / name).exists()
        ]
        if missing:
            raise SystemExit(
                f"--pool-only: no evaluation at {', '.join(missing)}; is --out the folder that "
                "holds the evaluations? Without --pool-only they are evaluated (minutes each)"
            )
    # --pool-only reads the evaluations' per-case rows and writes only the pooled table: each
    # fold's own pooling (seeds.py's OUT/foldF/pooled.json) stays as its evaluation left it
    for fold in [] if args.pool_only else args.folds:
        per_fold = [m.replace("{fold}", str(fold)) for m in args.model]
        seeds.main(
            ["--seeds", *map(str, args.seeds), "--data-root", args.data_root,
             "--out", str(out / f"fold{fold}"), "--test-fold", str(fold),
             "--n-boot", str(args.n_boot), "--threads", str(args.threads),
             "--data-seed", str(args.data_seed), "--probe-texts-for", ref,
             "--keyword-rule-from", args.keyword_rule_from]
            + [a for m in per_fold for a in ("--model", m)]
            + (["--fit-lesion-floor", *args.fit_lesion_floor] if args.fit_lesion_floor else [])
        )  # fmt: skip
    rows = select_rows(read_rows(out, args.folds, args.seeds, reuse), args.rows, ref, out)
    rows = case_subset(rows, args.cases)
    cases = [r["case_id"] for r in rows[ref][args.seeds[0]]]
    for name, by_seed in rows.items():
        for seed, seed_rows in by_seed.items():
            if [r["case_id"] for r in seed_rows] != cases:
                raise SystemExit(f"{name} seed {seed}: not the reference's test cases")

    summary = []
    for name, by_seed in rows.items():
        per_seed = [summarise(by_seed[s]) for s in args.seeds]
        entry: dict = {"model": name}
        for key in per_seed[0]:
            entry[key] = float(np.nanmean([p[key] for p in per_seed]))
            entry[f"{key}_per_seed"] = [p[key] for p in per_seed]
        summary.append(entry)

    def matrix(name: str, key: str) -> np.ndarray:
        return np.array([[_value(r.get(key)) for r in rows[name][s]] for s in args.seeds])

    comparison = seeds.compare_rows(matrix, ref, list(rows), args.n_boot, args.data_seed)
    compared = {(c["reference"], c["model"]) for c in comparison}
    for a, b in pairs:
        missing = [n for n in (a, b) if n not in rows]
        if missing:
            raise SystemExit(f"--pair {a}={b}: no rows named {', '.join(missing)}")
        if (a, b) in compared:  # the reference's own difference, or a pair given twice
            logger.info("--pair %s=%s: already compared", a, b)
            continue
        compared.add((a, b))
        comparison += seeds.compare_rows(matrix, a, [b], args.n_boot, args.data_seed)
    mixed = sum(r.get("mixed_classes") == "True" for r in rows[ref][args.seeds[0]])
    record = {
        "command": "python benchmarks/experiment/folds.py "
        + shlex.join(argv if argv is not None else sys.argv[1:]),
        "folds": args.folds,
        "seeds": args.seeds,
        "cases": args.cases,
        "test_cases": len(cases),
        "mixed_class_test_cases": mixed,
        "models": dict(m.split("=", 1) for m in args.model),
        "reference": ref,
        "reused_rows": reuse,
        "rows": args.rows,
        "summary": summary,
        "comparison": comparison,
        "synthetic": True,
    }
    pooled = Path(args.pooled) if args.pooled else out / "pooled.json"
    pooled.parent.mkdir(parents=True, exist_ok=True)
    pooled.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    logger.info("pooled table: %s", pooled)
    for entry in summary:
        logger.info("%-36s Dice %.3f met %.3f mixed-acc %.3f (described %.3f) acc %.3f sens %.3f FP %.2f",
                    entry["model"], entry["mean_class_dice"], entry["metastatic_dice"],
                    entry["mixed_case_lesion_class_accuracy"],
                    entry["mixed_case_described_lesion_class_accuracy"], entry["lesion_class_accuracy"],
                    entry["lesion_detection_sensitivity"], entry["false_positives_per_case"])  # fmt: skip
    for entry in comparison:
        d = entry["mean_class_dice"]
        logger.info(
            "%s - %-34s %+.4f (%+.4f..%+.4f)",
            entry["reference"],
            entry["model"],
            d["difference"],
            *d["ci"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
