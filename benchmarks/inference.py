"""CPU (and GPU, when present) inference latency of the shipped checkpoints.

Per task (planar: one scan 2 x 1024 x 256; SPECT/CT: a volume of 128 slices
2 x 128 x 128 x 128, slice-wise 2D), with torch limited to ``--threads``
threads (the target machine: 2 CPU cores), it records:

- ``predict_median_s``: :func:`boneread_ml.predict.predict` end to end
  (normalisation, network, softmax, connected components, lesion table) with
  the model as :func:`load_model` prepares it (the product path: ``runtime``
  "onnxruntime", the image network in ONNX Runtime with the settings in
  ``ort_settings``, where it is installed; else torch), and
  ``torch_predict_median_s`` with the optimised torch network
  (``load_model(..., runtime="torch")``);
- ``forward_median_s``: the product path's forward alone on the same
  input (planar: 1 x 2 x 1024 x 256; SPECT/CT: all slices, in predict's
  slice batches, report encoded once), ``torch_forward_median_s`` the
  optimised torch network's, and ``eager_forward_median_s``, the
  network as built (``load_model(..., optimize=False)``);
- ``load_s``: ``load_model`` of the product path (checksum, build, and the
  ONNX export and session creation);
- SPECT/CT ``slice_batch_sweep``: the forward of a volume, product path and
  torch, at several slices per batch (predict uses ``slice_batch(device)``: 8 on the
  CPU, 32 on a GPU);
- ``monai_unet_median_s``: a MONAI ``UNet`` (channels 16, 32, 64, 128, 256,
  strides 2, random weights) on the same input;
- ``gflop``: the forward's floating-point operations, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matrix
  products, attention; 2 per multiply-add), and the MONAI UNet's;
- ``gemm_gflops``: a measured fp32 GEMM rate on the same threads (a
  2048 x 2048 ``torch.mm``), and ``flop_limit_ratio`` =
  forward latency / (FLOPs / GEMM rate): 1.0 would be a forward running
  entirely at large-GEMM speed.

Every repeat runs each forward, the MONAI UNet, the GEMM and each predict()
one after another (interleaved), so that load from
other processes on the machine affects all of them alike; ratios are
therefore more trustworthy than absolute times on a shared machine. The
load average before and after is recorded.

Run::

    .venv/bin/python benchmarks/inference.py            # writes benchmarks/results/inference.json
    .venv/bin/python benchmarks/inference.py --repeats 3 --tasks planar --out /tmp/x.json
    # a candidate release timed beside the shipped one (each with its MONAI UNet, same run)
    .venv/bin/python benchmarks/inference.py --tasks planar \
        --release planar=ml/checkpoints/planar --release planar=var/exp/half_f4_s0/mt_unet/release
    python benchmarks/inference.py --devices cuda --repeats 9 --out benchmarks/results/inference_gpu.json
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
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "ml"))

from boneread_ml.predict import (  # noqa: E402
    SLICE_BATCH,
    _tokenize,
    load_model,
    predict,
    slice_batch,
)

try:
    import onnxruntime
except ImportError:  # the torch path only
    onnxruntime = None

#: end-to-end predict() targets (s) and the forward's targets (issue 15 item 6)
TARGETS = {
    "planar": {"predict_s": 0.5, "flop_limit_ratio": 2.0, "vs_monai_unet": 1.5},
    "spectct": {"predict_s": 1.0},
}
GEMM_N = 2048
PHANTOM_SEED = 2024
#: the case timed, per task, of that seed's phantom set, with its own report. SPECT/CT: the 4th
#: (4 lesions, its report names multiple metastases). The model states lesions on it, so
#: predict() reads their bones and levels from the CT; it stated none on the first case, timed
#: until 2026-12-04, and without a lesion no region is read. ``lesions_found`` in the record
#: says how many. Planar: the 5th (6 lesions; its report names metastatic and benign sites at
#: the shoulders, arms and ribs, so predict() lays the atlas on the scan for the site maps, and
#: the shipped model states lesions there, so the lesion table and the site rule run too); until
#: 2026-12-06 planar was timed on Poisson noise with a report that named no class at a site, so
#: no map was painted.
PHANTOM_CASE = {"planar": 4, "spectct": 3}
#: SPECT/CT slices per batch compared in the sweep
SLICE_BATCHES = (4, 8, 16, 32)


def synthetic_input(task: str) -> tuple[np.ndarray, tuple, str, str]:
    """(images, spacing in mm, what they are, the report fed with them): phantom case
    :data:`PHANTOM_CASE` of the task with its own report, because predict() does more than
    the network where the report names sites (planar: lays the atlas on the scan for the
    site maps) and where it states lesions (SPECT/CT: reads their bone and level from the CT,
    ``boneread_ml.ct_regions``).
    """
    import tempfile

    from boneread_ml.data.manifest import generate, load_case_arrays, load_manifest

    index = PHANTOM_CASE[task]
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(task, index + 1, PHANTOM_SEED, Path(tmp) / "case", dicom=False)
        case = load_manifest(root)["cases"][index]
        arrays = load_case_arrays(root, case)
    spacing_key = "pixel_spacing_mm" if task == "planar" else "spacing_mm"
    spacing = tuple(float(v) for v in arrays[spacing_key])
    what = "planar" if task == "planar" else "SPECT/CT"
    source = f"{what} phantom case {case['case_id']} (seed {PHANTOM_SEED}), its own report"
    return arrays["image"], spacing, source, case["report"]["text"]


def monai_unet(in_channels: int = 2) -> torch.nn.Module:
    """MONAI's UNet (16..256) on the same input channels as the model it is timed beside."""
    from monai.networks.nets import UNet

    torch.manual_seed(0)
    return UNet(2, in_channels, 3, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2)).eval()


