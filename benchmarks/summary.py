"""Write docs/benchmarks.md from the JSON results in benchmarks/results/.

The numbers in the document come only from those files (each written by its benchmark script), so
the document and the runs cannot disagree. Rerun a benchmark, then this script.

Usage::

    .venv/bin/python benchmarks/summary.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
OUT = REPO / "docs" / "benchmarks.md"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def yes(met: bool) -> str:
    return "met" if met else "**not met**"


def inference(d: dict) -> list[str]:
    rows = [
        "| task | input | runtime | predict() | target | forward | torch forward | eager forward | "
        "MONAI UNet | forward / UNet | GFLOP | GEMM GFLOP/s | x FLOP limit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in d["results"]:
        shape = "x".join(str(n) for n in r["input_shape"])
        if "lesions_found" in r:
            shape += f", {r['lesions_found']} lesions stated"
        if "predict_median_s" not in r:  # the format before the FLOP accounting
            rows.append(f"| {r['task']} | {shape} | | {r['median_s']:.3f} s | | | | | | | | | |")
            continue
        met = r["meets_targets"]["predict_s"]
        runtime = r.get("runtime", "torch")
        torch_forward = r.get("torch_forward_median_s", r["forward_median_s"])
        release = r.get("release", f"ml/checkpoints/{r['task']}")
        which = "" if release == f"ml/checkpoints/{r['task']}" else f", `{release}`"
        if r.get("input_scale", 1.0) != 1.0:
            which += f", input_scale {r['input_scale']:g}"
        rows.append(
            f"| {r['task']}{which} ({r['device']}, {r['threads']} threads) | {shape} | {runtime} | "
            f"{r['predict_median_s']:.3f} s | <= {r['targets']['predict_s']} s ({yes(met)}) | "
            f"{r['forward_median_s']:.3f} s | {torch_forward:.3f} s | "
            f"{r['eager_forward_median_s']:.3f} s | "
            f"{r['monai_unet_median_s']:.3f} s | {r['forward_vs_monai_unet']:.2f} | "
            f"{r['gflop']:.2f} | {r['gemm_gflops']:.0f} | {r['flop_limit_ratio']:.2f} |"
        )
    return rows


def inference_gpu(d: dict) -> list[str]:
    rows = inference(d)
    for r in d["results"]:
        if "slice_batch_sweep" in r:
            sweep = r["slice_batch_sweep"]
            rows += [
                "",
                f"{r['task']} forward of the volume by slices per batch (predict used "
                f"{r['slice_batch']} in this run):",
                "",
                "| slices per batch | " + " | ".join(sweep) + " |",
                "|---|" + "---|" * len(sweep),
                "| forward | "
                + " | ".join(f"{v['forward_median_s']:.3f} s" for v in sweep.values())
                + " |",
            ]
    m = d["machine"]
    rows += ["", f"_{m.get('gpu')}, torch {m['torch']}, {m['cpus']} CPUs._"]
    return rows


def training(d: dict) -> list[str]:
    n = d.get("comparison_trainings", 15)
    rows = [
        f"| model | task | crop | batch | parameters | s / step | images/s | min / training "
        f"(steps) | {n} trainings, core-h |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in d["results"]:
        crop = " x ".join(str(x) for x in r["crop_size"])
        rows.append(
            f"| {r['model']} | {r['task']} | {crop} | {r['batch']} | {r['parameters'] / 1e6:.2f}M "
            f"| {r['seconds_per_step']:.3f} | {r['images_per_second']:.1f} "
            f"| {r['minutes_per_training']:.0f} ({r['config_max_steps']}) "
            f"| {r['comparison_core_hours']:.1f} |"
        )
    m = d["machine"]
    rows += [
        "",
        f"_run {d.get('when', '?')}, {m['threads']} thread(s) on {m.get('cpus', '?')} CPUs; load "
        f"average before {m.get('load_average_1_5_15_before')}, after "
        f"{m.get('load_average_1_5_15_after')}. Optimiser steps only (no data loading, "
        "calibration or evaluation): a lower bound on a training's time._",
    ]
    return rows


def jobs(d: dict) -> list[str]:
    lat, thr = d["latency"], d["throughput"]
    return [
        f"Latency over {lat['jobs']} planar jobs, one worker process: p50 **{lat['p50_s']:.2f} s**, "
        f"p95 {lat['p95_s']:.2f} s (target p50 <= {lat['target_p50_s']} s: {yes(lat['meets_target'])}); "
        f"model time (median) {lat['stage_median_s']['predict']:.2f} s; first job after start "
        f"(model load) {lat['cold_start_s']:.1f} s.",
        "",
        "| workers | jobs | wall | jobs/min |",
        "|---|---|---|---|",
        *(
            f"| {name.replace('_', ' ')} | {r['jobs']} | {r['wall_s']:.1f} s | {r['jobs_per_min']:.1f} |"
            for name, r in thr.items()
        ),
    ]


def ingest(d: dict) -> list[str]:
    b, o, ratio = d["boneread"], d["orthanc"], d["ratio_boneread_to_orthanc"]
    return [
        f"{d['series']}; medians of {d['repeats']} runs.",
        "",
        f"| path | BoneRead | {o['version']} | ratio | target ratio >= 1.0 |",
        "|---|---|---|---|---|",
        f"| STOW-RS | {b['stow']['instances_per_s']} inst/s | {o['stow']['instances_per_s']} inst/s | "
        f"{ratio['stow']} | {yes(ratio['stow'] >= 1.0)} |",
        f"| C-STORE | {b['cstore']['instances_per_s']} inst/s | {o['cstore']['instances_per_s']} inst/s | "
        f"{ratio['cstore']} | {yes(ratio['cstore'] >= 1.0)} |",
    ]


def memory(d: dict) -> list[str]:
    rows = [
        "| request | answer | worker peak RSS | before the request |",
        "|---|---|---|---|",
    ]
    for name, r in d["requests"].items():
        rows.append(
            f"| {name.replace('_', ' ')}: {r['request']} | {r['status']} | "
            f"{r['peak_rss_mb']:.0f} MB | {r['baseline_peak_mb']:.0f} MB |"
        )
    rows += [
        "",
        f"Goal: every peak at most {d['goal_peak_rss_mb']} MB: {yes(d['meets_goal'])} "
        f"(worst {d['worst_peak_rss_mb']:.0f} MB). The JSON body is refused (400) after parsing: "
        "its cost is the parse of the largest body allowed.",
    ]
    return rows


def synth(d: dict) -> list[str]:
    rows = ["| kind | cases | DICOM | seconds | cases/s |", "|---|---|---|---|---|"]
    for r in d["runs"]:
        rows.append(
            f"| {r['kind']} | {r['cases']} | {'yes' if r['dicom'] else 'no'} | {r['seconds']} | "
            f"{r['cases_per_second']} |"
        )
    t = d["target"]
    rows += [
        "",
        f"Target: 100 planar cases in under {t['planar_100_cases_s']:.0f} s: {yes(t['met'])}.",
    ]
    return rows


def ct_regions(d: dict) -> list[str]:
    def cell(r: dict) -> str:
        if r["rate"] is None:
            return "-"
        return f"{r['rate']:.2f} ({r['ci95'][0]:.2f}-{r['ci95'][1]:.2f}), n = {r['n']}"

    rows = ["| measure | share (95% CI over cases), lesions |", "|---|---|"]
    heads = {"in": d["rib_head_in_view"], "out": d["rib_head_out_of_view"]}
    for r, label in (
        (d["exact"], "exact name"),
        (d["bone_and_side"], "bone and side (number ignored)"),
        (d["spine_level_exact"], "vertebral level, spine lesions"),
        (d["spine_level_wrong"], "a wrong vertebral level, spine lesions"),
        (d["rib_number_exact"], "rib number, rib lesions"),
        (d["rib_number_wrong"], "a wrong rib number, rib lesions"),
        (heads["in"]["number_exact"], "rib number, the rib's head in the CT"),
        (heads["in"]["number_wrong"], "a wrong rib number, the rib's head in the CT"),
        (heads["out"]["number_exact"], "rib number, the rib's head above or below the CT"),
        (heads["out"]["number_wrong"], "a wrong rib number, the rib's head above or below the CT"),
        (d["rib_side_right"], "rib and side, rib lesions"),
        (d["no_region"], "no region"),
    ):
        rows.append(f"| {label} | {cell(r)} |")
    anchors = ", ".join(f"{k}: {v}" for k, v in d["level_anchor_by_bed"].items())
    rows += [
        "",
        f"{d['data']}; {d['lesions']} lesions. Levels counted from (bed / anchor): {anchors}. "
        f"Seconds per CT: median {d['seconds_per_ct']['median']}, "
        f"max {d['seconds_per_ct']['max']}.",
    ]
    return rows


def viewer(d: dict) -> list[str]:
    rows = [
        "| study | opened | first image (median, p95) | overlay (median, p95) | targets | |",
        "|---|---|---|---|---|---|",
    ]
    for kind, r in d["results"].items():
        targets = ", ".join(f"{k} <= {v} s" for k, v in r["target_s"].items())
        for mode, label in (("from_worklist", "from the worklist"), ("page_load", "as a new page")):
            m = r[mode]
            first = f"{m['first_image_s']['median']:.2f} s, {m['first_image_s']['p95']:.2f} s"
            if "ct_shown_s" in m:  # SPECT/CT: first image = fused views; the CT alone before
                first += f" (CT alone {m['ct_shown_s']['median']:.2f} s)"
            overlay = (
                f"{m['overlay_s']['median']:.2f} s, {m['overlay_s']['p95']:.2f} s"
                if "overlay_s" in m
                else "-"
            )
            verdict = yes(r["met"]) if mode == "from_worklist" else "(not judged)"
            rows.append(f"| {kind} | {label} | {first} | {overlay} | {targets} | {verdict} |")
    loads = [x for r in d["results"].values() for m in ("from_worklist", "page_load")
             for x in r.get(m, {}).get("load_average_1min", [])]  # fmt: skip
    if loads:
        rows += ["", f"1-minute load average during the runs: {min(loads):.1f} .. {max(loads):.1f} "
                 f"(2 cores)."]  # fmt: skip
    phases = {k: r["from_worklist"].get("phases_median_s") for k, r in d["results"].items()}
    if any(phases.values()):
        rows += [
            "",
            "Where the time goes (from the worklist, medians, seconds after the click):",
            "",
        ]
        for kind, p in phases.items():
            if p:
                steps = ", ".join(f"{k} {v:.2f}" for k, v in p.items() if not k.endswith("_count"))
                rows.append(f"- {kind}: {steps}")
    earlier = [("previous_run", d["previous_run"])] if d.get("previous_run") else []
    earlier += [("other_run", r) for r in d.get("other_runs", [])]
    for _, run in earlier:
        if not run.get("medians_s"):
            continue
        load = run.get("load_average_before") or []
        what = f"{run['what']}; " if run.get("what") else ""
        rows += ["", f"Also recorded ({what}{run.get('when')}, load average before "
                 f"{', '.join(f'{x:.1f}' for x in load)}), from the worklist, medians:"]  # fmt: skip
        for kind, modes in run["medians_s"].items():
            m = modes.get("from_worklist", {})
            rows.append("- " + kind + ": " + ", ".join(f"{k} {v:.2f} s" for k, v in m.items()))
    return rows


def text_value(d: dict) -> list[str]:
    rows = [
        f"{d['cases']} cases, {d['lesions']} lesions; {d['model']}. Image only: AUC "
        f"**{d['image_only']['auc']:.3f}**.",
        "",
        "| report informativeness | image + report AUC | gain (95% CI) |",
        "|---|---|---|",
    ]
    for s in d["sweep"]:
        lo, hi = s["auc_gain_95ci"]
        rows.append(
            f"| {s['informativeness']} | {s['image_plus_report']['auc']:.3f} | "
            f"{s['auc_gain']:+.3f} ({lo:+.3f} .. {hi:+.3f}) |"
        )
    return rows


def status_polling(d: dict) -> list[str]:
    st, lat = d["setup"], d["latency_ms"]
    codes = ", ".join(f"{n} x {code}" for code, n in sorted(d["status_codes"].items()))
    return [
        f"{st['clients']} clients, {st['ids_per_client']} studies each, one request every "
        f"{st['interval_s']:g} s for {st['duration_s']:g} s ({st['server']}; {st['job_changes']} "
        f"job state changes meanwhile). The product polls every {st['product_interval_s']:g} s.",
        "",
        "| requests | requests/s | answers | share 304 | latency p50 / p95 / p99 | "
        "server CPU per request | server CPU, share of one core (at the product's interval) |",
        "|---|---|---|---|---|---|---|",
        f"| {d['requests']} | {d['requests_per_s']:.1f} | {codes} | {d['share_304']:.2f} | "
        f"{lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} ms | "
        f"{d['server_cpu_ms_per_request']:.1f} ms | {d['server_cpu_share_of_one_core']:.3f} "
        f"({d['server_cpu_share_at_product_interval']:.3f}) |",
        "",
        d.get("note", ""),
    ]


def stats_coverage(d: dict) -> list[str]:
    sp = d["spec"]
    rows = [
        f"{d['repetitions']} simulated studies: {sp['n_readers']} readers x {sp['n_cases']} cases "
        f"(prevalence {sp['prevalence']:g}), AUC {sp['auc_unaided']:g} -> {sp['auc_aided']:g}, "
        f"time ratio {sp['time_ratio']:g}; log-time SDs: reader {sp['sd_log_reader']:g}, case "
        f"{sp['sd_log_case']:g}, reader x arm {sp['sd_log_reader_arm']:g}, residual "
        f"{sp['sd_log_residual']:g}.",
        "",
        "| quantity | true | mean estimate | CIs covering | coverage (MC SE) | "
        "within 2 MC SE of 0.95 |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in (("time_ratio", "time ratio (mixed model)"), ("auc_gain", "AUC gain (OR)")):
        r = d[key]
        ok = abs(r["coverage"] - 0.95) <= 2 * r["mc_se"]
        rows.append(
            f"| {label} | {r['true']:.3f} | {r['mean_estimate']:.4f} | {r['covered']} / {r['n']} | "
            f"{r['coverage']:.3f} ({r['mc_se']:.3f}) | {yes(ok)} |"
        )
    power = d["auc_gain"].get("power_at_0.05")
    if power is not None:
        rows += [
            "",
            f"Share of studies with the AUC gain significant at 0.05 (power): {power:.2f}.",
        ]
    rows += ["", f"_{d['seconds']:.0f} s, Python {d['python']}_"]
    return rows


# name -> (title, what it measures, how to rerun, renderer)
BENCHMARKS: dict[str, tuple[str, str, str, Callable[[dict], list[str]]]] = {
    "inference": (
        "Model inference latency (CPU)",
        "`predict()` end to end on one planar scan (2 x 1024 x 256) and one SPECT/CT volume "
        "(2 x 128^3, slice-wise), each a phantom case with its own report: planar since "
        "2026-12-06 (noise before), a report that names a benign and a metastatic site, so that "
        "predict() includes laying the atlas on the scan for the site maps; SPECT/CT one on which "
        "the model states lesions, so that predict() includes reading their bones and levels "
        "from the CT. The shipped checkpoints on the CPU, model loaded; the "
        "network's forward as `load_model` prepares it (runtime: the image network in ONNX Runtime, "
        "settings in the JSON's `ort_settings`), the torch-optimised forward (channels-last, fused "
        "normalisation) and the network as built (eager), a MONAI UNet (16..256, strides 2) on the same input, each repeat running all "
        "of them in turn so that machine load affects them alike; the forward's FLOPs (counted by "
        "`FlopCounterMode`) and a measured fp32 GEMM rate (2048^2 `torch.mm`, same threads); "
        "x FLOP limit = forward time / (FLOPs / GEMM rate). Targets (planar): <= 2x the FLOP limit "
        "and <= 1.5x the MONAI UNet; SPECT/CT predict() <= 1 s.",
        "python benchmarks/inference.py --threads 2 --repeats 9",
        inference,
    ),
    "inference_half_res": (
        "Model inference latency (CPU), the planar release at half internal resolution against "
        "the one before",
        "The planar release shipped before 2026-12-06 (full internal resolution, its files "
        "from git, `var/planar-before`) and the shipped one (`input_scale` 0.5: the scan 2 x 2 "
        "averaged on the way in, the logits upsampled on the way out), one after the other in "
        "one run of the same harness, each with its own MONAI UNet row "
        "(`docs/results/planar-half-resolution/`).",
        "python benchmarks/inference.py --threads 2 --repeats 9 --release "
        "planar=var/planar-before --release planar=ml/checkpoints/planar --out "
        "benchmarks/results/inference_half_res.json (as of 2026-12-06 08:06 UTC)",
        inference,
    ),
    "inference_faster_epyc": (
        "Model inference latency (CPU), a faster machine of the same kind",
        "The same benchmark on a 2-core AMD EPYC (the MONAI UNet's forward 0.024 s planar "
        "and 0.145 s SPECT/CT there, against 0.025 s and 0.202 s in the run above, on another "
        "EPYC, 0.025 s and 0.179 s on a Xeon (commit a06409e's `inference.json`) "
        "and 0.034 s and 0.271 s on a slower EPYC: commit c56c9da's `inference.json`), with "
        "the planar weights shipped before 2026-12-06 (full internal resolution, 10.5 GFLOP) and "
        "the SPECT/CT weights shipped before 2026-12-05 (`checkpoint_sha256` c31d2a31..., same "
        "architecture, 7 lesions stated on the same case); kept to show how much the figures "
        "move with the machine.",
        "python benchmarks/inference.py --threads 2 --repeats 9 (as of 2026-12-04 03:47 UTC)",
        inference,
    ),
    "inference_avx512_amx": (
        "Model inference latency (CPU), the earlier machine",
        "The same benchmark on another 2-core machine (fp32 GEMM 389 GFLOP/s), planar weights "
        "at full internal resolution shipped before 2026-12-06, from before it "
        "timed `predict()` with the voxel spacing on a SPECT/CT phantom case (so SPECT/CT without "
        "the regions read from the CT, on noise); kept to show how much the figures move with "
        "the machine.",
        "python benchmarks/inference.py --threads 2 --repeats 7 (as of 2026-12-02 12:35 UTC)",
        inference,
    ),
    "inference_gpu": (
        "Model inference latency (GPU)",
        "The same benchmark on the GPU of a lent machine (one NVIDIA H100, 16 CPU cores), the "
        "shipped checkpoints (planar at half internal resolution) in torch on CUDA (fp32; ONNX "
        "Runtime runs on the CPU only). On a GPU `predict()` runs the network as built (the CPU "
        "rewrites made the planar forward slower there in the H200 run of 2026-12-04) and "
        "SPECT/CT takes 32 slices per forward (the sweep below) instead of the CPU's 8. Both "
        "networks are launch-bound: the FLOP-limit ratios are far from 1 and the MONAI UNet, "
        "with fewer and larger kernels, is about 9x faster.",
        "python benchmarks/inference.py --devices cuda --repeats 9 --out "
        "benchmarks/results/inference_gpu.json (as of 2026-12-06 10:55 UTC)",
        inference_gpu,
    ),
    "jobs": (
        "AI job end to end",
        "From creating an inference job (enqueue) to the commit that stores its DICOM SEG in the archive, "
        "its lesion rows and `succeeded`; real Celery worker processes on the embedded broker and database.",
        "python benchmarks/jobs.py --jobs 20 --burst 12",
        jobs,
    ),
    "viewer": (
        "Viewer: time to first image and to the AI overlay",
        "Headless Chromium against gunicorn, a fresh browser context (cold HTTP cache) per repeat: "
        "a case opened by a click in the loaded worklist (the reader's way; the targets apply here) "
        "and the case URL loaded as a new page (JavaScript bundle included). Times are the viewer's "
        "performance marks; the steps below are the page's resource timings and the viewer's own "
        "marks (`boneread:*`), so each run says where its time went. What the profile showed and "
        "what changed: the SPECT/CT CT volume was put in the three views while it decoded, so "
        "Cornerstone redrew all three (software WebGL here) every two decoded slices and those "
        "redraws took the CPU the decoding needed; now each volume is decoded first and drawn once "
        "(CT and SPECT together when both are in, the CT alone first otherwise). The CT came as "
        "one WADO-URI request per slice (128), each with session, access checks and audit; now the "
        "series comes in one WADO-RS request whose parts name their instance. The AI label-map "
        "volume was built in the same frame as the first fused view; now it follows it. The case "
        "page downloaded the AI job's label map besides the SEG's (unused) and listed the SEG "
        "series twice; the server decoded the SEG with highdicom on every opening (now cached). "
        "A CPU profile of the click on an otherwise idle machine then showed 0.3 s with the CPU "
        "idle before the case page even asked for the study: React 19 holds a Suspense reveal "
        "back for up to 300 ms, and the code-split case page suspended on its first render although "
        "its chunk was already prefetched; a preloaded page now renders without suspending "
        "(frontend/src/lib/preloadable.tsx), and the study request leaves about 0.06 s after the "
        "click. Times are from the click event as the page receives it, not from Playwright's call. "
        "Then the SPECT/CT marks per volume showed the SPECT's 80 frames decoded after all 128 CT "
        "slices: the two volumes' frames go through one queue in the order the volumes are loaded, "
        "the CT's were queued first, so the CT was drawn alone (about 0.25 s of software rendering) "
        "and the fused views waited; the SPECT (small) is now queued first and the fused views come "
        "in the frame after the CT is decoded. Cornerstone's request pool let 5 loads run at once "
        "with a 5 ms pause between rounds, leaving the decoder idle; it now runs OHIF's default "
        "limits (25 prefetch loads). A profile of the planar opening then showed the images "
        "requested only once React had drawn the case page and Cornerstone had set up the "
        "viewports (about 0.2 s with the network and the decoder idle): they are now requested as "
        "soon as the study's description arrives (frontend/src/viewer/planar/"
        "prefetchPlanarImages.ts) and the viewports take them from Cornerstone's cache. Every "
        "rendering engine, one per case opened, made Cornerstone's default 7 WebGL contexts "
        "eagerly (about 40 ms); it now makes the 2 our screens use. The viewports' resize observer "
        "redrew both empty views on its first report (a WebGL resize and copy each); that report "
        "is now skipped when the size is the one the views were made at. The first-image mark now "
        "counts only a frame with the image in it, and each view gets its window and grey scale "
        "before its first frame. What remains (nothing else running; load average 3-4 from the "
        "benchmark's own browser and server on 2 cores): Cornerstone's copies from its offscreen "
        "software-WebGL canvas to the visible ones (about 0.08 s of the planar first image), and "
        "for SPECT/CT the set-up of both volumes in three views and their first software-rendered "
        "frame (about 0.3 s after the CT is decoded). With a GPU-backed browser these are "
        "cheap; that was not measured here.",
        "python benchmarks/viewer.py --repeats 5",
        viewer,
    ),
    "ingest": (
        "DICOM ingest against Orthanc",
        "A 300-slice 512 x 512 16-bit CT series sent through STOW-RS and C-STORE to BoneRead and, in the "
        "same run on the same machine, to Orthanc; instances per second and the ratio.",
        "python benchmarks/ingest.py",
        ingest,
    ),
    "memory": (
        "Web worker memory at the request limits",
        "One gunicorn sync worker (embedded SQLite) per request kind, serving the largest request "
        "each limit allows: WADO-RS frames (the most frames per request from the largest object), "
        "a rendered frame, STOW-RS of the largest object, a zip at the ratio limit unpacking to "
        "1 GB, the largest JSON body. Peak resident memory of the worker (VmHWM).",
        "python benchmarks/memory.py",
        memory,
    ),
    "status_polling": (
        "Live-status polling load",
        "Open worklists and viewers polling `GET /api/studies/status` with ETags against gunicorn "
        "(an unchanged answer is an empty 304); the clients poll faster than the product to "
        "measure the cost per request.",
        "python benchmarks/status_polling.py --clients 50 --interval 1 --duration 20",
        status_polling,
    ),
    "stats_coverage": (
        "Reader-study statistics: CI coverage on simulated studies",
        "Each repetition simulates a reader study with a known time ratio and AUC gain "
        "(`boneread_ml.stats.simulate`), analyses it with the engine (mixed-model time ratio, "
        "OR MRMC AUC difference) and records whether each 95% CI covers the known value.",
        "nice -n 10 python benchmarks/stats_coverage.py --repetitions 400",
        stats_coverage,
    ),
    "stats_coverage_reader_arm": (
        "Reader-study statistics: CI coverage when readers profit unequally from the AI",
        "As above with a larger reader x arm variance of log time (SD 0.15).",
        "nice -n 10 python benchmarks/stats_coverage.py --repetitions 200 --sd-log-reader-arm 0.15 "
        "--out benchmarks/results/stats_coverage_reader_arm.json",
        stats_coverage,
    ),
    "ct_regions": (
        "SPECT/CT lesion regions from the CT",
        "The bone and level of each ground-truth lesion of synthetic SPECT/CT cases, named from the "
        "case's CT alone by `boneread_ml.ct_regions` (spinous processes for the vertebrae, rib "
        "heads and the sacrum to count the levels from), against the phantom's own region of the "
        "lesion. The rules were developed on another seed; they have not been checked on patient "
        "CT.",
        "python benchmarks/ct_regions.py",
        ct_regions,
    ),
    "ct_regions_seed5": (
        "SPECT/CT lesion regions from the CT, a second unseen seed",
        "The same measurement on 80 cases of seed 5 (neither a development seed nor the "
        "benchmark's seed 11), run once the rules were fixed, to tell a hard seed from rules "
        "fitted to their development seeds.",
        "python benchmarks/ct_regions.py --seed 5 --cases 80 --workers 1 "
        "--out benchmarks/results/ct_regions_seed5.json",
        ct_regions,
    ),
    "synth": (
        "Phantom generation speed",
        "Synthetic cases per second, with and without DICOM output.",
        "python benchmarks/synth.py",
        synth,
    ),
    "training": (
        "Training cost (CPU)",
        "Optimiser steps at each config's training shape, every registry model as the experiment "
        "builds it (the baselines as MONAI builds them); minutes per training at the config's "
        "steps, and the core-hours of a 5-fold x 3-seed comparison.",
        "python benchmarks/training.py --threads 1 --steps 5",
        training,
    ),
    "text_value_planar": (
        "Does the report carry information the image lacks? (planar)",
        "Benign vs metastatic lesion classification from image features alone vs image + report "
        "features (logistic regression, cross-validated by patient) on synthetic cases.",
        "python -m boneread_ml.analysis.text_value --kind planar --cases 400",
        text_value,
    ),
    "text_value_spectct": (
        "Does the report carry information the image lacks? (SPECT/CT)",
        "As above, on SPECT/CT phantoms (CT features included).",
        "python -m boneread_ml.analysis.text_value --kind spectct --cases 120",
        text_value,
    ),
}


def render() -> str:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/summary.py` from `benchmarks/results/*.json`; every number below",
        "is in those files, written by the script named in each section. All data is synthetic.",
        "",
        "The development machine has 2 CPU cores and no GPU, and during the runs recorded here the cores",
        "were shared with other work (each JSON records the load average): treat the figures as upper",
        "bounds for an idle 2-core machine. The GPU figures come from one lent H200 machine.",
        "The model-comparison experiment is in `docs/results/` and `docs/model-card.md`.",
        "",
    ]
    for name, (title, what, command, renderer) in BENCHMARKS.items():
        data = load(name)
        lines += [
            f"## {title}",
            "",
            what,
            "",
            f"Rerun: `{command}` -> `benchmarks/results/{name}.json`",
            "",
        ]
        if data is None:
            lines += ["Not run yet.", ""]
            continue
        lines += renderer(data) + [""]
        when = data.get("when") or data.get("date_utc") or data.get("date")
        load_avg = (data.get("machine") or {}).get("load_average_before") or (
            data.get("machine") or {}
        ).get("load_average_1_5_15")
        notes = [
            f"run {when}" if when else "",
            f"load average before {[round(x, 1) for x in load_avg]}" if load_avg else "",
        ]
        if any(notes):
            lines += ["_" + "; ".join(n for n in notes if n) + "_", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
