"""Coverage of the reader-study CIs over repeated simulated studies (issue 13 item 7).

Each repetition simulates a study with a known time ratio and AUC gain
(boneread_ml.stats.simulate), analyses it (mixed-model time ratio; OR MRMC AUC difference)
and records whether each 95% CI covers the known value. Writes
benchmarks/results/stats_coverage.json.

Usage::

    nice -n 10 .venv/bin/python benchmarks/stats_coverage.py --repetitions 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.stats.simulate import SimulationSpec, recover_effects, simulate_study  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--time-ratio", type=float, default=0.62)
    parser.add_argument("--auc-unaided", type=float, default=0.80)
    parser.add_argument("--auc-aided", type=float, default=0.86)
    parser.add_argument("--sd-log-reader-arm", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "stats_coverage.json"
    )
    args = parser.parse_args(argv)

    load_before = [round(x, 2) for x in os.getloadavg()]
    t0 = time.time()
    rows = []
    for i in range(args.repetitions):
        spec = SimulationSpec(
            n_readers=args.readers,
            n_cases=args.cases,
            time_ratio=args.time_ratio,
            auc_unaided=args.auc_unaided,
            auc_aided=args.auc_aided,
            sd_log_reader_arm=args.sd_log_reader_arm,
            seed=args.seed + i,
        )
        rows.append(recover_effects(simulate_study(spec), spec))

    def coverage(key: str) -> dict:
        hits = int(sum(r[key] for r in rows))
        n = len(rows)
        p = hits / n
        return {"covered": hits, "n": n, "coverage": p, "mc_se": float(np.sqrt(p * (1 - p) / n))}

    ratios = np.array([r["time_ratio"] for r in rows])
    gains = np.array([r["auc_gain"] for r in rows])
    result = {
        "what": "95% CI coverage of the time ratio (mixed model) and AUC gain (OR MRMC) on simulated studies",
        "command": "nice -n 10 .venv/bin/python benchmarks/stats_coverage.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "spec": asdict(
            SimulationSpec(
                n_readers=args.readers,
                n_cases=args.cases,
                time_ratio=args.time_ratio,
                auc_unaided=args.auc_unaided,
                auc_aided=args.auc_aided,
                sd_log_reader_arm=args.sd_log_reader_arm,
                seed=args.seed,
            )
        ),
        "repetitions": args.repetitions,
        "time_ratio": {
            **coverage("time_covered"),
            "true": args.time_ratio,
            "mean_estimate": float(ratios.mean()),
            "geometric_mean_estimate": float(np.exp(np.log(ratios).mean())),
        },
        "auc_gain": {
            **coverage("auc_covered"),
            "true": args.auc_aided - args.auc_unaided,
            "mean_estimate": float(gains.mean()),
            "power_at_0.05": float(np.mean([r["auc_p"] < 0.05 for r in rows])),
        },
        "seconds": round(time.time() - t0, 1),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_before},
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
