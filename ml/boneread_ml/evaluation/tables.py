"""Result tables as CSV and Markdown (no pandas needed)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """Format a number, a (low, high) CI pair or text for a table cell."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return f"{fmt(value[0], digits)}–{fmt(value[1], digits)}"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def write_csv(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write dict rows (union of keys, first-seen order); CI pairs become two columns."""
    flat = []
    for row in rows:
        r = {}
        for k, v in row.items():
            if isinstance(v, tuple | list) and len(v) == 2:
                r[f"{k}_low"], r[f"{k}_high"] = v
            else:
                r[k] = v
        flat.append(r)
    keys: list[str] = []
    for r in flat:
        keys += [k for k in r if k not in keys]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(flat)
    return path


def markdown_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], digits: int = 3
) -> str:
    """A GitHub Markdown table.

    Args:
        rows: dict rows.
        columns: (key, header) pairs; a key ``x`` with a ``x_ci`` entry in the
            row is printed as ``mean (low–high)``.
    """
    lines = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key, "")
            cell = fmt(value, digits)
            if f"{key}_ci" in row:
                cell += f" ({fmt(row[f'{key}_ci'], digits)})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
