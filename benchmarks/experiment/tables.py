"""Markdown tables of a pooled comparison (``seeds.py`` / ``folds.py``'s ``pooled.json``).

The tables in docs/results/*/README.md are this script's output, so that every number in them
is the JSON's (and, for the false positives by kind of case, the per-case CSVs beside it;
n counts a case once per training seed)::

    python benchmarks/experiment/tables.py docs/results/planar-site-gate/pooled.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

#: summary columns: (heading, key, digits)
SUMMARY_COLUMNS = (
    ("mean lesion-class Dice (per seed)", "mean_class_dice", 3),
    ("all-case Dice", "case_dice", 3),
    ("1-px tolerant", "mean_class_dice_tol1", 3),
    ("metastatic Dice", "metastatic_dice", 3),
    # lesion against background, classes ignored; each row's mean over the volumes where it has
    # a value (NaN where neither truth nor prediction has a lesion), so two rows' means may
    # cover different volumes: the comparison table's difference is paired on the common ones
    ("class-agnostic lesion Dice", "lesion_dice", 3),
    ("detection sens.", "lesion_detection_sensitivity", 2),
    ("FP / case", "false_positives_per_case", 2),
    ("class acc.", "lesion_class_accuracy", 2),
    ("mixed-class acc. (described lesions)", "mixed_case_lesion_class_accuracy", 2),
)
#: comparison columns: (heading, key)
COMPARISON_COLUMNS = (
    ("mean lesion-class Dice (95% CI)", "mean_class_dice"),
    ("all-case Dice", "case_dice"),
    ("1-px tolerant", "mean_class_dice_tol1"),
    ("metastatic Dice", "metastatic_dice"),
    ("class-agnostic lesion Dice (paired volumes)", "lesion_dice"),
    ("FP / case", "false_positives"),
)


def _num(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _signed(value: float) -> str:
    return f"{value:+.3f}"


def summary_table(record: dict) -> list[str]:
    lines = [
        "| | " + " | ".join(h for h, _, _ in SUMMARY_COLUMNS) + " |",
        "|---" * (len(SUMMARY_COLUMNS) + 1) + "|",
    ]
    for entry in record["summary"]:
        cells = []
        for _, key, digits in SUMMARY_COLUMNS:
            text = _num(entry.get(key), digits)
            if key == "mean_class_dice":
                per_seed = "/".join(_num(v, 3) for v in entry.get(f"{key}_per_seed") or [])
                text += f" ({per_seed})"
            if key == "mixed_case_lesion_class_accuracy":
                text += f" ({_num(entry.get('mixed_case_described_lesion_class_accuracy'), 2)})"
            cells.append(text)
        lines.append(f"| {entry['model']} | " + " | ".join(cells) + " |")
    return lines


def comparison_table(record: dict) -> list[str]:
    """One table per reference: the pooled comparison's, then those of ``folds.py --pair``."""
    references: list[str] = []
    for row in record["comparison"]:
        if row["reference"] not in references:
            references.append(row["reference"])
    lines: list[str] = []
    for reference in references or [""]:
        if lines:
            lines.append("")
        lines += [
            f"| {reference} minus | " + " | ".join(h for h, _ in COMPARISON_COLUMNS) + " |",
            "|---" * (len(COMPARISON_COLUMNS) + 1) + "|",
        ]
        for row in record["comparison"]:
            if row["reference"] != reference:
                continue
            cells = []
            for _, key in COMPARISON_COLUMNS:
                diff = row.get(key)
                if not diff:
                    cells.append("n/a")
                    continue
                low, high = diff["ci"]
                cells.append(f"{_signed(diff['difference'])} ({_signed(low)} to {_signed(high)})")
            lines.append(f"| {row['model']} | " + " | ".join(cells) + " |")
    return lines


def false_positive_table(root: Path, record: dict | None = None) -> list[str]:
    """False positives per case on cases with lesions and on lesion-free cases, per model (a
    case counts once per seed). For a ``folds.py`` record: the rows it pooled (its folds and
    seeds, reused rows from their own directories, paths as given to ``--reuse``, and only its
    ``--rows`` where it named them); otherwise
    every ``per_case.csv`` under ``root``."""
    import csv

    if record is not None and "folds" in record:
        import folds

        pooled = folds.select_rows(
            folds.read_rows(root, record["folds"], record["seeds"], record.get("reused_rows")),
            record.get("rows"),
            record["reference"],
            root,
        )
        rows = [
            r for by_seed in pooled.values() for seed_rows in by_seed.values() for r in seed_rows
        ]
    else:
        rows = []
        for path in sorted(root.glob("**/per_case.csv")):
            with open(path, encoding="utf-8") as fh:
                rows += list(csv.DictReader(fh))
    sums: dict[str, list[float]] = {}
    for row in rows:
        acc = sums.setdefault(row["model"], [0.0, 0, 0.0, 0])
        at = 0 if float(row["n_lesions"]) > 0 else 2
        acc[at] += float(row["false_positives"])
        acc[at + 1] += 1
    lines = [
        "| | FP / case with lesions | FP / lesion-free case |",
        "|---|---|---|",
    ]
    for model, (fp_les, n_les, fp_free, n_free) in sums.items():
        lines.append(
            f"| {model} | {_num(fp_les / n_les if n_les else None, 2)} (n={n_les}) "
            f"| {_num(fp_free / n_free if n_free else None, 2)} (n={n_free}) |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pooled", help="a pooled.json of seeds.py or folds.py")
    args = parser.parse_args(argv)
    path = Path(args.pooled)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        lines = summary_table(record) + [""] + comparison_table(record)
        lines += [""] + false_positive_table(path.parent, record)
    except (OSError, ValueError, KeyError) as exc:
        print(f"{path}: not a pooled comparison ({exc})", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
