"""CPU (and GPU, when present) inference latency of the shipped checkpoints.

Times ``predict()`` end to end (normalisation, network, softmax, connected
components, lesion table) on one planar scan (2 x 1024 x 256) and one SPECT/CT
volume of 128 slices (2 x 128 x 128 x 128), with torch limited to 2 threads
(the target machine: 2 CPU cores). Targets: planar <= 0.5 s, SPECT/CT <= 10 s.

Run::

    .venv/bin/python benchmarks/inference.py            # writes benchmarks/results/inference.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.predict import load_model, predict  # noqa: E402

REPORT = "临床病史：前列腺癌。检查所见：第3腰椎、右侧第6肋见放射性浓聚。诊断意见：多发骨转移。"
TARGETS_S = {"planar": 0.5, "spectct": 10.0}


def synthetic_input(task: str, rng: np.random.Generator) -> np.ndarray:
    if task == "planar":
        return rng.poisson(30.0, size=(2, 1024, 256)).astype(np.float32)
    spect = rng.poisson(20.0, size=(128, 128, 128)).astype(np.float32)
    ct = rng.normal(0.0, 300.0, size=(128, 128, 128)).astype(np.float32)
    return np.stack([spect, ct])


def time_task(task: str, checkpoint: Path, repeats: int, device: str) -> dict:
    model = load_model(checkpoint, device=device)
    images = synthetic_input(task, np.random.default_rng(0))
    predict(images, REPORT, model)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(images, REPORT, model)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    return {
        "task": task,
        "device": device,
        "threads": torch.get_num_threads(),
        "input_shape": list(images.shape),
        "repeats": repeats,
        "median_s": median,
        "min_s": min(times),
        "target_s": TARGETS_S[task],
        "meets_target": median <= TARGETS_S[task],
        "parameters": sum(p.numel() for p in model.network.parameters()),
        "checkpoint_sha256": model.checksum,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "inference.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for task in ("planar", "spectct"):
            ckpt = REPO / "ml" / "checkpoints" / task
            repeats = args.repeats if task == "planar" else max(1, args.repeats // 2)
            r = time_task(task, ckpt, repeats, device)
            print(f"{task:8s} {device}: median {r['median_s']:.3f} s (target {r['target_s']} s)")  # noqa: T201
            results.append(r)
    record = {
        "benchmark": "inference",
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "torch": torch.__version__,
            "cpus": os.cpu_count(),
            "load_average_1_5_15": os.getloadavg(),
        },
        "command": "python benchmarks/inference.py " + " ".join(argv or sys.argv[1:]),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
