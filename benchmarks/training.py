"""Training throughput (images / s) of MT-UNet and the baselines on CPU (2 threads) or GPU.

Times optimizer steps (forward, Dice+CE loss, for MT-UNet also the
report-grounding loss, backward, AdamW) on random inputs of the training shape,
with the model sections of ml/configs/<task>.yaml: planar 64 x 64 crops at full
resolution, batch 4; SPECT/CT 64 x 64 crops of axial slices, batch 8. No data
loading is timed.

Run::

    .venv/bin/python benchmarks/training.py                     # all models, planar + spectct
    .venv/bin/python benchmarks/training.py --models mt_unet unet --steps 5
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

#: (input size, input_scale, batch) as in ml/configs/{planar,spectct}.yaml: lesion-centred crops
SHAPES = {"planar": ((64, 64), 1.0, 4), "spectct": ((64, 64), 1.0, 8)}


def measure(name: str, task: str, steps: int, device: str) -> dict:
    size, scale, batch = SHAPES[task]
    cfg = load_config(REPO / "ml" / "configs" / f"{task}.yaml")
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
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"model": name, "task": task, "device": device, "batch": batch, "steps": steps,
            "seconds_per_step": dt / steps, "images_per_second": batch * steps / dt}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODEL_NAMES))
    parser.add_argument("--tasks", nargs="*", default=["planar", "spectct"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "training.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    results = []
    for task in args.tasks:
        for name in args.models:
            r = measure(name, task, args.steps, device)
            print(f"{task:8s} {name:24s} {r['images_per_second']:.2f} images/s")  # noqa: T201
            results.append(r)
    record = {
        "benchmark": "training_throughput",
        "machine": {
            "platform": platform.platform(),
            "torch": torch.__version__,
            "threads": args.threads,
            "load_average_1_5_15": os.getloadavg(),
        },
        "command": "python benchmarks/training.py " + " ".join(argv or sys.argv[1:]),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
