"""How often a lesion the report describes lies under its own class's site map (planar, SPECT/CT).

For every case of a generated set the report's site maps are painted as training and
``predict()`` do: SPECT/CT from the CT read by :func:`read_ct_anatomy`
(:func:`spectct_site_maps`), planar from the body atlas registered to the scan
(:func:`planar_site_maps`). Each lesion the report describes (not among ``omitted_lesions``) is
scored by the mean of each map over its pixels or voxels: under its own class (own mean > 0.25),
under the other class (other mean > 0.25), or under neither; and whether the report-site rule
could decide it (own mean >= 0.5, the rule's ``min_cover``, and the other's below). The same
counts per kind of site (``by_site``: the phantom's ``site``, joints by joint) say where the maps
miss, with the median distance (pixels or voxels) from a missed lesion to its own map. Lesions
the report leaves out are counted apart: their maps are empty unless a neighbouring finding's
region covers them. Synthetic phantom data only.

Run::

    python benchmarks/experiment/site_map_coverage.py --data-root var/data/spectct \\
        --out docs/results/spectct-site-maps/coverage.json
    python benchmarks/experiment/site_map_coverage.py --data-root var/data/planar \\
        --out docs/results/planar-site-map-coverage/coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ml"))

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from boneread_ml.ct_regions import read_ct_anatomy  # noqa: E402
from boneread_ml.data.manifest import load_case_arrays, load_manifest  # noqa: E402
from boneread_ml.data.report_sites import (  # noqa: E402
    SITE_REGISTRATIONS,
    planar_site_maps,
    spectct_site_maps,
)

#: a lesion lies under a map when the map's mean over its voxels exceeds this
COVERED = 0.25
#: the report-site rule decides a lesion whose own map's mean reaches this (planar.yaml and
#: spectct.yaml: postprocess.site_rule.min_cover) and whose other map's mean stays below it
RULE_COVER = 0.5


def site_maps(kind: str, case: dict, arrays: dict, registration: str = "fitted") -> np.ndarray:
    """The report's two site maps for one case, as training and ``predict()`` paint them
    (planar: with the atlas laid on the scan by ``registration``)."""
    if kind == "planar":
        return planar_site_maps(case["report"]["text"], arrays["image"], registration=registration)
    anatomy = read_ct_anatomy(arrays["image"][1], arrays["spacing_mm"])
    return spectct_site_maps(case["report"]["text"], anatomy.regions)


def site_of(lesion: dict) -> str:
    """The kind of site a lesion is tallied under: the phantom's ``site``, joints by joint."""
    if lesion.get("site") == "joint" and lesion.get("region", "")[:2] in ("左侧", "右侧"):
        return "joint:" + lesion["region"][2:]
    return str(lesion.get("site", "unknown"))


def _counts() -> dict:
    return {"lesions": 0, "own": 0, "other": 0, "own_and_other": 0, "neither": 0,
            "rule_decides": 0, "missed_distances": []}  # fmt: skip


def coverage(root: Path, kind: str = "spectct", registration: str = "fitted") -> dict:
    """Counts over every lesion of the set at ``root`` (see the module docstring)."""
    described = _counts()
    by_site: dict[str, dict] = {}
    omitted = {"lesions": 0, "covered": 0}
    cases = load_manifest(root)["cases"]
    for case in cases:
        arrays = load_case_arrays(root, case)
        maps = site_maps(kind, case, arrays, registration)
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
            own, other = mine > COVERED, theirs > COVERED
            for tally in (described, by_site.setdefault(site_of(les), _counts())):
                tally["lesions"] += 1
                tally["own"] += own
                tally["other"] += other
                tally["own_and_other"] += own and other
                tally["neither"] += not (own or other)
                tally["rule_decides"] += mine >= RULE_COVER > theirs
                if not own and (maps[les["label"] - 1] > RULE_COVER).any():
                    outside = ndimage.distance_transform_edt(maps[les["label"] - 1] <= RULE_COVER)
                    tally["missed_distances"].append(float(outside[voxels].min()))
    for tally in (described, *by_site.values()):
        distances = tally.pop("missed_distances")
        tally["missed_median_distance"] = float(np.median(distances)) if distances else None
    by_site = dict(sorted(by_site.items(), key=lambda item: -item[1]["lesions"]))
    return {"cases": len(cases), "described": described, "by_site": by_site, "omitted": omitted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True, help="a generated planar or SPECT/CT set")
    parser.add_argument("--registration", choices=SITE_REGISTRATIONS, default="fitted",
                        help="planar: how the atlas is laid on the scan (default: fitted)")  # fmt: skip
    parser.add_argument("--out", help="JSON to write (default: print only)")
    args = parser.parse_args(argv)
    root = Path(args.data_root)
    manifest = load_manifest(root)
    kind = manifest.get("kind", "spectct")
    if kind not in ("planar", "spectct"):
        parser.error(f"{root} holds {kind!r} cases; this measures planar or SPECT/CT sets")
    if kind == "spectct" and args.registration != "fitted":
        parser.error("--registration is for planar sets (SPECT/CT maps are read on the CT)")
    result = {
        "benchmark": f"{kind}_site_map_coverage",
        "command": "python benchmarks/experiment/site_map_coverage.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "data_seed": manifest.get("seed"),
        "covered_when_mean_above": COVERED,
        "rule_decides_when_mean_at_least": RULE_COVER,
        **({"registration": args.registration} if kind == "planar" else {}),
        **coverage(root, kind, args.registration),
    }
    d = result["described"]
    print(
        f"{d['own']} of {d['lesions']} described lesions under their own class's map, "
        f"{d['other']} under the other's ({d['own_and_other']} under both), {d['neither']} "
        f"under neither, {d['rule_decides']} for the site rule to decide; "
        f"{result['omitted']['covered']} of {result['omitted']['lesions']} "
        "lesions the reports leave out under a map"
    )
    for site, t in result["by_site"].items():
        gap = t["missed_median_distance"]
        print(f"  {site}: {t['lesions']} described, own {t['own']}, rule decides "
              f"{t['rule_decides']}, neither {t['neither']}"
              + (f", missed ones {gap:.1f} px from their map (median)" if gap is not None else ""))  # fmt: skip
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
