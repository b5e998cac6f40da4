"""Training cost of MT-UNet and the baselines on CPU (2 threads) or GPU.

Times optimizer steps (forward, Dice+CE loss, for MT-UNet also the
report-grounding loss, backward, AdamW) on random inputs of the training shape
of ml/configs/<task>.yaml (its crop size, batch and input scale; planar today
128 x 128 crops, batch 4; SPECT/CT 64 x 64 slice crops, batch 8), each model
built by the registry as the experiment builds it. No data loading, lesion
calibration or evaluation is timed, so the minutes per training are a lower
bound: optimiser steps times the config's ``max_steps``, and the core-hours of
a 5-fold x 3-seed comparison (15 trainings) at one thread each when ``--threads 1``.

Run::

    .venv/bin/python benchmarks/training.py --threads 1 --steps 5   # all models, both tasks
    .venv/bin/python benchmarks/training.py --models mt_unet unet --tasks planar
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.models.registry import MODEL_NAMES, build_model  # noqa: E402
from boneread_ml.models.tokenizer import build_vocab  # noqa: E402
from boneread_ml.training.config import load_config  # noqa: E402
from boneread_ml.training.losses import GroundingLoss, SegmentationLoss  # noqa: E402

#: trainings in a comparison over 5 patient folds x 3 training seeds (issue 15's evidence)
COMPARISON_TRAININGS = 15


def training_shape(cfg: dict) -> tuple[tuple[int, ...], float, int, int]:
    """(crop size, input scale, batch, steps) of a config's training, as the trainer reads it."""
    train = cfg["train"]
    return (tuple(int(x) for x in train["crop_size"]), float(cfg["input_scale"]),
            int(train["batch_size"]), int(train["max_steps"]))  # fmt: skip


def measure(name: str, task: str, steps: int, device: str) -> dict:
    cfg = load_config(REPO / "ml" / "configs" / f"{task}.yaml")
    size, scale, batch, train_steps = training_shape(cfg)
    torch.manual_seed(0)
    model = build_model(name, input_size=size, input_scale=scale, vocab_size=len(build_vocab()),
                        text=cfg.get("text"), mt_unet=cfg.get("mt_unet")).to(device)  # fmt: skip
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = SegmentationLoss()
    grounding = GroundingLoss() if getattr(model, "grounding_stage", None) is not None else None
    x = torch.randn(batch, 2, *size, device=device)
    y = torch.randint(0, 3, (batch, *size), device=device)
    ids = torch.randint(5, 7000, (batch, 160), device=device)
    mask = torch.ones_like(ids)
    extent = torch.tensor([[-1.0, 1.0]] * (3 if task == "spectct" else 2), device=device)
    extent = extent.expand(batch, -1, -1)
    case_classes = torch.ones(batch, 2, device=device)
    has_text = torch.ones(batch, dtype=torch.bool, device=device)

    def step():
        if grounding is None:
            loss = loss_fn(model(x, ids, mask, extent=extent), y)
        else:
            logits, aux = model(x, ids, mask, extent=extent, return_aux=True)
            loss = loss_fn(logits, y) + grounding(aux, y, case_classes, has_text)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    times = []
    for _ in range(steps):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    per_step = float(sorted(times)[len(times) // 2])
    minutes = per_step * train_steps / 60
    return {
        "model": name, "task": task, "device": device, "crop_size": list(size),
        "input_scale": scale, "batch": batch, "steps": steps,
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds_per_step": per_step, "seconds_per_step_all": times,
        "images_per_second": batch / per_step, "config_max_steps": train_steps,
        "minutes_per_training": minutes,
        "comparison_core_hours": minutes * COMPARISON_TRAININGS / 60,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODEL_NAMES))
    parser.add_argument("--tasks", nargs="*", default=["planar", "spectct"])
    parser.add_argument("--steps", type=int, default=5, help="timed steps (the median is kept)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "training.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    load_before = os.getloadavg()
    results = []
    for task in args.tasks:
        for name in args.models:
            r = measure(name, task, args.steps, device)
            print(
                f"{task:8s} {name:24s} {r['seconds_per_step']:.3f} s/step "  # noqa: T201
                f"{r['minutes_per_training']:.0f} min/training"
            )
            results.append(r)
    record = {
        "benchmark": "training_throughput",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "torch": torch.__version__,
            "threads": args.threads,
            "cpus": os.cpu_count(),
            "load_average_1_5_15_before": load_before,
            "load_average_1_5_15_after": os.getloadavg(),
        },
        "comparison_trainings": COMPARISON_TRAININGS,
        "command": "python benchmarks/training.py " + " ".join(argv or sys.argv[1:]),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