def network_batches(
    task: str, images: np.ndarray, device: str, per_batch: int = SLICE_BATCH, context: int = 0
) -> list[torch.Tensor]:
    """The network's input batches for one study (normalised and stacked like predict())."""
    from boneread_ml.data.transforms import normalize, slice_inputs

    x = normalize(task, images)
    if task == "planar":
        return [torch.from_numpy(np.ascontiguousarray(x[None])).to(device)]
    slices = slice_inputs(x, np.arange(x.shape[1]), context)  # (D, 2 + 2 context, H, W)
    return [
        torch.from_numpy(slices[s : s + per_batch]).to(device)
        for s in range(0, len(slices), per_batch)
    ]


def slice_extents(batches: list[torch.Tensor], depth: int, device: str) -> list[torch.Tensor]:
    """Each slice's axial position and whole-slice extent, as predict() passes them."""
    extents, start = [], 0
    for b in batches:
        z = -1.0 + 2.0 * torch.arange(start, start + len(b)) / max(1, depth - 1)
        rows = torch.tensor([[-1.0, 1.0], [-1.0, 1.0]]).expand(len(b), 2, 2)
        extents.append(torch.cat([z.view(-1, 1, 1).expand(-1, 1, 2), rows], 1).to(device))
        start += len(b)
    return extents


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def gemm_rate(device: str, repeats: int = 3) -> float:
    """fp32 GFLOP/s of a large square torch.mm (best of ``repeats``)."""
    a = torch.randn(GEMM_N, GEMM_N, device=device)
    b = torch.randn(GEMM_N, GEMM_N, device=device)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * GEMM_N**3 / best / 1e9


