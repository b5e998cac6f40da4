"""How often a SPECT/CT lesion the report describes lies under its own class's site map.

For every case of a generated SPECT/CT set, the CT is read (:func:`read_ct_anatomy`) and the
report's site maps painted (:func:`spectct_site_maps`), as training and ``predict()`` do. Each
lesion the report describes (not among ``omitted_lesions``) is scored by the mean of each map
over its voxels: under its own class (own mean > 0.25), under the other class (other mean >
0.25), or under neither. Lesions the report leaves out are counted apart: their maps are
empty unless a neighbouring finding's bone covers them. Synthetic phantom data only.

Run::

    python benchmarks/experiment/site_map_coverage.py --data-root var/data/spectct \\
        --out docs/results/spectct-site-maps/coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.ct_regions import read_ct_anatomy  # noqa: E402
from boneread_ml.data.manifest import load_case_arrays, load_manifest  # noqa: E402
from boneread_ml.data.report_sites import spectct_site_maps  # noqa: E402

#: a lesion lies under a map when the map's mean over its voxels exceeds this
COVERED = 0.25


def coverage(root: Path) -> dict:
    """Counts over every lesion of the set at ``root`` (see the module docstring)."""
    described = {"lesions": 0, "own": 0, "other": 0, "own_and_other": 0, "neither": 0}
    omitted = {"lesions": 0, "covered": 0}
    cases = load_manifest(root)["cases"]
    for case in cases:
        arrays = load_case_arrays(root, case)
        anatomy = read_ct_anatomy(arrays["image"][1], arrays["spacing_mm"])
        maps = spectct_site_maps(case["report"]["text"], anatomy.regions)
        left_out = set(case["report"]["omitted_lesions"])
        for les in case["lesions"]:
            voxels = arrays["instance"] == les["id"]
            if not voxels.any():
                continue
            mine = float(maps[les["label"] - 1][voxels].mean())
            theirs = float(maps[2 - les["label"]][voxels].mean())
            if les["id"] in left_out:
                omitted["lesions"] += 1
                omitted["covered"] += max(mine, theirs) > COVERED
                continue
            described["lesions"] += 1
            own, other = mine > COVERED, theirs > COVERED
            described["own"] += own
            described["other"] += other
            described["own_and_other"] += own and other
            described["neither"] += not (own or other)
    return {"cases": len(cases), "described": described, "omitted": omitted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True, help="a generated SPECT/CT set")
    parser.add_argument("--out", help="JSON to write (default: print only)")
    args = parser.parse_args(argv)
    root = Path(args.data_root)
    manifest = load_manifest(root)
    if manifest.get("kind", "spectct") != "spectct":
        parser.error(f"{root} holds {manifest.get('kind')!r} cases; this measures SPECT/CT")
    result = {
        "benchmark": "spectct_site_map_coverage",
        "command": "python benchmarks/experiment/site_map_coverage.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "data_seed": manifest.get("seed"),
        "covered_when_mean_above": COVERED,
        **coverage(root),
    }
    d = result["described"]
    print(
        f"{d['own']} of {d['lesions']} described lesions under their own class's map, "
        f"{d['other']} under the other's ({d['own_and_other']} under both), {d['neither']} "
        f"under neither; {result['omitted']['covered']} of {result['omitted']['lesions']} "
        "lesions the reports leave out under a map"
    )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