def count_gflop(fn) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def timed(fn, device: str) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def time_task(task: str, checkpoint: Path, repeats: int, device: str) -> dict:
    t0 = time.perf_counter()
    product = load_model(checkpoint, device=device)  # what the backend runs
    load_s = time.perf_counter() - t0
    fast = load_model(checkpoint, device=device, runtime="torch")
    eager = load_model(checkpoint, device=device, optimize=False)
    unet = monai_unet(fast.network.in_channels).to(device)
    images, spacing, source, report = synthetic_input(task)
    slices_per_batch = slice_batch(torch.device(device))  # what predict() uses there
    context = int(getattr(fast.network, "slice_context", 0))  # 2.5D: neighbouring SPECT slices
    batches = network_batches(task, images, device, slices_per_batch, context)
    ids, mask = _tokenize(fast, report, device)
    slice_wise = task != "planar"
    depth = images.shape[1]
    extents = slice_extents(batches, depth, device) if slice_wise else [None] * len(batches)
    product_net = product.ort if product.ort is not None else product.network

    def forward(net, batches=batches, extents=extents):
        text = net.encode_text(ids, mask, 1) if slice_wise else None
        for b, e in zip(batches, extents, strict=True):
            net(b, ids, mask, extent=e, text=text)

    def eager_forward():  # the network as built; the report encoded per batch as before
        for b, e in zip(batches, extents, strict=True):
            eager.network(b, ids, mask, extent=e)

    def unet_forward():
        for b in batches:
            unet(b)

    runs = {
        "forward": lambda: forward(product_net),
        "torch_forward": lambda: forward(fast.network),
        "eager_forward": eager_forward,
        "monai_unet": unet_forward,
        "predict": lambda: predict(images, report, product, spacing_mm=spacing),
        "torch_predict": lambda: predict(images, report, fast, spacing_mm=spacing),
    }
    sweep_batches = {}
    if slice_wise:
        for n in SLICE_BATCHES:
            nb = network_batches(task, images, device, n, context)
            sweep_batches[n] = (nb, slice_extents(nb, depth, device))
            for name, net in (("product", product_net), ("torch", fast.network)):
                runs[f"sweep_{name}_{n}"] = lambda net=net, nb=sweep_batches[n]: forward(net, *nb)
    with torch.inference_mode():
        gflop = count_gflop(lambda: forward(fast.network))
        unet_gflop = count_gflop(unet_forward)
        for fn in runs.values():  # warm-up
            fn()
        times: dict[str, list[float]] = {k: [] for k in runs}
        gemm: list[float] = []
        for _ in range(repeats):
            for name, fn in runs.items():
                times[name].append(timed(fn, device))
            gemm.append(gemm_rate(device))
    med = {k: statistics.median(v) for k, v in times.items()}
    rate = statistics.median(gemm)
    flop_limit_s = gflop / rate
    result = {
        "task": task,
        "release": str(checkpoint.absolute().relative_to(REPO))
        if checkpoint.absolute().is_relative_to(REPO)
        else str(checkpoint),
        "device": device,
        "threads": torch.get_num_threads(),
        "runtime": product.runtime,
        "ort_settings": product.ort.settings if product.ort is not None else None,
        "load_s": load_s,
        "input_shape": list(images.shape),
        "input": source,
        # lesions predict() states on it (SPECT/CT: each one's bone and level read from the CT)
        "lesions_found": len(predict(images, report, product, spacing_mm=spacing).lesions),
        "spacing_mm": list(spacing),
        "network_batch": list(batches[0].shape),
        "slice_batch": slices_per_batch if slice_wise else None,
        "repeats": repeats,
        "predict_median_s": med["predict"],
        "predict_min_s": min(times["predict"]),
        "torch_predict_median_s": med["torch_predict"],
        "forward_median_s": med["forward"],
        "torch_forward_median_s": med["torch_forward"],
        "eager_forward_median_s": med["eager_forward"],
        "monai_unet_median_s": med["monai_unet"],
        "speedup_vs_eager": med["eager_forward"] / med["forward"],
        "speedup_vs_torch": med["torch_forward"] / med["forward"],
        "forward_vs_monai_unet": med["forward"] / med["monai_unet"],
        "eager_vs_monai_unet": med["eager_forward"] / med["monai_unet"],
        "gflop": gflop,
        "monai_unet_gflop": unet_gflop,
        "gemm_gflops": rate,
        "gemm_gflops_all": gemm,
        "flop_limit_s": flop_limit_s,
        "flop_limit_ratio": med["forward"] / flop_limit_s,
        "torch_flop_limit_ratio": med["torch_forward"] / flop_limit_s,
        "eager_flop_limit_ratio": med["eager_forward"] / flop_limit_s,
        "monai_unet_flop_limit_ratio": med["monai_unet"] / (unet_gflop / rate),
        "times_s": times,
        "targets": TARGETS[task],
        "parameters": sum(p.numel() for p in fast.network.parameters()),
        "input_scale": float(getattr(fast.network, "input_scale", 1.0)),
        "checkpoint_sha256": fast.checksum,
    }
    if slice_wise:
        result["slice_batch_sweep"] = {
            str(n): {
                "forward_median_s": med[f"sweep_product_{n}"],
                "torch_forward_median_s": med[f"sweep_torch_{n}"],
            }
            for n in SLICE_BATCHES
        }
    t = TARGETS[task]
    result["meets_targets"] = {
        "predict_s": med["predict"] <= t["predict_s"],
        **(
            {
                "flop_limit_ratio": result["flop_limit_ratio"] <= t["flop_limit_ratio"],
                "vs_monai_unet": result["forward_vs_monai_unet"] <= t["vs_monai_unet"],
            }
            if "flop_limit_ratio" in t
            else {}
        ),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--tasks", nargs="+", default=["planar", "spectct"])
    parser.add_argument("--devices", nargs="+", choices=["cpu", "cuda"], default=None,
                        help="default: cpu, and cuda where a GPU is present")  # fmt: skip
    parser.add_argument("--release", action="append", default=[], metavar="TASK=PATH",
                        help="time this release for TASK instead of the shipped one (repeatable; "
                             "the same task twice times both, one after the other)")  # fmt: skip
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "inference.json"))
    args = parser.parse_args(argv)
    releases = []
    for text in args.release:
        task, _, path = text.partition("=")
        if task not in ("planar", "spectct") or not path:
            parser.error(f"--release {text!r}: expected planar=PATH or spectct=PATH")
        if not (Path(path) / "config.json").is_file():
            parser.error(f"--release {text!r}: {path} has no config.json (not a release folder)")
        releases.append((task, Path(path)))
    if not releases:
        releases = [(task, REPO / "ml" / "checkpoints" / task) for task in args.tasks]
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results = []
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" in devices and not torch.cuda.is_available():
        parser.error("--devices cuda: torch sees no GPU here")
    for device in devices:
        for task, ckpt in releases:
            r = time_task(task, ckpt, args.repeats, device)
            print(  # noqa: T201
                f"{task:8s} {r['release']} {device} ({r['runtime']}, load {r['load_s']:.1f} s): predict "
                f"{r['predict_median_s']:.3f} s (torch {r['torch_predict_median_s']:.3f} s), "
                f"forward {r['forward_median_s']:.3f} s (torch {r['torch_forward_median_s']:.3f} s, "
                f"eager {r['eager_forward_median_s']:.3f} s, "
                f"MONAI UNet {r['monai_unet_median_s']:.3f} s, ratio "
                f"{r['forward_vs_monai_unet']:.2f}), {r['gflop']:.2f} GFLOP at "
                f"{r['gemm_gflops']:.0f} GFLOP/s -> {r['flop_limit_ratio']:.2f}x the FLOP limit"
            )
            results.append(r)
    record = {
        "benchmark": "inference",
        "when": started,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__ if onnxruntime is not None else None,
            "cpus": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if "cuda" in devices else None,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
        },
        "command": "python benchmarks/inference.py " + " ".join(argv or sys.argv[1:]),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
